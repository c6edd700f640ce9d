"""Workload 5: questions over 100,000 stored articles.

The corpus: 100,000 articles (10,000 with --quick) of ~2 KB from the workload generator over
the 10,000-topic vocabulary, bulk-inserted with core `insert` executemany in one transaction,
searchable exactly as ingest makes them: `search_text` is `bot.text.search_words(title, body)`
(the FTS5 table is filled by the migrations' triggers) and the fact rows are those
`bot.facts.extract_facts` gives. To keep the set-up short both are computed per distinct
sentence (the generator reuses neutral sentences) with the project's own functions — the
same result as calling them per article, which is checked on a sample first. Every article is
its own story (no clustering pass); `ingested_at` follows the insertion order.

Then `knowledge.key_facts`, `knowledge.related` and `knowledge.latest` (what /facts, /related
and /latest call) are timed for 20 topics each (lexicon names, a group, co-occurrences,
phrases, invented company names) → p50/p95 against 150 ms.

    python -m bench.bench_queries [--quick]
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing import get_context

from sqlalchemy import insert, text

from bench.common import (
    Report,
    Scale,
    bench_database,
    database_megabytes,
    main_for,
    percentile,
    temp_dir,
)
from bench.workload import NOW, ArticleRecord, Topic, articles, topic_vocabulary
from bot import knowledge
from bot.facts import extract_facts, fact_key, figures_to_json, find_figures, is_fact
from bot.lexicon import Lexicon, default_lexicon
from bot.text import content_hash, search_words, split_sentences
from bot.topics import WatchItem, parse_watch_item
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Article, Fact
from storage.schema import upgrade_schema

TARGET_MS = 150.0
TOPICS_PER_QUERY = 20
CHUNK = 2_000


@dataclass(slots=True)
class Derived:
    """What ingest computes from an article: its search words and its fact rows."""

    search_text: str
    facts: list[tuple[int, str, str, str]] = field(default_factory=list)  # position, …


class SentenceCache:
    """`search_words` and `extract_facts`, one distinct sentence at a time."""

    def __init__(self) -> None:
        self._words: dict[str, str] = {}
        self._facts: dict[str, tuple[str, str] | None] = {}

    def words(self, text: str) -> str:
        found = self._words.get(text)
        if found is None:
            found = self._words[text] = search_words(text, "")
        return found

    def fact(self, sentence: str) -> tuple[str, str] | None:
        if sentence not in self._facts:
            figures = find_figures(sentence)
            self._facts[sentence] = (
                (figures_to_json(figures), fact_key(sentence))
                if figures and is_fact(figures)
                else None
            )
        return self._facts[sentence]

    def derive(self, title: str, body: str) -> Derived:
        sentences = split_sentences(body)
        words = " ".join(w for w in [self.words(title), *map(self.words, sentences)] if w)
        derived = Derived(words)
        for position, sentence in enumerate(sentences):
            fact = self.fact(sentence)
            if fact is not None:
                derived.facts.append((position, sentence, fact[0], fact[1]))
        return derived


def reference(title: str, body: str) -> Derived:
    """The same, by the project's functions on the whole article."""
    derived = Derived(search_words(title, body))
    for fact in extract_facts(title, body):
        derived.facts.append(
            (fact.position, fact.sentence, figures_to_json(fact.figures), fact.key)
        )
    return derived


_CACHE = SentenceCache()


def _derive_chunk(chunk: list[tuple[str, str]]) -> list[Derived]:
    return [_CACHE.derive(title, body) for title, body in chunk]


def derive_all(records: Sequence[ArticleRecord]) -> list[Derived]:
    """Search words and facts of every article, over 2 worker processes."""
    pairs = [(r.title, r.body) for r in records]
    chunks = [pairs[i : i + CHUNK] for i in range(0, len(pairs), CHUNK)]
    # Workers start from a fresh interpreter: a fork of this process (its event loop, the
    # driver's threads) lost a worker and hung the pool.
    with get_context("forkserver").Pool(2) as pool:
        return [derived for part in pool.map(_derive_chunk, chunks) for derived in part]


async def store(sessions: SessionFactory, records: Sequence[ArticleRecord]) -> int:
    derived = derive_all(records)
    count = len(records)
    article_rows = []
    fact_rows = []
    for number, (record, extra) in enumerate(zip(records, derived, strict=True), start=1):
        moment = NOW - timedelta(minutes=5 * (count - number))
        article_rows.append(
            {
                "id": number,
                "url": record.url,
                "content_hash": content_hash(record.title, record.body),
                "title": record.title,
                "body": record.body,
                "source": record.source,
                "published_at": moment,
                "ingested_at": moment,
                "parent_id": None,
                "story_id": number,
                "search_text": extra.search_text,
            }
        )
        for position, sentence, figures, key in extra.facts:
            fact_rows.append(
                {
                    "article_id": number,
                    "position": position,
                    "sentence": sentence,
                    "figures": figures,
                    "fact_key": key,
                }
            )
    async with sessions() as session:
        connection = await session.connection()
        for start in range(0, len(article_rows), 5_000):
            await connection.execute(insert(Article), article_rows[start : start + 5_000])
        for start in range(0, len(fact_rows), 20_000):
            await connection.execute(insert(Fact), fact_rows[start : start + 20_000])
        await session.commit()
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            # the planner statistics PostgreSQL's autovacuum gathers after a bulk load
            await (await session.connection()).execute(text("ANALYZE"))
            await session.commit()
    return len(fact_rows)


def question_topics(vocabulary: Sequence[Topic], lexicon: Lexicon) -> list[WatchItem]:
    """20 topics: lexicon names (one a group), co-occurrences, phrases, invented companies."""
    named = ["China", "copper", "Chile", "India", "rare earths", "lithium", "Australia", "EU"]
    items = [parse_watch_item(name, lexicon) for name in named]
    kinds: dict[str, list[WatchItem]] = {"pair": [], "phrase": [], "company": []}
    for topic in vocabulary:
        item = topic.item
        if len(item.terms) == 2 and all(t.concept for t in item.terms):
            kinds["pair"].append(item)
        elif len(item.terms) == 1 and item.terms[0].concept is None:
            invented = item.key[:1].isupper() and lexicon.lookup(item.key.split()[0]) is None
            kinds["company" if invented else "phrase"].append(item)
    for group in kinds.values():
        items.extend(group[: (TOPICS_PER_QUERY - len(named)) // len(kinds)])
    return items[:TOPICS_PER_QUERY]


async def time_question(
    name: str,
    ask: Callable[[SessionFactory, WatchItem, Lexicon], Awaitable[Sequence[object]]],
    sessions: SessionFactory,
    items: Sequence[WatchItem],
    lexicon: Lexicon,
    report: Report,
) -> None:
    await ask(sessions, items[0], lexicon)  # warm-up: connections, caches
    times = []
    answered = 0
    for item in items:
        started = time.perf_counter()
        found = await ask(sessions, item, lexicon)
        times.append((time.perf_counter() - started) * 1000)
        answered += bool(found)
    p95 = percentile(times, 0.95)
    slowest = sorted(zip(times, (i.key for i in items), strict=True), reverse=True)[:3]
    print(f"  {name} slowest: " + ", ".join(f"{key} {ms:.0f} ms" for ms, key in slowest))
    report.add(
        f"{name}: p95 ({len(items)} topics)",
        p95,
        "ms",
        target=f"<= {TARGET_MS:.0f} ms",
        ok=p95 <= TARGET_MS,
        note=f"p50 {percentile(times, 0.5):.0f} ms, max {max(times):.0f} ms; "
        f"{answered}/{len(items)} topics with an answer",
    )


async def bench(scale: Scale, report: Report) -> None:
    lexicon = default_lexicon()
    count = scale.n(100_000)
    vocabulary = topic_vocabulary(10_000)
    started = time.perf_counter()
    records = list(articles(vocabulary, count, seed=99, prefix="stored"))
    cache = SentenceCache()
    for record in records[:50]:
        if cache.derive(record.title, record.body) != reference(record.title, record.body):
            raise RuntimeError(f"sentence-wise derivation differs for {record.url}")
    with temp_dir("queries") as directory:
        async with bench_database(directory) as url:
            await answer_questions(url, records, vocabulary, lexicon, started, report)


async def answer_questions(
    url: str,
    records: list[ArticleRecord],
    vocabulary: list[Topic],
    lexicon: Lexicon,
    started: float,
    report: Report,
) -> None:
    """Store the articles in the database at `url`, then time the questions."""
    engine = create_engine(url)
    try:
        await upgrade_schema(engine)
        sessions = session_factory(engine)
        facts = await store(sessions, records)
        loaded = time.perf_counter() - started
        size = await database_megabytes(engine)
        report.add(
            "corpus set-up (generate, derive, bulk insert)",
            loaded,
            "s",
            note=f"{len(records)} articles, {facts} facts, database {size:,.0f} MB",
        )
        items = question_topics(vocabulary, lexicon)
        digest = hashlib.sha256(" ".join(i.key for i in items).encode()).hexdigest()[:8]
        print(f"  topics ({digest}): {', '.join(i.key for i in items)}")
        for name, ask in (
            ("/facts (key_facts)", knowledge.key_facts),
            ("/related (related)", knowledge.related),
            ("/latest (latest)", knowledge.latest),
        ):
            await time_question(name, ask, sessions, items, lexicon, report)
    finally:
        await engine.dispose()


def main() -> None:
    main_for("queries (workload 5)", bench, __doc__)


if __name__ == "__main__":
    main()
