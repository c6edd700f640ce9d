"""The `tradebot` command line."""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot import cli_feeds
from bot.articles import ArticleFileError, ArticleIn, ParsedFile, Record, Rejected, read_articles
from bot.lexicon import default_lexicon
from bot.query import pattern_sources
from bot.refs import MAX_DAYS, TEST_DAYS, QueryTestReport
from bot.settings import Settings, SettingsError, load_settings
from bot.text import counted, printable
from bot.topics import TopicError, WatchItem, parse_watch_item
from bot.watchlist_csv import read_rows, write_csv
from storage import queries
from storage.db import create_engine, shown_url, storage_failure
from storage.models import Chat, utcnow
from storage.schema import (
    SchemaTooNew,
    migrated_database,
    new_revision,
    schema_revision,
    upgrade_schema,
)

if TYPE_CHECKING:
    from bot.ingest import IngestReport
    from bot.parsing import ParseWorkers
    from bot.rendering import Reply

# Commands import their heavier modules (the bot's application, ingest, rendering) when they
# run: `tradebot` loads this module for every command, and a short one (an import of
# subscriptions, counted with its start in bench/bench_import.py) should not pay for the others.

PROGRESS_EVERY = 200  # articles: one batch


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"tradebot: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("httpx", "apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    command: Callable[[Settings, argparse.Namespace], int] = args.command
    try:
        return command(settings, args)
    except SchemaTooNew as error:
        print(f"tradebot: {error}", file=sys.stderr)
    except Exception as error:
        reason = storage_failure(error)
        if reason is None:
            raise
        print(f"tradebot: database {shown_url(settings.database_url)}: {reason}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradebot", description="Trade-news alerts on Telegram.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot (long polling, alerts, jobs)")
    run.set_defaults(command=run_bot)

    ingest = commands.add_parser(
        "ingest", help="store articles from files or URLs and record what they matched"
    )
    ingest.add_argument(
        "paths",
        nargs="+",
        metavar="PATH|URL",
        help=".txt, .json or .jsonl file, or an http(s) URL of a web page or a feed",
    )
    ingest.set_defaults(command=ingest_files)

    feeds = commands.add_parser("feeds", help="the RSS/Atom feeds the running bot polls")
    feeds_commands = feeds.add_subparsers(required=True, metavar="ACTION")
    feeds_add = feeds_commands.add_parser("add", help="add a feed (the running bot picks it up)")
    feeds_add.add_argument("url", metavar="URL")
    feeds_add.add_argument("--name", help="shown as the source of its articles")
    feeds_add.set_defaults(command=cli_feeds.add)
    feeds_list = feeds_commands.add_parser(
        "list", help="every feed: status, last fetch, last error, items"
    )
    feeds_list.set_defaults(command=cli_feeds.list_all)
    feeds_remove = feeds_commands.add_parser("remove", help="stop polling a feed")
    feeds_remove.add_argument("id", type=int, metavar="ID")
    feeds_remove.set_defaults(command=cli_feeds.remove)
    feeds_resume = feeds_commands.add_parser("resume", help="poll a paused feed again")
    feeds_resume.add_argument("id", type=int, metavar="ID")
    feeds_resume.set_defaults(command=cli_feeds.resume)
    feeds_import = feeds_commands.add_parser(
        "import", help="add every feed of an OPML file (as feed readers export them)"
    )
    feeds_import.add_argument("file", type=Path, metavar="FILE.opml")
    feeds_import.set_defaults(command=cli_feeds.import_opml)
    feeds_export = feeds_commands.add_parser("export", help="print every feed as OPML 2.0")
    feeds_export.set_defaults(command=cli_feeds.export_opml)

    sources = commands.add_parser("sources", help="where the news comes from (as /sources)")
    sources.set_defaults(command=cli_feeds.show_sources)

    stats = commands.add_parser("stats", help="chats, watch items, articles, alerts, feeds")
    stats.set_defaults(command=cli_feeds.show_stats)

    match = commands.add_parser("match", help="dry run: which articles a topic would alert on")
    match.add_argument("topic", metavar="TOPIC")
    match.add_argument("file", type=Path, metavar="FILE")
    match.add_argument("--json", action="store_true", help="one JSON object per article")
    match.set_defaults(command=match_file)

    subs = commands.add_parser("subscriptions", help="import or export subscriptions as CSV")
    subs_commands = subs.add_subparsers(required=True, metavar="ACTION")
    subs_import = subs_commands.add_parser(
        "import",
        help="add rows chat_id,topic[,level[,created[,...]]] from a CSV file (an item a chat "
        "has moves to the forum topic its row names)",
    )
    subs_import.add_argument("file", type=Path, metavar="FILE.csv")
    subs_import.set_defaults(command=import_subscriptions)
    subs_export = subs_commands.add_parser(
        "export", help="print subscriptions as CSV: chat_id,topic,level,created"
    )
    subs_export.add_argument("--chat", type=int, metavar="ID", help="only this chat's watch-list")
    subs_export.set_defaults(command=export_subscriptions)

    for name, description in (
        ("facts", "the key facts about a topic (as /facts)"),
        ("related", "related headlines (as /related)"),
        ("latest", "the newest articles on a topic (as /latest)"),
    ):
        question = commands.add_parser(name, help=description)
        question.add_argument("topic", metavar="TOPIC")
        question.set_defaults(command=answer_question, question=name)
    test = commands.add_parser("test", help="what a topic or query would have alerted on (/test)")
    test.add_argument("query", metavar="QUERY")
    test.add_argument("--days", type=_test_days, default=TEST_DAYS, metavar="N")
    test.set_defaults(command=test_query)
    digest = commands.add_parser("digest", help="the digest a chat would get now (as /digest)")
    digest.add_argument("chat_id", type=int, metavar="CHAT_ID")
    digest.set_defaults(command=show_digest)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="migrate the database to the newest schema")
    db_upgrade.set_defaults(command=upgrade_database)
    db_revision = db_commands.add_parser(
        "revision", help="(developers) write a migration for changed models"
    )
    db_revision.add_argument("message")
    db_revision.add_argument("--id", required=True, help="revision id, e.g. 0002")
    db_revision.set_defaults(command=write_revision)

    demo = commands.add_parser("demo", help="an offline tour: a scripted chat with the real bot")
    demo.set_defaults(command=play_demo)
    return parser


def run_bot(settings: Settings, _args: argparse.Namespace) -> int:
    from telegram import Update

    from bot.app import build_application

    if not settings.telegram_bot_token:
        print("tradebot: setting TELEGRAM_BOT_TOKEN: required to run the bot", file=sys.stderr)
        return 2
    asyncio.run(_open_database(settings))  # a database that cannot be used stops here, in a line
    app = build_application(settings)
    if settings.webhook_url:
        host, port = settings.webhook_address
        app.run_webhook(
            listen=host,
            port=port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def _open_database(settings: Settings) -> None:
    async with migrated_database(settings.database_url):
        pass


def ingest_files(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_ingest_files(settings, args.paths))


async def _ingest_files(settings: Settings, paths: list[str]) -> int:
    """Store the articles of every path, a file streamed in batches; exit 1 when nothing
    could be read or the database failed."""
    from bot.feeds import parse_workers_from

    parsers = parse_workers_from(settings)
    try:
        return await _ingest_paths(settings, paths, parsers)
    finally:
        parsers.close()


async def _ingest_paths(settings: Settings, paths: list[str], parsers: ParseWorkers) -> int:
    from bot.feeds import policy_from
    from bot.fetch import FetchError
    from bot.ingest import Ingestor, IngestReport, StorageFailure
    from bot.pages import is_url, read_url

    report = IngestReport()
    read_any = False
    async with migrated_database(settings.database_url) as sessions:
        ingestor = Ingestor(sessions, default_lexicon(), text_workers=parsers)
        await ingestor.refresh()
        gc.freeze()  # the matcher lives as long as the run: spare the collector re-reading it
        for path in paths:
            try:
                if is_url(path):
                    page = await read_url(path, policy=policy_from(settings), parsers=parsers)
                    records: Iterable[Record] = [*page.rejected, *page.articles]
                else:
                    records = read_articles(Path(path))
            except ArticleFileError as error:
                print(f"tradebot: cannot read {error}", file=sys.stderr)
                continue
            except FetchError as error:
                print(f"tradebot: cannot fetch {path}: {error}", file=sys.stderr)
                continue
            read_any = True
            progress = _Progress(path)
            try:
                report.merge(
                    await ingestor.ingest(
                        _articles_noting_rejections(records, report.rejected), progress=progress
                    )
                )
            except StorageFailure as failure:
                report.merge(failure.report)
                _print_report(report)
                print(f"tradebot: storing articles failed: {failure.reason}", file=sys.stderr)
                return 1
            finally:
                progress.finish()
    _print_report(report)
    return 0 if read_any else 1


def _articles_noting_rejections(
    records: Iterable[Record], rejected: list[Rejected]
) -> Iterator[ArticleIn]:
    """The articles among `records`; the rejected ones are appended to `rejected`."""
    for record in records:
        if isinstance(record, ArticleIn):
            yield record
        else:
            rejected.append(record)


def _print_report(report: IngestReport) -> None:
    print(
        f"new: {counted(report.new, 'article')} (+{counted(report.new_headlines, 'headline')}), "
        f"duplicates: {report.duplicates}, rejected: {len(report.rejected)}, "
        f"on watch-lists: {report.matched}"
    )
    for rejected in report.rejected:
        print(f"  rejected {printable(rejected.where)}: {printable(rejected.reason)}")


class _Progress:
    """How far a long ingest got, on one terminal line (nothing when stderr is not a tty)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._shown = False
        self._enabled = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if self._enabled and done >= PROGRESS_EVERY:
            print(f"\ringesting {self._path}: {done} articles", end="", file=sys.stderr)
            self._shown = True

    def finish(self) -> None:
        if self._shown:
            print(file=sys.stderr)


def match_file(settings: Settings, args: argparse.Namespace) -> int:
    from bot.matching import Matcher, evidence_sentence

    lexicon = default_lexicon()
    try:
        item = parse_watch_item(args.topic, lexicon)
        parsed = ParsedFile.of(read_articles(args.file))
    except TopicError as error:
        print(f"tradebot: topic: {error}", file=sys.stderr)
        return 2
    except ArticleFileError as error:
        print(f"tradebot: cannot read {error}", file=sys.stderr)
        return 1
    matcher = Matcher([item], lexicon)
    for article in parsed.articles:
        candidates = [
            article,
            *(ArticleIn(title=h, source=article.source) for h in article.headlines),
        ]
        for candidate in candidates:
            matches = matcher.match(candidate.title, candidate.body)
            evidence = (
                evidence_sentence(candidate.title, candidate.body, matches[0].evidence_at)
                if matches
                else None
            )
            relevance = matches[0].relevance if matches else 0.0
            if args.json:
                record = {
                    "url": candidate.url,
                    "title": candidate.title,
                    "matched": bool(matches),
                    "about": bool(matches) and matches[0].about,
                    "relevance": round(relevance, 3),
                    "evidence": evidence,
                }
                print(json.dumps(record, ensure_ascii=False))
            elif matches:
                level = "ABOUT" if matches[0].about else "MATCH"
                print(f"{level}  {candidate.title}  ({relevance:.2f})\n       {evidence}")
            else:
                print(f"-      {candidate.title}")
    for rejected in parsed.rejected:
        print(f"tradebot: rejected {rejected.where}: {rejected.reason}", file=sys.stderr)
    return 0


def import_subscriptions(settings: Settings, args: argparse.Namespace) -> int:
    try:
        with args.file.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        print(f"tradebot: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    return asyncio.run(_import_subscriptions(settings, rows))


async def _import_subscriptions(settings: Settings, rows: list[list[str]]) -> int:
    """Validate every row as `/subscribe` would, then store the good ones in bulk."""
    read = read_rows(rows, default_lexicon())
    async with migrated_database(settings.database_url) as sessions, sessions() as session:
        topics = {row.topic for row in read.accepted}
        patterned = {topic for topic in topics if pattern_sources(topic)}
        with_patterns = {row.chat_id for row in read.accepted if row.topic in patterned}
        stored = {
            chat_id: [
                s.topic for s in await queries.list_subscriptions(session=session, chat_id=chat_id)
            ]
            for chat_id in with_patterns
        }
        read = read.within_pattern_room(stored)
        done = await queries.import_subscriptions(
            session=session, rows=read.accepted, timezone=settings.default_timezone
        )
        await session.commit()
    present = len(read.accepted) - done.added - done.moved
    print(
        f"imported: {done.added}, moved to another topic: {done.moved}, "
        f"already present: {present}, rejected: {len(read.rejected)}"
    )
    for line in read.rejected:
        print(f"  rejected {printable(line)}")
    return 0 if read.accepted or not rows else 1


def export_subscriptions(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_export_subscriptions(settings, args.chat))


async def _export_subscriptions(settings: Settings, chat_id: int | None) -> int:
    async with migrated_database(settings.database_url) as sessions, sessions() as session:
        rows = await queries.all_subscriptions(session=session, chat_id=chat_id)
    sys.stdout.write(write_csv(rows))
    return 0


def answer_question(settings: Settings, args: argparse.Namespace) -> int:
    from bot import rendering

    try:
        item = parse_watch_item(args.topic, default_lexicon())
    except TopicError as error:
        print(f"tradebot: topic: {error}", file=sys.stderr)
        return 2
    for text in asyncio.run(_answer_question(settings, args.question, item)):
        print(rendering.plain_text(text))
    return 0


async def _answer_question(settings: Settings, question: str, item: WatchItem) -> list[str]:
    from bot import knowledge, rendering

    lexicon = default_lexicon()
    async with migrated_database(settings.database_url) as sessions:
        if question == "facts":
            found = await knowledge.key_facts(sessions, item, lexicon)
            pages = [rendering.facts_page(item.key, found)]
            while pages[-1].buttons:
                pages.append(rendering.facts_page(item.key, found, _next_offset(pages[-1])))
            return [page.text for page in pages]
        if question == "related":
            return [
                rendering.related_list(item.key, await knowledge.related(sessions, item, lexicon))
            ]
        return [rendering.latest_list(item.key, await knowledge.latest(sessions, item, lexicon))]


def _test_days(text: str) -> int:
    days = int(text) if text.isdecimal() else 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"a number of days from 1 to {MAX_DAYS}")
    return days


def test_query(settings: Settings, args: argparse.Namespace) -> int:
    from bot import rendering

    lexicon = default_lexicon()
    try:
        item = parse_watch_item(args.query, lexicon)
    except TopicError as error:
        print(f"tradebot: query: {error}", file=sys.stderr)
        return 2
    report = asyncio.run(_test_query(settings, item, args.days))
    print(rendering.plain_text(rendering.test_report(report).text))
    return 0


async def _test_query(settings: Settings, item: WatchItem, days: int) -> QueryTestReport:
    from bot import querytest

    async with migrated_database(settings.database_url) as sessions:
        return await querytest.test_query(
            sessions, item, default_lexicon(), days=days, zone=ZoneInfo(settings.default_timezone)
        )


def _next_offset(page: Reply) -> int:
    from bot.callbacks import MoreFacts

    more = page.buttons[0][0].action
    assert isinstance(more, MoreFacts)
    return more.offset


def show_digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot import rendering

    messages = asyncio.run(_show_digest(settings, args.chat_id))
    if messages is None:
        print(f"tradebot: no chat {args.chat_id}", file=sys.stderr)
        return 1
    for text in messages or [rendering.nothing_new()]:
        print(rendering.plain_text(text))
    return 0


async def _show_digest(settings: Settings, chat_id: int) -> list[str] | None:
    from bot.digest_jobs import digest_text

    async with migrated_database(settings.database_url) as sessions:
        async with sessions() as session:
            chat = await session.get(Chat, chat_id)
            since = await queries.last_digest_end(session=session, chat_id=chat_id)
        if chat is None:
            return None
        return await digest_text(sessions, chat, since=since, until=utcnow())


def upgrade_database(settings: Settings, _args: argparse.Namespace) -> int:
    return asyncio.run(_upgrade_database(settings))


async def _upgrade_database(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    try:
        before, head = await schema_revision(engine)
        await upgrade_schema(engine)
    finally:
        await engine.dispose()
    if before == head:
        print(f"database schema is up to date (revision {head})")
    else:
        print(f"database schema upgraded from {before or 'empty'} to {head}")
    return 0


def write_revision(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_write_revision(settings, args.message, args.id))


async def _write_revision(settings: Settings, message: str, revision_id: str) -> int:
    engine = create_engine(settings.database_url)
    try:
        await upgrade_schema(engine)
        await new_revision(engine, message, revision_id)
    finally:
        await engine.dispose()
    return 0


def play_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    logging.getLogger("telegram").setLevel(logging.WARNING)  # the conversation is the output
    return asyncio.run(run_demo())
