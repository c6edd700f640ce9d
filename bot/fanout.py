"""The fan-out, at delivery: what an article matched (recorded per watch item at ingest) is
expanded to the chats watching those items, a chunk of chats at a time, as the dispatcher
sends. Each chat's alert is settled by `bot.ingest.decide` from its watch-list of the moment,
so an unsubscribe, a level change, a pause or a block takes effect for everything not yet
sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.ingest import RoutedAlert, decide
from bot.matching import Match
from storage import queries
from storage.models import NO_THREAD, AlertStatus, DeliveryMode, Preview, utcnow

# Chats expanded per step (one transaction): enough to keep sending at Telegram's pace, small
# enough that memory stays flat and no step holds the write lock for long.
CHUNK = 200
# A started fan-out gets its next chunk once fewer than this many of its alerts wait.
LOW_WATER = CHUNK // 2
OPEN_FANOUTS = 50  # looked at per round, those not started first


def settle(
    chat_id: int,
    matches: Sequence[queries.StoredMatch],
    levels: Mapping[str, str],
    mode: str,
    *,
    source_muted: bool = False,
) -> RoutedAlert | None:
    """What a chat hears of an article now: its matches on the items the chat still watches
    (muted items are not watched), at their current levels, by the chat's delivery mode
    (None: nothing, also when the chat muted the article's source)."""
    if source_muted:
        return None
    matched = [
        (Match(m.topic, m.evidence_at, m.relevance, m.about), levels[m.topic])
        for m in matches
        if m.topic in levels
    ]
    if not matched:
        return None
    return decide(chat_id, matched, mode == DeliveryMode.DIGEST)


def by_destination(
    levels: Mapping[str, str], threads: Mapping[str, int]
) -> dict[int, dict[str, str]]:
    """A chat's watched items (with their levels) by where their alerts go: the forum topic
    each is routed to, or NO_THREAD for the chat itself. An article matching items of two
    topics is an alert in each."""
    destinations: dict[int, dict[str, str]] = defaultdict(dict)
    for topic, level in levels.items():
        destinations[threads.get(topic, NO_THREAD)][topic] = level
    return destinations


def levels_at(
    thread_id: int,
    named: Sequence[str],
    levels: Mapping[str, str],
    threads: Mapping[str, int],
    waiting_at: Collection[int],
) -> dict[str, str]:
    """The watched items an alert written for a forum topic (or NO_THREAD) tells of when it
    is sent: those routed there now, and those it named that were routed elsewhere since
    (moved, or their topic deleted) to a place with no alert of the article waiting
    (`waiting_at`), so that an item is neither lost nor told twice."""
    return {
        topic: level
        for topic, level in levels.items()
        if threads.get(topic, NO_THREAD) == thread_id
        or (topic in named and threads.get(topic, NO_THREAD) not in waiting_at)
    }


def later_report(alert: queries.NewAlert) -> queries.NewAlert:
    """A later report of a story the chat was already told of: no new message. One that would
    be pushed edits the earlier alert in place to name its source (`bot.story_edits`), one
    that would not is kept for the digest."""
    edit = alert.status == AlertStatus.PENDING
    return alert._replace(status=AlertStatus.EDIT if edit else AlertStatus.HELD)


_PREVIEWS = (Preview.OFF, Preview.SMALL, Preview.LARGE)


def alert_style(
    topics: Sequence[str], styles: Mapping[str, queries.ItemStyle]
) -> queries.ItemStyle:
    """How an alert naming these items is sent: silent when every one of them is silent; the
    largest link preview any of them asks for."""
    named = [styles[topic] for topic in topics if topic in styles]
    if not named:
        return queries.ItemStyle(silent=False, preview=Preview.OFF)
    return queries.ItemStyle(
        silent=all(style.silent for style in named),
        preview=max((style.preview for style in named), key=_preview_rank),
    )


def _preview_rank(preview: str) -> int:
    return next((i for i, known in enumerate(_PREVIEWS) if known == preview), 0)


async def expand_round(*, session: AsyncSession) -> int:
    """Expand one chunk of each open fan-out that needs one (not started, or running low on
    alerts waiting); how many fan-out steps were taken. Each step commits on its own."""
    fanouts = await queries.open_fanouts(session=session, limit=OPEN_FANOUTS)
    await session.commit()
    steps = 0
    for fanout in fanouts:
        if fanout.started and fanout.waiting >= LOW_WATER:
            continue
        await expand_chunk(session=session, article_id=fanout.article_id, story_id=fanout.story_id)
        await session.commit()
        steps += 1
    return steps


async def expand_for_chat(*, session: AsyncSession, chat_id: int, at: datetime) -> int:
    """Write a chat's alerts of the open fan-outs that have not reached it yet, created `at`,
    in the caller's transaction (before a digest up to `at` lists them, or a pause holds
    them); how many. The fan-outs skip the chat when they reach it."""
    behind = await queries.fanouts_behind(session=session, chat_id=chat_id)
    if not behind:
        return 0
    matches = await queries.matches_of(
        session=session, article_ids=[fanout.article_id for fanout in behind]
    )
    sources = await queries.article_sources(
        session=session, article_ids=[fanout.article_id for fanout in behind]
    )
    watch = (
        await queries.watch_lists(
            session=session,
            chat_ids=[chat_id],
            topics={m.topic for found in matches.values() for m in found},
            sources=set(sources.values()),
        )
    ).get(chat_id)
    if watch is None:
        return 0
    destinations = by_destination(watch.levels, watch.threads)
    written = 0
    for fanout in behind:
        muted = sources.get(fanout.article_id) in watch.muted_sources
        alerts = []
        for thread_id, levels in destinations.items():
            routed = settle(
                chat_id, matches[fanout.article_id], levels, watch.mode, source_muted=muted
            )
            if routed is not None:
                alerts.append(queries.NewAlert(*routed, thread_id=thread_id))
        if not alerts:
            continue
        told = await queries.told_of_story(
            session=session,
            story_id=fanout.story_id,
            article_id=fanout.article_id,
            chat_ids=[chat_id],
        )
        alerts = [
            later_report(alert) if queries.ToldAt(chat_id, alert.thread_id) in told else alert
            for alert in alerts
        ]
        written += await queries.add_alerts(
            session=session,
            article_id=fanout.article_id,
            first_position=0,
            alerts=alerts,
            at=at,
        )
    return written


async def expand_chunk(*, session: AsyncSession, article_id: int, story_id: int) -> int:
    """Write the alerts of the next `CHUNK` chats of an article's fan-out and move its cursor
    on, in the caller's transaction; how many alerts were written. A chat (or forum topic)
    already told about another report of the story gets no new message for this one
    (`later_report`)."""
    cursor = await queries.lock_fanout(session=session, article_id=article_id)
    if cursor is None:
        return 0
    matches = (await queries.matches_of(session=session, article_ids=[article_id]))[article_id]
    watchers: dict[int, list[queries.Watcher]] = defaultdict(list)
    complete_up_to: int | None = None  # the chats after this one are not all read yet
    for match in matches:
        rows = await queries.next_watchers(
            session=session, topic=match.topic, after_chat=cursor.after_chat, limit=CHUNK
        )
        for row in rows:
            watchers[row.chat_id].append(row)
        if len(rows) == CHUNK:
            last = rows[-1].chat_id
            complete_up_to = last if complete_up_to is None else min(complete_up_to, last)
    chats = sorted(c for c in watchers if complete_up_to is None or c <= complete_up_to)
    if len(chats) > CHUNK:
        chats = chats[:CHUNK]
        complete_up_to = chats[-1]
    told = await queries.told_of_story(
        session=session, story_id=story_id, article_id=article_id, chat_ids=chats
    )
    source = (await queries.article_sources(session=session, article_ids=[article_id])).get(
        article_id
    )
    muted = await queries.muted_sources(
        session=session, chat_ids=chats, sources=[source] if source else []
    )
    by_topic = {match.topic: match for match in matches}
    alerts = []
    for chat_id in chats:
        rows = sorted(watchers[chat_id], key=lambda row: row.topic)
        threads = {row.topic: NO_THREAD if row.thread_id is None else row.thread_id for row in rows}
        levels = {row.topic: row.level for row in rows}
        for thread_id, routed_there in sorted(by_destination(levels, threads).items()):
            routed = settle(
                chat_id,
                [by_topic[row.topic] for row in rows],
                routed_there,
                rows[0].mode,
                source_muted=chat_id in muted,
            )
            if routed is None:
                continue
            alert = queries.NewAlert(*routed, thread_id=thread_id)
            told_here = queries.ToldAt(chat_id, thread_id) in told
            alerts.append(later_report(alert) if told_here else alert)
    written = await queries.add_alerts(
        session=session,
        article_id=article_id,
        first_position=cursor.expanded,
        alerts=alerts,
        at=utcnow(),
    )
    await queries.advance_fanout(
        session=session,
        article_id=article_id,
        cursor=None
        if complete_up_to is None
        else queries.Cursor(complete_up_to, cursor.expanded + len(alerts)),
    )
    return written
