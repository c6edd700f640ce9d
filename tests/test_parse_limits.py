"""Parsing in worker processes: the same results as parsing in the bot, every parse within its
deadline and memory cap, a worker that overruns replaced, and closing ends them all."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds import NotAFeed, parse_feed
from bot.fetch import FetchPolicy
from bot.pages import extract_article, read_url
from bot.parsing import MB, ParseAborted, ParseWorkers
from tests.fakes.web import HTML_TYPE, FakeWeb, Item, article_page, atom, rss10, rss20

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
URL = "https://wire.example.com/feed.xml"
STORIES = [
    Item(
        "Copper output rises at Chilean mine",
        link="https://wire.example.com/copper-1",
        guid="urn:wire:1",
        description="<p>Copper production rose <b>3%</b> in October.</p><p>Exports grew.</p>",
        published=NOW - timedelta(hours=2),
    ),
    Item(
        '<b>Tin</b> & "zinc" <script>alert(1)</script>',
        link="/relative/tin",
        description='<p>Tin <a href="javascript:alert(1)">eased</a> &amp; zinc rose</p>',
        published=NOW + timedelta(days=1),
    ),
    Item(None, description="<p>An entry without a title. It has two sentences.</p>"),
    Item(None),
]
DEPTH = 200_000  # nested escaped <div>s: seconds of feedparser's time
HOSTILE = rss20([Item("Copper", guid="urn:x", description="<div>" * DEPTH + "</div>" * DEPTH)])
PARAGRAPH = "Copper production rose 3% in October at the Escondida mine, the company said. " * 5


@pytest.fixture
async def workers() -> AsyncIterator[ParseWorkers]:
    parse_workers = ParseWorkers(seconds=10, memory_bytes=256 * MB)
    yield parse_workers
    parse_workers.close()


async def test_feeds_and_pages_parse_the_same_in_a_worker(workers: ParseWorkers) -> None:
    for document in (rss20, atom, rss10):
        content = document(STORIES).encode()
        here = parse_feed(content, url=URL, now=NOW)
        assert len(here.items) == 4 and len(here.articles) == 3
        assert await workers.run(parse_feed, content, url=URL, now=NOW) == here
    page = article_page("Copper output rises at Chilean mine", [PARAGRAPH] * 3).encode()
    here_page = extract_article(page, url=URL, now=NOW)
    assert await workers.run(extract_article, page, url=URL, now=NOW) == here_page


async def test_what_a_parser_raises_is_raised_here_and_the_worker_stays(
    workers: ParseWorkers,
) -> None:
    pid = await workers.run(os.getpid)
    with pytest.raises(NotAFeed, match=r"^not an RSS or Atom feed") as raised:
        await workers.run(parse_feed, b"<html><body><p>Hello</p></body></html>", url=URL)
    assert 'bot/feeds.py", line' in str(raised.value.__cause__)  # where it was raised
    with pytest.raises(ParseAborted, match=r"^unusable parse result: cannot pickle"):
        await workers.run(threading.Lock)
    assert await workers.run(os.getpid) == pid != os.getpid()


async def test_a_parse_past_its_deadline_is_killed_and_its_worker_replaced() -> None:
    workers = ParseWorkers(seconds=0.3, memory_bytes=256 * MB, workers=1)
    try:
        pid = await workers.run(os.getpid)
        started = time.monotonic()
        with pytest.raises(ParseAborted, match=r"^parsing took longer than 0\.3 s$"):
            await workers.run(parse_feed, HOSTILE.encode(), url=URL)
        assert time.monotonic() - started < 0.3 + 0.2
        await ended(pid)
        assert await workers.run(os.getpid) != pid
        assert (await workers.run(parse_feed, rss20(STORIES).encode(), url=URL)).articles
    finally:
        workers.close()


async def test_a_parse_needing_too_much_memory_is_stopped_and_its_worker_replaced() -> None:
    workers = ParseWorkers(seconds=10, memory_bytes=16 * MB, workers=1)
    try:
        pid = await workers.run(os.getpid)
        with pytest.raises(ParseAborted, match=r"^parsing needed more than 16 MB$"):
            await workers.run(parse_feed, HOSTILE.encode(), url=URL)
        await ended(pid)
        assert (await workers.run(parse_feed, rss20(STORIES).encode(), url=URL)).articles
    finally:
        workers.close()


async def test_closing_ends_every_worker_even_in_the_middle_of_a_parse() -> None:
    workers = ParseWorkers(seconds=30, memory_bytes=256 * MB)
    pids = set(await asyncio.gather(workers.run(os.getpid), workers.run(os.getpid)))
    assert len(pids) == 2
    parse = asyncio.create_task(workers.run(parse_feed, HOSTILE.encode(), url=URL))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    workers.close()
    with pytest.raises(ParseAborted, match=r"^the parser stopped \(signal SIGKILL\)$"):
        await parse
    assert time.monotonic() - started < 0.5
    for pid in pids:
        await ended(pid)


async def test_a_cancelled_parse_ends_its_worker() -> None:
    workers = ParseWorkers(seconds=30, memory_bytes=256 * MB, workers=1)
    try:
        pid = await workers.run(os.getpid)
        parse = asyncio.create_task(workers.run(parse_feed, HOSTILE.encode(), url=URL))
        await asyncio.sleep(0.3)
        parse.cancel()
        with pytest.raises(asyncio.CancelledError):
            await parse
        await ended(pid)
    finally:
        workers.close()


async def test_a_page_or_feed_too_costly_to_read_is_a_rejection(web: FakeWeb) -> None:
    web.serve("/long.html", article_page("Copper", [PARAGRAPH] * 5000), content_type=HTML_TYPE)
    web.serve("/hostile.xml", HOSTILE)
    workers = ParseWorkers(seconds=0.2, memory_bytes=256 * MB)
    policy = FetchPolicy(allow_private=True)
    try:
        for path in ("/long.html", "/hostile.xml"):
            parsed = await read_url(web.url(path), policy=policy, parsers=workers)
            assert parsed.articles == []
            assert [r.reason for r in parsed.rejected] == ["parsing took longer than 0.2 s"]
    finally:
        workers.close()


async def ended(pid: int, timeout: float = 2.0) -> None:
    """Wait until a process is gone (killed and reaped)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} is still running")
        await asyncio.sleep(0.02)
