"""Workload 8: the query language — /test over 100,000 stored articles, and matching with
10,000 query items added to the ingest workload.

/test: 100,000 articles (10,000 with --quick) stored as in workload 5 (`bench_queries.store`:
search words and facts as ingest makes them), first spread 5 minutes apart (the last 30 days
hold about 8,600), then all moved into the last 30 days (the worst case: every article in the
window). `querytest.test_query` (what /test and `tradebot test` call) is timed for 20 queries:
names, OR, AND, NEAR, title:, quoted phrases, exclusions, regular expressions with and without
a searchable word → p50/p95 against 1 s.

Matching: the 10,000 watch items of the ingest workload, then the same with 10,000 query items
added (OR, AND, NEAR, title:, quoted phrases, exclusions in groups; a tenth regular expressions,
2% of those without a literal to prefilter on), over the ingest workload's articles, against a
bare `ahocorasick.Automaton` over every surface the matcher knows, warmed up, in CPU time (other
processes on a shared machine slow neither side of a ratio), best of 5 rounds
interleaved across the three matchers → the ratio, with and without the queries and their
regexes (the method of `bench_ingest`).

    python -m bench.bench_query [--quick]
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import bindparam, update

from bench.bench_ingest import surfaces_of
from bench.bench_queries import store
from bench.common import Report, Scale, bench_database, main_for, percentile, temp_dir
from bench.workload import NOW, Topic, articles, topic_vocabulary
from bot import query, querytest
from bot.lexicon import default_lexicon
from bot.matching import Matcher
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import Article
from storage.schema import upgrade_schema

Text = tuple[str, str]  # title, body

TARGET_SECONDS = 1.0
TARGET_MATCH_RATIO = 3.0
QUERY_ITEMS = 10_000
REGEX_SHARE = 0.10
UNFILTERED_SHARE = 0.02  # of the regular expressions
ROUNDS = 5

TESTED = [
    "copper",
    "China",
    "rare earths",
    "India-Chile",
    "copper OR nickel",
    "(copper OR nickel) -Copperfield",
    "(lithium OR cobalt) AND Australia",
    "India NEAR Chile",
    "China NEAR (tariff OR tariffs)",
    "title:copper",
    "title:(zinc OR tin) AND Peru",
    '"copper exports"',
    '"rare earths" OR neodymium',
    "/cop+er (exports|imports)/",
    "/nick(el|le)/ AND Indonesia",
    "/[0-9]+ tonnes/ AND lithium",
    "/(a+)+$/",
    "/qu[a-z]+ment/",
    "EU AND (steel OR aluminium) -football",
    "title:/\\d+%/ AND gold",
]


async def move_into_window(sessions: SessionFactory, count: int) -> None:
    """Every stored article ingested within the last 30 days, in the same order."""
    step = timedelta(days=29) / count
    rows = [{"row_id": n, "moment": NOW - step * (count - n)} for n in range(1, count + 1)]
    statement = (
        update(Article)
        .where(Article.id == bindparam("row_id"))  # type: ignore[arg-type]
        .values(ingested_at=bindparam("moment"))
    )
    async with sessions() as session:
        connection = await session.connection()
        for start in range(0, len(rows), 5_000):
            await connection.execute(statement, rows[start : start + 5_000])
        await session.commit()


async def time_tests(sessions: SessionFactory, label: str, report: Report) -> None:
    lexicon = default_lexicon()
    items = [parse_watch_item(text, lexicon) for text in TESTED]
    await querytest.test_query(sessions, items[0], lexicon, now=NOW)  # warm-up
    times = []
    read = []
    for item in items:
        started = time.perf_counter()
        tested = await querytest.test_query(sessions, item, lexicon, now=NOW)
        times.append(time.perf_counter() - started)
        read.append(tested.read)
    slowest = sorted(zip(times, TESTED, read, strict=True), reverse=True)[:3]
    print(
        f"  /test {label} slowest: "
        + ", ".join(f"{key} {s * 1000:.0f} ms ({n} read)" for s, key, n in slowest)
    )
    p95 = percentile(times, 0.95)
    report.add(
        f"/test p95, {label}",
        p95,
        "s",
        target=f"<= {TARGET_SECONDS:.0f} s",
        ok=p95 <= TARGET_SECONDS,
        note=f"p50 {percentile(times, 0.5) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, "
        f"{len(items)} queries; up to {querytest.MAX_CANDIDATES} candidates each",
    )


async def bench_test(scale: Scale, report: Report) -> None:
    count = scale.n(100_000)
    vocabulary = topic_vocabulary(10_000)
    records = list(articles(vocabulary, count, seed=99, prefix="stored"))
    with temp_dir("query") as directory:
        async with bench_database(directory) as url:
            engine = create_engine(url)
            try:
                await upgrade_schema(engine)
                sessions = session_factory(engine)
                started = time.perf_counter()
                await store(sessions, records)
                report.add(
                    "corpus set-up", time.perf_counter() - started, "s", note=f"{count} articles"
                )
                in_window = min(count, 30 * 24 * 12)
                await time_tests(sessions, f"{count:,} stored, {in_window:,} in 30 days", report)
                await move_into_window(sessions, count)
                await time_tests(sessions, f"all {count:,} in 30 days", report)
            finally:
                await engine.dispose()


def query_items(topics: Sequence[Topic], count: int, *, seed: int = 16) -> list[WatchItem]:
    """`count` distinct query items over the vocabulary's terms, a tenth regexes."""
    lexicon = default_lexicon()
    rng = random.Random(seed)
    single = [t.mentions[0] for t in topics if len(t.mentions) == 1 and " -" not in t.key]
    words = [w for w in single if " " not in w and w.isalpha()]
    items: dict[str, WatchItem] = {}
    regexes = int(count * REGEX_SHARE)
    unfiltered = max(1, int(regexes * UNFILTERED_SHARE))

    def add(text: str) -> None:
        try:
            item = parse_watch_item(text, lexicon)
        except TopicError:
            return
        if item.query is not None:
            items.setdefault(item.key, item)

    while len(items) < unfiltered:
        add(f"/[a-z]+{rng.randint(10, 99)}[a-z]+/")
    while len(items) < regexes:
        word = rng.choice(words).lower()
        cut = rng.randint(3, max(3, len(word) - 1))
        roll = rng.random()
        if roll < 0.4:
            add(f"/{word}[a-z]*/")
        elif roll < 0.7:
            add(f"/{word}(s|es)? (exports|imports|output)/")
        else:
            add(f"/{word[:cut]}+{word[cut:]}/ OR {rng.choice(single)}")
    while len(items) < count:
        a, b, c = rng.sample(single, 3)
        roll = rng.random()
        if roll < 0.3:
            add(f"{a} OR {b}")
        elif roll < 0.45:
            add(f"({a} OR {b}) -{rng.choice(words)}")
        elif roll < 0.6:
            add(f"{a} NEAR {b}")
        elif roll < 0.7:
            add(f"title:{a}")
        elif roll < 0.8:
            add(f'"{a}" OR {b}')
        elif roll < 0.9:
            add(f"({a} OR {b}) AND {c}")
        else:
            add(f"title:({a} OR {b}) AND {c}")
    return list(items.values())


class Timed:
    """A matcher and the bare automaton over the surfaces it knows, timed over the same texts."""

    def __init__(self, label: str, items: Sequence[WatchItem], texts: Sequence[Text]) -> None:
        import ahocorasick

        lexicon = default_lexicon()
        self.label = label
        started = time.perf_counter()
        self.matcher = Matcher(items, lexicon)
        self.built = time.perf_counter() - started
        self.automaton = ahocorasick.Automaton()
        for word in surfaces_of(items, lexicon):
            self.automaton.add_word(word, word)
        self.automaton.make_automaton()
        self.texts = texts
        self.lowered = [f"{title}\n{body}".lower() for title, body in texts]
        self.matched = 0
        self.matcher_seconds = self.automaton_seconds = float("inf")
        for title, body in texts[:200]:  # warm-up: caches, allocator
            self.matcher.match(title, body)

    def round(self) -> None:
        """One timed pass of each; the best of the rounds is kept."""
        gc.collect()
        started = time.process_time()
        self.matched = sum(len(self.matcher.match(title, body)) for title, body in self.texts)
        self.matcher_seconds = min(self.matcher_seconds, time.process_time() - started)
        gc.collect()
        started = time.process_time()
        for text in self.lowered:
            for _ in self.automaton.iter(text):
                pass
        self.automaton_seconds = min(self.automaton_seconds, time.process_time() - started)

    def per_article(self) -> float:
        return self.matcher_seconds / len(self.texts)

    def report(self, report: Report) -> None:
        ratio = self.matcher_seconds / self.automaton_seconds
        report.add(
            f"matching vs bare Aho-Corasick, {self.label}",
            ratio,
            "x",
            target=f"<= {TARGET_MATCH_RATIO:.0f}x",
            ok=ratio <= TARGET_MATCH_RATIO,
            note=f"{self.per_article() * 1000:.2f} ms per article, "
            f"{self.matched / len(self.texts):.1f} items matched per article, matcher built in "
            f"{self.built:.1f} s",
        )


async def bench_matching(scale: Scale, report: Report) -> None:
    topics = topic_vocabulary(scale.n(10_000))
    texts = [(r.title, r.body) for r in articles(topics, scale.n(5_000))]
    plain = [topic.item for topic in topics]
    queries = query_items(topics, scale.n(QUERY_ITEMS))
    regexes = sum(1 for item in queries if item.query and query.patterns(item.query))
    print(f"  {len(queries)} query items, {regexes} with regular expressions")
    without = [item for item in queries if not (item.query and query.patterns(item.query))]
    baseline = Timed(f"{len(plain):,} watch items (baseline)", plain, texts)
    no_regex = Timed(f"+ {len(without):,} query items without regexes", [*plain, *without], texts)
    every = Timed(f"+ {len(queries):,} query items ({regexes:,} regex)", [*plain, *queries], texts)
    for _ in range(ROUNDS):  # interleaved, so that a busy moment of the machine hits all alike
        for timed in (baseline, no_regex, every):
            timed.round()
    for timed in (baseline, no_regex, every):
        timed.report(report)
    cost = every.per_article() - baseline.per_article()
    of_regexes = every.per_article() - no_regex.per_article()
    report.add(
        "matching cost of the query items",
        cost * 1000,
        "ms per article",
        note=f"{every.per_article() / baseline.per_article():.2f}x the baseline matcher; of "
        f"which the {regexes:,} regexes {of_regexes * 1000:.3f} ms",
    )


async def bench(scale: Scale, report: Report) -> None:
    await bench_matching(scale, report)
    await bench_test(scale, report)


def main() -> None:
    main_for("query language (workload 8)", bench, __doc__)


if __name__ == "__main__":
    main()
