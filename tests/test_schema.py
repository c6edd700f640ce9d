"""Migrations: the migrated schema is the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bot.cli import main
from storage.db import create_engine
from storage.schema import include_name, schema_revision, upgrade_schema


async def test_the_migrated_schema_equals_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_schema(engine)

        def differences(connection: Connection) -> list[object]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            return list(compare_metadata(context, SQLModel.metadata))

        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
        current, head = await schema_revision(engine)
        assert current == head is not None
    finally:
        await engine.dispose()


def test_db_upgrade_reports_what_it_did(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from empty to" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
