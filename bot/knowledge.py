"""Answers from stored articles: key facts, related headlines, the latest articles and daily
counts for a watch item. Candidates come from the full-text index; every candidate is then
confirmed with the same matcher as alerts, so answers follow the alert rules (aliases, case,
context, exclusions). No Telegram here: handlers and the CLI render the results.

Matching and ranking are CPU work: they run in a worker thread (`asyncio.to_thread`), so one
chat's question never stalls the event loop that answers every other chat."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from bot.facts import (
    Actors,
    FactCandidate,
    RankedFact,
    RankedInput,
    fact_key,
    facts_about,
    figures_from_json,
    is_table_row,
    main_actors,
    needs_subject,
    rank_facts,
    with_subject,
)
from bot.lexicon import Lexicon
from bot.matching import Matcher
from bot.query import search_groups, term_phrases
from bot.refs import ArticleRef, Story
from bot.suggest import names_in
from bot.text import words_of
from bot.topics import Term, TopicError, WatchItem, parse_watch_item
from storage import queries
from storage.db import SessionFactory
from storage.models import Article, Fact, utcnow
from storage.search import EPOCH, Query, search_articles, search_each

CANDIDATES = 200  # newest full-text hits confirmed per question
FACT_ARTICLES = 60  # the newest matching articles /facts reads
RANKED_FACTS = 60  # the best facts ranked and de-duplicated (pages of a handful each)
TREND_DAYS = 30
TREND_CANDIDATES = 5000
RELATED_LIMIT = 8
RELATED_MATCHES = 50  # the newest matching articles /related reads
TOPIC_NAMES = 8  # names besides the topic's own terms that /related searches for
NAME_HITS = 30  # newest articles per name
TERM_WEIGHT = 2.0  # a term of the topic counts more than a name its articles share
LATEST_LIMIT = 5


def article_ref(article: Article) -> ArticleRef:
    """An article as answers show it: its own date or none (never the day it was stored)."""
    return ArticleRef(article.title, article.source, article.url, article.published_at)


def when(article: Article) -> datetime:
    """When an article is placed in time for ordering and counting: its date, else the day
    it was stored."""
    return article.published_at or article.ingested_at


def search_query(item: WatchItem, lexicon: Lexicon) -> Query:
    """Every term of the item as a group of the phrases that can spell it; of a query, the
    groups every article it matches contains (`bot.query.search_groups`)."""
    if item.query is not None:
        return search_groups(item.query, lexicon)
    return [term_phrases(term, lexicon) for term in item.terms]


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
    """The stored facts of the articles that are about the item, ranked; a sentence whose
    subject only its article explains ("The company…") names the article's actor instead.
    Table rows stored before ingest left them out are left out here."""
    inputs = []
    for article in articles:
        candidates = [
            fact
            for fact in map(_stored_fact, stored.get(article.id or 0, []))
            if not is_table_row(fact.sentence, fact.figures)
        ]
        if not candidates:
            continue
        ref = article_ref(article)
        actors: Actors | None = None
        for topic_fact in facts_about(item, article.title, article.body, candidates, lexicon):
            fact = topic_fact.fact
            sentence, key = fact.sentence, fact.key
            if needs_subject(sentence):
                actors = actors or main_actors(article.title, article.body, lexicon)
                sentence = with_subject(sentence, actors)
                key = fact_key(sentence)  # "It rose 5%" of two companies is two facts
            inputs.append(
                RankedInput(
                    sentence,
                    key,
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
    """Related headlines, best first: the headline items stored with matching articles, then
    other stored articles sharing the topic's names (`topic_names`) and the matching articles
    themselves, so there is an answer whenever an article matches (and, for a co-occurrence,
    whenever one names any of its terms). Each candidate is confirmed with the matcher, name
    by name: *chilli* is not Chile, *fine china* not China, and a headline sharing nothing
    with the topic is left out."""
    matching = await matching_articles(sessions, item, lexicon, limit=RELATED_MATCHES)
    names = await asyncio.to_thread(topic_names, item, matching, lexicon)
    parents = [a.id for a in matching if a.id is not None and a.parent_id is None]
    async with sessions() as session:
        headlines = await queries.children_of(session=session, parent_ids=parents)
        # A one-term topic's term finds the matches again: search only the names beside it.
        searched = names[1:] if len(item.terms) == 1 else names
        found = await search_each(
            session=session,
            queries=[search_query(name.item, lexicon) for name in searched],
            limit=NAME_HITS,
        )
        others: dict[int | None, Article] = {}
        for articles in found:
            for article in articles:
                others.setdefault(article.id, article)
    return await asyncio.to_thread(
        _ranked_related, matching, headlines, list(others.values()), names, lexicon, limit
    )


# Capitalised words that are not names of anything a topic is about.
_NOT_NAMES = frozenset(
    {
        *("January", "February", "March", "April", "June", "July", "August", "September"),
        *("October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday"),
        *("Friday", "Saturday", "Sunday", "Corp", "Corporation", "Inc", "Ltd", "Company"),
    }
)


@dataclass(frozen=True, slots=True)
class TopicName:
    """A name a topic is about, as a watch item of its own, and how much it counts."""

    item: WatchItem
    weight: float


def topic_names(item: WatchItem, matching: list[Article], lexicon: Lexicon) -> list[TopicName]:
    """What a topic is about: each of its terms, and the names most of its matching articles
    share — lexicon names (Chile, LME, OPEC) and capitalised names the lexicon does not know
    (Codelco) — in at least two of them (or in the one), weighted by the share of articles
    naming them."""
    names = [TopicName(WatchItem(term.display, (term,)), TERM_WEIGHT) for term in item.terms]
    own = {term.display.casefold() for term in item.terms}
    # A capitalised word the articles also write in lower case ("Mining") names nothing.
    common = {word for article in matching for word in words_of(article.body) if word.islower()}
    in_articles: Counter[str] = Counter()
    for article in matching:
        found = {
            lexicon.concepts[m.key].name
            for m in _concept_matcher(lexicon).match(article.title, article.body)
        }
        found |= {  # from the body: headlines capitalise every word
            word
            for word in names_in("", article.body)
            if word.lower() not in common
            and word not in _NOT_NAMES
            and not word.isupper()
            and lexicon.lookup(word) is None
        }
        in_articles.update(name for name in found if name.casefold() not in own)
    least = min(2, len(matching))
    known = {concept.name for concept in lexicon.concepts.values()}
    # the most shared first; on a tie, lexicon names before other capitalised words, then A-Z
    shared = sorted(
        in_articles.items(), key=lambda entry: (-entry[1], entry[0] not in known, entry[0])
    )
    for name, count in shared[:TOPIC_NAMES]:
        if count < least:
            break
        try:
            named = parse_watch_item(name, lexicon)
        except TopicError:
            continue
        names.append(TopicName(named, count / len(matching)))
    return names


@cache
def _concept_matcher(lexicon: Lexicon) -> Matcher:
    """Every lexicon concept as an item of its own (for the names articles share)."""
    return Matcher(
        [
            WatchItem(concept.id, (Term(concept.name, concept, None),))
            for concept in lexicon.concepts.values()
            # members count as their group; trade terms (tariff, FTA) are no one's names
            if "/" not in concept.id and concept.kind != "term"
        ],
        lexicon,
    )


def _ranked_related(
    matching: list[Article],
    headlines: list[Article],
    others: list[Article],
    names: list[TopicName],
    lexicon: Lexicon,
    limit: int,
) -> list[ArticleRef]:
    """Headline items first, then the other articles and the matches together; in each, by the
    weight of the names an article shares, then the newest. An article sharing no name is left
    out, and a story (or a headline) is listed once."""
    matcher = Matcher([name.item for name in names], lexicon)
    weights = {name.item.key: name.weight for name in names}
    stories: set[int | None] = set()
    titles: set[str] = set()
    ranked: list[ArticleRef] = []
    for group in (headlines, [*others, *matching]):
        scored = []
        for article in group:
            score = sum(weights[m.key] for m in matcher.match(article.title, article.body))
            if score > 0:
                scored.append((score, when(article), article))
        scored.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
        for _score, _when, article in scored:
            story = article.story_id or article.id
            title = article.title.casefold()
            if story not in stories and title not in titles:
                stories.add(story)
                titles.add(title)
                ranked.append(article_ref(article))
    return ranked[:limit]


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
