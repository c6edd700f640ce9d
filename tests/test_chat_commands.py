"""Chat commands end to end: the project's Application polling a fake Bot API over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.lexicon import default_lexicon
from bot.topics import parse_watch_item
from storage import queries
from storage.db import SessionFactory
from storage.models import Subscription
from tests.fakes import FakeTelegram, SentMessage

CHAT = 501


async def say(telegram: FakeTelegram, text: str, chat_id: int = CHAT) -> SentMessage:
    """Send a message as the user and return the bot's (single) reply."""
    before = len(telegram.sent_to(chat_id))
    telegram.add_message(chat_id, text)
    replies = await telegram.wait_for_sent(before + 1, chat_id=chat_id)
    return replies[before]


async def store_topics(db: SessionFactory, typed: list[str], chat_id: int = CHAT) -> None:
    """Subscribe the chat to many topics at once, as /subscribe would store them (typed one
    after another, they would be a flood)."""
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=chat_id)
        for text in typed:
            topic = parse_watch_item(text, default_lexicon()).key
            await queries.add_subscription(session=session, chat_id=chat_id, topic=topic)
        await session.commit()


async def topics_of(db: SessionFactory, chat_id: int = CHAT) -> list[str]:
    async with db() as session:
        rows = await session.exec(select(Subscription).where(Subscription.chat_id == chat_id))
        return sorted(row.topic for row in rows.all())


async def test_help_explains_every_command_and_commands_are_registered(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    reply = await say(telegram, "/help")
    assert reply.parse_mode == "HTML"
    for command in ("/subscribe", "/unsubscribe", "/list", "/help"):
        assert command in (reply.plain_text or "")
    assert {c["command"] for c in telegram.commands} >= {"subscribe", "unsubscribe", "list"}


async def test_subscribe_list_and_unsubscribe(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    assert "Subscribed to copper" in (await say(telegram, "/subscribe copper")).plain_text
    assert "Subscribed to rare earths" in (await say(telegram, "/subscribe rare-earth")).plain_text
    assert "already subscribed" in (await say(telegram, "/subscribe Copper")).plain_text
    assert await topics_of(db) == ["copper", "rare earths"]

    listing = await say(telegram, "/list")
    assert "copper" in listing.plain_text and "rare earths" in listing.plain_text
    buttons = [row[0] for row in listing.reply_markup["inline_keyboard"]]
    assert [b["text"] for b in buttons] == ["✖ copper", "✖ rare earths"]

    telegram.add_callback(CHAT, buttons[0]["callback_data"], message_id=listing.message_id)
    edited = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert edited.method == "editMessageText"
    assert "copper" not in edited.plain_text and "rare earths" in edited.plain_text
    assert telegram.callback_answers[-1]["text"] == "Removed copper"

    assert (
        "Unsubscribed from rare earths"
        in (await say(telegram, "/unsubscribe rare earth")).plain_text
    )
    assert "not subscribed" in (await say(telegram, "/unsubscribe lithium")).plain_text
    assert await topics_of(db) == []
    assert "empty" in (await say(telegram, "/list")).plain_text


async def test_a_typo_gets_a_suggestion_and_a_click_subscribes(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    reply = await say(telegram, "/subscribe coper")
    assert "Did you mean copper?" in reply.plain_text
    data = [row[0]["callback_data"] for row in reply.reply_markup["inline_keyboard"]]
    assert data == ["sub:copper", "sub:coper"]
    assert await topics_of(db) == []

    telegram.add_callback(CHAT, "sub:copper", message_id=reply.message_id)
    edited = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "Subscribed to copper" in edited.plain_text
    assert await topics_of(db) == ["copper"]


async def test_an_unknown_word_without_a_close_match_is_accepted(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    assert "Subscribed to Zyxwvut" in (await say(telegram, "/subscribe Zyxwvut")).plain_text
    assert await topics_of(db) == ["Zyxwvut"]


async def test_bad_topics_get_short_answers_and_store_nothing(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    assert "Usage" in (await say(telegram, "/subscribe")).plain_text
    assert "Usage" in (await say(telegram, "/unsubscribe   ")).plain_text
    assert "at most 100" in (await say(telegram, "/subscribe " + "a" * 101)).plain_text
    assert "control characters" in (await say(telegram, "/subscribe cop\x07per")).plain_text
    assert "letter or digit" in (await say(telegram, "/subscribe ?!.,")).plain_text
    assert await topics_of(db) == []


async def test_user_text_is_escaped_and_sql_is_just_text(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    reply = await say(telegram, "/subscribe <b>Acme</b> & Sons")
    assert reply.plain_text.startswith("✅ Subscribed to <b>Acme</b> & Sons.")
    sql = "Robert'); DROP TABLE subscriptions;"
    assert sql in (await say(telegram, f"/subscribe {sql}")).plain_text
    assert sql in await topics_of(db)
    listing = await say(telegram, "/list")
    assert "<b>Acme</b>" in listing.plain_text


async def test_unknown_commands_and_stray_text_point_to_help(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    assert "/help" in (await say(telegram, "/weather")).plain_text
    assert "/help" in (await say(telegram, "hello there")).plain_text


async def test_a_failing_handler_apologises_and_the_bot_keeps_working(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    telegram.fail_next("sendMessage", status=500, chat_id=CHAT)
    apology = await say(telegram, "/help")
    assert "Sorry" in apology.plain_text
    assert "/subscribe" in (await say(telegram, "/help")).plain_text


async def test_a_long_watch_list_fits_one_message_with_a_button_each(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    await store_topics(db, [f"{chr(97 + n % 26)}{chr(97 + n // 26)}" + "x" * 97 for n in range(50)])
    assert "at most 50" in (await say(telegram, "/subscribe one-more")).plain_text
    listing = await say(telegram, "/list")
    assert len(listing.reply_markup["inline_keyboard"]) == 50
    assert all(
        len(row[0]["callback_data"].encode()) <= 64
        for row in listing.reply_markup["inline_keyboard"]
    )


async def test_a_chat_waiting_for_the_database_holds_up_no_other_chat_and_keeps_its_order(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    other = CHAT + 1
    await say(telegram, "/start")
    async with db() as blocker, blocker.begin():
        # another writer holds what /subscribe must write (on SQLite: the write lock)
        blocker.add(Subscription(chat_id=CHAT, topic="copper"))
        await blocker.flush()
        telegram.add_message(CHAT, "/subscribe copper")
        telegram.add_message(CHAT, "/list")
        assert "/subscribe" in (await say(telegram, "/help", chat_id=other)).plain_text
        assert len(telegram.sent_to(CHAT)) == 1  # only the /start reply: the chat waits
        await blocker.rollback()
    subscribed, listing = (await telegram.wait_for_sent(3, chat_id=CHAT, timeout=10))[1:]
    assert "Subscribed to copper" in subscribed.plain_text
    assert "copper" in listing.plain_text


async def test_a_long_list_of_emoji_topics_fits_what_telegram_counts(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    emoji = ["".join(chr(0x1F600 + (n + k) % 64) for k in range(90)) for n in range(50)]
    await store_topics(db, [f"{chr(97 + n % 26)}{chr(97 + n // 26)}{emoji[n]}" for n in range(50)])
    listing = await say(telegram, "/list")
    assert listing.method == "sendMessage"
    assert len(listing.reply_markup["inline_keyboard"]) == 50


async def test_editing_a_sent_command_does_not_run_it_again(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    update = telegram.add_message(CHAT, "/subscribe copper")
    await telegram.wait_for_sent(1, chat_id=CHAT)
    telegram.edit_user_message(CHAT, update["message"]["message_id"], "/subscribe zinc")
    await say(telegram, "/help")
    assert len(telegram.sent_to(CHAT)) == 2
    assert await topics_of(db) == ["copper"]


async def test_a_channel_post_gets_no_answer(bot: BotApplication, telegram: FakeTelegram) -> None:
    channel = -100_777
    telegram.add_message(channel, "/weather", chat_type="channel")
    telegram.add_message(channel, "/subscribe copper", chat_type="channel")
    await say(telegram, "/help")
    assert telegram.sent_to(channel) == []


@pytest.mark.parametrize(
    "data",
    [
        "unsub:" + "9" * 20,
        "unsub:-4",
        "unsub:١٢",
        "facts:-4",
        "facts:" + "9" * 30,
        "set:mode:loud",
        "ask:weather:copper",
        "ask:facts: ",
        "lvl:1:loud",
        "lvl:0:all",
        "why:1",
        "sub:",
        "subs:copper",
        "subs:copper||gold",
        "subs:" + "|".join("abcdef"),
        "ask:facts:",
        "nonsense",
    ],
)
async def test_a_forged_or_stale_button_is_answered_and_changes_nothing(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, data: str
) -> None:
    await say(telegram, "/subscribe copper")
    listing = await say(telegram, "/list")
    query_id = telegram.add_callback(CHAT, data, message_id=listing.message_id)
    await telegram.wait_for_call("answerCallbackQuery", 1, timeout=10)
    assert telegram.callback_answers == [
        {"callback_query_id": query_id, "text": "That button is no longer valid."}
    ]
    assert await topics_of(db) == ["copper"]
    assert "Subscribed to zinc" in (await say(telegram, "/subscribe zinc")).plain_text


async def test_topics_typed_as_one_get_a_question_whose_buttons_subscribe(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    question = await say(telegram, "/subscribe India Chile")
    assert "India-Chile" in question.plain_text and "either" in question.plain_text
    buttons = [row[0] for row in question.reply_markup["inline_keyboard"]]
    assert [b["callback_data"] for b in buttons] == ["sub:India-Chile", "subs:India|Chile"]
    assert await topics_of(db) == []
    telegram.add_callback(CHAT, "subs:India|Chile", message_id=question.message_id)
    edited = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "Subscribed to India" in edited.plain_text and "Subscribed to Chile" in edited.plain_text
    assert await topics_of(db) == ["Chile", "India"]

    question = await say(telegram, "/subscribe copper or gold -Copperfield")
    data = [row[0]["callback_data"] for row in question.reply_markup["inline_keyboard"]]
    assert data[:2] == [
        "sub:copper-gold -Copperfield",
        "subs:copper -Copperfield|gold -Copperfield",
    ]
    telegram.add_callback(CHAT, data[0], message_id=question.message_id)
    edited = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "Subscribed to copper-gold -Copperfield" in edited.plain_text

    question = await say(telegram, "/subscribe oil and gas")
    data = [row[0]["callback_data"] for row in question.reply_markup["inline_keyboard"]]
    assert data == ["sub:oil-gas", "subs:oil|gas", "sub:oil and gas"]
    assert await topics_of(db) == ["Chile", "India", "copper-gold -Copperfield"]


async def test_phrases_and_names_of_several_words_are_subscribed_without_a_question(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    for typed in ("rare earths", "palm oil", "free trade agreement", "Saudi Arabia"):
        assert f"Subscribed to {typed}" in (await say(telegram, f"/subscribe {typed}")).plain_text
    assert await topics_of(db) == [
        "Saudi Arabia",
        "free trade agreement",
        "palm oil",
        "rare earths",
    ]


async def test_topics_separated_by_commas_become_several_items(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    reply = await say(telegram, "/subscribe copper, gold,rare-earth, cop\x07per")
    assert reply.plain_text.splitlines() == [
        "• ✅ Subscribed to copper. You will get an alert when it is in the news.",
        "• ✅ Subscribed to gold. You will get an alert when it is in the news.",
        "• ✅ Subscribed to rare earths. You will get an alert when it is in the news.",
        "• ⚠️ cop\x07per: A topic can't contain control characters.",
    ]
    assert await topics_of(db) == ["copper", "gold", "rare earths"]
    reply = await say(telegram, "/subscribe " + ", ".join(f"topic{n}" for n in range(11)))
    assert "At most 10 topics at once" in reply.plain_text
    assert "Unsubscribed from gold" in (await say(telegram, "/unsubscribe gold, copper")).plain_text
    assert await topics_of(db) == ["rare earths"]


async def test_unsubscribe_takes_any_spelling_subscribe_reads_as_the_same_item(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    await store_topics(db, ["India-Chile", "Zyxwvut", 'copper -Copperfield -"copper wire"', "US"])
    for typed, stored in [
        ("india-chile", "India-Chile"),
        ("zyxwvut", "Zyxwvut"),
        ('copper -copperfield -"copper wire"', 'copper -"copper wire" -Copperfield'),
        ("U.S.", "US"),
    ]:
        reply = await say(telegram, f"/unsubscribe {typed}")
        assert f"Unsubscribed from {stored}" in reply.plain_text
    assert await topics_of(db) == []


async def test_of_two_items_alike_up_to_case_unsubscribe_removes_neither(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    await store_topics(db, ["Acme", "ACME"])
    reply = await say(telegram, "/unsubscribe acme")
    assert "Several topics read as acme: ACME, Acme" in reply.plain_text
    assert await topics_of(db) == ["ACME", "Acme"]
    assert "Unsubscribed from Acme" in (await say(telegram, "/unsubscribe Acme")).plain_text


async def test_plain_text_offers_subscribe_facts_and_latest(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await ingest(ArticleIn(title="Copper price hits a record", body="Copper rose 4% to $11,000."))
    offer = await say(telegram, "copper price?")
    assert "copper" in offer.plain_text
    data = [row[0]["callback_data"] for row in offer.reply_markup["inline_keyboard"]]
    assert data == ["sub:copper", "ask:facts:copper", "ask:latest:copper"]

    telegram.add_callback(CHAT, "ask:latest:copper", message_id=offer.message_id)
    latest = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "Copper price hits a record" in latest.plain_text
    telegram.add_callback(CHAT, "ask:facts:copper", message_id=offer.message_id)
    facts = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "$11,000" in facts.plain_text
    telegram.add_callback(CHAT, "sub:copper", message_id=offer.message_id)
    edited = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "Subscribed to copper" in edited.plain_text
    assert await topics_of(db) == ["copper"]

    unknown = await say(telegram, "hello there")
    assert "/help" in unknown.plain_text and unknown.reply_markup is None
