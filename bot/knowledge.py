"""Answers from stored articles: key facts, related headlines, the latest articles and daily
counts for a watch item. Candidates come from the full-text index; every candidate is then
confirmed with the same matcher as alerts, so answers follow the alert rules (aliases, case,
context, exclusions). No Telegram here: handlers and the CLI render the results.

Matching and ranking are CPU work: they run in a worker thread (`asyncio.to_thread`), so one
chat's question never stalls the event loop that answers every other chat."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from rapidfuzz import fuzz

from bot.facts import (
    FactCandidate,
    RankedFact,
    RankedInput,
    facts_about,
    figures_from_json,
    rank_facts,
)
from bot.lexicon import Lexicon
from bot.matching import Matcher
from bot.refs import ArticleRef, Story
from bot.topics import WatchItem
from storage import queries
from storage.db import SessionFactory
from storage.models import Article, Fact, utcnow
from storage.search import EPOCH, Query, search_articles

CANDIDATES = 200  # newest full-text hits confirmed per question
FACT_ARTICLES = 60  # the newest matching articles /facts reads
RANKED_FACTS = 60  # the best facts ranked and de-duplicated (pages of a handful each)
TREND_DAYS = 30
TREND_CANDIDATES = 5000
RELATED_LIMIT = 8
LATEST_LIMIT = 5


def article_ref(article: Article) -> ArticleRef:
    return ArticleRef(article.title, article.source, article.url, when(article))


def when(article: Article) -> datetime:
    return article.published_at or article.ingested_at


def search_query(item: WatchItem, lexicon: Lexicon) -> Query:
    """Every term of the item as a group of the phrases that can spell it."""
    groups = []
    for term in item.terms:
        if term.concept is None:
            assert term.surface is not None
            groups.append([term.surface.words])
            continue
        phrases = {
            surface.words
            for concept_id in lexicon.expand(term.concept.id)
            for surface in lexicon.concepts[concept_id].surfaces
        }
        groups.append(sorted(phrases))
    return groups


async def matching_articles(
    sessions: SessionFactory,
    item: WatchItem,
    lexicon: Lexicon,
    *,
    limit: int = CANDIDATES,
    since: datetime | None = None,
) -> list[Article]:
    """Stored articles the item would alert on, newest first."""
    async with sessions() as session:
        candidates = await search_articles(
            session=session, query=search_query(item, lexicon), limit=limit, since=since
        )
    return await asyncio.to_thread(_confirmed, candidates, item, lexicon)


def _confirmed(candidates: list[Article], item: WatchItem, lexicon: Lexicon) -> list[Article]:
    """The candidates the item's matcher confirms, in their order."""
    matcher = Matcher([item], lexicon)
    return [a for a in candidates if matcher.match(a.title, a.body)]


def _stored_fact(row: Fact) -> FactCandidate:
    return FactCandidate(row.sentence, figures_from_json(row.figures), row.position, row.fact_key)


async def key_facts(
    sessions: SessionFactory, item: WatchItem, lexicon: Lexicon
) -> list[RankedFact[ArticleRef]]:
    """The figure sentences about the item: naming it first, newest first, de-duplicated."""
    articles = await matching_articles(sessions, item, lexicon, limit=FACT_ARTICLES)
    async with sessions() as session:
        stored = await queries.facts_of(
            session=session, article_ids=[a.id for a in articles if a.id is not None]
        )
    return await asyncio.to_thread(_ranked_facts, item, articles, stored, lexicon)


def _ranked_facts(
    item: WatchItem, articles: list[Article], stored: dict[int, list[Fact]], lexicon: Lexicon
) -> list[RankedFact[ArticleRef]]:
    """The stored facts of the articles that are about the item, ranked."""
    inputs = []
    for article in articles:
        candidates = [_stored_fact(row) for row in stored.get(article.id or 0, [])]
        if not candidates:
            continue
        ref = article_ref(article)
        for topic_fact in facts_about(item, article.title, article.body, candidates, lexicon):
            fact = topic_fact.fact
            inputs.append(
                RankedInput(
                    fact.sentence,
                    fact.key,
                    topic_fact.names_topic,
                    when(article),
                    fact.position,
                    ref,
                )
            )
    inputs.sort(key=lambda f: (not f.names_topic, -(f.published or EPOCH).timestamp(), f.position))
    return rank_facts(inputs[:RANKED_FACTS])


async def latest(
    sessions: SessionFactory, item: WatchItem, lexicon: Lexicon, *, limit: int = LATEST_LIMIT
) -> list[Story]:
    """The newest matching stories, each with the other sources that reported it."""
    articles = sorted(await matching_articles(sessions, item, lexicon), key=when, reverse=True)
    stories: dict[int, list[Article]] = defaultdict(list)
    for article in articles:
        stories[article.story_id or article.id or 0].append(article)
    result = []
    for reports in list(stories.values())[:limit]:
        first = reports[0]
        others = tuple(
            dict.fromkeys(r.source for r in reports[1:] if r.source and r.source != first.source)
        )
        result.append(Story(article_ref(first), others))
    return result


async def related(
    sessions: SessionFactory, item: WatchItem, lexicon: Lexicon, *, limit: int = RELATED_LIMIT
) -> list[ArticleRef]:
    """Related headlines: the headline items stored with matching articles and other stored
    articles that share the item's names, ranked by shared names, similarity and recency."""
    matching = await matching_articles(sessions, item, lexicon, limit=50)
    parents = [a.id for a in matching if a.id is not None and a.parent_id is None]
    partial_query = [[phrase] for group in search_query(item, lexicon) for phrase in group]
    async with sessions() as session:
        candidates = {
            a.id: a for a in await queries.children_of(session=session, parent_ids=parents)
        }
        for group in partial_query:  # articles naming any one of the item's terms
            for article in await search_articles(session=session, query=[group], limit=30):
                candidates.setdefault(article.id, article)
    return await asyncio.to_thread(_ranked_related, item, matching, candidates, lexicon, limit)


def _ranked_related(
    item: WatchItem,
    matching: list[Article],
    candidates: dict[int | None, Article],
    lexicon: Lexicon,
    limit: int,
) -> list[ArticleRef]:
    """The candidates that are not matches, best first: shared names, similarity, recency."""
    matched_ids = {a.id for a in matching}
    term_matchers = [Matcher([WatchItem(term.display, (term,))], lexicon) for term in item.terms]
    titles = [a.title for a in matching]
    newest = max((when(a) for a in candidates.values()), default=utcnow())
    scored = []
    for article in candidates.values():
        if article.id in matched_ids:
            continue
        shared = sum(bool(m.match(article.title, article.body)) for m in term_matchers)
        similarity = max((fuzz.token_set_ratio(article.title, t) for t in titles), default=0.0)
        if shared == 0 and similarity < 50:
            continue
        age_days = (newest - when(article)).total_seconds() / 86400
        score = 2.0 * shared + similarity / 100 + 1.0 / (1.0 + age_days)
        scored.append((score, when(article), article))
    scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [article_ref(article) for _, _, article in scored[:limit]]


async def daily_counts(
    sessions: SessionFactory, item: WatchItem, lexicon: Lexicon, *, today: date | None = None
) -> list[tuple[date, int]]:
    """Matching stored articles per day over the last 30 days, oldest day first."""
    today = today or utcnow().date()
    start = today - timedelta(days=TREND_DAYS - 1)
    since = datetime.combine(start, datetime.min.time(), tzinfo=utcnow().tzinfo)
    articles = await matching_articles(
        sessions, item, lexicon, limit=TREND_CANDIDATES, since=since - timedelta(days=1)
    )
    per_day = Counter(when(a).date() for a in articles)
    return [
        (start + timedelta(days=n), per_day[start + timedelta(days=n)]) for n in range(TREND_DAYS)
    ]
