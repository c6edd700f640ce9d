"""The dispatcher: expands what articles matched to the chats watching it (`bot.fanout`) and
sends the alerts from the outbox, at Telegram's pace, exactly once.

- Each round expands a chunk of every fan-out that needs one, then claims a batch of due
  alerts by fan-out position and settles each again against the chat's watch-list of the
  moment: an item unwatched since is left out, an alert with nothing left is dropped.

- Every send waits for a slot in the `SendBudget` (about 30 messages/s overall, 1/s per private
  chat, 20/min per group), so 429s are the exception, not the pacing mechanism.
- Quiet hours: a chat's claimed alerts are postponed to the end of its quiet hours, when they
  fall due together and go out as one list of headlines.
- Each alert has a destination (`bot.senders.Destination`): the chat, or the forum topic its
  items are routed to; what is rendered goes to the sender of its channel (`bot.senders`:
  Telegram, and the chat's webhook for alerts Telegram accepted).
- 429: all sending pauses for `retry_after`, then the same message is sent again.
- 403 or "chat not found": the chat is marked inactive and nothing more is sent to it.
- "message thread not found": the forum topic was deleted; its items and digest go to
  General from now on (the group is told once) and the message is sent to General instead.
- 5xx and network errors: the alert is retried later with exponential backoff.
- A sent alert is marked sent right after Telegram accepts it; on stop, the dispatcher finishes
  the message in flight and starts no other.
- A later report of a story a chat was alerted to is no new message: each round also claims
  those and edits the earlier alert in place (`bot.story_edits`), paced and retried as a send.
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
from datetime import UTC, timedelta
from typing import NamedTuple, TypeVar

from sqlalchemy.exc import DBAPIError
from telegram import Bot, InlineKeyboardMarkup

from bot import i18n, rendering, story_edits
from bot.fanout import alert_style, expand_round, levels_at, settle
from bot.matching import evidence_sentence
from bot.quiet import quiet_until
from bot.senders import Channel, Destination, SendResult, SendStatus
from bot.senders.telegram import TelegramMessage, TelegramSender, keyboard, link_preview
from bot.senders.webhook import WebhookAlertSender
from bot.webhooks import WebhookSender
from storage import queries
from storage import story_edits as story_store
from storage import webhooks as webhook_store
from storage.db import SessionFactory
from storage.locks import SenderLock
from storage.models import NO_THREAD, Alert, AlertStatus, Article, Preview, utcnow

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
NOT_THE_SENDER = (
    "another tradebot instance sends alerts for this database; "
    "this one will not send until it stops"
)

T = TypeVar("T")


def evidence_markup() -> InlineKeyboardMarkup | None:
    """Under a list of headlines: the evidence of the alerts it carries (they record its
    message id), in the language spoken."""
    return keyboard(rendering.Reply("", ((rendering.evidence_button(),),)))


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
        self._sessions = sessions
        self._poll_seconds = poll_seconds
        self._sender_lock = sender_lock
        self._is_sender: bool | None = None  # None: not tried yet
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._burst_seconds = burst_seconds
        self._last_alert_at: dict[Destination, float] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[asyncio.Task[object], Destination] = {}  # sending task → where
        self._telegram = TelegramSender(
            bot, budget or SendBudget(), stop=self._stop, on_unreachable=self._deactivate
        )
        self._webhook = WebhookAlertSender(webhooks, sessions) if webhooks else None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="alert-dispatcher")

    async def stop(self) -> None:
        """Finish the messages in flight, send nothing more, hand back leases, and return."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
            try:
                await self._write(queries.release_claims, worker=self._worker)
            except DBAPIError:  # a busy or lost database: the leases run out by themselves
                log.warning("stopping: the alerts' leases were not handed back", exc_info=True)
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
        per_destination: dict[Destination, list[tuple[Alert, Article]]] = defaultdict(list)
        for alert, article in batch:
            per_destination[Destination(alert.chat_id, alert.thread_id)].append((alert, article))
        await self._defer_quiet_hours(per_destination)
        now = time.monotonic()
        busy = set(self._in_flight.values())
        for destination, rows in per_destination.items():
            quiet_for = now - self._last_alert_at.get(destination, -self._burst_seconds)
            wait = self._burst_seconds - quiet_for  # > 0: a burst, sent as one message shortly
            if destination in busy:
                wait = max(wait, BUSY_CHAT_SECONDS)
            if wait > 0:
                await self._write(
                    queries.postpone_alerts,
                    alert_ids=[alert.id for alert, _ in rows],
                    until=utcnow() + timedelta(seconds=wait),
                )
            elif self._burst_seconds:
                self._start_sending(destination, self._deliver(destination, rows, styles))
            else:
                self._start_sending(destination, self._deliver_each(destination, rows, styles))
        edits = await self._edit_stories()
        while len(self._in_flight) > PIPELINE_TAIL:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        return steps + len(claimed) + edits

    async def _edit_stories(self) -> int:
        """Claim due later reports of stories and edit the earlier alerts' messages for them
        (`bot.story_edits`), each chat's in a task of its own; how many were claimed."""
        async with self._sessions() as session:
            if not await story_store.edits_waiting(session=session):
                return 0  # the usual round: sends waiting to be recorded do not wait for this
        async with self._write_lock, self._sessions() as session:
            claimed = await story_store.claim_due_edits(
                session=session, worker=self._worker, limit=BATCH_SIZE, lease=CLAIM_LEASE
            )
        per_chat: dict[int, list[tuple[Alert, Article]]] = defaultdict(list)
        for alert, article in claimed:
            per_chat[alert.chat_id].append((alert, article))
        busy = {destination.chat_id for destination in self._in_flight.values()}
        for chat_id, rows in per_chat.items():
            if chat_id in busy:  # its earlier alert may be on its way
                await self._write(
                    queries.postpone_alerts,
                    alert_ids=[alert.id for alert, _ in rows],
                    until=utcnow() + timedelta(seconds=BUSY_CHAT_SECONDS),
                )
            else:
                self._start_sending(Destination(chat_id), self._edit_each(chat_id, rows))
        return len(claimed)

    async def _edit_each(self, chat_id: int, rows: list[tuple[Alert, Article]]) -> None:
        """Make a chat's claimed story edits in turn, in its language, and record each."""
        i18n.speak(await self._language(chat_id))
        for alert, article in rows:
            assert alert.id is not None
            async with self._sessions() as session:
                plan = await story_edits.plan_edit(
                    session=session, alert=alert, article=article, now=utcnow()
                )
            if isinstance(plan, story_edits.Later):
                await self._write(story_edits.record_no_edit, alert_id=alert.id, later=plan)
                continue
            result = await self.edit(
                chat_id,
                plan.message_id,
                TelegramMessage(
                    plan.text,
                    reply_markup=keyboard(plan.buttons),
                    preview=link_preview(plan.preview, plan.url),
                ),
            )
            if result.status in (SendStatus.SENT, SendStatus.UNCHANGED, SendStatus.GONE):
                await self._write(
                    story_store.mark_edited,
                    alert_id=alert.id,
                    message_id=plan.message_id,
                    note=result.error or None,
                )
                continue
            if result.status is SendStatus.REJECTED:
                log.error("story edit %s rejected by Telegram: %s", alert.id, result.error)
                await self._write(queries.mark_alert_failed, alert_id=alert.id, error=result.error)
            elif result.status is SendStatus.TRANSIENT:
                backoff = min(MAX_BACKOFF_SECONDS, 2.0 ** (alert.attempts + 1))
                await self._write(
                    queries.defer_alert,
                    alert_id=alert.id,
                    error=result.error,
                    retry_at=utcnow() + timedelta(seconds=backoff),
                )
            return  # stopping, blocked, refused or erroring: the chat's other edits wait

    async def _defer_quiet_hours(
        self, per_destination: dict[Destination, list[tuple[Alert, Article]]]
    ) -> None:
        """Hold back (and drop from `per_destination`) the alerts of chats in their quiet
        hours until those end, when they go out together as one list of headlines per
        destination."""
        async with self._sessions() as session:
            quiet = await queries.quiet_hours_of(
                session=session, chat_ids={d.chat_id for d in per_destination}
            )
        now = utcnow()
        for chat_id, setting in quiet.items():
            until = quiet_until(setting.hours, setting.timezone, now)
            if until is not None:
                for destination in [d for d in per_destination if d.chat_id == chat_id]:
                    rows = per_destination.pop(destination)
                    await self._write(
                        queries.postpone_alerts,
                        alert_ids=[alert.id for alert, _ in rows],
                        until=until,
                    )

    def _start_sending(
        self, destination: Destination, sending: Coroutine[object, None, object]
    ) -> None:
        """Send in a task of its own; the next round claims while the last few are on their
        way."""
        task = asyncio.create_task(sending)
        self._in_flight[task] = destination
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[object]) -> None:
        del self._in_flight[task]
        if not task.cancelled() and task.exception() is not None:
            log.error("sending alerts failed", exc_info=task.exception())

    async def _settle(
        self, claimed: list[tuple[Alert, Article]]
    ) -> tuple[list[tuple[Alert, Article]], dict[int, AlertStyle]]:
        """Settle claimed alerts again by the chats' watch-lists of the moment (muted items and
        sources left out) and where their items go now (`bot.fanout.levels_at`); those still to
        be pushed now, naming only the items still watched, and how each is sent (by alert
        id)."""
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
                if self._webhook
                else set()
            )
            # where else an article waits matters only to chats with items in forum topics
            in_topics = {chat for chat, watch in watching.items() if any(watch.threads.values())}
            waiting = await queries.pending_destinations(
                session=session,
                keys={
                    queries.AlertKey(alert.chat_id, alert.article_id)
                    for alert, _ in claimed
                    if alert.thread_id != NO_THREAD or alert.chat_id in in_topics
                },
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
                    levels_at(
                        alert.thread_id,
                        json.loads(alert.topics),
                        watch.levels,
                        watch.threads,
                        waiting.get(queries.AlertKey(alert.chat_id, article.id), set())
                        - {alert.thread_id},
                    ),
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
        self,
        destination: Destination,
        rows: list[tuple[Alert, Article]],
        styles: dict[int, AlertStyle],
    ) -> None:
        for row in rows:
            if not await self._deliver(destination, [row], styles):
                return

    async def _deliver(
        self,
        destination: Destination,
        rows: list[tuple[Alert, Article]],
        styles: dict[int, AlertStyle],
    ) -> bool:
        """Send a destination its due alerts, one message for one alert, a list of headlines
        for several, and record the outcome of each; each alert Telegram accepted also goes to
        the chat's webhook. A message is silent when every alert in it is; a single alert's
        link preview follows its items, a list of headlines has none."""
        chat_id = destination.chat_id
        # In the chat's language: each destination's delivery is a task of its own
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
            text = rendering.stored_alert(
                alert,
                article,
                evidence=evidence_sentence(article.title, article.body, alert.evidence_at),
                listed_with=listed_with,
            )
            style = styles.get(alert.id or 0, quiet)
            preview = link_preview(style.preview, article.url)
            markup = keyboard(rendering.less_like_this(alert.id or 0)) if style.feedback else None
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
                destination,
                TelegramMessage(text, reply_markup=markup, silent=silent, preview=preview),
            )
            if result.status is SendStatus.SENT:
                self._last_alert_at[destination] = time.monotonic()
                await self._write(
                    queries.mark_alerts_sent, alert_ids=ids, message_id=result.message_id
                )
                for alert in alerts_in_message:
                    if self._webhook is not None and styles.get(alert.id or 0, quiet).webhook:
                        await self._webhook.send(
                            Destination(chat_id, channel=Channel.WEBHOOK),
                            await self._webhook.render(alert, articles[alert.id]),
                        )
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

    async def _language(self, chat_id: int) -> str:
        """The chat's language: chosen with /language, else that of who last wrote there."""
        async with self._sessions() as session:
            chosen, code = await queries.chat_languages(session=session, chat_id=chat_id)
        return i18n.chat_language(chosen, code)

    async def _listed_with(self, article: Article) -> Article | None:
        """The article a related headline was listed with, if it is one."""
        if article.parent_id is None:
            return None
        async with self._sessions() as session:
            found = await queries.articles_by_id(session=session, article_ids=[article.parent_id])
        return found.get(article.parent_id)

    async def send(self, destination: Destination, message: TelegramMessage) -> SendResult:
        """Send one message through Telegram at the budget's pace. To a forum topic deleted
        since, it goes to General instead, once: the items and the digest that went to the
        topic go to General from now on, which the group is told once."""
        result = await self._telegram.send(destination, message)
        if result.status is not SendStatus.THREAD_GONE:
            return result
        log.info(
            "forum topic %s of chat %s is gone (%s)",
            destination.thread_id,
            destination.chat_id,
            result.error,
        )
        forgotten = await self._write(
            queries.forget_thread, chat_id=destination.chat_id, thread_id=destination.thread_id
        )
        result = await self._telegram.send(destination.general(), message)
        if forgotten.topics or forgotten.digest:
            with i18n.speaking(await self._language(destination.chat_id)):
                notice = rendering.topic_deleted(forgotten.topics, digest=forgotten.digest)
            await self._telegram.send(destination.general(), TelegramMessage(notice))
        return result

    async def edit(self, chat_id: int, message_id: int, message: TelegramMessage) -> SendResult:
        """Edit one of the bot's messages in place, paced as a send (Telegram counts edits in
        the same limits)."""
        return await self._telegram.edit(Destination(chat_id), message_id, message)

    @property
    def is_sender(self) -> bool:
        """Whether this instance currently holds the sender lock and sends for the bot."""
        return self._is_sender is True

    async def _deactivate(self, chat_id: int, reason: str) -> None:
        log.info("chat %s is unreachable (%s); no more alerts go there", chat_id, reason)
        await self._write(queries.deactivate_chat, chat_id=chat_id, reason=reason)

    async def _write(self, operation: Callable[..., Awaitable[T]], **arguments: object) -> T:
        """Run one storage write in its own committed transaction, one at a time."""
        async with self._write_lock, self._sessions() as session:
            result = await operation(session=session, **arguments)
            await session.commit()
            return result
