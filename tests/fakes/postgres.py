"""Creating and dropping throwaway PostgreSQL databases for tests (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

from storage.schema import migrated_database


def database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _admin(server_url: str) -> asyncpg.Connection:
    url = make_url(server_url)
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        database=url.database or "postgres",
    )


async def create_database(server_url: str, name: str, *, template: str | None = None) -> None:
    connection = await _admin(server_url)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()


async def drop_database(server_url: str, name: str) -> None:
    connection = await _admin(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def migrate(url: str) -> None:
    async with migrated_database(url):
        pass


async def make_read_only(database_url_: str) -> None:
    """Every later transaction on the database refuses writes, as on a read-only standby."""
    url = make_url(database_url_)
    connection = await _admin(database_url_)
    try:
        await connection.execute(
            f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'
        )
    finally:
        await connection.close()
