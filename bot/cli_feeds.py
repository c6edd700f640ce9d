"""`tradebot feeds add/list/remove/resume/import/export`, `tradebot sources` and `tradebot
stats`. Feed names and errors come from the web: control characters are shown escaped, never
sent to the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from bot.settings import Settings
from bot.text import printable
from storage import feeds as feed_store
from storage import queries
from storage.db import SessionFactory
from storage.models import Feed
from storage.schema import migrated_database
from storage.stats import collect_stats

# Commands import their heavier modules when they run: every `tradebot` command loads this
# one, and a short command (an import of subscriptions) should not pay for the others.
if TYPE_CHECKING:
    from bot.opml import ImportReport

T = TypeVar("T")


async def _with_database(settings: Settings, work: Callable[[SessionFactory], Awaitable[T]]) -> T:
    async with migrated_database(settings.database_url) as sessions:
        return await work(sessions)


def add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.feeds import add_feed

    async def work(sessions: SessionFactory) -> tuple[Feed, bool]:
        return await add_feed(
            sessions, args.url, args.name, allow_private=settings.allow_private_feed_hosts
        )

    try:
        feed, created = asyncio.run(_with_database(settings, work))
    except ValueError as error:
        print(
            f"tradebot: cannot add {printable(args.url)}: {printable(str(error))}", file=sys.stderr
        )
        return 2
    if created:
        print(f"added feed #{feed.id}: {printable(feed.url)}")
        print("the running bot fetches it within 30 s (no restart needed)")
    else:
        print(f"already there: feed #{feed.id} ({feed.status}): {printable(feed.url)}")
    return 0


def import_opml(settings: Settings, args: argparse.Namespace) -> int:
    from bot.opml import MAX_OPML_BYTES, OpmlError, import_feeds, read_opml

    try:
        with args.file.open("rb") as handle:
            found = read_opml(handle.read(MAX_OPML_BYTES + 1))
    except OSError as error:
        print(f"tradebot: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    except OpmlError as error:
        print(f"tradebot: {args.file}: {error}", file=sys.stderr)
        return 1

    async def work(sessions: SessionFactory) -> ImportReport:
        return await import_feeds(
            sessions, found.feeds, allow_private=settings.allow_private_feed_hosts
        )

    report = asyncio.run(_with_database(settings, work))
    skipped = report.skipping(found.skipped)
    print(
        f"imported: {len(report.added)}, already there: {len(report.present)}, "
        f"skipped: {len(skipped)}"
    )
    for line in report.present:
        print(f"  {printable(line.where)}: {printable(line.reason)}")
    for line in skipped:
        print(f"  skipped {printable(line.where)}: {printable(line.reason)}")
    if report.added:
        print("the running bot fetches them within 30 s (no restart needed)")
    return 0 if report.added or report.present or not skipped else 1


def export_opml(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.opml import write_opml

    async def work(sessions: SessionFactory) -> list[Feed]:
        async with sessions() as session:
            return list(await feed_store.list_feeds(session=session))

    sys.stdout.write(write_opml(asyncio.run(_with_database(settings, work))))
    return 0


def list_all(settings: Settings, _args: argparse.Namespace) -> int:
    from bot import rendering

    async def work(sessions: SessionFactory) -> list[Feed]:
        async with sessions() as session:
            return list(await feed_store.list_feeds(session=session))

    feeds = asyncio.run(_with_database(settings, work))
    if not feeds:
        print("no feeds (add one with: tradebot feeds add URL)")
        return 0
    now = datetime.now(UTC)
    print(f"{'ID':>4}  {'STATUS':<8} {'LAST FETCH':<13} {'ITEMS':>6}  NAME / URL")
    for feed in feeds:
        name = f"{feed.name}  " if feed.name else ""
        print(
            f"{feed.id:>4}  {feed.status:<8} {rendering.ago(feed.last_fetch_at, now):<13} "
            f"{feed.items_seen:>6}  {printable(name)}{printable(feed.url)}"
        )
        if feed.last_error:
            streak = feed.consecutive_failures
            suffix = f" ({streak} failures in a row)" if streak > 1 else ""
            print(f"{'':>6}last error: {printable(feed.last_error)}{suffix}")
    return 0


def remove(settings: Settings, args: argparse.Namespace) -> int:
    return _change_feed(settings, args.id, feed_store.remove_feed, "removed feed #{id}: {url}")


def resume(settings: Settings, args: argparse.Namespace) -> int:
    return _change_feed(
        settings, args.id, feed_store.resume_feed, "feed #{id} will be polled again: {url}"
    )


def _change_feed(
    settings: Settings,
    feed_id: int,
    change: Callable[..., Awaitable[Feed | None]],
    confirmation: str,
) -> int:
    """Apply `change` to one feed and print `confirmation` (or that there is no such feed)."""

    async def work(sessions: SessionFactory) -> Feed | None:
        async with sessions() as session:
            feed = await change(session=session, feed_id=feed_id)
            await session.commit()
        return feed

    feed = asyncio.run(_with_database(settings, work))
    if feed is None:
        print(f"tradebot: no feed #{feed_id}", file=sys.stderr)
        return 1
    print(confirmation.format(id=feed_id, url=printable(feed.url)))
    return 0


def show_stats(settings: Settings, _args: argparse.Namespace) -> int:
    from bot import rendering

    async def work(sessions: SessionFactory) -> list[str]:
        async with sessions() as session:
            return rendering.stats_lines(await collect_stats(session=session))

    for line in asyncio.run(_with_database(settings, work)):
        print(line)
    return 0


def show_sources(settings: Settings, _args: argparse.Namespace) -> int:
    from bot import rendering

    async def work(sessions: SessionFactory) -> list[str]:
        async with sessions() as session:
            feeds = await feed_store.list_feeds(session=session)
            recent = await queries.articles_per_source(
                session=session, since=datetime.now(UTC) - timedelta(days=rendering.SOURCE_DAYS)
            )
        return rendering.sources_list(feeds, recent)

    for text in asyncio.run(_with_database(settings, work)):
        for line in rendering.plain_text(text).splitlines():
            print(printable(line))
    return 0
