"""Sender election: with several instances on one database, only the holder of the sender lock
sends, so Telegram's per-token budget is spent by one process and no two send the same alert.

- PostgreSQL: an advisory lock on a dedicated connection.
- SQLite file: an exclusive `flock` on a file beside the database (`tradebot.db.sender-lock`),
  kept open. One instance per database file sends; the others wait.
- SQLite in memory: one process only, so the lock is always held.

When the holder dies, the operating system (or PostgreSQL, with its connection) releases the
lock, and another instance takes over at its next attempt.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

SENDER_LOCK_KEY = 7_268_453_002
LOCK_FILE_SUFFIX = ".sender-lock"
LOCK_FILE_MODE = 0o644


def sender_lock_file(url: URL) -> Path | None:
    """The lock file of a SQLite database file; None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = Path(url.database).resolve()  # every process finds one file, whatever its cwd
    return database.with_name(database.name + LOCK_FILE_SUFFIX)


class SenderLock:
    def __init__(self, engine: AsyncEngine, key: int = SENDER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None
        self._advisory = engine.dialect.name == "postgresql"
        self._lock_file = sender_lock_file(engine.url)
        self._descriptor: int | None = None

    async def hold(self) -> bool:
        """Take the lock, or confirm it is still ours; False when another instance holds it."""
        if self._advisory:
            return await self._hold_advisory_lock()
        if self._lock_file is not None:
            return self._hold_file_lock(self._lock_file)
        return True

    async def release(self) -> None:
        if self._descriptor is not None:
            descriptor, self._descriptor = self._descriptor, None
            os.close(descriptor)  # closing the file releases its lock
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):  # a lost connection took the lock with it
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
            await self._drop_connection()

    def _hold_file_lock(self, path: Path) -> bool:
        if self._descriptor is not None:
            return True
        # Not inherited by child processes (PEP 446), so the lock dies with this process.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, LOCK_FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        return True

    async def _hold_advisory_lock(self) -> bool:
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("lost the database connection holding the sender lock")
                await self._drop_connection()
        connection = await self._engine.connect()
        try:
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                await connection.close()
