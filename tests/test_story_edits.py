"""A story is one message: a later source of a story a chat was alerted to edits the earlier
alert in place (same text and button, "Also reported by …"), end to end against the fake Bot
API; the digest lists the story once with its sources."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import inspect, update
from sqlmodel import col, select

from bot import callbacks, rendering
from bot.app import build_application, running
from bot.articles import ArticleIn
from bot.callbacks import UndoLess
from bot.context import BotApplication
from bot.delivery import SendBudget
from bot.digest_jobs import digest_text
from bot.settings import Settings
from bot.story_edits import EDIT_WINDOW
from bot.subscriptions import pause, resume
from storage import queries
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import (
    Alert,
    AlertSender,
    AlertStatus,
    Article,
    Chat,
    Preview,
    Subscription,
    utcnow,
)
from storage.schema import upgrade_schema
from tests.conftest import FAST_BUDGET
from tests.fakes import FakeTelegram
from tests.test_alerts import ANALYST, CODELCO_REWRITE, CODELCO_WIRE, TRADER, expand, subscribe
from tests.test_instances import make_dispatcher, subscribe_many
from tests.test_item_options import press
from tests.test_schema import migrate

WIRE = CODELCO_WIRE
WEEKLY = replace(CODELCO_REWRITE, source="Mining Weekly")
REUTERS = replace(
    CODELCO_REWRITE,
    title="Codelco raises its copper production forecast as mines recover",
    url="https://reuters.example/codelco",
    source="Reuters",
)
OTHER_STORY = ArticleIn(
    title="Zambia copper exports hit a record",
    body="Zambia's copper shipments climbed to 80,000 tonnes in May, the mines ministry said.",
    url="https://wire.example/zambia",
    source="Wire",
)
STRIKE = ArticleIn(
    title="Copper smelter strike ends in Peru",
    body="Workers at the Ilo copper smelter accepted a 6% wage increase and returned to work.",
    url="https://wire.example/ilo",
    source="Wire",
)


async def settle(seconds: float = 0.8) -> None:
    """Give the dispatcher time to do anything more it (wrongly) would."""
    await asyncio.sleep(seconds)


async def rows(db: SessionFactory) -> list[tuple[str, int, str, int | None]]:
    """(source, chat, status, message id) of every alert, in order."""
    async with db() as session:
        found = await session.exec(
            select(Article.source, Alert.chat_id, Alert.status, Alert.message_id)
            .join(Article, col(Article.id) == Alert.article_id)
            .order_by(col(Alert.id))
        )
        return [(source or "", chat, status, message) for source, chat, status, message in found]


def methods(telegram: FakeTelegram, chat_id: int) -> list[str]:
    return [message.method for message in telegram.sent_to(chat_id)]


async def test_a_second_and_third_source_edit_the_alert_in_place_without_a_new_message(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    await ingest(WEEKLY)
    _, edit = await telegram.wait_for_sent(2, chat_id=ANALYST)
    await ingest(REUTERS)
    *_, again = await telegram.wait_for_sent(3, chat_id=ANALYST)
    await settle()

    assert methods(telegram, ANALYST) == ["sendMessage", "editMessageText", "editMessageText"]
    assert edit.message_id == again.message_id == alert.message_id
    assert edit.plain_text == f"{alert.plain_text}\n📰 Also reported by Mining Weekly"
    assert again.plain_text == f"{alert.plain_text}\n📰 Also reported by Mining Weekly, Reuters"
    assert edit.reply_markup == again.reply_markup == alert.reply_markup  # "less like this" kept
    shown = telegram.message(ANALYST, alert.message_id)
    assert shown is not None and shown["reply_markup"] == alert.reply_markup
    assert shown["link_preview_options"] == {"is_disabled": True}  # as sent: no preview
    assert await rows(db) == [
        ("Wire", ANALYST, AlertStatus.SENT, alert.message_id),
        ("Mining Weekly", ANALYST, AlertStatus.EDITED, alert.message_id),
        ("Reuters", ANALYST, AlertStatus.EDITED, alert.message_id),
    ]


async def test_a_later_report_keeps_the_undo_a_choice_left_under_the_alert(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    choices = await press(telegram, alert, "👎 less like this", ANALYST)
    done = await press(telegram, choices, "Mute source Wire", ANALYST)
    assert [b["text"] for row in done.reply_markup["inline_keyboard"] for b in row] == ["↩ undo"]
    answered = len(telegram.sent_to(ANALYST))

    await ingest(WEEKLY)
    [edit] = (await telegram.wait_for_sent(answered + 1, chat_id=ANALYST))[answered:]
    assert edit.method == "editMessageText"
    assert edit.plain_text == f"{alert.plain_text}\n📰 Also reported by Mining Weekly"
    assert edit.reply_markup == done.reply_markup  # the undo, not "less like this" again
    shown = telegram.message(ANALYST, alert.message_id)
    assert shown is not None and shown["reply_markup"] == done.reply_markup

    restored = await press(telegram, edit, "↩ undo", ANALYST)
    assert telegram.callback_answers[-1]["text"] == "Wire is no longer muted here."
    assert restored.reply_markup == alert.reply_markup


async def test_a_later_report_shows_the_choices_again_while_they_are_open(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    choices = await press(telegram, alert, "👎 less like this", ANALYST)
    answered = len(telegram.sent_to(ANALYST))

    await ingest(WEEKLY)
    [edit] = (await telegram.wait_for_sent(answered + 1, chat_id=ANALYST))[answered:]
    assert edit.method == "editMessageText"
    assert edit.reply_markup == choices.reply_markup
    back = await press(telegram, edit, "« back", ANALYST)
    assert back.reply_markup == alert.reply_markup
    await ingest(REUTERS)  # the choices closed: the next edit shows "less like this"
    [again] = (await telegram.wait_for_sent(answered + 3, chat_id=ANALYST))[answered + 2 :]
    assert again.method == "editMessageText" and again.reply_markup == alert.reply_markup


async def test_the_digest_lists_the_story_once_with_all_its_sources(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    await telegram.wait_for_sent(chat_id=ANALYST)
    await ingest(WEEKLY, REUTERS)
    await telegram.wait_for_sent(3, chat_id=ANALYST)
    async with db() as session:
        chat = await session.get(Chat, ANALYST)
    assert chat is not None
    [text] = await digest_text(db, chat, since=None, until=utcnow())
    plain = rendering.plain_text(text)
    assert "— 1 article" in plain
    assert plain.count("Codelco") == 1
    assert "(also reported by Mining Weekly, Reuters)" in plain


async def test_a_channels_alert_is_edited_without_buttons_and_keeps_its_large_preview(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    channel = -1_001_777_000_001
    telegram.add_channel(channel, "metals_desk", title="Metals desk")
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=channel, kind="channel")
        await queries.add_subscription(session=session, chat_id=channel, topic="copper")
        await session.exec(update(Subscription).values(preview=Preview.LARGE))
        await session.commit()
    await ingest(WIRE)
    [alert] = await telegram.wait_for_sent(chat_id=channel)
    await ingest(WEEKLY)
    _, edit = await telegram.wait_for_sent(2, chat_id=channel)

    assert alert.reply_markup is None and edit.reply_markup is None
    assert alert.link_preview_options == edit.link_preview_options
    assert edit.link_preview_options is not None
    assert (edit.link_preview_options["url"], edit.link_preview_options["prefer_large_media"]) == (
        WIRE.url,
        True,
    )
    assert (edit.plain_text or "").endswith("📰 Also reported by Mining Weekly")


async def test_a_digest_after_the_first_report_names_it_beside_the_later_one(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    await telegram.wait_for_sent(chat_id=ANALYST)
    last_digest = utcnow()  # the first report went in the digest before this one
    await ingest(WEEKLY)
    await telegram.wait_for_sent(2, chat_id=ANALYST)
    async with db() as session:
        chat = await session.get(Chat, ANALYST)
    assert chat is not None
    [text] = await digest_text(db, chat, since=last_digest, until=utcnow())
    plain = rendering.plain_text(text)
    assert "— 1 article" in plain
    assert "Mining Weekly" in plain and "(also reported by Wire)" in plain


async def test_the_same_source_again_changes_nothing_and_is_done_quietly(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    await ingest(replace(WEEKLY, url="https://wire.example/codelco-update", source="Wire"))
    await telegram.wait_for_call("editMessageText")
    await settle()

    [call] = telegram.calls_of("editMessageText")
    assert call.status == 400 and "message is not modified" in (call.description or "")
    assert methods(telegram, ANALYST) == ["sendMessage"]
    [_, (source, _, status, message_id)] = await rows(db)
    assert (source, status, message_id) == ("Wire", AlertStatus.EDITED, alert.message_id)


async def test_an_alert_the_user_deleted_is_left_deleted_quietly(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    telegram.delete_in_chat(ANALYST, alert.message_id)
    await ingest(WEEKLY)
    await telegram.wait_for_call("editMessageText")
    await settle()

    [call] = telegram.calls_of("editMessageText")
    assert call.description == "Bad Request: message to edit not found"
    assert methods(telegram, ANALYST) == ["sendMessage"]  # no fresh alert either
    assert (await rows(db))[1][2] == AlertStatus.EDITED


async def test_a_429_on_an_edit_waits_and_edits_once(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(WIRE)
    await telegram.wait_for_sent(chat_id=ANALYST)
    telegram.fail_next("editMessageText", status=429, retry_after=1, chat_id=ANALYST)
    await ingest(WEEKLY)
    _, edit = await telegram.wait_for_sent(2, chat_id=ANALYST, timeout=5)
    await settle()

    [refused, accepted] = telegram.calls_of("editMessageText")
    assert refused.status == 429 and accepted.status == 200
    assert edit.at - refused.at >= 0.95
    assert methods(telegram, ANALYST) == ["sendMessage", "editMessageText"]


async def test_edits_keep_to_telegrams_limits_as_sends_do(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    group = -4242
    telegram.set_rate_limits(per_second=30, per_chat_per_second=1, group_per_minute=20)
    await subscribe(db, group, "copper")
    async with running(make_bot(budget=SendBudget()), poll_timeout=1):
        await ingest(WIRE, WEEKLY)  # one round: the alert, then its edit, in one group
        alert, edit = await telegram.wait_for_sent(2, chat_id=group, timeout=10)
    assert (alert.method, edit.method) == ("sendMessage", "editMessageText")
    assert edit.at - alert.at >= 3.0  # a group's pace: 20 a minute
    assert telegram.too_many_requests == 0


async def test_a_restart_makes_no_second_edit_even_after_dying_mid_edit(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await subscribe(db, ANALYST, "copper")
    async with running(make_bot(), poll_timeout=1):
        await ingest(WIRE)
        await telegram.wait_for_sent(chat_id=ANALYST)
    await ingest(WEEKLY)  # reported while the bot is down
    async with running(make_bot(), poll_timeout=1):
        await telegram.wait_for_sent(2, chat_id=ANALYST)
        await settle()
    # The sender died after Telegram took the edit and before it was recorded: its lease is
    # left on a row still waiting to edit.
    async with db() as session:
        [sender] = (await session.exec(select(AlertSender))).all()
        await session.exec(
            update(Alert)
            .where(col(Alert.status) == AlertStatus.EDITED)
            .values(
                status=AlertStatus.EDIT,
                claimed_by=sender.worker,
                claimed_until=utcnow() + timedelta(minutes=5),
            )
        )
        await session.commit()
    async with running(make_bot(), poll_timeout=1):
        await telegram.wait_for_call("editMessageText", 2)
        await settle()

    assert methods(telegram, ANALYST) == ["sendMessage", "editMessageText"]
    first, repeated = telegram.calls_of("editMessageText")
    assert (first.status, repeated.status) == (200, 400)  # "not modified": done, quietly
    assert [status for _, _, status, _ in await rows(db)] == [
        AlertStatus.SENT,
        AlertStatus.EDITED,
    ]


async def test_two_dispatchers_edit_each_chats_alert_once(
    postgres_url: str, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    chats = range(3000, 3060)
    await subscribe_many(db, chats, "copper")
    first, close_first = await make_dispatcher(telegram, postgres_url, lock_key=1)
    second, close_second = await make_dispatcher(telegram, postgres_url, lock_key=2)
    first.start()
    second.start()
    try:  # two senders (never in production): only the leases keep them apart
        async with asyncio.timeout(10):
            while not (first.is_sender and second.is_sender):
                await asyncio.sleep(0.05)
        await ingest(WIRE)
        await telegram.wait_for_sent(len(chats), timeout=30)
        await ingest(WEEKLY)
        await telegram.wait_for_sent(2 * len(chats), timeout=30)
        await settle()
    finally:
        await close_first()
        await close_second()
    edits = [m for m in telegram.sent if m.method == "editMessageText"]
    assert Counter(m.chat_id for m in edits) == Counter(chats)
    assert len(telegram.sent) == 2 * len(chats)
    statuses = Counter(status for _, _, status, _ in await rows(db))
    assert statuses == {AlertStatus.SENT: len(chats), AlertStatus.EDITED: len(chats)}


async def test_an_alert_older_than_48_hours_is_not_edited_and_the_report_waits_for_the_digest(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await subscribe(db, ANALYST, "copper")
    await subscribe(db, TRADER, "copper")
    async with running(make_bot(), poll_timeout=1):
        await ingest(WIRE)
        await telegram.wait_for_sent(chat_id=ANALYST)
        await telegram.wait_for_sent(chat_id=TRADER)
    now = utcnow()
    async with db() as session:
        for chat_id, age in ((ANALYST, EDIT_WINDOW - timedelta(minutes=2)), (TRADER, EDIT_WINDOW)):
            await session.exec(
                update(Alert).where(col(Alert.chat_id) == chat_id).values(sent_at=now - age)
            )
        await session.commit()
    await ingest(WEEKLY)
    async with running(make_bot(), poll_timeout=1):
        await telegram.wait_for_sent(2, chat_id=ANALYST)
        await settle()

    assert methods(telegram, ANALYST) == ["sendMessage", "editMessageText"]
    assert methods(telegram, TRADER) == ["sendMessage"]
    statuses = {(chat, source): status for source, chat, status, _ in await rows(db)}
    assert statuses[(ANALYST, "Mining Weekly")] == AlertStatus.EDITED
    assert statuses[(TRADER, "Mining Weekly")] == AlertStatus.HELD


async def test_unsubscribing_or_muting_the_source_before_the_edit_leaves_the_alert_alone(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await subscribe(db, ANALYST, "copper")
    await subscribe(db, TRADER, "copper")
    async with running(make_bot(), poll_timeout=1):
        await ingest(WIRE)
        await telegram.wait_for_sent(chat_id=ANALYST)
        await telegram.wait_for_sent(chat_id=TRADER)
    await ingest(WEEKLY)
    await expand(db)  # the later report is queued to edit both alerts ...
    assert [status for _, _, status, _ in await rows(db)][2:] == [AlertStatus.EDIT] * 2
    async with db() as session:  # ... when one chat unsubscribes and the other mutes it
        await queries.remove_subscription(session=session, chat_id=ANALYST, topic="copper")
        await queries.set_source_muted(
            session=session, chat_id=TRADER, source="Mining Weekly", muted=True
        )
        await session.commit()
    async with running(make_bot(), poll_timeout=1):
        await settle(1.5)

    assert methods(telegram, ANALYST) == ["sendMessage"]
    assert methods(telegram, TRADER) == ["sendMessage"]
    assert telegram.calls_of("editMessageText") == []
    assert [source for source, *_ in await rows(db)] == ["Wire", "Wire"]  # dropped


async def test_a_later_report_while_the_chat_is_paused_waits_for_the_digest(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await subscribe(db, ANALYST, "copper")
    async with running(make_bot(), poll_timeout=1):
        await ingest(WIRE)
        await telegram.wait_for_sent(chat_id=ANALYST)
    await ingest(WEEKLY)
    await pause(db, ANALYST)  # /stop, then /start, before the dispatcher ran again
    await resume(db, ANALYST)
    async with running(make_bot(), poll_timeout=1):
        await settle(1.5)

    assert methods(telegram, ANALYST) == ["sendMessage"]
    assert [status for _, _, status, _ in await rows(db)] == [AlertStatus.SENT, AlertStatus.HELD]


async def test_a_story_first_told_in_a_list_of_headlines_keeps_its_later_report_for_the_digest(
    settings: Settings,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await subscribe(db, ANALYST, "copper")
    bursting = settings.model_copy(update={"alert_burst_seconds": 0.5})
    async with running(
        build_application(bursting, budget=SendBudget(**FAST_BUDGET)), poll_timeout=1
    ):
        await ingest(OTHER_STORY)
        await telegram.wait_for_sent(chat_id=ANALYST)
        await ingest(WIRE, STRIKE)
        _, burst = await telegram.wait_for_sent(2, chat_id=ANALYST, timeout=5)
        assert "2 new articles" in (burst.plain_text or "")
        await ingest(WEEKLY)
        await expand(db)
        await settle(1.5)

    assert methods(telegram, ANALYST) == ["sendMessage", "sendMessage"]
    statuses = {source: status for source, _, status, _ in await rows(db)}
    assert statuses["Mining Weekly"] == AlertStatus.HELD


def test_the_also_line_names_each_source_once_in_order_escaped_and_counts_the_rest() -> None:
    assert rendering.also_reported_by(["Mining Weekly", "Reuters", "Mining Weekly"]) == (
        "📰 Also reported by Mining Weekly, Reuters"
    )
    assert rendering.also_reported_by(["<b>Wire</b> & Co"]) == (
        "📰 Also reported by &lt;b&gt;Wire&lt;/b&gt; &amp; Co"
    )
    many = [f"Source {n}" for n in range(1, 9)]
    assert rendering.also_reported_by(many) == (
        "📰 Also reported by Source 1, Source 2, Source 3, Source 4, Source 5 and 3 more"
    )
    long = rendering.plain_text(rendering.also_reported_by([f"{n}" + "x" * 99 for n in range(9)]))
    assert long.endswith(" and 4 more") and len(long) < 400


async def test_what_an_alert_shows_comes_and_goes_with_its_migration(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await upgrade_schema(engine)
        async with sessions() as session:
            await queries.ensure_chat(session=session, chat_id=ANALYST)
            article = Article(title="Copper", body="", content_hash="h1", url=None)
            session.add(article)
            await session.flush()
            assert article.id is not None
            shown = callbacks.encode(UndoLess(1, "source", 0, "0"))
            session.add(Alert(chat_id=ANALYST, article_id=article.id, topics="[]", buttons=shown))
            await session.commit()
        await migrate(engine, command.downgrade, "0019")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: [column["name"] for column in inspect(sync).get_columns("alerts")]
            )
        assert "buttons" not in columns and "message_id" in columns
        await migrate(engine, command.upgrade, "head")
        async with sessions() as session:
            [alert] = (await session.exec(select(Alert))).all()
            assert (alert.chat_id, alert.buttons) == (ANALYST, None)  # "less like this"
    finally:
        await engine.dispose()
