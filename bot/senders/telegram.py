"""The Telegram sender: one HTML message to a chat or a forum topic, at the budget's pace,
with Telegram's errors mapped to what the dispatcher does next (`SendStatus`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.senders import Destination, SendResult, SendStatus
from storage.models import NO_THREAD, Preview

if TYPE_CHECKING:
    from bot.delivery import SendBudget

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
        chat_id = destination.chat_id
        thread_id = None if destination.thread_id == NO_THREAD else destination.thread_id
        while True:
            if not await self._wait_for_slot(chat_id):
                return SendResult(SendStatus.STOPPED)
            try:
                async with self._sends:
                    sent = await self._bot.send_message(
                        chat_id,
                        message.text,
                        parse_mode=ParseMode.HTML,
                        message_thread_id=thread_id,
                        reply_markup=message.reply_markup,
                        disable_notification=message.silent,
                        link_preview_options=message.preview
                        or LinkPreviewOptions(is_disabled=True),
                    )
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                log.warning("Telegram asked to slow down: pausing sends for %.1f s", seconds)
                self._budget.pause(seconds)
                continue
            except Forbidden as error:
                await self._on_unreachable(chat_id, error.message)
                return SendResult(SendStatus.UNREACHABLE, error=error.message)
            except BadRequest as error:
                reason = error.message.lower()
                if "chat not found" in reason:
                    await self._on_unreachable(chat_id, error.message)
                    return SendResult(SendStatus.UNREACHABLE, error=error.message)
                if thread_id is not None and THREAD_NOT_FOUND in reason:
                    return SendResult(SendStatus.THREAD_GONE, error=error.message)
                return SendResult(SendStatus.REJECTED, error=error.message)
            except TelegramError as error:  # 5xx, timeouts, network
                return SendResult(SendStatus.TRANSIENT, error=str(error))
            return SendResult(SendStatus.SENT, message_id=sent.message_id)

    async def _wait_for_slot(self, chat_id: int) -> bool:
        """Wait for a send slot; False when stopping."""
        while True:
            delay = self._budget.reserve(chat_id)
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                    return False
                except TimeoutError:
                    pass
            if self._stop.is_set():
                return False
            if self._budget.is_paused():
                continue
            crowded = self._budget.crowded()
            if crowded > 0:
                await asyncio.sleep(crowded)
                continue
            self._budget.started()
            return True
