"""The dispatcher: expands what articles matched to the chats watching it (`bot.fanout`) and
sends the alerts from the outbox, at Telegram's pace, exactly once.

- Each round expands a chunk of every fan-out that needs one, then claims a batch of due
  alerts by fan-out position and settles each again against the chat's watch-list of the
  moment: an item unwatched since is left out, an alert with nothing left is dropped.

- Every send waits for a slot in the `SendBudget` (about 30 messages/s overall, 1/s per private
  chat, 20/min per group), so 429s are the exception, not the pacing mechanism.
- Quiet hours: a chat's claimed alerts are postponed to the end of its quiet hours, when they
  fall due together and go out as one list of headlines.
- 429: all sending pauses for `retry_after`, then the same message is sent again.
- 403 or "chat not found": the chat is marked inactive and nothing more is sent to it.
- 5xx and network errors: the alert is retried later with exponential backoff.
- A sent alert is marked sent right after Telegram accepts it; on stop, the dispatcher finishes
  the message in flight and starts no other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import socket
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, timedelta
from enum import Enum
from typing import NamedTuple, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import callbacks, i18n, rendering
from bot.fanout import alert_style, expand_round, settle
from bot.matching import evidence_sentence
from bot.quiet import quiet_until
from bot.webhooks import WebhookArticle, WebhookItem, WebhookSender, alert_payload
from storage import queries
from storage import webhooks as webhook_store
from storage.db import SessionFactory
from storage.locks import SenderLock
from storage.models import Alert, AlertStatus, Article, Preview, utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600.0
# Alerts claimed per round: about a second of sending, so that an alert of a new article waits
# at most that long behind a big fan-out.
BATCH_SIZE = 30
# Sends still on their way when the next round claims: its claim overlaps their slots, so the
# budget's slots are not lost waiting for the database between rounds.
PIPELINE_TAIL = 5
BUSY_CHAT_SECONDS = 1.0  # a chat's message still on its way: its next alerts wait this long
CLAIM_LEASE = timedelta(seconds=60)
SENDER_RETRY_SECONDS = 2.0
MAX_CONCURRENT_SENDS = 30
NOT_THE_SENDER = (
    "another tradebot instance sends alerts for this database; "
    "this one will not send until it stops"
)

T = TypeVar("T")


def one_button(button: rendering.Button) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.label, callback_data=callbacks.encode(button.action))]]
    )


def evidence_markup() -> InlineKeyboardMarkup:
    """Under a list of headlines: the evidence of the alerts it carries (they record its
    message id), in the language spoken."""
    return one_button(rendering.evidence_button())


class SendBudget:
    """Reserves send slots under Telegram's limits; `pause` stops all sending for a while.

    Slots are spaced evenly; on top of that no more than `per_window` sends start within any
    second, and no two start less than half a slot apart, so sends held up together (the event
    loop stalled) go out spread rather than in a burst that filled the second to the brim,
    where the least delay on the way makes it one too many for Telegram.
    """

    def __init__(
        self,
        *,
        per_second: float = 28.5,
        private_interval: float = 1.05,
        group_interval: float = 3.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spacing = 1.0 / per_second
        self._private_interval = private_interval
        self._group_interval = group_interval
        self._clock = clock
        self._next_slot = 0.0
        self._chat_next: dict[int, float] = {}
        self.paused_until = 0.0
        self._per_window = max(1, math.ceil(per_second))
        self._started: deque[float] = deque(maxlen=self._per_window)

    def reserve(self, chat_id: int) -> float:
        """Reserve the next slot for a chat; the seconds to wait until it."""
        now = self._clock()
        slot = max(now, self._next_slot, self._chat_next.get(chat_id, 0.0), self.paused_until)
        self._next_slot = slot + self._spacing
        self._chat_next[chat_id] = slot + self._interval(chat_id)
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return slot - now

    def crowded(self) -> float:
        """Seconds until one more send may start (0: now)."""
        if not self._started:
            return 0.0
        after = self._started[-1] + self._spacing / 2
        if len(self._started) == self._per_window:
            after = max(after, self._started[0] + 1.0)
        return max(0.0, after - self._clock())

    def started(self, chat_id: int) -> None:
        """Record that a send to a chat starts now (later than its slot when the last second
        was full: the chat's next slot keeps its interval from now)."""
        now = self._clock()
        self._started.append(now)
        self._chat_next[chat_id] = max(
            self._chat_next.get(chat_id, 0.0), now + self._interval(chat_id)
        )

    def _interval(self, chat_id: int) -> float:
        return self._group_interval if chat_id < 0 else self._private_interval

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self._clock() + seconds)

    def is_paused(self) -> bool:
        return self._clock() < self.paused_until


class AlertStyle(NamedTuple):
    """How an alert is sent, settled with it from the chat's items of the moment."""

    silent: bool  # every item it names is silent
    preview: str  # storage.models.Preview: the largest any item it names asks for
    feedback: bool  # it carries "less like this" (not in a channel, whose readers press)
    webhook: bool  # the chat has an enabled webhook: the alert is posted there too
    language: str  # the chat's, which its messages are written in


def link_preview(preview: str, url: str | None) -> LinkPreviewOptions:
    """Telegram's `link_preview_options` for an alert linking to `url`."""
    if url is None or preview == Preview.OFF:
        return LinkPreviewOptions(is_disabled=True)
    return LinkPreviewOptions(
        url=url,
        prefer_small_media=preview == Preview.SMALL,
        prefer_large_media=preview == Preview.LARGE,
    )


class SendStatus(Enum):
    SENT = "sent"
    STOPPED = "stopped"  # the dispatcher is stopping: not sent
    UNREACHABLE = "unreachable"  # blocked or gone: the chat is now inactive
    REJECTED = "rejected"  # Telegram refused this message: sending it again will not help
    TRANSIENT = "transient"  # 5xx or network: worth another try later


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    message_id: int | None = None
    error: str = ""


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Dispatcher:
    """Sends due alerts until stopped; `wake()` makes it look now rather than at the next poll."""

    def __init__(
        self,
        bot: Bot,
        sessions: SessionFactory,
        *,
        poll_seconds: float,
        sender_lock: SenderLock,
        burst_seconds: float = 20.0,
        budget: SendBudget | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        """`burst_seconds`: a chat that just got an alert gets the next ones after this pause,
        combined into one list of headlines, so a burst of matching articles is a few messages,
        not one ping per article (0: every alert its own message, at once). `webhooks`: each
        alert Telegram accepted is also posted to its chat's webhook, in the background."""
        self._bot = bot
        self._sessions = sessions
        self._poll_seconds = poll_seconds
        self._sender_lock = sender_lock
        self._is_sender: bool | None = None  # None: not tried yet
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._budget = budget or SendBudget()
        self._burst_seconds = burst_seconds
        self._webhooks = webhooks
        self._last_alert_at: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._sends = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[asyncio.Task[object], int] = {}  # sending task → its chat

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="alert-dispatcher")

    async def stop(self) -> None:
        """Finish the messages in flight, send nothing more, hand back leases, and return."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
            await self._write(queries.release_claims, worker=self._worker)
            await self._sender_lock.release()
            self._is_sender = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if not await self._hold_sender_lock():
                    await self._idle(SENDER_RETRY_SECONDS)
                    continue
                handled = await self.dispatch_due()
            except Exception:
                log.exception("dispatching alerts failed; retrying at the next poll")
                handled = 0
            if handled == 0 and not self._stop.is_set():
                await self._idle(await self._seconds_to_next_poll())
        await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _hold_sender_lock(self) -> bool:
        """Be (or stay) the one instance that sends, saying so when that changes. A new sender
        takes over the leases of the previous one, which has died or lost the lock."""
        held = await self._sender_lock.hold()
        if held is self._is_sender:
            return held
        if held:
            previous = await self._write(queries.take_over_sending, worker=self._worker)
            log.info(
                "this instance is now the alert sender (%s; before it: %s)",
                self._worker,
                previous or "none",
            )
        else:
            log.warning(NOT_THE_SENDER)
        self._is_sender = held
        return held

    async def _seconds_to_next_poll(self) -> float:
        """Until the next poll, or sooner when a deferred alert falls due."""
        async with self._sessions() as session:
            due = await queries.next_due_time(session=session)
        if due is None:
            return self._poll_seconds
        due_in = (due.replace(tzinfo=UTC) - utcnow()).total_seconds()
        return min(self._poll_seconds, max(due_in, 0.05))

    async def _idle(self, timeout: float) -> None:
        """Wait for a wake-up, the timeout, or stop."""
        wake, stop = asyncio.create_task(self._wake.wait()), asyncio.create_task(self._stop.wait())
        await asyncio.wait({wake, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        wake.cancel()
        stop.cancel()

    async def dispatch_due(self) -> int:
        """Expand fan-outs and send one batch of due alerts; the number handled (fan-out steps
        taken, alerts sent, failed, dropped, deferred or held back for a chat that had an
        alert moments ago)."""
        steps = await self._write(expand_round)
        async with self._write_lock, self._sessions() as session:
            claimed = await queries.claim_due_alerts(
                session=session, worker=self._worker, limit=BATCH_SIZE, lease=CLAIM_LEASE
            )
        batch, styles = await self._settle(claimed)
        per_chat: dict[int, list[tuple[Alert, Article]]] = defaultdict(list)
        for alert, article in batch:
            per_chat[alert.chat_id].append((alert, article))
        await self._defer_quiet_hours(per_chat)
        now = time.monotonic()
        busy = set(self._in_flight.values())
        for chat_id, rows in per_chat.items():
            quiet_for = now - self._last_alert_at.get(chat_id, -self._burst_seconds)
            wait = self._burst_seconds - quiet_for  # > 0: a burst, sent as one message shortly
            if chat_id in busy:
                wait = max(wait, BUSY_CHAT_SECONDS)
            if wait > 0:
                await self._write(
                    queries.postpone_alerts,
                    alert_ids=[alert.id for alert, _ in rows],
                    until=utcnow() + timedelta(seconds=wait),
                )
            elif self._burst_seconds:
                self._start_sending(chat_id, self._deliver(chat_id, rows, styles))
            else:
                self._start_sending(chat_id, self._deliver_each(chat_id, rows, styles))
        while len(self._in_flight) > PIPELINE_TAIL:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        return steps + len(claimed)

    async def _defer_quiet_hours(self, per_chat: dict[int, list[tuple[Alert, Article]]]) -> None:
        """Hold back (and drop from `per_chat`) the alerts of chats in their quiet hours until
        those end, when they go out together as one list of headlines."""
        async with self._sessions() as session:
            quiet = await queries.quiet_hours_of(session=session, chat_ids=per_chat)
        now = utcnow()
        for chat_id, setting in quiet.items():
            until = quiet_until(setting.hours, setting.timezone, now)
            if until is not None:
                rows = per_chat.pop(chat_id)
                await self._write(
                    queries.postpone_alerts, alert_ids=[alert.id for alert, _ in rows], until=until
                )

    def _start_sending(self, chat_id: int, sending: Coroutine[object, None, object]) -> None:
        """Send in a task of its own; the next round claims while the last few are on their
        way."""
        task = asyncio.create_task(sending)
        self._in_flight[task] = chat_id
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[object]) -> None:
        del self._in_flight[task]
        if not task.cancelled() and task.exception() is not None:
            log.error("sending alerts failed", exc_info=task.exception())

    async def _settle(
        self, claimed: list[tuple[Alert, Article]]
    ) -> tuple[list[tuple[Alert, Article]], dict[int, AlertStyle]]:
        """Settle claimed alerts again by the chats' watch-lists of the moment (muted items and
        sources left out); those still to be pushed now, naming only the items still watched,
        and how each is sent (by alert id)."""
        if not claimed:
            return [], {}
        chat_ids = {alert.chat_id for alert, _ in claimed}
        async with self._sessions() as session:
            matches = await queries.matches_of(
                session=session, article_ids={article.id for _, article in claimed if article.id}
            )
            watching = await queries.watch_lists(
                session=session,
                chat_ids=chat_ids,
                topics={m.topic for found in matches.values() for m in found},
                sources={article.source for _, article in claimed if article.source},
            )
            hooked = (
                await webhook_store.chats_with_webhooks(session=session, chat_ids=chat_ids)
                if self._webhooks
                else set()
            )
            languages = {
                chat_id: i18n.chat_language(chosen, code)
                for chat_id, (chosen, code) in (
                    await queries.languages_of(session=session, chat_ids=chat_ids)
                ).items()
            }
        changed: list[queries.Settled] = []
        due: list[tuple[Alert, Article]] = []
        styles: dict[int, AlertStyle] = {}
        for alert, article in claimed:
            assert alert.id is not None and article.id is not None
            watch = watching.get(alert.chat_id)
            routed = (
                settle(
                    alert.chat_id,
                    matches[article.id],
                    watch.levels,
                    watch.mode,
                    source_muted=article.source in watch.muted_sources,
                )
                if watch
                else None
            )
            if routed is None:
                changed.append(queries.Settled(alert.id, None))
                continue
            current = queries.Settled(
                alert.id,
                routed.status,
                routed.topics,
                routed.mentions,
                routed.evidence_at,
                routed.relevance,
            )
            before = queries.Settled(
                alert.id,
                alert.status,
                tuple(json.loads(alert.topics)),
                tuple(json.loads(alert.mentions)),
                alert.evidence_at,
                alert.relevance,
            )
            if current != before:
                changed.append(current)
                alert.topics = json.dumps(list(current.topics))
                alert.mentions = json.dumps(list(current.mentions))
                alert.evidence_at, alert.relevance = current.evidence_at, current.relevance
            if current.status == AlertStatus.PENDING and watch:
                due.append((alert, article))
                style = alert_style(current.topics, watch.styles)
                styles[alert.id] = AlertStyle(
                    style.silent,
                    style.preview,
                    feedback=watch.kind != "channel",
                    webhook=alert.chat_id in hooked,
                    language=languages.get(alert.chat_id, i18n.chat_language(None, None)),
                )
        if changed:
            await self._write(queries.resettle_alerts, settled=changed)
        return due, styles

    async def _deliver_each(
        self, chat_id: int, rows: list[tuple[Alert, Article]], styles: dict[int, AlertStyle]
    ) -> None:
        for row in rows:
            if not await self._deliver(chat_id, [row], styles):
                return

    async def _deliver(
        self, chat_id: int, rows: list[tuple[Alert, Article]], styles: dict[int, AlertStyle]
    ) -> bool:
        """Send a chat its due alerts, one message for one alert, a list of headlines for
        several, and record the outcome of each; each alert Telegram accepted also goes to the
        chat's webhook. A message is silent when every alert in it is; a single alert's link
        preview follows its items, a list of headlines has none."""
        # In the chat's language: each chat's delivery is a task of its own
        # (`_start_sending`), so the language set here stays within it.
        i18n.speak(styles[rows[0][0].id or 0].language)
        messages: list[tuple[str, list[Alert], InlineKeyboardMarkup | None]]
        quiet = AlertStyle(
            silent=False,
            preview=Preview.OFF,
            feedback=False,
            webhook=False,
            language=i18n.current_language(),
        )
        preview = link_preview(Preview.OFF, None)
        if len(rows) == 1:
            alert, article = rows[0]
            listed_with = await self._listed_with(article)
            text = rendering.alert(
                title=article.title,
                topics=json.loads(alert.topics),
                mentions=json.loads(alert.mentions),
                evidence=evidence_sentence(article.title, article.body, alert.evidence_at),
                source=article.source,
                url=article.url or (listed_with.url if listed_with else None),
                published=article.published_at,
                listed_with=listed_with.title if listed_with else None,
                language=article.language,
                chat_language=i18n.current_language(),
            )
            style = styles.get(alert.id or 0, quiet)
            preview = link_preview(style.preview, article.url)
            markup = (
                one_button(rendering.less_like_this_button(alert.id or 0))
                if style.feedback
                else None
            )
            messages = [(text, [alert], markup)]
        else:
            alerts = {alert.id: alert for alert, _ in rows}
            items = [
                rendering.BurstItem(
                    alert.id or 0,
                    article.title,
                    article.url,
                    article.source,
                    tuple(json.loads(alert.topics)),
                    published=article.published_at,
                    mentions=tuple(json.loads(alert.mentions)),
                    language=article.language,
                )
                for alert, article in rows
            ]
            messages = [
                (burst.text, [alerts[i] for i in burst.alert_ids], evidence_markup())
                for burst in rendering.alert_burst(items, i18n.current_language())
            ]
        articles = {alert.id: article for alert, article in rows}
        for text, alerts_in_message, markup in messages:
            if self._stop.is_set():
                return False
            ids = [alert.id for alert in alerts_in_message if alert.id is not None]
            silent = all(styles.get(alert_id, quiet).silent for alert_id in ids)
            result = await self.send(
                chat_id, text, reply_markup=markup, silent=silent, preview=preview
            )
            if result.status is SendStatus.SENT:
                self._last_alert_at[chat_id] = time.monotonic()
                await self._write(
                    queries.mark_alerts_sent, alert_ids=ids, message_id=result.message_id
                )
                for alert in alerts_in_message:
                    if styles.get(alert.id or 0, quiet).webhook:
                        await self._post_to_webhook(alert, articles[alert.id])
                continue
            if result.status is SendStatus.REJECTED:
                log.error("alerts %s rejected by Telegram: %s", ids, result.error)
                for alert_id in ids:
                    await self._write(
                        queries.mark_alert_failed, alert_id=alert_id, error=result.error
                    )
            elif result.status is SendStatus.TRANSIENT:
                for alert in alerts_in_message:
                    assert alert.id is not None
                    backoff = min(MAX_BACKOFF_SECONDS, 2.0 ** (alert.attempts + 1))
                    log.warning(
                        "alert %s not sent (%s); retrying in %.0f s",
                        alert.id,
                        result.error,
                        backoff,
                    )
                    await self._write(
                        queries.defer_alert,
                        alert_id=alert.id,
                        error=result.error,
                        retry_at=utcnow() + timedelta(seconds=backoff),
                    )
            return False  # blocked, refused or erroring: the chat's other alerts wait
        return True

    async def _post_to_webhook(self, alert: Alert, article: Article) -> None:
        """Hand a sent alert to the chat's webhook; the POST runs in the background, and no
        failure here stops the chat's Telegram alerts."""
        if self._webhooks is None or article.id is None:
            return
        sources = [article.source] if article.source else []
        if article.story_id is not None:
            try:
                async with self._sessions() as session:
                    sources = await queries.story_sources(
                        session=session, story_id=article.story_id
                    )
            except Exception:
                log.exception("the story sources of alert %s for its webhook", alert.id)
        mentions = set(json.loads(alert.mentions))
        self._webhooks.submit(
            alert_payload(
                alert.chat_id,
                WebhookArticle(
                    article.id, article.title, article.url, article.source, article.published_at
                ),
                tuple(
                    WebhookItem(topic, main_story=topic not in mentions)
                    for topic in json.loads(alert.topics)
                ),
                relevance=alert.relevance,
                evidence=evidence_sentence(article.title, article.body, alert.evidence_at),
                sources=tuple(sources),
            )
        )

    async def _listed_with(self, article: Article) -> Article | None:
        """The article a related headline was listed with, if it is one."""
        if article.parent_id is None:
            return None
        async with self._sessions() as session:
            found = await queries.articles_by_id(session=session, article_ids=[article.parent_id])
        return found.get(article.parent_id)

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        silent: bool = False,
        preview: LinkPreviewOptions | None = None,
    ) -> SendResult:
        """Send one HTML message at the budget's pace (`silent`: without a notification;
        `preview`: the link preview, none by default). A 429 pauses all sending and resends;
        a blocked or vanished chat is marked inactive."""
        while True:
            if not await self._wait_for_slot(chat_id):
                return SendResult(SendStatus.STOPPED)
            try:
                async with self._sends:
                    message = await self._bot.send_message(
                        chat_id,
                        text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=reply_markup,
                        disable_notification=silent,
                        link_preview_options=preview or LinkPreviewOptions(is_disabled=True),
                    )
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                log.warning("Telegram asked to slow down: pausing sends for %.1f s", seconds)
                self._budget.pause(seconds)
                continue
            except Forbidden as error:
                await self._deactivate(chat_id, error.message)
                return SendResult(SendStatus.UNREACHABLE, error=error.message)
            except BadRequest as error:
                if "chat not found" in error.message.lower():
                    await self._deactivate(chat_id, error.message)
                    return SendResult(SendStatus.UNREACHABLE, error=error.message)
                return SendResult(SendStatus.REJECTED, error=error.message)
            except TelegramError as error:  # 5xx, timeouts, network
                return SendResult(SendStatus.TRANSIENT, error=str(error))
            return SendResult(SendStatus.SENT, message_id=message.message_id)

    @property
    def is_sender(self) -> bool:
        """Whether this instance currently holds the sender lock and sends for the bot."""
        return self._is_sender is True

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

    async def _deactivate(self, chat_id: int, reason: str) -> None:
        log.info("chat %s is unreachable (%s); no more alerts go there", chat_id, reason)
        await self._write(queries.deactivate_chat, chat_id=chat_id, reason=reason)

    async def _write(self, operation: Callable[..., Awaitable[T]], **arguments: object) -> T:
        """Run one storage write in its own committed transaction, one at a time."""
        async with self._write_lock, self._sessions() as session:
            result = await operation(session=session, **arguments)
            await session.commit()
            return result
