"""A fake webhook receiver for tests: an aiohttp server on 127.0.0.1 taking POSTs.

    async with WebhookReceiver() as receiver:
        receiver.fail_next(503, times=2)
        ... deliver to receiver.url ...
        assert len(receiver.deliveries) == 1

It answers the statuses it was told to (`fail_next`), holds requests back (`stall_next`), then
accepts with 200. Every request is recorded in `requests`; `deliveries` are the accepted ones,
one per Idempotency-Key, as a receiver that drops repeats would keep them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    stall: float
    retry_after: int | None


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._answers: deque[_Answer] = deque()
        self._runner: web.AppRunner | None = None
        self._base: str | None = None

    def url(self, path: str = "/hook") -> str:
        if self._base is None:
            raise RuntimeError("WebhookReceiver is not started")
        return self._base + path

    def fail_next(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` requests with `status` (and a Retry-After, if given)."""
        self._answers.extend(_Answer(status, 0.0, retry_after) for _ in range(times))

    def stall_next(self, seconds: float) -> None:
        """Hold the next request for `seconds` before accepting it (a sender times out)."""
        self._answers.append(_Answer(200, seconds, None))

    @property
    def deliveries(self) -> list[Received]:
        """The accepted requests, the first of each Idempotency-Key."""
        seen: set[str] = set()
        accepted = []
        for received in self.requests:
            key = received.headers.get("Idempotency-Key", "")
            if 200 <= received.status < 300 and key not in seen:
                seen.add(key)
                accepted.append(received)
        return accepted

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        answer = self._answers.popleft() if self._answers else _Answer(200, 0.0, None)
        if answer.stall:
            await asyncio.sleep(answer.stall)
        self.requests.append(Received(dict(request.headers), body, answer.status))
        headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else None
        return web.Response(status=answer.status, text="ok", headers=headers)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
