"""CSV export of a chat's watch-list: /export in a chat sends a CSV document of that chat's
list only (through the fake Bot API), and `tradebot subscriptions export --chat ID` prints
the same format `tradebot subscriptions import` reads, so export → import round-trips."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.context import BotApplication
from bot.lexicon import default_lexicon
from bot.topics import parse_watch_item
from storage import queries
from storage.db import SessionFactory
from storage.models import Level
from tests.fakes import FakeTelegram, SentMessage

ANALYST, OTHER, GROUP, MEMBER = 11, 12, -100500, 77
HOSTILE = 'copper <b>&amp; -"copper, wire"'  # commas, quotes and markup in one topic
FORMULA = '=HYPERLINK("https://evil.example","copper")'  # a spreadsheet would run it


async def watch(db: SessionFactory, chat_id: int, *topics: str, main_only: str = "") -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=chat_id)
        for topic in topics:  # stored as /subscribe stores it
            key = parse_watch_item(topic, default_lexicon()).key
            await queries.add_subscription(session=session, chat_id=chat_id, topic=key)
        for row in await queries.list_subscriptions(session=session, chat_id=chat_id):
            if row.topic == main_only and row.id is not None:
                await queries.set_level(
                    session=session, chat_id=chat_id, subscription_id=row.id, level=Level.MAIN
                )
        await session.commit()


async def export_in(
    telegram: FakeTelegram, chat_id: int, **options: object
) -> tuple[SentMessage, list[list[str]]]:
    before = len(telegram.sent_to(chat_id))
    telegram.add_message(chat_id, "/export", **options)  # type: ignore[arg-type]
    [sent] = (await telegram.wait_for_sent(before + 1, chat_id=chat_id))[before:]
    if sent.method != "sendDocument":
        return sent, []
    stored = telegram.message(chat_id, sent.message_id)
    assert stored is not None
    content = telegram.file_content(stored["document"]["file_id"]).decode("utf-8")
    return sent, list(csv.reader(io.StringIO(content)))


async def test_export_sends_this_chats_watch_list_as_a_csv_file(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    await watch(db, ANALYST, "copper", "rare earths", main_only="copper")
    await watch(db, OTHER, "lithium")

    sent, rows = await export_in(telegram, ANALYST)
    assert sent.file_name == "watch-list-11.csv"
    assert sent.plain_text == (
        "Your watch-list: 2 topics with level and date added. The same columns as "
        "tradebot subscriptions import reads."
    )
    assert rows[0] == [
        "chat_id",
        "topic",
        "level",
        "created",
        "silent",
        "preview",
        "muted_until",
        "thread_id",
        "thread_name",
    ]
    assert [row[:3] for row in rows[1:]] == [
        ["11", "copper", "main"],
        ["11", "rare earths", "split"],
    ]
    assert all(row[3].endswith("Z") and len(row[3]) == 20 for row in rows[1:])


async def test_in_a_group_anyone_gets_the_groups_list_and_nothing_else(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    await watch(db, GROUP, "nickel")
    await watch(db, MEMBER, "gold")  # the member's own private list is not the group's

    sent, rows = await export_in(telegram, GROUP, chat_type="supergroup", user_id=MEMBER)
    assert (sent.plain_text or "").startswith("This group's watch-list: 1 topic")
    assert rows[1:] and [row[:3] for row in rows[1:]] == [[str(GROUP), "nickel", "split"]]


async def test_an_empty_watch_list_is_said_not_sent(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    sent, rows = await export_in(telegram, ANALYST)
    assert (sent.method, rows) == ("sendMessage", [])
    assert sent.plain_text == (
        "Your watch-list is empty: nothing to export. Add a topic with /subscribe TOPIC."
    )


async def test_the_bots_export_imports_into_a_fresh_database_and_exports_the_same(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await watch(db, ANALYST, "copper", HOSTILE, FORMULA, "India-Chile", main_only="India-Chile")
    _, rows = await export_in(telegram, ANALYST)
    assert [row[1] for row in rows if "HYPERLINK" in row[1]] == ["'" + FORMULA]  # shown as text
    exported = tmp_path / "watch-list.csv"
    with exported.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    assert await asyncio.to_thread(main, ["subscriptions", "import", str(exported)]) == 0
    assert "imported: 4, already present: 0, rejected: 0" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["subscriptions", "export", "--chat", "11"]) == 0
    assert capsys.readouterr().out == exported.read_text(encoding="utf-8")


def test_subscriptions_export_for_one_chat_and_import_rejects_bad_options(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    rows = tmp_path / "subs.csv"
    rows.write_text(
        "chat_id,topic,level,created\n"
        "11,copper,main,2026-03-04T08:00:00Z\n"
        "11,zinc\n"
        "12,gold,all,2026-03-04T10:30:00+02:00\n"
        "12,tin,loud,\n"
        "12,lead,split,yesterday\n"
        "12,silver,split,2026-01-01T00:00:00Z,maybe\n"
        "12,nickel,split,2026-03-04T08:00:00Z,yes,large,forever\n"
        "12,platinum,,,no,huge,\n"
        "12,silver,main,2026-01-01T00:00:00Z,no,off,2026-01-01T00:00:00Z,,,extra\n",
        encoding="utf-8",
    )
    assert main(["subscriptions", "import", str(rows)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imported: 4, already present: 0, rejected: 5",
        "  rejected line 5: level 'loud' is not one of all, main, split",
        "  rejected line 6: created 'yesterday' is not an ISO 8601 time",
        "  rejected line 7: silent 'maybe' is not yes or no",
        "  rejected line 9: preview 'huge' is not one of large, off, small",
        "  rejected line 10: expected chat_id,topic[,level[,created[,silent,preview,muted_until"
        "[,thread_id,thread_name]]]]",
    ]
    assert main(["subscriptions", "export", "--chat", "12"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "chat_id,topic,level,created,silent,preview,muted_until,thread_id,thread_name",
        "12,gold,all,2026-03-04T08:30:00Z,no,off,,,",
        "12,nickel,split,2026-03-04T08:00:00Z,yes,large,forever,,",
    ]
    assert main(["subscriptions", "export"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "11,copper,main,2026-03-04T08:00:00Z,no,off,,,"
    assert lines[2].startswith("11,zinc,split,20") and lines[3].startswith("12,gold")


def test_import_keeps_each_chat_within_its_regular_expression_limits(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    rows = tmp_path / "subs.csv"
    patterns = ["/cop+er/", "/nick+el/", "/zin+c/", "/goo+ld/", "/lit+hium/", "/sil+ver/"]
    rows.write_text(
        "".join(f"21,{pattern}\n" for pattern in patterns) + "22,/cop+er/\n", encoding="utf-8"
    )
    assert main(["subscriptions", "import", str(rows)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "imported: 6, already present: 0, rejected: 1"
    assert out[1].startswith("  rejected line 6: A watch-list can hold at most 5 topics with")


def test_import_keeps_forum_topics_and_rejects_a_bad_thread_id_alone(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    forum = "-1001234567890"
    rows = tmp_path / "subs.csv"
    rows.write_text(
        f"{forum},copper,main,2026-03-04T08:00:00Z,no,off,,7,Copper desk\n"
        f"{forum},zinc,,,,,,abc,\n"
        f"{forum},nickel,,,,,,0,\n"
        f"{forum},lead,,,,,,2147483648,\n"
        "11,gold,,,,,,5,Gold desk\n"
        f"{forum},tin,,,,,,,Tin desk\n"
        f"{forum},silver,,,,,,9,{'x' * 129}\n"
        f"{forum},lithium,split,2026-03-04T08:00:00Z,no,off,,8,'=Lithium desk\n"
        f"{forum},gold,split,2026-03-04T08:00:00Z\n",  # a row of an earlier version
        encoding="utf-8",
    )
    assert main(["subscriptions", "import", str(rows)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imported: 3, already present: 0, rejected: 6",
        "  rejected line 2: thread_id 'abc' is not a forum topic's id (a whole number)",
        "  rejected line 3: thread_id 0 is out of range (1 to 2147483647)",
        "  rejected line 4: thread_id 2147483648 is out of range (1 to 2147483647)",
        "  rejected line 5: chat 11 has no forum topics (only a supergroup, -100…, has): "
        "leave thread_id empty",
        "  rejected line 6: thread_name without a thread_id",
        "  rejected line 7: thread_name is longer than 128 characters",
    ]
    assert main(["subscriptions", "export"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"{forum},copper,main,2026-03-04T08:00:00Z,no,off,,7,Copper desk",
        f"{forum},gold,split,2026-03-04T08:00:00Z,no,off,,,",
        f"{forum},lithium,split,2026-03-04T08:00:00Z,no,off,,8,'=Lithium desk",
    ]
