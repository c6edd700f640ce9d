"""Shared fixtures: a fake Telegram Bot API, a database, the bot built by the project."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.app import build_application, running
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.delivery import SendBudget
from bot.ingest import Ingestor, IngestReport
from bot.lexicon import default_lexicon
from bot.settings import Settings
from storage.db import SessionFactory, create_engine, session_factory
from storage.schema import upgrade_schema
from tests.fakes import FakeTelegram, postgres
from tests.fakes.web import FakeWeb

DATA = Path(__file__).parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    """Stop before any test if a module compiled by mypyc (setup.py) is older than its source,
    or has none: the tests would run the code as it was. `make install` compiles it again."""
    for built in (Path(__file__).parents[1] / "bot").glob("*.so"):
        source = built.with_name(built.name.split(".", 1)[0] + ".py")
        if not source.exists() or built.stat().st_mtime < source.stat().st_mtime:
            pytest.exit(f"bot/{built.name} is older than bot/{source.name}: run `make install`")


# Fast pacing for tests that are not about pacing; `test_delivery` checks the real limits.
FAST_BUDGET = {"per_second": 200.0, "private_interval": 0.01, "group_interval": 0.01}


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    """Feeds and pages served from 127.0.0.1 (tests/fakes/web.py)."""
    async with FakeWeb() as fake:
        yield fake


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database per test: a SQLite file, or a PostgreSQL database cloned
    from a migrated template when TEST_DATABASE_URL names a server."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / 'tradebot.db'}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    asyncio.run(postgres.create_database(server, name, template=template))
    yield postgres.database_url(server, name)
    asyncio.run(postgres.drop_database(server, name))


@pytest.fixture(scope="session")
def postgres_template() -> str:
    """A database migrated once per test run, cloned for each test."""
    server = os.environ["TEST_DATABASE_URL"]
    name = f"template_{uuid.uuid4().hex[:8]}"
    asyncio.run(postgres.create_database(server, name))
    asyncio.run(postgres.migrate(postgres.database_url(server, name)))
    return name


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The test database when it is PostgreSQL; the test is skipped on SQLite."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (make test-postgres does)")
    return database_url


@pytest.fixture
def settings(telegram: FakeTelegram, database_url: str) -> Settings:
    return Settings(
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        database_url=database_url,
        alert_poll_seconds=0.3,
        alert_burst_seconds=0,  # one message per alert unless a test is about bursts
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the test database, through an engine of the test's own (like another
    process would have)."""
    engine = create_engine(database_url)
    await upgrade_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def make_bot(settings: Settings) -> Callable[..., BotApplication]:
    def make(**overrides: object) -> BotApplication:
        budget = overrides.pop("budget", None) or SendBudget(**FAST_BUDGET)
        return build_application(settings, budget=budget, **overrides)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def bot(make_bot: Callable[..., BotApplication]) -> AsyncIterator[BotApplication]:
    """The project's application, polling the fake Bot API."""
    app = make_bot()
    async with running(app, poll_timeout=1):
        yield app


@pytest.fixture
def ingest(db: SessionFactory) -> Callable[..., object]:
    """Ingest articles the way `tradebot ingest` does, outside the bot."""

    async def run(*articles: ArticleIn) -> IngestReport:
        ingestor = Ingestor(db, default_lexicon())
        await ingestor.refresh()
        return await ingestor.ingest(articles)

    return run
