"""Forum topics: an item subscribed inside a topic sends its alerts there; /topics auto gives
each new item a topic of its own; a deleted topic falls back to General once. Delivery knows
destinations (a chat, a topic of it, its webhook) and hands messages to a sender per channel."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, inspect, text, update
from sqlmodel import col, select
from telegram import Bot

from bot.app import build_application, running
from bot.articles import ArticleIn
from bot.cli import main
from bot.context import BotApplication
from bot.delivery import SendBudget
from bot.digest_jobs import slot_job_name
from bot.fanout import by_destination, levels_at
from bot.senders import Destination, SendStatus
from bot.senders.telegram import TelegramMessage, TelegramSender
from bot.settings import Settings
from bot.webhooks import WebhookArticle, alert_payload
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import NO_THREAD, Alert, AlertStatus, Chat, Subscription, utcnow
from storage.schema import upgrade_schema
from tests.conftest import FAST_BUDGET
from tests.fakes import FakeTelegram, SentMessage
from tests.test_export import export_in
from tests.test_schema import migrate

FORUM = -1_003_000_000_001
ADMIN, MEMBER = 501, 502
GENERAL = None  # `SentMessage.message_thread_id` of a message in a forum's General topic


@pytest.fixture
def forum(telegram: FakeTelegram) -> dict[str, int]:
    """A forum group with two topics; ADMIN is an administrator, MEMBER is not."""
    telegram.add_forum(FORUM, title="Procurement desk")
    telegram.set_member_status(FORUM, ADMIN, "administrator")
    telegram.set_member_status(FORUM, MEMBER, "member")
    return {
        "copper": telegram.add_forum_topic(FORUM, "Copper desk"),
        "gold": telegram.add_forum_topic(FORUM, "Gold desk"),
    }


async def say(
    telegram: FakeTelegram, text: str, thread: int | None = GENERAL, user: int = ADMIN
) -> SentMessage:
    """`user` writes in the forum (in a topic, or General); the bot's one reply."""
    before = len(telegram.sent_to(FORUM))
    telegram.add_message(FORUM, text, user_id=user, message_thread_id=thread)
    return (await telegram.wait_for_sent(before + 1, chat_id=FORUM))[before]


def both_metals(n: int = 1) -> ArticleIn:
    return ArticleIn(
        title=f"Copper and gold output rises at Chilean mine {n}",
        body="Codelco said copper output rose 5% and gold output rose 3% in March at its "
        "Chilean mine, as copper prices and gold prices climbed.",
        url=f"https://wire.example/both-{n}",
        source="Metals Wire",
    )


def both_metals_again() -> ArticleIn:
    """A later report of `both_metals()` by another source: the same story."""
    return replace(
        both_metals(),
        body=both_metals().body + " The mine expects more of both next year.",
        url="https://weekly.example/both",
        source="Mining Weekly",
    )


def copper(n: int) -> ArticleIn:
    return ArticleIn(
        title=f"Copper story number {n} lifts prices",
        body=f"Copper rose {n}% on the LME as Chilean mines cut output.",
        url=f"https://wire.example/copper-{n}",
        source="Metals Wire",
    )


def zinc(n: int = 1) -> ArticleIn:
    return ArticleIn(
        title=f"Zinc smelter {n} restarts in Peru",
        body="The zinc smelter in Peru restarted on Monday after a strike, and zinc shipments "
        "resume.",
        url=f"https://wire.example/zinc-{n}",
        source="Metals Wire",
    )


def alerts_in(telegram: FakeTelegram, thread: int | None, since: int = 0) -> list[SentMessage]:
    """The messages the bot sent to one topic of the forum (None: General)."""
    return [m for m in telegram.sent_to(FORUM)[since:] if m.message_thread_id == thread]


async def stored_alerts(db: SessionFactory) -> list[Alert]:
    async with db() as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())


async def routes(db: SessionFactory) -> dict[str, int | None]:
    async with db() as session:
        rows = (await session.exec(select(Subscription).where(Subscription.chat_id == FORUM))).all()
    return {row.topic: row.thread_id for row in rows}


async def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


# ---------------------------------------------------------------- 1: routing to topics


async def test_items_subscribed_in_topics_send_their_alerts_there_once_per_topic(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    reply = await say(telegram, "/subscribe copper", forum["copper"])
    assert reply.message_thread_id == forum["copper"]  # the reply is in the topic
    assert reply.plain_text == "✅ Subscribed to copper: its alerts come to this topic."
    await say(telegram, "/subscribe gold", forum["gold"])
    general = await say(telegram, "/subscribe zinc")
    assert general.message_thread_id is GENERAL
    assert await routes(db) == {"copper": forum["copper"], "gold": forum["gold"], "zinc": None}

    answered = len(telegram.sent_to(FORUM))
    await ingest(both_metals(), zinc())
    await telegram.wait_for_sent(answered + 3, chat_id=FORUM)
    await asyncio.sleep(0.5)  # nothing more comes
    [to_copper] = alerts_in(telegram, forum["copper"], answered)
    [to_gold] = alerts_in(telegram, forum["gold"], answered)
    [to_general] = alerts_in(telegram, GENERAL, answered)
    assert "Copper and gold output rises" in (to_copper.plain_text or "")
    assert "Copper and gold output rises" in (to_gold.plain_text or "")
    assert "Zinc smelter 1 restarts" in (to_general.plain_text or "")
    rows = await stored_alerts(db)
    assert sorted((a.thread_id, a.status) for a in rows) == sorted(
        [
            (forum["copper"], AlertStatus.SENT),
            (forum["gold"], AlertStatus.SENT),
            (NO_THREAD, AlertStatus.SENT),
        ]
    )
    told = {a.thread_id: a.topics for a in rows}
    assert told[forum["copper"]] == '["copper"]' and told[forum["gold"]] == '["gold"]'

    in_topic = (await say(telegram, "/list", forum["copper"])).plain_text or ""
    assert in_topic.startswith("This topic's items (1):") and "gold" not in in_topic
    everything = (await say(telegram, "/list")).plain_text or ""
    assert "copper → the topic Copper desk" in everything
    assert "gold → the topic Gold desk" in everything
    assert "zinc → General" in everything
    exported = await say(telegram, "/export", forum["gold"])  # a file, in the topic too
    assert (exported.method, exported.message_thread_id) == ("sendDocument", forum["gold"])


async def test_a_later_report_edits_the_alert_in_each_topic_it_went_to(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    await say(telegram, "/subscribe gold", forum["gold"])
    answered = len(telegram.sent_to(FORUM))
    await ingest(both_metals())
    await telegram.wait_for_sent(answered + 2, chat_id=FORUM)
    [to_copper] = alerts_in(telegram, forum["copper"], answered)
    [to_gold] = alerts_in(telegram, forum["gold"], answered)

    await ingest(both_metals_again())
    await telegram.wait_for_sent(answered + 4, chat_id=FORUM)
    await asyncio.sleep(0.5)  # nothing more comes
    edits = [m for m in telegram.sent_to(FORUM)[answered + 2 :] if m.method == "editMessageText"]
    assert sorted(m.message_id for m in edits) == sorted([to_copper.message_id, to_gold.message_id])
    for edit in edits:
        assert (edit.plain_text or "").endswith("📰 Also reported by Mining Weekly")


async def test_a_later_report_is_news_in_a_topic_that_was_not_told_of_the_story(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    answered = len(telegram.sent_to(FORUM))
    await ingest(both_metals())
    to_copper = (await telegram.wait_for_sent(answered + 1, chat_id=FORUM))[answered]
    await say(telegram, "/subscribe gold", forum["gold"])  # after the first report

    answered = len(telegram.sent_to(FORUM))
    await ingest(both_metals_again())
    await telegram.wait_for_sent(answered + 2, chat_id=FORUM)
    await asyncio.sleep(0.5)  # nothing more comes
    [edit] = [m for m in telegram.sent_to(FORUM)[answered:] if m.method == "editMessageText"]
    assert edit.message_id == to_copper.message_id
    [to_gold] = alerts_in(telegram, forum["gold"], answered)
    assert to_gold.method == "sendMessage"
    assert "Copper and gold output rises" in (to_gold.plain_text or "")


async def test_subscribing_again_from_another_topic_moves_the_item_and_says_so(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    moved = await say(telegram, "/subscribe copper", forum["gold"])
    assert moved.plain_text == (
        "↪️ copper moved: its alerts now come here instead of the topic Copper desk."
    )
    again = await say(telegram, "/subscribe copper", forum["gold"])
    assert again.plain_text == "copper is already on this group's watch-list."
    back = await say(telegram, "/subscribe copper")
    assert (
        back.plain_text
        == "↪️ copper moved: its alerts now come here instead of the topic Gold desk."
    )
    assert await routes(db) == {"copper": None}

    answered = len(telegram.sent_to(FORUM))
    await ingest(copper(1))
    [alert] = (await telegram.wait_for_sent(answered + 1, chat_id=FORUM))[answered:]
    assert alert.message_thread_id is GENERAL
    # a member who is not an administrator moves nothing
    refused = await say(telegram, "/subscribe copper", forum["copper"], user=MEMBER)
    assert "Only this group's administrators" in (refused.plain_text or "")
    assert await routes(db) == {"copper": None}


async def test_an_item_moved_while_its_alerts_wait_is_told_once_where_the_article_waits(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    await say(telegram, "/subscribe gold", forum["gold"])
    now = datetime.now(UTC)
    await say(
        telegram, f"/quiet {(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"
    )
    await ingest(both_metals(), copper(1))

    async def postponed() -> bool:
        rows = await stored_alerts(db)
        return len(rows) == 3 and all(a.next_attempt_at is not None for a in rows)

    await wait_for(postponed)
    await say(telegram, "/subscribe copper", forum["gold"])  # moved while its alerts wait
    answered = len(telegram.sent_to(FORUM))
    await say(telegram, "/quiet off")
    await telegram.wait_for_sent(answered + 3, chat_id=FORUM)
    await asyncio.sleep(0.8)  # nothing more comes
    [to_gold] = alerts_in(telegram, forum["gold"], answered)
    assert "Copper and gold output rises" in (to_gold.plain_text or "")
    assert "Matched: copper, gold" in (to_gold.plain_text or "")  # told once, here
    # the copper story had no alert waiting in its new place: it goes where it was queued
    [to_copper] = alerts_in(telegram, forum["copper"], answered)
    assert "Copper story number 1" in (to_copper.plain_text or "")
    rows = await stored_alerts(db)
    assert sorted(a.thread_id for a in rows) == [forum["copper"], forum["gold"]]
    assert {a.status for a in rows} == {AlertStatus.SENT}


async def test_the_digest_goes_to_the_topic_digesttime_was_typed_in_and_lists_an_article_once(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    await say(telegram, "/subscribe gold", forum["gold"])
    set_here = await say(telegram, "/digesttime 07:30", forum["gold"])
    assert (set_here.plain_text or "").endswith("It comes to this topic.")
    await ingest(both_metals())
    await wait_for(lambda: _all_sent(db, 2))

    answered = len(telegram.sent_to(FORUM))
    assert bot.job_queue is not None
    [job] = [j for j in bot.job_queue.jobs() if j.name == slot_job_name("UTC", "07:30")]
    await job.run(bot)
    [digest] = (await telegram.wait_for_sent(answered + 1, chat_id=FORUM))[answered:]
    assert digest.message_thread_id == forum["gold"]
    assert "— 1 article\n" in (digest.plain_text or "")  # listed under each of its items

    await say(telegram, "/digesttime 07:30")  # typed in General: the digest goes there
    async with db() as session:
        chat = await session.get(Chat, FORUM)
    assert chat is not None and chat.digest_thread_id is None


async def _all_sent(db: SessionFactory, count: int) -> bool:
    rows = await stored_alerts(db)
    return len(rows) == count and all(a.status == AlertStatus.SENT for a in rows)


async def test_alerts_to_two_topics_wait_through_quiet_hours_and_a_restart_and_go_once_each(
    settings: Settings,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    bursting = settings.model_copy(update={"alert_burst_seconds": 1.0})

    def make() -> BotApplication:
        return build_application(bursting, budget=SendBudget(**FAST_BUDGET))

    now = datetime.now(UTC)
    hours = f"{(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"
    async with running(make(), poll_timeout=1):
        await say(telegram, "/subscribe copper", forum["copper"])
        await say(telegram, "/subscribe gold", forum["gold"])
        await say(telegram, f"/quiet {hours}")
        answered = len(telegram.sent_to(FORUM))
        await ingest(both_metals(1), both_metals(2))

        async def postponed() -> bool:
            rows = await stored_alerts(db)
            return len(rows) == 4 and all(a.next_attempt_at is not None for a in rows)

        await wait_for(postponed)
    assert len(telegram.sent_to(FORUM)) == answered

    async with db() as session:  # the quiet hours end
        await session.exec(update(Alert).values(next_attempt_at=utcnow()))
        await session.exec(update(Chat).where(Chat.id == FORUM).values(quiet_hours=None))
        await session.commit()
    async with running(make(), poll_timeout=1):
        await telegram.wait_for_sent(answered + 2, chat_id=FORUM)
        await asyncio.sleep(1.5)
    [to_copper] = alerts_in(telegram, forum["copper"], answered)
    [to_gold] = alerts_in(telegram, forum["gold"], answered)
    for together in (to_copper, to_gold):  # one list of headlines per topic
        assert all(f"Chilean mine {n}" in (together.plain_text or "") for n in (1, 2))
    assert alerts_in(telegram, GENERAL, answered) == []
    assert {a.status for a in await stored_alerts(db)} == {AlertStatus.SENT}


# ---------------------------------------------------------------- 2: /topics auto


async def test_topics_auto_gives_each_new_item_a_topic_when_the_bot_may_manage_topics(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    usage = await say(telegram, "/topics")
    assert "Now: off" in (usage.plain_text or "")
    refused = await say(telegram, "/topics auto", user=MEMBER)
    assert "Only this group's administrators" in (refused.plain_text or "")
    missing = await say(telegram, "/topics auto")
    assert missing.plain_text == (
        "I can't create forum topics here: an administrator must give me the right to manage "
        "topics."
    )
    bot_id = telegram.bot_user["id"]
    telegram.set_member_status(FORUM, bot_id, "administrator", can_manage_topics=True)
    on = await say(telegram, "/topics auto")
    assert (on.plain_text or "").startswith("✅ Each new item subscribed in General now gets")

    made = await say(telegram, "/subscribe zinc")
    assert made.plain_text == "✅ Subscribed to zinc: its alerts go to its new topic zinc."
    [(thread, name)] = [
        (t, n) for t, n in telegram.forum_topics(FORUM).items() if t not in forum.values()
    ]
    assert name == "zinc" and (await routes(db))["zinc"] == thread
    in_topic = await say(telegram, "/subscribe copper", forum["copper"])
    assert in_topic.plain_text == "✅ Subscribed to copper: its alerts come to this topic."
    assert len(telegram.forum_topics(FORUM)) == 3  # no topic for an item subscribed in one

    answered = len(telegram.sent_to(FORUM))
    await ingest(zinc())
    [alert] = (await telegram.wait_for_sent(answered + 1, chat_id=FORUM))[answered:]
    assert alert.message_thread_id == thread

    telegram.set_member_status(FORUM, bot_id, "member")  # the right is taken away
    without = await say(telegram, "/subscribe gold")
    assert without.plain_text == (
        "✅ Subscribed to gold: it is on this group's watch-list, and alerts come here.\n"
        "I can't create forum topics here: an administrator must give me the right to manage "
        "topics."
    )
    assert (await routes(db))["gold"] is None
    off = await say(telegram, "/topics off")
    assert off.plain_text == "New items subscribed in General now stay in General."


async def test_topics_is_for_forum_groups_only(bot: BotApplication, telegram: FakeTelegram) -> None:
    telegram.add_message(77, "/topics auto")
    [reply] = await telegram.wait_for_sent(chat_id=77)
    assert reply.plain_text == "/topics works in groups with topics (forums) only."


# ---------------------------------------------------------------- 3: a deleted topic


async def test_a_deleted_topic_falls_back_to_general_once_and_tells_the_group_once(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    forum: dict[str, int],
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    await say(telegram, "/digesttime 07:30", forum["copper"])
    telegram.delete_forum_topic(FORUM, forum["copper"])
    answered = len(telegram.sent_to(FORUM))

    await ingest(copper(1), copper(2))
    await telegram.wait_for_sent(answered + 3, chat_id=FORUM)
    await asyncio.sleep(0.8)  # nothing more comes
    sent = alerts_in(telegram, GENERAL, answered)
    texts = [m.plain_text or "" for m in sent]
    assert len(sent) == 3
    assert sum("Copper story number 1" in t for t in texts) == 1
    assert sum("Copper story number 2" in t for t in texts) == 1
    assert (
        texts.count(
            "The topic for copper was deleted; its alerts now go to General.\n"
            "The topic of the digest was deleted; digests now go to General."
        )
        == 1
    )
    assert await routes(db) == {"copper": None}
    async with db() as session:
        chat = await session.get(Chat, FORUM)
    assert chat is not None and chat.digest_thread_id is None
    rows = await stored_alerts(db)
    assert [a.status for a in rows] == [AlertStatus.SENT, AlertStatus.SENT]
    assert {a.message_id for a in rows} <= {m.message_id for m in sent}

    await ingest(copper(3))
    [later] = (await telegram.wait_for_sent(answered + 4, chat_id=FORUM))[answered + 3 :]
    assert later.message_thread_id is GENERAL and "Copper story number 3" in (
        later.plain_text or ""
    )


# ---------------------------------------------------------------- 4: the watch-list as CSV


async def test_a_forums_exported_watch_list_imports_back_into_its_topics(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    database_url: str,
    forum: dict[str, int],
    ingest: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    await say(telegram, "/subscribe gold", forum["gold"])
    await say(telegram, "/subscribe zinc")
    before = await routes(db)
    _, rows = await export_in(telegram, FORUM, chat_type="supergroup", user_id=MEMBER)
    assert [(row[1], row[7], row[8]) for row in rows[1:]] == [
        ("copper", str(forum["copper"]), "Copper desk"),
        ("gold", str(forum["gold"]), "Gold desk"),
        ("zinc", "", ""),
    ]
    exported = tmp_path / "forum.csv"
    with exported.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    async with db() as session:  # the list is lost, then imported back
        await session.exec(delete(Subscription).where(col(Subscription.chat_id) == FORUM))
        await session.commit()

    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(main, ["subscriptions", "import", str(exported)]) == 0
    assert (
        "imported: 3, moved to another topic: 0, already present: 0, rejected: 0"
        in capsys.readouterr().out
    )
    assert await routes(db) == before
    assert await asyncio.to_thread(main, ["subscriptions", "export"]) == 0
    assert capsys.readouterr().out == exported.read_text(encoding="utf-8")

    answered = len(telegram.sent_to(FORUM))
    await ingest(both_metals())
    await telegram.wait_for_sent(answered + 2, chat_id=FORUM)
    assert len(alerts_in(telegram, forum["copper"], answered)) == 1
    assert len(alerts_in(telegram, forum["gold"], answered)) == 1


async def test_a_forum_moves_its_items_to_other_topics_by_editing_and_importing_its_export(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    database_url: str,
    forum: dict[str, int],
    ingest: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await say(telegram, "/subscribe copper", forum["copper"])
    await say(telegram, "/subscribe zinc")  # in General
    _, rows = await export_in(telegram, FORUM, chat_type="supergroup", user_id=MEMBER)
    assert [row[1] for row in rows[1:]] == ["copper", "zinc"]
    # the team reorganises its topics: copper goes to the gold desk, zinc to the copper desk
    rows[1][7:9] = [str(forum["gold"]), "Gold desk"]
    rows[2][7:9] = [str(forum["copper"]), "Copper desk"]
    edited = tmp_path / "forum.csv"
    with edited.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)

    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(main, ["subscriptions", "import", str(edited)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imported: 0, moved to another topic: 2, already present: 0, rejected: 0"
    ]
    assert await routes(db) == {"copper": forum["gold"], "zinc": forum["copper"]}

    answered = len(telegram.sent_to(FORUM))
    await ingest(copper(1), zinc())
    await telegram.wait_for_sent(answered + 2, chat_id=FORUM)
    [copper_alert] = alerts_in(telegram, forum["gold"], answered)
    [zinc_alert] = alerts_in(telegram, forum["copper"], answered)
    assert "Copper story number 1" in (copper_alert.plain_text or "")
    assert "Zinc smelter 1" in (zinc_alert.plain_text or "")
    assert alerts_in(telegram, GENERAL, answered) == []


# ---------------------------------------------------------------- 8: destinations and senders


async def test_the_telegram_sender_sends_to_a_topic_and_reports_a_deleted_one(
    telegram: FakeTelegram, forum: dict[str, int]
) -> None:
    unreachable: list[int] = []

    async def on_unreachable(chat_id: int, _reason: str) -> None:
        unreachable.append(chat_id)

    async with Bot(telegram.token, base_url=telegram.base_url) as bot:
        sender = TelegramSender(
            bot, SendBudget(**FAST_BUDGET), stop=asyncio.Event(), on_unreachable=on_unreachable
        )
        topic = Destination(FORUM, forum["gold"])
        sent = await sender.send(topic, TelegramMessage("<b>gold</b> news", silent=True))
        assert sent.status is SendStatus.SENT
        [message] = telegram.sent_to(FORUM)
        assert message.message_thread_id == forum["gold"]
        assert message.params["disable_notification"] == "true"
        telegram.delete_forum_topic(FORUM, forum["gold"])
        gone = await sender.send(topic, TelegramMessage("more gold news"))
        assert (gone.status, gone.error) == (SendStatus.THREAD_GONE, "Message thread not found")
        general = await sender.send(topic.general(), TelegramMessage("in General"))
        assert general.status is SendStatus.SENT
    assert unreachable == []


def test_a_chats_items_are_split_by_the_topic_each_is_routed_to() -> None:
    levels = {"copper": "split", "gold": "all", "zinc": "main"}
    threads = {"copper": 11, "gold": 12, "zinc": NO_THREAD}
    assert by_destination(levels, threads) == {
        11: {"copper": "split"},
        12: {"gold": "all"},
        NO_THREAD: {"zinc": "main"},
    }


def test_an_alert_keeps_an_item_moved_since_unless_its_new_place_has_the_article_waiting() -> None:
    levels = {"copper": "split", "gold": "split"}
    # copper moved from topic 11 to topic 12 after the alert to 11 was written
    moved = {"copper": 12, "gold": 12}
    assert levels_at(11, ["copper"], levels, moved, waiting_at=set()) == {"copper": "split"}
    assert levels_at(11, ["copper"], levels, moved, waiting_at={12}) == {}
    # the alert to 12 tells of what is routed there now
    assert levels_at(12, ["gold"], levels, moved, waiting_at={11}) == levels


def test_an_article_alerted_to_two_topics_posts_to_the_webhook_under_a_key_per_topic() -> None:
    article = WebhookArticle(7, "Copper and gold", None, "Wire", None)

    def key(thread_id: int) -> str:
        return alert_payload(
            FORUM, article, (), relevance=0.9, evidence="", sources=(), thread_id=thread_id
        ).idempotency_key

    assert key(NO_THREAD) == f"tradebot:{FORUM}:7"  # as before topics
    assert len({key(NO_THREAD), key(11), key(12)}) == 3


# ---------------------------------------------------------------- the migration


async def test_destinations_come_and_go_with_their_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await upgrade_schema(engine)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO chats (id, kind, active, paused, timezone, digest_time, mode, "
                    "empty_digest_line, topics_auto, digest_thread_id, created_at) VALUES "
                    "(:id, 'supergroup', true, false, 'UTC', '08:00', 'both', false, true, 12, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"id": FORUM},
            )
            await connection.execute(
                text(
                    "INSERT INTO subscriptions (chat_id, topic, level, silent, preview, "
                    "thread_id, thread_name, created_at) VALUES (:chat, 'copper', 'split', "
                    "false, 'off', 11, 'Copper desk', CURRENT_TIMESTAMP)"
                ),
                {"chat": FORUM},
            )
            await connection.execute(
                text(
                    "INSERT INTO articles (title, body, content_hash, ingested_at, search_text, "
                    "story_signature) VALUES ('Copper', '', 'h1', CURRENT_TIMESTAMP, '', '')"
                )
            )
            article_id = (await connection.execute(text("SELECT id FROM articles"))).scalar()
            for thread_id, status in ((11, "pending"), (12, "sent"), (NO_THREAD, "held")):
                await connection.execute(
                    text(
                        "INSERT INTO alerts (chat_id, thread_id, article_id, topics, evidence_at, "
                        "mentions, relevance, position, status, attempts, created_at) VALUES "
                        "(:chat, :thread, :article, '[]', 0, '[]', 0, 0, :status, 0, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"chat": FORUM, "thread": thread_id, "article": article_id, "status": status},
                )
        await migrate(engine, command.downgrade, "0016")
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT status FROM alerts"))).all()
            assert [row[0] for row in kept] == ["sent"]  # one per chat and article: the sent one
            columns = await connection.run_sync(
                lambda sync: {
                    table: [column["name"] for column in inspect(sync).get_columns(table)]
                    for table in ("chats", "subscriptions", "alerts")
                }
            )
        assert "topics_auto" not in columns["chats"] and "thread_id" not in columns["alerts"]
        assert "thread_id" not in columns["subscriptions"]
        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            [alert] = (await session.exec(select(Alert))).all()
            assert (alert.thread_id, alert.status) == (NO_THREAD, AlertStatus.SENT)
            [subscription] = (await session.exec(select(Subscription))).all()
            assert (subscription.topic, subscription.thread_id) == ("copper", None)
            chat = await session.get(Chat, FORUM)
            assert chat is not None and (chat.topics_auto, chat.digest_thread_id) == (False, None)
    finally:
        await engine.dispose()
