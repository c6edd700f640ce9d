"""Builds the package with its message catalogs compiled (`bot/locales/*/LC_MESSAGES/*.po` →
`.mo`) and the modules that match every article compiled to C by mypyc (`COMPILED`), for
wheels and for editable installs alike; everything else is in pyproject.toml.

`TRADEBOT_PURE_PYTHON=1` installs those modules as plain Python (to debug them, or on a machine
without a C compiler): everything works the same, matching about a third slower."""

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import Extension, setup
from setuptools.command.build_py import build_py

LOCALES = Path(__file__).parent / "bot" / "locales"
# What matching runs for every article: word sense, relevance, sentences
COMPILED = ["bot/matching.py", "bot/relevance.py", "bot/text.py"]


def compile_catalogs() -> None:
    for po_path in LOCALES.glob("*/LC_MESSAGES/*.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        compile_catalogs()
        super().run()


def compiled_modules() -> list[Extension]:
    if os.environ.get("TRADEBOT_PURE_PYTHON"):
        return []
    from mypyc.build import mypycify

    # mypy's own options for the build, not [tool.mypy]: that loads pydantic's plugin, which the
    # build's environment does not have (the compiled modules use neither pydantic nor stubs)
    return mypycify(
        ["--config-file=", "--ignore-missing-imports", *COMPILED], group_name="tradebot"
    )


setup(cmdclass={"build_py": BuildWithCatalogs}, ext_modules=compiled_modules())
