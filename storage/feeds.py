"""Storage of feeds and of the entries they have published. Each function takes the session
first, as `*, session`, and leaves committing to the caller."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Feed, FeedEntry, FeedStatus, utcnow

KEY_BATCH = 400  # keys per IN (...) list, well under SQLite's parameter limit


async def find_feed_by_url(*, session: AsyncSession, url: str) -> Feed | None:
    result = await session.exec(select(Feed).where(Feed.url == url))
    return result.first()


async def add_feed(
    *, session: AsyncSession, url: str, name: str | None = None
) -> tuple[Feed, bool]:
    """The feed for a URL, created (due at once) when new; (feed, created)."""
    existing = await find_feed_by_url(session=session, url=url)
    if existing is not None:
        return existing, False
    feed = Feed(url=url, name=name, next_poll_at=utcnow())
    session.add(feed)
    await session.flush()
    return feed, True


async def get_feed(*, session: AsyncSession, feed_id: int) -> Feed | None:
    return await session.get(Feed, feed_id)


async def list_feeds(*, session: AsyncSession) -> Sequence[Feed]:
    result = await session.exec(select(Feed).order_by(col(Feed.id)))
    return result.all()


async def remove_feed(*, session: AsyncSession, feed_id: int) -> Feed | None:
    """Delete a feed and the record of its entries; the feed, or None if there was none.
    Articles already ingested from it stay."""
    feed = await session.get(Feed, feed_id)
    if feed is None:
        return None
    await session.exec(delete(FeedEntry).where(col(FeedEntry.feed_id) == feed_id))
    await session.delete(feed)
    return feed


async def resume_feed(
    *, session: AsyncSession, feed_id: int, now: datetime | None = None
) -> Feed | None:
    """Make a paused or backing-off feed due now, its failure count cleared."""
    feed = await session.get(Feed, feed_id)
    if feed is None:
        return None
    feed.status = FeedStatus.OK
    feed.consecutive_failures = 0
    feed.paused_notified = False
    feed.next_poll_at = now or utcnow()
    return feed


async def claim_due_feeds(
    *, session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> Sequence[Feed]:
    """Take the feeds whose next poll time has come, the most overdue first, and commit: their
    next poll time moves `lease` ahead, so another instance leaves them alone while this one
    polls (and polls them again if this one dies). The poll's outcome sets the real next time.
    On PostgreSQL rows another instance is claiming are skipped (FOR UPDATE SKIP LOCKED)."""
    candidates = await session.exec(
        select(Feed.id)
        .where(
            col(Feed.status) != FeedStatus.PAUSED,
            col(Feed.next_poll_at).is_not(None),
            col(Feed.next_poll_at) <= now,
        )
        .order_by(col(Feed.next_poll_at), col(Feed.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(candidates.all())
    if not ids:
        await session.commit()
        return []
    claimed_until = now + lease
    await session.exec(
        update(Feed)
        .where(col(Feed.id).in_(ids), col(Feed.next_poll_at) <= now)
        .values(next_poll_at=claimed_until)
    )
    await session.commit()
    result = await session.exec(
        select(Feed)
        .where(col(Feed.id).in_(ids), col(Feed.next_poll_at) == claimed_until)
        .order_by(col(Feed.id))
    )
    return result.all()


async def known_entries(*, session: AsyncSession, feed_id: int, keys: Iterable[str]) -> set[str]:
    """Which of these entry keys the feed has published before."""
    wanted = list(dict.fromkeys(keys))
    known: set[str] = set()
    for start in range(0, len(wanted), KEY_BATCH):
        batch = wanted[start : start + KEY_BATCH]
        result = await session.exec(
            select(FeedEntry.entry_key).where(
                FeedEntry.feed_id == feed_id, col(FeedEntry.entry_key).in_(batch)
            )
        )
        known.update(result.all())
    return known


async def mark_entries_seen(
    *, session: AsyncSession, feed_id: int, keys: Iterable[str], now: datetime | None = None
) -> int:
    """Record entry keys as published by the feed (an insert that skips known ones, safe to
    race); how many were new."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return 0
    known = await known_entries(session=session, feed_id=feed_id, keys=wanted)
    fresh = [key for key in wanted if key not in known]
    if not fresh:
        return 0
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    moment = now or utcnow()
    for start in range(0, len(fresh), KEY_BATCH):
        rows = [
            {"feed_id": feed_id, "entry_key": key, "first_seen_at": moment}
            for key in fresh[start : start + KEY_BATCH]
        ]
        await session.exec(
            insert(FeedEntry)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])
        )
    return len(fresh)


async def forget_entries(
    *, session: AsyncSession, feed_id: int, seen_before: datetime, keep: Iterable[str]
) -> None:
    """Drop the record of old entries the feed no longer publishes (re-published articles are
    still recognized by url and text at ingest)."""
    keep_list = list(dict.fromkeys(keep))
    statement = delete(FeedEntry).where(
        col(FeedEntry.feed_id) == feed_id, col(FeedEntry.first_seen_at) < seen_before
    )
    if keep_list and len(keep_list) <= KEY_BATCH:
        statement = statement.where(col(FeedEntry.entry_key).not_in(keep_list))
    elif keep_list:
        return  # an unusually long feed: keep everything rather than build a huge query
    await session.exec(statement)


async def record_success(
    *,
    session: AsyncSession,
    feed: Feed,
    now: datetime,
    next_poll_at: datetime,
    etag: str | None,
    last_modified: str | None,
    new_entries: int = 0,
    name: str | None = None,
    not_modified: bool = False,
) -> None:
    """A fetch that worked (or found nothing new): clear the failures, schedule the next."""
    feed.last_fetch_at = feed.last_success_at = now
    feed.consecutive_failures = 0
    feed.last_error = None
    feed.status = FeedStatus.OK
    feed.paused_notified = False
    feed.next_poll_at = next_poll_at
    if not not_modified:
        feed.etag, feed.last_modified = etag, last_modified
    elif etag or last_modified:  # a 304 may carry updated validators
        feed.etag = etag or feed.etag
        feed.last_modified = last_modified or feed.last_modified
    feed.items_seen += new_entries
    if name and not feed.name:
        feed.name = name
    session.add(feed)


async def record_failure(
    *,
    session: AsyncSession,
    feed: Feed,
    now: datetime,
    error: str,
    failures: int,
    next_poll_at: datetime | None,
    paused: bool,
) -> None:
    """A fetch that failed: the error, the failure count and the next poll (none if paused)."""
    feed.last_fetch_at = now
    feed.last_error = error[:500]
    feed.consecutive_failures = failures
    if paused:
        if feed.status != FeedStatus.PAUSED:
            feed.paused_notified = False
        feed.status = FeedStatus.PAUSED
        feed.next_poll_at = None
    else:
        feed.status = FeedStatus.BACKOFF
        feed.next_poll_at = next_poll_at
    session.add(feed)


async def paused_unnotified(*, session: AsyncSession) -> Sequence[Feed]:
    """Paused feeds the admins have not been told about yet."""
    result = await session.exec(
        select(Feed)
        .where(col(Feed.status) == FeedStatus.PAUSED, col(Feed.paused_notified).is_(False))
        .order_by(col(Feed.id))
    )
    return result.all()


async def mark_paused_notified(*, session: AsyncSession, feed_id: int) -> None:
    await session.exec(update(Feed).where(col(Feed.id) == feed_id).values(paused_notified=True))


async def feed_counts(*, session: AsyncSession) -> dict[str, int]:
    """Number of feeds per status."""
    result = await session.exec(select(Feed.status, func.count()).group_by(col(Feed.status)))
    return {str(status): count for status, count in result.all()}
