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
from bot.watchlist_csv import read_rows
from storage import queries
from storage.db import SessionFactory
from storage.models import Level
from storage.queries import SubscriptionRow
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
    assert (
        "imported: 4, moved to another topic: 0, already present: 0, rejected: 0"
        in capsys.readouterr().out
    )
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
        "imported: 4, moved to another topic: 0, already present: 0, rejected: 5",
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
    assert out[0] == "imported: 6, moved to another topic: 0, already present: 0, rejected: 1"
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
        "imported: 3, moved to another topic: 0, already present: 0, rejected: 6",
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


# ------------------------------------------------- importing items a chat has into other topics

FORUM = -1001234567890
EARLIER = "2026-03-04T08:00:00Z"


def csv_rows(text: str) -> list[SubscriptionRow]:
    read = read_rows(list(csv.reader(io.StringIO(text))), default_lexicon())
    assert read.rejected == []
    return read.accepted


async def import_text(db: SessionFactory, text: str) -> queries.Imported:
    async with db() as session:
        done = await queries.import_subscriptions(
            session=session, rows=csv_rows(text), timezone="UTC"
        )
        await session.commit()
    return done


async def places(db: SessionFactory) -> dict[tuple[int, str], tuple[int | None, str | None]]:
    async with db() as session:
        rows = await queries.all_subscriptions(session=session)
    return {(row.chat_id, row.topic): (row.thread_id, row.thread_name) for row in rows}


@pytest.fixture
async def desks(db: SessionFactory) -> None:
    """A forum with copper in topic 7, gold in topic 8 and zinc in General; a group with zinc."""
    done = await import_text(
        db,
        f"{FORUM},copper,main,{EARLIER},no,off,,7,Copper desk\n"
        f"{FORUM},gold,split,{EARLIER},no,off,,8,Gold desk\n"
        f"{FORUM},zinc,split,{EARLIER},no,off,,,\n"
        "-100777,zinc\n",
    )
    assert done == queries.Imported(added=4, moved=0)


def test_a_row_with_thread_columns_places_its_item_and_one_without_does_not() -> None:
    rows = csv_rows(
        f"{FORUM},copper,main,{EARLIER},no,off,,7,Copper desk\n"
        f"{FORUM},gold,split,{EARLIER},no,off,,,\n"
        f"{FORUM},zinc,split,{EARLIER},no,off,,9\n"
        f"{FORUM},tin,split,{EARLIER},no,off,\n"
        f"{FORUM},lead,split,{EARLIER}\n"
        f"{FORUM},nickel\n"
    )
    assert [(row.topic, row.thread_id, row.placed) for row in rows] == [
        ("copper", 7, True),
        ("gold", None, True),  # General, said so
        ("zinc", 9, True),
        ("tin", None, False),  # files of earlier versions say nothing of topics
        ("lead", None, False),
        ("nickel", None, False),
    ]


async def test_an_import_moves_an_item_to_the_other_topic_its_row_names(
    db: SessionFactory, desks: None
) -> None:
    done = await import_text(db, f"{FORUM},copper,main,{EARLIER},no,off,,8,Gold desk\n")
    assert done == queries.Imported(added=0, moved=1)
    assert (await places(db))[FORUM, "copper"] == (8, "Gold desk")


async def test_an_import_moves_an_item_from_general_into_a_topic(
    db: SessionFactory, desks: None
) -> None:
    done = await import_text(db, f"{FORUM},zinc,split,{EARLIER},no,off,,9,Zinc desk\n")
    assert done == queries.Imported(added=0, moved=1)
    assert (await places(db))[FORUM, "zinc"] == (9, "Zinc desk")


async def test_an_import_moves_an_item_from_a_topic_to_general(
    db: SessionFactory, desks: None
) -> None:
    done = await import_text(db, f"{FORUM},gold,split,{EARLIER},no,off,,,\n")
    assert done == queries.Imported(added=0, moved=1)
    assert (await places(db))[FORUM, "gold"] == (None, None)


async def test_rows_of_earlier_files_leave_the_items_a_chat_has_in_their_topics(
    db: SessionFactory, desks: None
) -> None:
    before = await places(db)
    done = await import_text(
        db, f"{FORUM},copper\n{FORUM},gold,all,{EARLIER}\n{FORUM},Copper,main,{EARLIER},yes,off,\n"
    )
    assert done == queries.Imported(added=0, moved=0)
    assert await places(db) == before


async def test_an_item_already_in_the_topic_its_row_names_is_left_as_it_is(
    db: SessionFactory, desks: None
) -> None:
    before = await places(db)
    done = await import_text(
        db,
        f"{FORUM},copper,all,{EARLIER},yes,large,,7,Copper desk\n"
        f"{FORUM},zinc,main,{EARLIER},no,off,,,\n",
    )
    assert done == queries.Imported(added=0, moved=0)
    assert await places(db) == before


async def test_an_import_adds_moves_and_keeps_apart_and_touches_only_the_rows_chats(
    db: SessionFactory, desks: None
) -> None:
    done = await import_text(
        db,
        f"{FORUM},zinc,split,{EARLIER},no,off,,7,Copper desk\n"
        f"{FORUM},zinc,split,{EARLIER},no,off,,8,Gold desk\n"  # a topic twice: the first row
        f"{FORUM},gold,split,{EARLIER},no,off,,8,Gold desk\n"
        f"{FORUM},tin,split,{EARLIER},no,off,,9,Tin desk\n",
    )
    assert done == queries.Imported(added=1, moved=1)
    assert await places(db) == {
        (FORUM, "copper"): (7, "Copper desk"),
        (FORUM, "gold"): (8, "Gold desk"),
        (FORUM, "tin"): (9, "Tin desk"),
        (FORUM, "zinc"): (7, "Copper desk"),
        (-100777, "zinc"): (None, None),  # another chat's item of the same topic stays
    }


def test_the_cli_import_says_which_rows_moved_an_item_apart_from_added_and_present(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(
        f"{FORUM},copper,main,{EARLIER},no,off,,7,Copper desk\n{FORUM},gold\n", encoding="utf-8"
    )
    second.write_text(
        f"{FORUM},copper,main,{EARLIER},no,off,,8,Metals\n"
        f"{FORUM},gold,split,{EARLIER},no,off,,8,Metals\n"
        f"{FORUM},zinc\n"
        f"{FORUM},tin,,,,,,x,\n",
        encoding="utf-8",
    )
    assert main(["subscriptions", "import", str(first)]) == 0
    capsys.readouterr()
    assert main(["subscriptions", "import", str(second)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imported: 1, moved to another topic: 2, already present: 0, rejected: 1",
        "  rejected line 4: thread_id 'x' is not a forum topic's id (a whole number)",
    ]
    assert main(["subscriptions", "import", str(second)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "imported: 0, moved to another topic: 0, already present: 3, rejected: 1"
    )
