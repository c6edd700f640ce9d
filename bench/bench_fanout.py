"""Issue 14: ingest follows articles, not chats; story clustering stays flat.

Fan-out (`fanout_ingest`): 20,000 chats with 5 watch items each (100,000 items over 3,500
topics: commodities, countries, organisations, people and country-commodity pairs such as
`Chile-copper`, drawn with Zipf-like popularity so copper, gold, oil and China are watched by
1,000-1,600 chats each) are bulk-loaded, then the real `tradebot ingest` runs in a child
process on real wire text: the Reuters-21578 stories of `--corpus PATH` (converted to the
project's JSON Lines in a temporary directory; 9,549 stories in the training split) or, without
a corpus, 5,000 generated ~2 KB articles. Printed: articles/s end to end against the target,
beside a bare pyahocorasick scan of the same texts for every surface the watch items and the
lexicon name, measured in the same run (ingest time / scan time), and what ingest costs apart
from matching and alerts: the same ingest into a database without chats. `--scale big`:
200,000 chats and 1,000,000 items, the rate compared with the 20,000-chat target.

Clustering (`clustering_cost`): what finding an article's story costs (the story-candidate
search of `_store_together` and `pick_cluster`, for batches of 200 new articles) with 1,000
and then 100,000 stored articles from the last three days that share most of their words
(same commodity, country and verbs in every title and lead; different actors and figures, so
each is its own story). The per-article cost at 100k over the cost at 1k should stay near 1.

Both run on SQLite, or on PostgreSQL when TEST_DATABASE_URL names a server (see
bench/common.py):

    python -m bench.bench_fanout --corpus ../shared/corpora/reuters21578-train.jsonl.gz
    python -m bench.bench_fanout --quick                      # a tenth, generated text
    python -m bench.bench_fanout --scale big --corpus PATH    # 200k chats, 1M items
    scripts/with-postgres .venv/bin/python -m bench.bench_fanout --corpus PATH
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.bench_ingest import best_of, surfaces_of
from bench.common import (
    Report,
    Scale,
    arguments,
    backend,
    bench_database,
    child_env,
    finish,
    run_tradebot,
    temp_dir,
)
from bench.workload import (
    NOW,
    articles,
    chats,
    fanout_subscriptions,
    fanout_vocabulary,
    invented_word,
    load_subscriptions,
)
from bot.ingest import BATCH_SIZE, STORY_CANDIDATES, STORY_DAYS, _story_words
from bot.lexicon import default_lexicon
from bot.stories import StoryText, pick_cluster, story_signature
from bot.text import content_hash, search_words
from storage.db import create_engine, session_factory
from storage.models import Article, utcnow
from storage.schema import upgrade_schema
from storage.search import story_candidates

TARGET_ARTICLES_PER_SECOND = 500.0
BIG_WITHIN = 0.25  # at 200k chats, at most 25% under the target
TARGET_CLUSTERING_RATIO = 1.5  # "flat": 100k look-alikes cost at most 1.5x what 1k cost
INGEST_TIMEOUT = 3600.0
TOPICS = 3_500
ITEMS_PER_CHAT = 5
GENERATED_ARTICLES = 5_000
LOOKALIKES_FEW, LOOKALIKES_MANY = 1_000, 100_000
CLUSTERED_PER_RUN = 600  # new articles whose stories are looked for, in batches of 200


@dataclass(frozen=True, slots=True)
class Sizes:
    chats: int
    articles: int | None  # None: the whole corpus


def sizes(scale: Scale, big: bool) -> Sizes:
    chats_n = 200_000 if big else scale.n(20_000)
    return Sizes(chats_n, scale.n(GENERATED_ARTICLES) if scale.quick else None)


def reuters_published(date: str) -> datetime | None:
    """A Reuters-21578 date ("26-FEB-1987 15:01:01.79") as a UTC datetime."""
    try:
        return datetime.strptime(date.strip()[:20], "%d-%b-%Y %H:%M:%S").replace(tzinfo=NOW.tzinfo)
    except ValueError:
        return None


def corpus_lines(path: Path, limit: int | None) -> Iterator[str]:
    """The corpus's stories as the project's JSON Lines records (title, body, source, url,
    published), dates moved so that the last story is `NOW` (stories keep their spacing)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        stories = [json.loads(line) for line in handle if line.strip()]
    if limit is not None:
        stories = stories[:limit]
    dates = [reuters_published(story.get("date", "")) for story in stories]
    shift = NOW - max((d for d in dates if d is not None), default=NOW)
    for story, published in zip(stories, dates, strict=True):
        title = " ".join(str(story.get("title") or "").split())[:300] or "(untitled)"
        record = {
            "title": title,
            "body": story.get("body") or "",
            "source": "Reuters",
            "url": f"https://reuters.example/{story['id']}",
        }
        if published is not None:
            record["published"] = (published + shift).isoformat()
        yield json.dumps(record, ensure_ascii=False)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in the tables ingest writes (those the schema has): articles, alerts, matches."""
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        found = {}
        for table in ("articles", "alerts", "article_matches"):
            if table in tables:
                found[table] = (
                    await connection.execute(text(f"SELECT count(*) FROM {table}"))
                ).scalar_one()
    return found


def scan_seconds(texts: list[tuple[str, str]], surfaces: set[str]) -> float:
    """The best of 3 bare pyahocorasick scans of the lower-cased texts for the surfaces (CPU
    seconds of this process, so other processes on the machine do not slow it)."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for word in surfaces:
        automaton.add_word(word, word)
    automaton.make_automaton()
    lowered = [f"{title}\n{body}".lower() for title, body in texts]

    def scan() -> None:
        for content in lowered:
            for _ in automaton.iter(content):
                pass

    [seconds] = best_of(3, scan)
    return seconds


async def fanout_ingest(scale: Scale, report: Report, corpus: Path | None, big: bool) -> None:
    size = sizes(scale, big)
    with temp_dir("fanout") as directory:
        started = time.perf_counter()
        topics = fanout_vocabulary(TOPICS)
        chat_rows = chats(size.chats)
        pairs = fanout_subscriptions(topics, chat_rows, ITEMS_PER_CHAT)
        feed = directory / "articles.jsonl"
        with feed.open("w", encoding="utf-8") as handle:
            if corpus is not None:
                for line in corpus_lines(corpus, size.articles):
                    handle.write(line + "\n")
            else:
                for record in articles(topics, size.articles or GENERATED_ARTICLES):
                    handle.write(record.json_line() + "\n")
        texts = []
        with feed.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                texts.append((record["title"], record["body"]))
        print(
            f"  workload: {len(topics)} topics, {len(chat_rows):,} chats, {len(pairs):,} watch "
            f"items, {len(texts):,} articles ({'corpus' if corpus else 'generated'}, "
            f"~{sum(len(b) for _, b in texts) / len(texts):,.0f} chars), "
            f"made in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        alone = directory / "alone"
        alone.mkdir()
        async with bench_database(alone) as url:
            engine = create_engine(url)
            try:
                await upgrade_schema(engine)
            finally:
                await engine.dispose()
            started = time.perf_counter()
            code, out, err = await run_tradebot(
                "ingest", str(feed), env=child_env(url), cwd=alone, timeout=INGEST_TIMEOUT
            )
            unwatched = time.perf_counter() - started
            if code != 0:
                raise RuntimeError(f"tradebot ingest failed ({code}): {err[-800:]}")
        async with bench_database(directory) as url:
            engine = create_engine(url)
            try:
                await upgrade_schema(engine)
                started = time.perf_counter()
                await load_subscriptions(engine, chat_rows, pairs)
                print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)
                started = time.perf_counter()
                code, out, err = await run_tradebot(
                    "ingest", str(feed), env=child_env(url), cwd=directory, timeout=INGEST_TIMEOUT
                )
                elapsed = time.perf_counter() - started
                if code != 0:
                    raise RuntimeError(f"tradebot ingest failed ({code}): {err[-800:]}")
                print(f"  tradebot ingest: {out.strip().splitlines()[0] if out.strip() else '?'}")
                stored = await counts(engine)
            finally:
                await engine.dispose()
        items = [topic.item for topic in topics]
        scan = scan_seconds(texts, surfaces_of(items, default_lexicon()))
    rate = len(texts) / elapsed
    target = TARGET_ARTICLES_PER_SECOND * (1 - BIG_WITHIN if big else 1)
    where = f"{len(chat_rows):,} chats, {len(pairs):,} items"
    report.add(
        f"tradebot ingest, end to end ({where})",
        rate,
        "articles/s",
        target=f">= {target:.0f} articles/s",
        ok=rate >= target,
        note=f"{len(texts):,} articles in {elapsed:.1f} s, process start included",
    )
    report.add(
        "tradebot ingest, no watch items (text work, stories, facts, articles)",
        len(texts) / unwatched,
        "articles/s",
        note=f"{len(texts):,} articles in {unwatched:.1f} s: ingest apart from matching and alerts",
    )
    report.add(
        "ingest / bare Aho-Corasick scan of the same texts",
        elapsed / scan,
        "x",
        note=f"scan: {len(texts) / scan:,.0f} articles/s over every surface",
    )
    per_article = {
        table: rows / max(stored.get("articles", 1), 1) for table, rows in stored.items()
    }
    report.add(
        "rows written",
        sum(rows for table, rows in stored.items() if table != "articles"),
        "rows",
        note=", ".join(
            f"{table} {stored[table]:,} ({per_article[table]:.0f}/article)" for table in stored
        ),
    )


# --------------------------------------------------------------------------------- clustering

_SHARED_TITLES = [
    "Copper prices rise as China demand lifts imports, {a} says",
    "China copper imports rise on strong demand, {a} reports",
    "Copper demand in China lifts prices and imports, {a} estimates",
]
_SHARED_LEADS = [
    "{a} said copper prices rose {n} percent this week as demand from China lifted imports to "
    "{m} tonnes. Traders in Shanghai said {b} buyers had returned to the copper market.",
    "Copper imports into China rose to {m} tonnes, {a} said, with prices up {n} percent on "
    "stronger demand. {b} traders said the copper market stayed tight.",
]


def lookalike(rng: random.Random, number: int) -> tuple[str, str]:
    """A title and body sharing most words with every other (copper, China, demand, prices,
    imports), with actors and figures of its own: a different story each time."""
    a, b = invented_word(rng), invented_word(rng)
    values = {"a": a, "b": b, "n": rng.randint(2, 40), "m": f"{rng.randint(10, 990):,}{number}"}
    return rng.choice(_SHARED_TITLES).format(**values), rng.choice(_SHARED_LEADS).format(**values)


async def store_lookalikes(engine: AsyncEngine, rng: random.Random, start: int, count: int) -> None:
    """`count` look-alike articles stored as ingest stores them (search words, signature), each
    its own story, ingested over the last day."""
    now = utcnow()
    async with engine.begin() as connection:
        for first in range(start, start + count, 5_000):
            rows = []
            for number in range(first, min(first + 5_000, start + count)):
                title, body = lookalike(rng, number)
                when = now - timedelta(seconds=86_400 * (start + count - number) / (start + count))
                rows.append(
                    {
                        "url": f"https://lookalike.example/{number}",
                        "content_hash": content_hash(title, body),
                        "title": title,
                        "body": body,
                        "source": "Look-alike Wire",
                        "published_at": when,
                        "ingested_at": when,
                        "search_text": search_words(title, body),
                        "story_signature": story_signature(title, body),
                    }
                )
            await connection.execute(insert(Article), rows)
        await _same_story_ids(connection)


async def _same_story_ids(connection: AsyncConnection) -> None:
    await connection.execute(
        Article.__table__.update().where(Article.story_id.is_(None)).values(story_id=Article.id)  # type: ignore[attr-defined,union-attr]
    )


async def time_clustering(engine: AsyncEngine, rng: random.Random, first: int) -> tuple[float, int]:
    """Seconds per article to find the stories of `CLUSTERED_PER_RUN` new look-alikes (as
    `_store_together` does, batch by batch), and how many joined a stored story."""
    sessions = session_factory(engine)
    now = utcnow()
    new = []  # what `_prepare` derives before a batch is stored: not timed
    for number in range(first, first + CLUSTERED_PER_RUN):
        title, body = lookalike(rng, number)
        new.append((_story_words(title), StoryText.of(title, body, now)))
    joined = 0
    started = time.perf_counter()
    for start in range(0, len(new), BATCH_SIZE):
        batch = new[start : start + BATCH_SIZE]
        async with sessions() as session:
            found = await story_candidates(
                session=session,
                queries=[[[(word,) for word in words]] for words, _ in batch],
                limit=STORY_CANDIDATES,
                since=now - timedelta(days=STORY_DAYS),
                signature_of=story_signature,
            )
        for (_words, story), stored in zip(batch, found, strict=True):
            options = [StoryText(c.signature, c.published) for c in stored]
            joined += pick_cluster(story, options, max_days=STORY_DAYS) is not None
    return (time.perf_counter() - started) / len(new), joined


async def clustering_cost(scale: Scale, report: Report) -> None:
    rng = random.Random(14)
    few, many = LOOKALIKES_FEW, scale.n(LOOKALIKES_MANY)
    with temp_dir("clustering") as directory:
        async with bench_database(directory) as url:
            engine = create_engine(url)
            try:
                await upgrade_schema(engine)
                await store_lookalikes(engine, rng, 0, few)
                await time_clustering(engine, rng, 10_000_000)  # warm-up: caches, plans
                cost_few, joined_few = await time_clustering(engine, rng, 20_000_000)
                started = time.perf_counter()
                await store_lookalikes(engine, rng, few, many - few)
                print(f"  stored {many:,} look-alikes in {time.perf_counter() - started:.1f} s")
                if backend() == "postgresql":
                    async with engine.begin() as connection:
                        await connection.execute(text("ANALYZE articles"))
                await time_clustering(engine, rng, 30_000_000)
                cost_many, joined_many = await time_clustering(engine, rng, 40_000_000)
            finally:
                await engine.dispose()
    report.add(
        f"story search + pick, {few:,} look-alikes stored",
        cost_few * 1000,
        "ms/article",
        note=f"{joined_few} of {CLUSTERED_PER_RUN} joined a story",
    )
    report.add(
        f"story search + pick, {many:,} look-alikes stored",
        cost_many * 1000,
        "ms/article",
        note=f"{joined_many} of {CLUSTERED_PER_RUN} joined a story",
    )
    ratio = cost_many / cost_few
    report.add(
        f"clustering cost, {many:,} / {few:,} look-alikes",
        ratio,
        "x",
        target=f"<= {TARGET_CLUSTERING_RATIO}x (flat)",
        ok=ratio <= TARGET_CLUSTERING_RATIO,
    )


def more_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, help="Reuters-21578 JSONL.gz to ingest (real text)")
    parser.add_argument(
        "--scale",
        choices=("normal", "big"),
        default="normal",
        help="big: 200,000 chats and 1,000,000 watch items",
    )
    parser.add_argument(
        "--only", choices=("fanout", "clustering"), help="one of the two parts alone"
    )


async def bench(scale: Scale, report: Report, args: argparse.Namespace) -> None:
    for name, part in (
        ("fanout", lambda: fanout_ingest(scale, report, args.corpus, args.scale == "big")),
        ("clustering", lambda: clustering_cost(scale, report)),
    ):
        if args.only not in (None, name):
            continue
        started = time.monotonic()
        try:
            await part()
        except Exception as error:
            report.add(f"{name} failed: {type(error).__name__}", float("nan"), "", ok=False)
            print(f"  ERROR in {name}: {error!r}"[:3000])
        print(f"  ({name}: {time.monotonic() - started:.1f} s)", flush=True)


def main() -> None:
    args = arguments(__doc__ or "", more_options)
    report = Report(f"fan-out and clustering (issue 14), {backend()}", path=args.json_out)
    started = time.monotonic()
    try:
        asyncio.run(bench(Scale(args.quick), report, args))
    except Exception as error:
        report.error = f"{type(error).__name__}: {error}"
        print(f"  ERROR {report.error}")
    finish(report, started, args.json_out)


if __name__ == "__main__":
    main()
