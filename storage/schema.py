"""Schema migrations (Alembic), run in-process on the application's async engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import SessionFactory, create_engine, session_factory
from storage.search import FTS_TABLE, PG_INDEX, PG_VECTOR

# Alembic is imported only to migrate (or to read its scripts): loading it and the migration
# scripts is a good part of the start of a command, and an up-to-date database needs neither.
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by all instances: serializes concurrent upgrades on PostgreSQL.
MIGRATION_LOCK_KEY = 7_268_453_001


def include_name(name: str | None, _type: str, _parents: object) -> bool:
    """Leave the hand-made full-text search objects out of schema comparisons."""
    return not (name and (name.startswith(FTS_TABLE) or name in (PG_INDEX, PG_VECTOR)))


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for running the migrations on `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@asynccontextmanager
async def migrated_database(url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the database at `url`, brought to the newest schema first (for commands
    that open the database, do their work and leave)."""
    engine = create_engine(url)
    try:
        await upgrade_schema(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()


class SchemaTooNew(Exception):
    """The database was migrated by a newer tradebot than this one."""


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema; safe when several instances start at once.
    `SchemaTooNew` when the database is at a revision this code does not know."""
    async with engine.begin() as connection:
        if await _revisions(connection) == [newest_revision()]:
            return
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await connection.run_sync(_upgrade)


def newest_revision() -> str:
    """The head revision, from the migrations' file names (each starts with its revision:
    "0018_search_vector.py" is "0018"), without loading Alembic."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


async def _revisions(connection: AsyncConnection) -> list[str]:
    """The revisions the database is at (none when it was never migrated)."""
    if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
        return []
    return list(
        (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars()
    )


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(connection)
    scripts = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(connection).get_current_revision()
    known = {script.revision for script in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"the database is at schema revision {current}, newer than this tradebot knows "
            f"({scripts.get_current_head()}): run a newer tradebot"
        )
    command.upgrade(config, "head")


async def schema_revision(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(the database's revision, the newest revision the code knows)."""

    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    def read(connection: Connection) -> tuple[str | None, str | None]:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
        return current, head

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def new_revision(engine: AsyncEngine, message: str, revision_id: str) -> None:
    """Write a migration for the difference between the models and an up-to-date database."""
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(
                alembic_config(sync), message=message, autogenerate=True, rev_id=revision_id
            )
        )
