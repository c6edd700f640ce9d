"""The Telegram sender: one HTML message to a chat or a forum topic (or an edit of one), at
the budget's pace, with Telegram's errors mapped to what the dispatcher does next (`SendStatus`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import callbacks
from bot.senders import Destination, SendResult, SendStatus
from storage.models import NO_THREAD, Preview

if TYPE_CHECKING:
    from bot.delivery import SendBudget
    from bot.rendering import Reply

log = logging.getLogger(__name__)

MAX_CONCURRENT_SENDS = 30
THREAD_NOT_FOUND = "message thread not found"


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """A rendered message: HTML, its buttons, without a notification (`silent`), and its
    link preview (none by default)."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    silent: bool = False
    preview: LinkPreviewOptions | None = None


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """A reply's buttons as an inline keyboard (None: it has none)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=callbacks.encode(b.action)) for b in row]
            for row in reply.buttons
        ]
    )


def link_preview(preview: str, url: str | None) -> LinkPreviewOptions:
    """Telegram's `link_preview_options` for an alert linking to `url`."""
    if url is None or preview == Preview.OFF:
        return LinkPreviewOptions(is_disabled=True)
    return LinkPreviewOptions(
        url=url,
        prefer_small_media=preview == Preview.SMALL,
        prefer_large_media=preview == Preview.LARGE,
    )


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Sends through the Bot API. A 429 pauses all sending and sends again; a blocked or
    vanished chat is reported to `on_unreachable` (which marks it inactive); a deleted forum
    topic is `THREAD_GONE`; once `stop` is set nothing more is sent."""

    def __init__(
        self,
        bot: Bot,
        budget: SendBudget,
        *,
        stop: asyncio.Event,
        on_unreachable: Callable[[int, str], Awaitable[None]],
    ) -> None:
        self._bot = bot
        self._budget = budget
        self._stop = stop
        self._on_unreachable = on_unreachable
        self._sends = asyncio.Semaphore(MAX_CONCURRENT_SENDS)

    async def send(self, destination: Destination, message: TelegramMessage) -> SendResult:
        thread_id = None if destination.thread_id == NO_THREAD else destination.thread_id

        async def call() -> int:
            sent = await self._bot.send_message(
                destination.chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread_id,
                reply_markup=message.reply_markup,
                disable_notification=message.silent,
                link_preview_options=message.preview or LinkPreviewOptions(is_disabled=True),
            )
            return sent.message_id

        return await self._paced(destination, call)

    async def edit(
        self, destination: Destination, message_id: int, message: TelegramMessage
    ) -> SendResult:
        """Edit one of the bot's messages in place: it keeps only the buttons and the link
        preview of `message`. "Message is not modified" is UNCHANGED, "message to edit not
        found" GONE."""

        async def call() -> int:
            await self._bot.edit_message_text(
                message.text,
                chat_id=destination.chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=message.reply_markup,
                link_preview_options=message.preview or LinkPreviewOptions(is_disabled=True),
            )
            return message_id

        return await self._paced(destination, call)

    async def _paced(
        self, destination: Destination, call: Callable[[], Awaitable[int]]
    ) -> SendResult:
        """Make one call (a send or an edit, returning the message id) in a slot of the
        budget; a 429 pauses all sending and calls again."""
        chat_id = destination.chat_id
        while True:
            if not await self._wait_for_slot(chat_id):
                return SendResult(SendStatus.STOPPED)
            try:
                async with self._sends:
                    message_id = await call()
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                log.warning("Telegram asked to slow down: pausing sends for %.1f s", seconds)
                self._budget.pause(seconds)
                continue
            except Forbidden as error:
                await self._on_unreachable(chat_id, error.message)
                return SendResult(SendStatus.UNREACHABLE, error=error.message)
            except BadRequest as error:
                return await self._refused(destination, error.message)
            except TelegramError as error:  # 5xx, timeouts, network
                return SendResult(SendStatus.TRANSIENT, error=str(error))
            return SendResult(SendStatus.SENT, message_id=message_id)

    async def _refused(self, destination: Destination, message: str) -> SendResult:
        reason = message.lower()
        if "chat not found" in reason:
            await self._on_unreachable(destination.chat_id, message)
            return SendResult(SendStatus.UNREACHABLE, error=message)
        if destination.thread_id != NO_THREAD and THREAD_NOT_FOUND in reason:
            return SendResult(SendStatus.THREAD_GONE, error=message)
        if "message is not modified" in reason:
            return SendResult(SendStatus.UNCHANGED, error=message)
        if "message to edit not found" in reason:
            return SendResult(SendStatus.GONE, error=message)
        return SendResult(SendStatus.REJECTED, error=message)

    async def _wait_for_slot(self, chat_id: int) -> bool:
        """Wait for a send slot; False when stopping. A send that finds the last second full
        waits for room in it and keeps its slot: reserving again would put it behind every
        slot reserved meanwhile, and its own chat's interval would push it (and every slot
        reserved after it) a second further."""
        delay = self._budget.reserve(chat_id)
        while True:
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                    return False
                except TimeoutError:
                    pass
            if self._stop.is_set():
                return False
            if self._budget.is_paused():
                delay = self._budget.reserve(chat_id)
                continue
            delay = self._budget.crowded()
            if delay == 0:
                self._budget.started(chat_id)
                return True
