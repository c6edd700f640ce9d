"""Engine and sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy import Column, Table, event, insert, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_THREAD_STOP_SECONDS = 5.0
SQLITE_CACHE_KIB = 8 * 1024  # per connection, filled only as pages are read
# PostgreSQL error classes of the server rather than of a statement's data: connection,
# insufficient resources (disk full), operator intervention, system error, read-only.
_SERVER_SQLSTATES = ("08", "53", "57", "58", "25006")


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL mode, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            connect_args={
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "async_creator_fn": _connect_sqlite,
            },
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _connect_sqlite(*args: Any, **kwargs: Any) -> Awaitable[aiosqlite.Connection]:
    """aiosqlite's connection, opened as SQLAlchemy would (on a daemon thread), except that a
    failure to open waits for aiosqlite's thread to finish: it answers the event loop once
    more, and the loop may be closed right after the caller hears of the failure."""
    connection = aiosqlite.connect(*args, **kwargs)
    connection._thread.daemon = True
    return _opened(connection)


async def _opened(connection: aiosqlite.Connection) -> aiosqlite.Connection:
    try:
        return await connection
    except BaseException:
        await asyncio.to_thread(connection._thread.join, SQLITE_THREAD_STOP_SECONDS)
        raise


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A page cache that holds the hot indexes spares re-reading them from the file (SQLite's
    # default is 2 MiB); `tradebot run` pools several connections, each with its own cache.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def storage_failure(error: BaseException) -> str | None:
    """Why the database itself failed (full disk, read-only file, lost server), in one line;
    None when the error concerns the data of a statement (a duplicate key, a bad value)."""
    if isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError)
        and (
            error.connection_invalidated
            or str(getattr(error.orig, "sqlstate", None) or "").startswith(_SERVER_SQLSTATES)
        )
    ):
        reason = str(error.orig) if isinstance(error, DBAPIError) else str(error)
        return reason.strip().splitlines()[0] if reason.strip() else type(error).__name__
    if isinstance(error, OSError):  # the server cannot be reached at all
        return error.strerror or str(error)
    return None


def shown_url(url: str) -> str:
    """The database URL with its password hidden, to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: its scheme is enough
        return url.split(":", 1)[0]


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def insert_many(
    *, session: AsyncSession, table: Table, columns: Sequence[str], rows: list[tuple[object, ...]]
) -> None:
    """Insert rows (values in `columns` order, as the driver takes them: see `driver_value`)
    through the driver's executemany. For tables written thousands of rows at a time (alerts),
    where SQLAlchemy's per-row parameter handling costs more than the database's work."""
    if not rows:
        return
    connection = await session.connection()
    compiled = insert(table).inline().compile(dialect=connection.dialect, column_keys=columns)
    assert compiled.positiontup == list(columns), "every column with a default must be given"
    await connection.exec_driver_sql(str(compiled), rows)


async def bulk_load(
    *, session: AsyncSession, table: Table, columns: Sequence[str], rows: list[tuple[object, ...]]
) -> None:
    """Fill `table` with rows (Python values in `columns` order): PostgreSQL's COPY, which
    spares a statement per row, else the driver's executemany (`insert_many`)."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=rows, columns=list(columns)
        )
        return
    dialect = connection.dialect
    values = list(zip(*rows, strict=True))  # column by column
    for index, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:  # bulk rows repeat their values: each is processed once
            processed = {value: process(value) for value in set(values[index])}
            values[index] = tuple(processed[value] for value in values[index])
    rows = list(zip(*values, strict=True))
    await insert_many(session=session, table=table, columns=columns, rows=rows)


async def driver_value(*, session: AsyncSession, column: Column[Any], value: object) -> object:
    """A value as `insert_many` hands it to the driver (on SQLite a datetime is a string)."""
    dialect = (await session.connection()).dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value
