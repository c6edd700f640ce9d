"""The order updates are handled in: chats concurrently, each chat's own updates in turn, and
no chat faster than a person or a busy group ever types (the excess of a flood is dropped)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Chat, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from bot import i18n, rendering

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 64
# A person sends a command every few seconds at most, and a group with privacy mode on sends
# the bot only its commands: 20 at once, then one a second, is more than either ever needs.
CHAT_BURST = 20
CHAT_UPDATES_PER_SECOND = 1.0
# Updates of one chat waiting for their turn; more are dropped rather than answered minutes late.
MAX_WAITING_PER_CHAT = CHAT_BURST
# A chat quiet this long has a full bucket again: its state is forgotten, its flood is over.
FORGET_AFTER_SECONDS = CHAT_BURST / CHAT_UPDATES_PER_SECOND


@dataclass(slots=True)
class TokenBucket:
    """`burst` updates at once, refilled at `per_second`; `take` says whether one may pass."""

    burst: float
    per_second: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, burst: float, per_second: float, now: float) -> TokenBucket:
        """A bucket that can pass a whole burst at `now`."""
        return cls(burst, per_second, burst, now)

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last refill (never above `burst`)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now

    def is_full(self, now: float) -> bool:
        """Whether the bucket has refilled to its burst by `now`."""
        self.refill(now)
        return self.tokens >= self.burst

    def take(self, now: float) -> bool:
        """Spend a token if there is one."""
        self.refill(now)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(slots=True)
class _Chat:
    bucket: TokenBucket
    seen: float  # last arrival or finish of one of its updates
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # updates of the chat being handled or waiting for their turn
    warned: bool = False  # told to slow down in this flood


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles updates of different chats concurrently and those of one chat in the order they
    came: a `/subscribe` waiting for the database never holds up another chat's `/help`, and
    `/subscribe copper` then `/list` from one chat still answer in that order.

    A chat takes its turn before a concurrency slot, so its waiting updates hold no slot, and
    each chat passes a token bucket: a flood is dropped as it arrives (the chat is told once to
    slow down), so neither other chats nor a shutdown wait for it. A dropped button press is
    not answered either (its spinner times out): answering costs a call per dropped update."""

    __slots__ = ("_chats", "_clock")

    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._clock = clock
        self._chats: OrderedDict[int, _Chat] = OrderedDict()  # least recently seen first

    # PTB's process_update (final) takes a slot before `do_process_update`, where the chat's
    # turn would be waited for: one chat's backlog would then hold every slot.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        """Handle the update in its chat's turn, or drop it if the chat floods the bot."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._semaphore:
                await self.do_process_update(update, coroutine)
            return
        now = self._clock()
        state = self._chat(chat.id, now)
        if state.holders > MAX_WAITING_PER_CHAT or not state.bucket.take(now):
            _discard(coroutine)
            if not state.warned:
                state.warned = True
                user = update.effective_user if isinstance(update, Update) else None
                with i18n.speaking(i18n.language_for(user.language_code if user else None)):
                    await _warn(chat)
            return
        state.holders += 1
        try:
            async with state.lock, self._semaphore:
                await self.do_process_update(update, coroutine)
        finally:
            state.holders -= 1
            self._seen(chat.id, state, self._clock())

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers (the turn and the slot are already taken), in the language the
        first of them chooses for this update."""
        with i18n.speaking(i18n.ENGLISH):
            await coroutine

    def _chat(self, chat_id: int, now: float) -> _Chat:
        """The chat's state (new chats start with a full bucket); idle chats are forgotten."""
        self._forget_idle(now)
        state = self._chats.get(chat_id)
        if state is None:
            state = _Chat(TokenBucket.full(CHAT_BURST, CHAT_UPDATES_PER_SECOND, now), now)
        elif not state.holders and state.bucket.is_full(now):
            state.warned = False  # caught up and quiet long enough: a new flood is a new one
        self._seen(chat_id, state, now)
        return state

    def _seen(self, chat_id: int, state: _Chat, now: float) -> None:
        """Move the chat to the most recently seen end."""
        state.seen = now
        self._chats[chat_id] = state
        self._chats.move_to_end(chat_id)

    def _forget_idle(self, now: float) -> None:
        """Forget the chats quiet for a while, oldest first (a busy one stops the sweep)."""
        while self._chats:
            state = next(iter(self._chats.values()))
            if state.holders or now - state.seen < FORGET_AFTER_SECONDS:
                return
            self._chats.popitem(last=False)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _discard(coroutine: Awaitable[Any]) -> None:
    """Close a dropped update's handler coroutine (never awaited, so never started)."""
    if inspect.iscoroutine(coroutine):
        coroutine.close()


async def _warn(chat: Chat) -> None:
    """Tell the chat to slow down; a failure only costs the warning."""
    try:
        await chat.send_message(rendering.slow_down(), parse_mode=ParseMode.HTML)
    except TelegramError as error:
        log.info("could not ask chat %s to slow down: %s", chat.id, error)
