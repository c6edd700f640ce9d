"""/test and `tradebot test`: what a watch item would have alerted on over the stored articles.

Candidates come from the full-text index when the query names words it can search (every term
of `A AND B`, any of `A OR B`; a regular expression's literals are not whole words, so they
narrow nothing); the item's own matcher then confirms each, as ingest would have, so the counts
are those of real alerts. At most `MAX_CANDIDATES` are read, newest first, which keeps an answer
within a second over 100,000 stored articles; when there were more, the report says from when
it counted. A query with no searchable word is tried on the newest `MAX_SCANNED` articles.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.knowledge import article_ref, search_query
from bot.lexicon import Lexicon
from bot.matching import Matcher, evidence_sentence
from bot.refs import TEST_DAYS, DayCount, MatchExample, QueryTestReport
from bot.topics import WatchItem
from storage.db import SessionFactory
from storage.models import Article
from storage.search import is_searchable, newest_articles, search_articles

MAX_CANDIDATES = 2000  # articles confirmed by the matcher for one test
MAX_SCANNED = 1000  # newest articles read for a query with no searchable word
NEWEST_SHOWN = 5


async def test_query(
    sessions: SessionFactory,
    item: WatchItem,
    lexicon: Lexicon,
    *,
    days: int = TEST_DAYS,
    zone: tzinfo = UTC,
    now: datetime | None = None,
) -> QueryTestReport:
    """What `item` would have alerted on in the last `days` days of stored articles, counted
    in days of `zone` (the chat's time zone)."""
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, time(), tzinfo=zone)
    groups = search_query(item, lexicon)
    searched = is_searchable(groups)
    async with sessions() as session:
        if searched:
            articles = await search_articles(
                session=session, query=groups, limit=MAX_CANDIDATES, since=since
            )
            limit = MAX_CANDIDATES
        else:
            articles = await newest_articles(session=session, since=since, limit=MAX_SCANNED)
            limit = MAX_SCANNED
    report = await asyncio.to_thread(_confirmed, item, lexicon, articles, zone, first_day, today)
    counted_since = _ingested(articles[-1]) if len(articles) >= limit else None
    return QueryTestReport(item.key, report[0], report[1], len(articles), searched, counted_since)


def _ingested(article: Article) -> datetime:
    moment = article.ingested_at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _confirmed(
    item: WatchItem,
    lexicon: Lexicon,
    articles: list[Article],
    zone: tzinfo,
    first_day: date,
    last_day: date,
) -> tuple[tuple[DayCount, ...], tuple[MatchExample, ...]]:
    """The matcher's verdict on each article (newest first): counts per day and examples."""
    matcher = Matcher([item], lexicon)
    main: Counter[date] = Counter()
    mentions: Counter[date] = Counter()
    newest: list[MatchExample] = []
    for article in articles:
        matches = matcher.match(article.title, article.body)
        if not matches:
            continue
        match = matches[0]
        day = _ingested(article).astimezone(zone).date()
        mentions[day] += 1
        main[day] += match.about
        if len(newest) < NEWEST_SHOWN:
            sentence = evidence_sentence(article.title, article.body, match.evidence_at)
            newest.append(MatchExample(article_ref(article), sentence, match.about))
    count = (last_day - first_day).days + 1
    window = [last_day - timedelta(days=n) for n in range(count)]
    return tuple(DayCount(day, main[day], mentions[day]) for day in window), tuple(newest)
