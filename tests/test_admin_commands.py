"""Admin chat commands (/feeds, /addfeed, /removefeed, /resumefeed, /ingest, /stats) and the
`tradebot feeds` / `stats` / `ingest URL` command line, against the fake Bot API and feeds and
pages served from 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.articles import ArticleIn
from bot.cli import main
from bot.context import BotApplication
from bot.ingest import IngestReport
from bot.settings import Settings
from storage.db import SessionFactory
from tests.conftest import DATA
from tests.fakes import FakeTelegram, SentMessage
from tests.fakes.web import HTML_TYPE, FakeWeb, article_page, rss20
from tests.test_alerts import settle, subscribe
from tests.test_feed_polling import ADMIN, ANALYST, add, story

STRANGER = 31
PAGE = article_page(
    "Copper jumps as Chile output falls",
    [
        "Copper prices rose 4% on the LME on Tuesday after Chilean mine output fell for a "
        "third month, traders said.",
        "The state miner Codelco said production dropped 8% in February.",
    ],
    published="2025-03-04T08:00:00Z",
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "allow_private_feed_hosts": True,
            "feed_poll_seconds": 60.0,  # only the first fetch of /addfeed, in these tests
            "feed_timeout_seconds": 2.0,
            "admin_ids": frozenset({ADMIN}),
        }
    )


async def say(
    telegram: FakeTelegram, text: str, chat_id: int = ADMIN, replies: int = 1
) -> list[SentMessage]:
    before = len(telegram.sent_to(chat_id))
    telegram.add_message(chat_id, text)
    return (await telegram.wait_for_sent(before + replies, chat_id=chat_id))[before:]


async def reply_to(telegram: FakeTelegram, text: str, chat_id: int = ADMIN) -> str:
    [reply] = await say(telegram, text, chat_id)
    return reply.plain_text or ""


@pytest.mark.parametrize(
    "command",
    [
        "/feeds",
        "/addfeed https://x.example/feed",
        "/removefeed 1",
        "/resumefeed 1",
        "/ingest https://x.example/",
        "/stats",
    ],
)
async def test_admin_commands_are_admin_only(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, command: str
) -> None:
    assert await reply_to(telegram, command, chat_id=STRANGER) == "This command is admin-only."
    assert web.hits == []


async def test_admin_commands_are_listed_to_admins_only(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    assert "/addfeed" in await reply_to(telegram, "/help")
    assert "/addfeed" not in await reply_to(telegram, "/help", chat_id=STRANGER)
    assert "Admin" not in await reply_to(telegram, "/start", chat_id=STRANGER)
    assert not {"feeds", "addfeed", "stats"} & {c["command"] for c in telegram.commands}


async def test_addfeed_fetches_at_once_and_feeds_lists_it(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, db: SessionFactory
) -> None:
    await subscribe(db, ANALYST, "copper")
    web.serve("/wire.xml", rss20([story(1), story(2, hours_ago=24 * 30)]))
    added, first_fetch = await say(
        telegram, f"/addfeed {web.url('/wire.xml')} Metals <desk>", replies=2
    )
    assert added.plain_text == "✅ Added feed #1 (Metals <desk>)."
    assert first_fetch.plain_text == (
        "First fetch: 2 entries, 1 new article stored (1 older one skipped), 1 on watch-lists."
    )
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    assert "Metals <desk>" in (alert.plain_text or "")

    again = await reply_to(telegram, f"/addfeed {web.url('/wire.xml')}")
    assert again == "Feed #1 (Metals <desk>) is already there. See /feeds."
    assert "Usage: /addfeed URL [NAME]" in await reply_to(telegram, "/addfeed")
    assert "only http and https" in await reply_to(telegram, "/addfeed ftp://x.example/feed")

    web.fail("/broken.xml", 500)
    _, failed = await say(telegram, f"/addfeed {web.url('/broken.xml')}", replies=2)
    assert "The first fetch failed: HTTP 500" in (failed.plain_text or "")

    listing = await reply_to(telegram, "/feeds")
    assert listing.startswith("Feeds (2)")
    assert "#1 ✅ ok · Metals <desk>" in listing and web.url("/wire.xml") in listing
    assert "2 items" in listing  # entries seen, the skipped old one too
    assert "#2 ⏳ backing off" in listing and "⚠️ HTTP 500" in listing


async def test_a_long_feed_list_is_split_into_messages_telegram_accepts(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    for n in range(60):
        await add(db, f"https://feeds{n}.example.com/{'very-long-path/' * 8}rss.xml?n={n}")
    messages = await say(telegram, "/feeds", replies=2)
    await settle(0.3)
    sent = telegram.sent_to(ADMIN)
    assert len(sent) >= 2 and all(len(m.plain_text or "") <= 4096 for m in sent)
    assert messages[0].plain_text and messages[0].plain_text.startswith("Feeds (60)")
    assert "#60" in (sent[-1].plain_text or "")


async def test_removefeed_and_resumefeed(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    feed_id = await add(db, "https://wire.example.com/feed.xml", "Wire")
    assert await reply_to(telegram, f"/resumefeed {feed_id}") == (
        f"▶️ Feed #{feed_id} (Wire) will be polled again now."
    )
    assert await reply_to(telegram, f"/removefeed #{feed_id}") == f"Removed feed #{feed_id} (Wire)."
    assert await reply_to(telegram, f"/removefeed {feed_id}") == (
        f"There is no feed #{feed_id}. See /feeds."
    )
    assert "Usage: /removefeed ID" in await reply_to(telegram, "/removefeed abc")
    assert "No feeds yet" in await reply_to(telegram, "/feeds")


async def test_ingest_a_page_or_a_feed_by_url(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, db: SessionFactory
) -> None:
    await subscribe(db, ANALYST, "copper")
    web.serve("/story.html", PAGE, content_type=HTML_TYPE)
    reply = await reply_to(telegram, f"/ingest {web.url('/story.html')}")
    assert reply.startswith("Stored 1 new article, 0 duplicates, 1 on watch-lists.")
    assert "• Copper jumps as Chile output falls" in reply
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    assert "Copper jumps as Chile output falls" in (alert.plain_text or "")
    assert "Metals Daily" in (alert.plain_text or "")

    again = await reply_to(telegram, f"/ingest {web.url('/story.html')}")
    assert again.startswith("Stored 0 new articles, 1 duplicate, 0 on watch-lists.")

    web.serve("/wire.xml", rss20([story(1, hours_ago=24 * 30), story(2)]))
    from_feed = await reply_to(telegram, f"/ingest {web.url('/wire.xml')}")
    assert from_feed.startswith("Stored 2 new articles")  # every entry: no backfill window

    web.serve("/empty.html", "<html><body><nav>Home</nav></body></html>", content_type=HTML_TYPE)
    empty = await reply_to(telegram, f"/ingest {web.url('/empty.html')}")
    assert "rejected:" in empty and "no article text found on the page" in empty
    missing = await reply_to(telegram, f"/ingest {web.url('/missing')}")
    assert missing.startswith("⚠️ Could not ingest") and missing.endswith("HTTP 404")
    assert "Usage: /ingest URL" in await reply_to(telegram, "/ingest not-a-url")


async def test_a_slow_ingest_does_not_hold_up_other_chats(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb
) -> None:
    web.serve("/slow.html", PAGE, content_type=HTML_TYPE, delay=1.5)
    telegram.add_message(ADMIN, f"/ingest {web.url('/slow.html')}")
    await web.wait_for_hits("/slow.html")
    telegram.add_message(STRANGER, "/help")
    [helped] = await telegram.wait_for_sent(chat_id=STRANGER)
    [stored] = await telegram.wait_for_sent(chat_id=ADMIN, timeout=5)
    assert (stored.plain_text or "").startswith("Stored 1 new article,")
    assert helped.at < stored.at - 0.5  # answered while the page was still loading


async def test_stats_counts_everything(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, db: SessionFactory
) -> None:
    await subscribe(db, ANALYST, "copper", "tin")
    await subscribe(db, 12, "copper")
    web.serve("/story.html", PAGE, content_type=HTML_TYPE)
    await reply_to(telegram, f"/ingest {web.url('/story.html')}")
    await telegram.wait_for_sent(chat_id=12)
    await telegram.wait_for_sent(chat_id=ANALYST)
    await add(db, "https://wire.example.com/feed.xml")
    await settle(0.3)
    text = await reply_to(telegram, "/stats")
    lines = text.splitlines()
    assert lines[0] == "tradebot stats"
    assert lines[1] == "Chats: 2 active, 0 blocked"
    assert lines[2] == "Watch items: 3 (2 distinct topics)"
    assert lines[3] == "Articles: 1 · last ingest just now"
    assert lines[4] == "Alerts: 0 pending, 2 sent, 0 failed"
    assert lines[5] == "Feeds: 1 ok, 0 backing off, 0 paused"


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ALLOW_PRIVATE_FEED_HOSTS", "false")
    return database_url


def test_feeds_add_list_resume_remove(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feeds", "list"]) == 0
    assert "no feeds" in capsys.readouterr().out
    assert (
        main(["feeds", "add", "https://Wire.Example.com/feed.xml", "--name", "Wire\x1b[31m"]) == 0
    )
    assert capsys.readouterr().out.startswith("added feed #1: https://wire.example.com/feed.xml")
    assert main(["feeds", "add", "https://wire.example.com/feed.xml"]) == 0
    assert "already there: feed #1 (ok)" in capsys.readouterr().out

    assert main(["feeds", "list"]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    assert header.split() == ["ID", "STATUS", "LAST", "FETCH", "ITEMS", "NAME", "/", "URL"]
    assert row.split() == [
        "1",
        "ok",
        "never",
        "0",
        "Wire\\x1b[31m",
        "https://wire.example.com/feed.xml",
    ]
    assert "\x1b" not in out  # a name from anywhere never drives the terminal

    assert main(["feeds", "resume", "1"]) == 0
    assert "feed #1 will be polled again" in capsys.readouterr().out
    assert main(["feeds", "remove", "1"]) == 0
    assert "removed feed #1" in capsys.readouterr().out
    assert main(["feeds", "remove", "1"]) == 1
    assert "no feed #1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "why"),
    [("ftp://x.example/feed", "only http and https"), ("http://127.0.0.1/feed", "loopback")],
)
def test_feeds_add_refuses_bad_urls(
    cli_env: str, capsys: pytest.CaptureFixture[str], url: str, why: str
) -> None:
    assert main(["feeds", "add", url]) == 2
    assert why in capsys.readouterr().err


def test_stats_on_the_command_line(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Chats: 0 active, 0 blocked",
        "Watch items: 0 (0 distinct topics)",
        "Articles: 0 · last ingest never",
        "Alerts: 0 pending, 0 sent, 0 failed",
        "Feeds: 0 ok, 0 backing off, 0 paused",
    ]


def test_stats_count_articles_not_yet_expanded_to_their_chats(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchers = tmp_path / "watchers.csv"
    watchers.write_text("chat_id,topic\n12,copper\n", encoding="utf-8")
    assert main(["subscriptions", "import", str(watchers)]) == 0
    assert main(["ingest", str(DATA / "india-chile-copper.txt")]) == 0
    capsys.readouterr()
    assert main(["stats"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3:5] == [
        "Alerts: 0 pending, 0 sent, 0 failed",
        "Articles still reaching their chats: 1 (their alerts are not counted yet)",
    ]


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_ingest_accepts_urls_and_paths(
    web: FakeWeb, database_url: str, tmp_path: Path
) -> None:
    web.serve("/story.html", PAGE, content_type=HTML_TYPE)
    web.serve("/wire.xml", rss20([story(1), story(2)]))
    text = tmp_path / "note.txt"
    text.write_text("Tin output falls\n\nTin output fell 2% at the smelter in March.\n")
    env = {"DATABASE_URL": database_url, "ALLOW_PRIVATE_FEED_HOSTS": "true"}
    code, out, err = await run_cli(
        "ingest", web.url("/story.html"), web.url("/wire.xml"), str(text), env=env
    )
    assert code == 0, err
    assert "new: 4 articles (+0 headlines), duplicates: 0, rejected: 0" in out

    env["ALLOW_PRIVATE_FEED_HOSTS"] = "false"
    code, out, err = await run_cli("ingest", web.url("/story.html", host="localhost"), env=env)
    assert code == 1
    assert "cannot fetch http://localhost:" in err and "loopback" in err
    assert len(web.hits_to("/story.html")) == 1


async def test_admin_answers_stay_out_of_groups(
    bot: BotApplication, telegram: FakeTelegram, web: FakeWeb, db: SessionFactory
) -> None:
    web.serve("/feed.xml", rss20([story(1)]))
    await add(db, web.url("/feed.xml"))
    group = -100_42
    for command in ("/feeds", "/stats", "/ingest https://x.example/a", "/removefeed 1"):
        telegram.add_message(group, command, user_id=ADMIN, chat_type="supergroup")
        [reply] = await telegram.wait_for_sent(1, chat_id=group, timeout=10)
        assert reply.plain_text == "Admin commands answer only in a private chat: ask me there."
        telegram.clear_records()
    assert "feed.xml" in await reply_to(telegram, "/feeds")


async def test_sources_show_everyone_names_sites_and_counts_but_no_admin_details(
    bot: BotApplication,
    telegram: FakeTelegram,
    web: FakeWeb,
    db: SessionFactory,
    ingest: Callable[..., Awaitable[IngestReport]],
) -> None:
    web.serve("/wire.xml", rss20([story(1), story(2)]))
    await say(telegram, f"/addfeed {web.url('/wire.xml?token=s3cret')} Metals <desk>", replies=2)
    web.fail("/broken.xml", 500)
    await add(db, web.url("/broken.xml?key=hidden"))
    await say(telegram, "/resumefeed 2")
    await ingest(ArticleIn(title="Copper output up", source="Andes Mining Wire"))

    shown = await reply_to(telegram, "/sources", STRANGER)
    assert shown.splitlines() == [
        "📡 Where the news comes from (articles in the last 7 days)",
        "Feeds",
        "• Metals <desk> — 127.0.0.1 · 2 articles",
        "• 127.0.0.1 · 0 articles",
        "Other sources",
        "• Andes Mining Wire · 1 article",
    ]
    assert "s3cret" not in shown and "hidden" not in shown and "500" not in shown


def test_sources_on_the_command_line(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources"]) == 0
    assert "No sources yet" in capsys.readouterr().out
    main(["feeds", "add", "https://user:pw@www.wire.example.com/rss?t=1", "--name", "Wire\x1b"])
    capsys.readouterr()
    assert main(["sources"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Feeds",
        "• Wire\\x1b — wire.example.com · 0 articles",
    ]
