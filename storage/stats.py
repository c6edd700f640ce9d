"""Counts for `/stats` and `tradebot stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import queries
from storage.feeds import feed_counts
from storage.models import AlertStatus, Article, Chat, Fanout, FeedStatus, Subscription


@dataclass(frozen=True, slots=True)
class Stats:
    chats_active: int
    chats_blocked: int
    watch_items: int  # subscriptions
    distinct_topics: int
    articles: int
    alerts_pending: int
    articles_fanning_out: int  # matched articles not yet expanded to all their chats
    alerts_sent: int
    alerts_failed: int
    feeds_ok: int
    feeds_backoff: int
    feeds_paused: int
    last_ingest_at: datetime | None


async def collect_stats(*, session: AsyncSession) -> Stats:
    chats = await session.exec(select(Chat.active, func.count()).group_by(col(Chat.active)))
    by_activity = {bool(active): count for active, count in chats.all()}
    subscriptions = await session.exec(
        select(func.count(), func.count(func.distinct(Subscription.topic))).select_from(
            Subscription
        )
    )
    watch_items, distinct_topics = subscriptions.one()
    articles = await session.exec(
        select(func.count(), func.max(Article.ingested_at)).select_from(Article)
    )
    article_count, last_ingest = articles.one()
    alerts = await queries.alert_counts(session=session)
    fanouts = await session.exec(select(func.count()).select_from(Fanout))
    feeds = await feed_counts(session=session)
    if last_ingest is not None and last_ingest.tzinfo is None:
        last_ingest = last_ingest.replace(tzinfo=UTC)  # SQLite keeps UTC without the zone
    return Stats(
        chats_active=by_activity.get(True, 0),
        chats_blocked=by_activity.get(False, 0),
        watch_items=watch_items,
        distinct_topics=distinct_topics,
        articles=article_count,
        alerts_pending=alerts.get(AlertStatus.PENDING, 0),
        articles_fanning_out=fanouts.one(),
        alerts_sent=alerts.get(AlertStatus.SENT, 0),
        alerts_failed=alerts.get(AlertStatus.FAILED, 0),
        feeds_ok=feeds.get(FeedStatus.OK, 0),
        feeds_backoff=feeds.get(FeedStatus.BACKOFF, 0),
        feeds_paused=feeds.get(FeedStatus.PAUSED, 0),
        last_ingest_at=last_ingest,
    )
