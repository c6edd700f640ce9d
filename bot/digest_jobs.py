"""Digests as JobQueue jobs: one daily job per (time zone, local time) in use and one weekly
job per (time zone, weekday and time) in use, derived from the database at start-up and after
every settings change. APScheduler fires each job at that local time, across daylight-saving
changes; a row per chat, local day and slot makes sure each digest is sent at most once,
whichever instance or restart runs the job."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from bot import i18n, rendering
from bot.context import BotApplication, BotContext, Services, services_of
from bot.digests import DigestArticle, group_by_topic, local_date, local_time
from bot.fanout import expand_for_chat, settle
from bot.localtime import WEEKDAYS
from bot.senders import Destination, SendStatus
from bot.senders.telegram import TelegramMessage
from storage import queries
from storage import story_edits as story_store
from storage.db import SessionFactory
from storage.models import NO_THREAD, WEEKLY_SLOT, Alert, Article, Chat, utcnow
from storage.queries import DigestSlot

log = logging.getLogger(__name__)

JOB_PREFIX = "digest "
FIRST_DIGEST_WINDOW = timedelta(hours=24)
WEEK = timedelta(days=7)


def slot_job_name(timezone: str, at: str) -> str:
    """The job of a daily time ("08:00") or of a weekly day and time ("mon 08:00")."""
    return f"{JOB_PREFIX}{timezone} {at}"


async def sync_digest_jobs(app: BotApplication) -> None:
    """Make the JobQueue hold exactly one job per digest slot in use."""
    if app.job_queue is None:
        return
    services = services_of(app)
    async with services.digest_sync:
        async with services.sessions() as session:
            slots = await queries.digest_slots(session=session)
        wanted = {slot_job_name(slot.timezone, slot.at): slot for slot in slots}
        for job in app.job_queue.jobs():
            if job.name and job.name.startswith(JOB_PREFIX) and job.name not in wanted:
                job.schedule_removal()
        scheduled = {job.name for job in app.job_queue.jobs()}
        for name, slot in wanted.items():
            if name in scheduled:
                continue
            day, _, at = slot.at.rpartition(" ")
            # PTB counts days from Sunday (0)
            days = ((WEEKDAYS.index(day) + 1) % 7,) if slot.weekly else tuple(range(7))
            app.job_queue.run_daily(
                send_slot_digests,
                time=local_time(at, slot.timezone),
                days=days,
                name=name,
                data=slot,
                job_kwargs={"id": name, "replace_existing": True},
            )


async def send_slot_digests(context: BotContext) -> None:
    """The job: send the slot's digest to every chat of one slot."""
    assert context.job is not None
    slot = cast(DigestSlot, context.job.data)
    services = context.services
    if not services.dispatcher.is_sender:
        return  # another instance sends for the bot
    async with services.sessions() as session:
        chats = await queries.chats_in_slot(session=session, slot=slot)
    now = utcnow()
    for chat in chats:
        try:
            if slot.weekly:
                await send_weekly_digest(services, chat, now)
            else:
                await send_digest(services, chat, now, slot=slot.at)
        except Exception:  # one chat's failure never stops the others
            log.exception("digest for chat %s failed", chat.id)


async def send_digest(services: Services, chat: Chat, now: datetime, *, slot: str) -> bool:
    """Send the chat's digest of a daily slot ("07:30") for its local day, covering what came
    since its previous daily digest, unless it was sent already; True if sent."""
    day = local_date(now, chat.timezone)
    async with services.sessions() as session:
        since = await queries.last_digest_end(session=session, chat_id=chat.id)
        digest_id = await queries.record_digest(
            session=session, chat_id=chat.id, local_date=day, slot=slot, covers_until=now
        )
    if digest_id is None:
        return False
    messages = await digest_text(services.sessions, chat, since=since, until=now)
    return await _send_recorded(services, chat, digest_id, messages)


async def send_weekly_digest(services: Services, chat: Chat, now: datetime) -> bool:
    """Send the chat's weekly digest (the week's main stories per item) unless this week's
    was sent already; True if sent."""
    day = local_date(now, chat.timezone)
    async with services.sessions() as session:
        since = await queries.last_digest_end(session=session, chat_id=chat.id, weekly=True)
        if since is not None and since > now - WEEK + timedelta(hours=1):
            return False  # this week's, sent on the same weekday (a restart, a DST shift)
        digest_id = await queries.record_digest(
            session=session, chat_id=chat.id, local_date=day, slot=WEEKLY_SLOT, covers_until=now
        )
    if digest_id is None:
        return False
    messages = await digest_text(
        services.sessions, chat, since=since or now - WEEK, until=now, weekly=True
    )
    return await _send_recorded(services, chat, digest_id, messages)


async def _send_recorded(
    services: Services, chat: Chat, digest_id: int, messages: list[str]
) -> bool:
    """Send a recorded digest's messages and note its first message; True if all were sent."""
    if not messages:
        return False
    first_id = None
    for text in messages:
        result = await services.dispatcher.send(
            Destination(chat.id, chat.digest_thread_id or NO_THREAD), TelegramMessage(text)
        )
        if result.status is not SendStatus.SENT:
            log.warning("digest for chat %s not sent: %s", chat.id, result.error)
            return False
        first_id = first_id or result.message_id
    if first_id is not None:
        async with services.sessions() as session:
            await queries.set_digest_message(
                session=session, digest_id=digest_id, message_id=first_id
            )
            await session.commit()
    return True


async def digest_text(
    sessions: SessionFactory,
    chat: Chat,
    *,
    since: datetime | None,
    until: datetime,
    weekly: bool = False,
) -> list[str]:
    """The digest as messages: what matched since the last digest, grouped by watch item,
    each article settled by the watch-list of now (an item no longer watched is not listed),
    each story once with the sources of all its reports the chat has;
    the weekly one lists main stories only. Empty when nothing matched and the chat does not
    want a "nothing new" line."""
    since = since or until - FIRST_DIGEST_WINDOW
    async with sessions() as session:
        await expand_for_chat(session=session, chat_id=chat.id, at=until)
        await session.commit()
        rows = await queries.matched_between(
            session=session, chat_id=chat.id, since=since, until=until
        )
        matches = await queries.matches_of(
            session=session, article_ids={alert.article_id for alert, _ in rows}
        )
        watch = (
            await queries.watch_lists(
                session=session,
                chat_ids=[chat.id],
                topics={m.topic for found in matches.values() for m in found},
            )
        ).get(chat.id)
        told = await story_store.told_sources(
            session=session,
            chat_id=chat.id,
            story_ids={article.story_id for _, article in rows if article.story_id},
        )
    articles = []
    for alert, article in _one_per_article(rows):
        settled = watch and settle(chat.id, matches[alert.article_id], watch.levels, watch.mode)
        if settled and weekly:
            about = tuple(topic for topic in settled.topics if topic not in settled.mentions)
            settled = settled._replace(topics=about, mentions=()) if about else None
        if settled:
            story = article.story_id or article.id or 0
            articles.append(
                DigestArticle(
                    title=article.title,
                    source=article.source,
                    url=article.url,
                    story=story,
                    # its story's other sources, also those of reports before this period
                    also=tuple(s for s in told.get(story, ()) if s != article.source),
                    topics=settled.topics,
                    mentions=settled.mentions,
                    relevance=settled.relevance,
                    published=article.published_at,
                )
            )
    day = local_date(until, chat.timezone)
    with i18n.speaking(i18n.chat_language(chat.language, chat.language_code)):
        if not articles:
            return [rendering.empty_digest(day, weekly=weekly)] if chat.empty_digest_line else []
        return rendering.digest(day, group_by_topic(articles), weekly=weekly)


def _one_per_article(rows: list[tuple[Alert, Article]]) -> list[tuple[Alert, Article]]:
    """An article alerted to two forum topics of a chat is one entry of its digest (settled
    by the chat's whole watch-list)."""
    seen: set[int] = set()
    kept = []
    for alert, article in rows:
        if alert.article_id not in seen:
            seen.add(alert.article_id)
            kept.append((alert, article))
    return kept
