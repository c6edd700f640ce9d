"""Ingest: store an article, match it against every active watch item and queue its alerts,
all in one transaction (a transactional outbox), so an article is never stored without its
alerts and a re-ingested article queues nothing."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.articles import ArticleIn, Rejected
from bot.facts import extract_facts, figures_to_json
from bot.lexicon import Lexicon
from bot.matching import Match, Matcher
from bot.stories import StoryText, pick_cluster, story_signature
from bot.suggest import names_in
from bot.text import content_hash, search_words
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage import queries
from storage.db import SessionFactory
from storage.models import AlertStatus, Article, DeliveryMode, Fact, utcnow
from storage.search import search_articles

log = logging.getLogger(__name__)

STORY_DAYS = 3  # reports further apart are different stories
STORY_SEARCH_WORDS = 8
STORY_CANDIDATES = 20


@dataclass(slots=True)
class IngestReport:
    new: int = 0
    new_headlines: int = 0
    duplicates: int = 0
    alerts: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def merge(self, other: IngestReport) -> None:
        self.new += other.new
        self.new_headlines += other.new_headlines
        self.duplicates += other.duplicates
        self.alerts += other.alerts
        self.rejected.extend(other.rejected)


class Router:
    """Which chats hear about an article: matches its watch items, fans out to subscribers.
    Chats that take digests only get their alert held for the digest."""

    def __init__(self, subscriptions: Iterable[tuple[int, str, str]], lexicon: Lexicon) -> None:
        chats_by_topic: dict[str, list[int]] = defaultdict(list)
        self._digest_only: set[int] = set()
        for chat_id, topic, mode in subscriptions:
            chats_by_topic[topic].append(chat_id)
            if mode == DeliveryMode.DIGEST:
                self._digest_only.add(chat_id)
        items: dict[str, WatchItem] = {}
        self._subscribers: dict[str, list[int]] = defaultdict(list)
        for topic, chat_ids in chats_by_topic.items():
            try:
                item = parse_watch_item(topic, lexicon)
            except TopicError as error:
                log.warning("skipping stored topic %r: %s", topic, error)
                continue
            items[item.key] = item
            self._subscribers[item.key].extend(chat_ids)
        self._matcher = Matcher(items.values(), lexicon)

    def route(self, title: str, body: str) -> list[tuple[int, list[str], str, str]]:
        """(chat id, matched watch items, evidence, alert status): one alert per chat."""
        per_chat: dict[int, list[Match]] = defaultdict(list)
        for match in self._matcher.match(title, body):
            for chat_id in self._subscribers.get(match.key, ()):
                per_chat[chat_id].append(match)
        return [
            (
                chat_id,
                [m.key for m in matches],
                matches[0].evidence,
                AlertStatus.HELD if chat_id in self._digest_only else AlertStatus.PENDING,
            )
            for chat_id, matches in sorted(per_chat.items())
        ]


class Ingestor:
    """Stores articles and queues their alerts."""

    def __init__(self, sessions: SessionFactory, lexicon: Lexicon) -> None:
        self._sessions = sessions
        self._lexicon = lexicon
        self._router = Router((), lexicon)
        self._fingerprint: tuple[int, ...] | None = None

    async def refresh(self) -> None:
        """Reload the watch items of every active chat when they changed. The matcher is
        rebuilt in a worker thread, off the event loop that answers chats."""
        async with self._sessions() as session:
            fingerprint = await queries.subscriptions_fingerprint(session=session)
            if fingerprint == self._fingerprint:
                return
            subscriptions = await queries.active_subscriptions(session=session)
        self._router = await asyncio.to_thread(Router, subscriptions, self._lexicon)
        self._fingerprint = fingerprint

    async def ingest(
        self,
        articles: Iterable[ArticleIn],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        report = IngestReport()
        for done, article in enumerate(articles, start=1):
            try:
                report.merge(await self._ingest_one(article))
            except IntegrityError:
                report.duplicates += 1  # another process stored the same article meanwhile
            except Exception as error:  # one bad article never stops the others
                log.exception("could not ingest %r", article.title[:80])
                report.rejected.append(Rejected(article.title[:60], f"internal error: {error}"))
            if progress:
                progress(done)
        return report

    async def _ingest_one(self, article: ArticleIn) -> IngestReport:
        report = IngestReport()
        async with self._sessions() as session, session.begin():
            parent = await self._store(session, article, report, parent_id=None)
            if parent is None:
                return report
            for headline in article.headlines:
                await self._store(
                    session,
                    ArticleIn(title=headline, source=article.source),
                    report,
                    parent_id=parent,
                )
            await queries.record_vocabulary(
                session=session, terms=names_in(article.title, article.body)
            )
        return report

    async def _store(
        self,
        session: AsyncSession,
        article: ArticleIn,
        report: IngestReport,
        *,
        parent_id: int | None,
    ) -> int | None:
        digest = content_hash(article.title, article.body)
        if await queries.find_duplicate(session=session, url=article.url, content_hash=digest):
            report.duplicates += 1
            return None
        row = Article(
            url=article.url,
            content_hash=digest,
            title=article.title,
            body=article.body,
            source=article.source,
            published_at=article.published,
            parent_id=parent_id,
            search_text=search_words(article.title, article.body),
            story_signature=story_signature(article.title, article.body),
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        row.story_id = await self._earlier_report(session, row) or row.id
        for fact in extract_facts(article.title, article.body):
            session.add(
                Fact(
                    article_id=row.id,
                    position=fact.position,
                    sentence=fact.sentence,
                    figures=figures_to_json(fact.figures),
                    fact_key=fact.key,
                )
            )
        if parent_id is None:
            report.new += 1
        else:
            report.new_headlines += 1
        alerts = self._router.route(article.title, article.body)
        if row.story_id != row.id:  # a chat told about the story keeps this copy for its digest
            told = await queries.chats_alerted_for_story(session=session, story_id=row.story_id)
            alerts = [
                (chat, topics, evidence, AlertStatus.HELD if chat in told else status)
                for chat, topics, evidence, status in alerts
            ]
        report.alerts += await queries.add_alerts(session=session, article_id=row.id, alerts=alerts)
        return row.id

    async def _earlier_report(self, session: AsyncSession, row: Article) -> int | None:
        """The story id of an earlier report of the same story from the last few days."""
        words = [w for w in dict.fromkeys(search_words(row.title, "").split()) if len(w) > 3]
        if not words:
            return None
        candidates = [
            candidate
            for candidate in await search_articles(
                session=session,
                query=[[(word,) for word in words[:STORY_SEARCH_WORDS]]],
                limit=STORY_CANDIDATES,
                since=utcnow() - timedelta(days=STORY_DAYS),
            )
            if candidate.id != row.id
        ]
        index = pick_cluster(
            StoryText(row.story_signature, row.published_at or utcnow()),
            [
                StoryText(
                    c.story_signature or story_signature(c.title, c.body),
                    c.published_at or c.ingested_at,
                )
                for c in candidates
            ],
            max_days=STORY_DAYS,
        )
        if index is None:
            return None
        return candidates[index].story_id or candidates[index].id
