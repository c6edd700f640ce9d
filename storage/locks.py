"""Sender election: with several instances on one PostgreSQL database, only the holder of an
advisory lock sends, so Telegram's per-token budget is spent by one process. The lock lives on
a dedicated connection; if its process dies, PostgreSQL releases it and another instance takes
over at its next attempt. SQLite serves one instance, so there the lock is always held."""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

SENDER_LOCK_KEY = 7_268_453_002


class SenderLock:
    def __init__(self, engine: AsyncEngine, key: int = SENDER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None
        self._exclusive = engine.dialect.name == "postgresql"

    async def hold(self) -> bool:
        """Take the lock, or confirm it is still ours; False when another instance holds it."""
        if not self._exclusive:
            return True
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

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):  # a lost connection took the lock with it
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
            await self._drop_connection()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                await connection.close()
