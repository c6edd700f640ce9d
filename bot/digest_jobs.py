"""Daily digests as JobQueue jobs: one daily job per (time zone, local time) in use, derived
from the database at start-up and after every settings change. APScheduler fires each job at
that local time, across daylight-saving changes; a row per chat and local day makes sure a
digest is sent at most once, whichever instance or restart runs the job."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from bot import i18n, rendering
from bot.context import BotApplication, BotContext, Services, services_of
from bot.delivery import SendStatus
from bot.digests import DigestArticle, group_by_topic, local_date, local_time
from bot.fanout import expand_for_chat, settle
from storage import queries
from storage.db import SessionFactory
from storage.models import Chat, utcnow

log = logging.getLogger(__name__)

JOB_PREFIX = "digest "
FIRST_DIGEST_WINDOW = timedelta(hours=24)


def slot_job_name(timezone: str, digest_time: str) -> str:
    return f"{JOB_PREFIX}{timezone} {digest_time}"


async def sync_digest_jobs(app: BotApplication) -> None:
    """Make the JobQueue hold exactly one daily job per digest slot in use."""
    if app.job_queue is None:
        return
    services = services_of(app)
    async with services.digest_sync:
        async with services.sessions() as session:
            slots = await queries.digest_slots(session=session)
        wanted = {slot_job_name(zone, at): (zone, at) for zone, at in slots}
        for job in app.job_queue.jobs():
            if job.name and job.name.startswith(JOB_PREFIX) and job.name not in wanted:
                job.schedule_removal()
        scheduled = {job.name for job in app.job_queue.jobs()}
        for name, (zone, at) in wanted.items():
            if name not in scheduled:
                app.job_queue.run_daily(
                    send_slot_digests,
                    time=local_time(at, zone),
                    name=name,
                    data=(zone, at),
                    job_kwargs={"id": name, "replace_existing": True},
                )


async def send_slot_digests(context: BotContext) -> None:
    """The job: send today's digest to every chat of one (zone, time) slot."""
    assert context.job is not None
    zone, at = cast(tuple[str, str], context.job.data)
    services = context.services
    if not services.dispatcher.is_sender:
        return  # another instance sends for the bot
    async with services.sessions() as session:
        chats = await queries.chats_in_slot(session=session, timezone=zone, digest_time=at)
    now = utcnow()
    for chat in chats:
        try:
            await send_digest(services, chat, now)
        except Exception:  # one chat's failure never stops the others
            log.exception("digest for chat %s failed", chat.id)


async def send_digest(services: Services, chat: Chat, now: datetime) -> bool:
    """Send the chat's digest for its local day unless it was sent already; True if sent."""
    day = local_date(now, chat.timezone)
    async with services.sessions() as session:
        since = await queries.last_digest_end(session=session, chat_id=chat.id)
        digest_id = await queries.record_digest(
            session=session, chat_id=chat.id, local_date=day, covers_until=now
        )
    if digest_id is None:
        return False
    messages = await digest_text(services.sessions, chat, since=since, until=now)
    if not messages:
        return False
    first_id = None
    for text in messages:
        result = await services.dispatcher.send(chat.id, text)
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
    sessions: SessionFactory, chat: Chat, *, since: datetime | None, until: datetime
) -> list[str]:
    """The digest as messages: what matched since the last digest, grouped by watch item,
    each article settled by the watch-list of now (an item no longer watched is not listed).
    Empty when nothing matched and the chat does not want a "nothing new" line."""
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
    articles = []
    for alert, article in rows:
        settled = watch and settle(chat.id, matches[alert.article_id], watch.levels, watch.mode)
        if settled:
            articles.append(
                DigestArticle(
                    title=article.title,
                    source=article.source,
                    url=article.url,
                    story=article.story_id or article.id or 0,
                    topics=settled.topics,
                    mentions=settled.mentions,
                    relevance=settled.relevance,
                    published=article.published_at,
                )
            )
    day = local_date(until, chat.timezone)
    with i18n.speaking(i18n.chat_language(chat.language, chat.language_code)):
        if not articles:
            return [rendering.empty_digest(day)] if chat.empty_digest_line else []
        return rendering.digest(day, group_by_topic(articles))
