# Quick start: `make demo` (offline tour) and `make test`. Python 3.11+ is the only requirement.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-postgres lint typecheck check clean bench bench-postgres catalogs

install: $(STAMP)

# Also the modules mypyc compiles (setup.py's COMPILED): a change to one builds them again.
$(STAMP): pyproject.toml setup.py $(wildcard bot/locales/*/LC_MESSAGES/*.po) \
		bot/matching.py bot/relevance.py bot/text.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/tradebot demo

test: install
	$(BIN)/python -m pytest

# The same suite on a throwaway PostgreSQL server (needs initdb/pg_ctl, e.g. Debian's postgresql).
test-postgres: install
	scripts/with-postgres $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test test-postgres

# Performance figures against the issues' targets (bench/; about 14 minutes on 2 cores).
bench: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.run_all

# The same on a throwaway PostgreSQL server (every benchmark that uses a database).
bench-postgres: install
	scripts/with-postgres $(MAKE) bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info build *.so bot/*.so

# After changing messages: extract them (bot/locales/tradebot.pot) and merge them into each
# language's catalog; translate what is new, then `make install` compiles the catalogs.
catalogs: install
	$(BIN)/pybabel extract --no-location --sort-output -k _ -k N_ -k ngettext:1,2 \
		-o bot/locales/tradebot.pot bot handlers
	$(BIN)/pybabel update --no-fuzzy-matching -D tradebot -i bot/locales/tradebot.pot -d bot/locales
