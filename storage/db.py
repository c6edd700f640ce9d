"""Engine and sessions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 32 * 1024  # per connection, filled only as pages are read


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL mode, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Every article adds rows all over the alerts' per-chat index: a page cache that holds the
    # indexes spares re-reading them from the file (SQLite's default is 2 MiB).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def insert_many(
    *,
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[tuple[object, ...]],
    constants: Mapping[str, object],
) -> None:
    """Insert many rows through the driver's executemany. `rows` hold plain ints and strings
    for `columns`; `constants` are the same for every row and converted once. For tables
    written thousands of rows at a time (alerts), where SQLAlchemy's per-row parameter
    handling costs more than the database's work."""
    connection = await session.connection()
    dialect = connection.dialect
    keys = [*columns, *constants]
    compiled = insert(table).inline().compile(dialect=dialect, column_keys=keys)
    assert compiled.positiontup == keys, "every column with a default must be given"
    fixed = []
    for name, value in constants.items():
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        fixed.append(process(value) if process else value)
    complete = [(*row, *fixed) for row in rows]
    if complete:
        await connection.exec_driver_sql(str(compiled), complete)
