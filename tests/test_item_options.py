"""Per-item delivery options (silent, link preview, mute, from a /list row), "less like this"
under each alert (with its undo), and each sent alert posted to the chat's webhook, end to end
against the fake Bot API and a local webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlmodel import select

from bot import callbacks, rendering
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.fanout import alert_style
from bot.senders.telegram import link_preview
from bot.settings import Settings
from storage import queries
from storage import webhooks as webhook_store
from storage.db import SessionFactory, create_engine
from storage.models import MUTED_FOREVER, MutedSource, Subscription
from storage.schema import upgrade_schema
from tests.fakes import FakeTelegram, SentMessage
from tests.fakes.receiver import WebhookReceiver
from tests.test_alerts import settle
from tests.test_chat_commands import say
from tests.test_schema import migrate

CHAT = 1501
GROUP = -100_1502
MEMBER, ADMIN = 1001, 1002

COPPER = ArticleIn(
    title="Zambia copper exports hit a record",
    body="Zambia shipped 80,000 tonnes of copper in May, the most in a decade.",
    url="https://wire.example/zambia-copper",
    source="Metals Wire",
)
COPPER_AND_ZINC = ArticleIn(
    title="Copper and zinc prices climb on the LME",
    body="Copper rose 2% and zinc rose 3% on the London Metal Exchange as stocks fell.",
    url="https://wire.example/copper-zinc",
    source="Metals Wire",
)
COPPER_ELSEWHERE = ArticleIn(
    title="Copper smelter strike ends in Peru",
    body="Workers at Peru's largest copper smelter accepted a 6% wage increase.",
    url="https://desk.example/peru-smelter",
    source="Andes Desk",
)
MORE_COPPER = ArticleIn(
    title="Chile's copper output rises at Escondida",
    body="Copper production rose 3% in October at the Escondida mine, Chile's largest.",
    url="https://wire.example/escondida",
    source="Metals Wire",
)


def alerts_in(telegram: FakeTelegram, chat_id: int = CHAT) -> list[SentMessage]:
    return [
        m
        for m in telegram.sent_to(chat_id)
        if m.method == "sendMessage" and (m.plain_text or "").startswith("🔔")
    ]


async def wait_for_alerts(telegram: FakeTelegram, count: int, chat_id: int = CHAT) -> None:
    for _ in range(100):
        if len(alerts_in(telegram, chat_id)) >= count:
            return
        await telegram.wait_for_sent(len(telegram.sent_to(chat_id)) + 1, chat_id=chat_id)
    raise AssertionError(f"expected {count} alerts")


def button_of(message: SentMessage, text: str) -> dict[str, Any]:
    """The button under a message whose label starts with `text`."""
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"].startswith(text):
                return dict(button)
    raise AssertionError(f"no button {text!r} under the message")


async def press(
    telegram: FakeTelegram, message: SentMessage, text: str, chat_id: int = CHAT
) -> SentMessage:
    """Press a button under a message; the message as the bot edited it."""
    before = len(telegram.sent_to(chat_id))
    data = button_of(message, text)["callback_data"]
    telegram.add_callback(chat_id, data, message_id=message.message_id)
    return (await telegram.wait_for_sent(before + 1, chat_id=chat_id))[-1]


async def press_in_group(telegram: FakeTelegram, data: str, message_id: int, user_id: int) -> str:
    """Press a button in the group as `user_id`; the notice the bot answers with."""
    before = len(telegram.callback_answers)
    telegram.add_callback(GROUP, data, message_id=message_id, user_id=user_id)
    await telegram.wait_for_call("answerCallbackQuery", before + 1, timeout=10)
    return telegram.callback_answers[before].get("text", "")


async def subscription(db: SessionFactory, topic: str, chat_id: int = CHAT) -> Subscription:
    async with db() as session:
        found = await queries.find_subscription(session=session, chat_id=chat_id, topic=topic)
    assert found is not None
    return found


async def test_silent_and_link_preview_options_follow_the_items_an_alert_names(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await say(telegram, "/subscribe copper, zinc", CHAT)
    listing = await say(telegram, "/list", CHAT)
    options = await press(telegram, listing, "⚙")  # the first row: copper
    assert options.method == "editMessageText"
    assert (options.plain_text or "").startswith("⚙ copper")
    assert "Notification: with sound" in (options.plain_text or "")
    options = await press(telegram, options, "🔕 silent")
    assert telegram.callback_answers[-1]["text"] == "copper: silent"
    options = await press(telegram, options, "large")
    assert button_of(options, "✓ large") and button_of(options, "✓ 🔕 silent")
    # The current choice pressed again: the same options, no edit Telegram would refuse.
    answered = len(telegram.callback_answers)
    telegram.add_callback(
        CHAT, button_of(options, "✓ large")["callback_data"], message_id=options.message_id
    )
    await telegram.wait_for_call("answerCallbackQuery", answered + 1)
    await settle(0.3)
    assert not any("Sorry" in (m.plain_text or "") for m in telegram.sent_to(CHAT))
    stored = await subscription(db, "copper")
    assert (stored.silent, stored.preview) == (True, "large")
    back = await press(telegram, options, "« back")
    assert "copper — 🔕 silent, large preview" in (back.plain_text or "")

    await ingest(COPPER)
    await wait_for_alerts(telegram, 1)
    [alert] = alerts_in(telegram)
    assert alert.disable_notification
    assert alert.link_preview_options == {
        "url": COPPER.url,
        "prefer_small_media": False,
        "prefer_large_media": True,
    }
    await ingest(COPPER_AND_ZINC)  # zinc is not silent: the alert sounds
    await wait_for_alerts(telegram, 2)
    both = alerts_in(telegram)[1]
    assert not both.disable_notification
    assert (both.link_preview_options or {}).get("prefer_large_media") is True


async def test_a_muted_item_is_not_watched_until_unmuted(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await say(telegram, "/subscribe copper, zinc", CHAT)
    options = await press(telegram, await say(telegram, "/list", CHAT), "⚙")
    options = await press(telegram, options, "🔇 1 day")
    assert telegram.callback_answers[-1]["text"] == "copper: muted for 1 day"
    assert "Mute: muted until" in (options.plain_text or "")
    await ingest(COPPER, COPPER_AND_ZINC)
    await wait_for_alerts(telegram, 1)
    await settle()
    [alert] = alerts_in(telegram)  # nothing for copper alone; zinc's alert names zinc only
    assert "Copper and zinc prices climb" in (alert.plain_text or "")
    assert "Matched: zinc — main subject" in (alert.plain_text or "")
    assert "copper" not in (alert.plain_text or "").split("Matched:")[1].split("\n")[0]

    options = await press(telegram, options, "🔊 unmute")
    assert (await subscription(db, "copper")).muted_until is None
    await ingest(COPPER_ELSEWHERE)
    await wait_for_alerts(telegram, 2)
    assert "Copper smelter strike" in (alerts_in(telegram)[1].plain_text or "")


async def test_less_like_this_applies_a_choice_at_once_and_undoes_it(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    await ingest(COPPER)
    await wait_for_alerts(telegram, 1)
    [alert] = alerts_in(telegram)
    choices = await press(telegram, alert, "👎 less like this")
    assert choices.method == "editMessageReplyMarkup"
    labels = [b["text"] for row in choices.reply_markup["inline_keyboard"] for b in row]
    assert labels == [
        "Only main stories for copper",
        "Mute copper for 7 days",
        "Mute source Metals Wire",
        "« back",
    ]
    assert all(
        len(b["callback_data"].encode()) <= 64
        for row in choices.reply_markup["inline_keyboard"]
        for b in row
    )

    done = await press(telegram, choices, "Only main stories for copper")
    assert telegram.callback_answers[-1]["text"] == "copper: main stories only from now on."
    assert (await subscription(db, "copper")).level == "main"
    restored = await press(telegram, done, "↩ undo")
    assert (await subscription(db, "copper")).level == "split"
    assert button_of(restored, "👎 less like this")

    choices = await press(telegram, restored, "👎 less like this")
    done = await press(telegram, choices, "Mute copper for 7 days")
    assert (await subscription(db, "copper")).muted_until is not None
    await press(telegram, done, "↩ undo")
    assert (await subscription(db, "copper")).muted_until is None

    choices = await press(telegram, restored, "👎 less like this")
    await press(telegram, choices, "Mute source Metals Wire")
    assert telegram.callback_answers[-1]["text"] == "Nothing more from Metals Wire in this chat."
    await ingest(MORE_COPPER, COPPER_ELSEWHERE)  # the first from the muted source
    await wait_for_alerts(telegram, 2)
    await settle()
    texts = [m.plain_text or "" for m in alerts_in(telegram)]
    assert len(texts) == 2 and "Copper smelter strike" in texts[1]
    async with db() as session:
        muted = (await session.exec(select(MutedSource))).all()
    assert [(m.chat_id, m.source) for m in muted] == [(CHAT, "Metals Wire")]


async def test_in_a_group_only_administrators_press_less_like_this(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    telegram.set_member_status(GROUP, ADMIN, "administrator")
    telegram.add_message(GROUP, "/subscribe copper", user_id=ADMIN, chat_type="supergroup")
    await telegram.wait_for_sent(chat_id=GROUP)
    await ingest(COPPER)
    await wait_for_alerts(telegram, 1, GROUP)
    [alert] = alerts_in(telegram, GROUP)
    less = button_of(alert, "👎 less like this")["callback_data"]
    refused = await press_in_group(telegram, less, alert.message_id, MEMBER)
    assert refused == "Only this group's administrators can change its watch-list and settings."
    # A choice forged for the group's alert by a member changes nothing either.
    forged = callbacks.encode(
        callbacks.LessChoice(
            int(less.split(":")[1]), "main", (await subscription(db, "copper", GROUP)).id or 0
        )
    )
    assert (await press_in_group(telegram, forged, alert.message_id, MEMBER)).startswith("Only")
    assert (await subscription(db, "copper", GROUP)).level == "split"
    assert await press_in_group(telegram, forged, alert.message_id, ADMIN) == (
        "copper: main stories only from now on."
    )
    assert (await subscription(db, "copper", GROUP)).level == "main"


async def test_another_chats_alert_or_item_is_not_changed_by_a_forged_press(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    await ingest(COPPER)
    await wait_for_alerts(telegram, 1)
    [alert] = alerts_in(telegram)
    alert_id = int(button_of(alert, "👎")["callback_data"].split(":")[1])
    copper = (await subscription(db, "copper")).id or 0
    other = CHAT + 1
    await say(telegram, "/start", other)
    for forged in (
        callbacks.LessChoice(alert_id, "main", copper),
        callbacks.LessChoice(alert_id, "source"),
        callbacks.SetItemOption(copper, "mute", "ever"),
    ):
        before = len(telegram.callback_answers)
        telegram.add_callback(other, callbacks.encode(forged), message_id=1)
        await telegram.wait_for_call("answerCallbackQuery", before + 1)
        assert "no longer on your watch-list" in telegram.callback_answers[-1]["text"]
    stored = await subscription(db, "copper")
    assert (stored.level, stored.muted_until) == ("split", None)
    async with db() as session:
        assert (await session.exec(select(MutedSource))).all() == []


async def test_a_channels_item_options_are_set_from_a_private_chat_and_its_alerts_carry_no_buttons(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    channel, owner, reader = -1_001_234_567_891, 4242, 4343
    telegram.add_channel(channel, "copper_desk", title="Copper desk")
    telegram.set_member_status(channel, owner, "creator")
    await say(telegram, "/subscribe @copper_desk copper", owner)
    listing = await say(telegram, "/list @copper_desk", owner)
    options = await press(telegram, listing, "⚙", owner)
    assert (options.plain_text or "").startswith("📢 Copper desk: ⚙ copper")
    assert all(
        b["callback_data"].startswith(f"ch:{channel}:")
        for row in options.reply_markup["inline_keyboard"]
        for b in row
    )
    await press(telegram, options, "🔕 silent", owner)
    assert (await subscription(db, "copper", channel)).silent
    # Pressed by someone who does not manage the channel: refused, asked at the press.
    data = button_of(options, "✓ 🔔 sound")["callback_data"]
    before = len(telegram.callback_answers)
    telegram.add_callback(reader, data, message_id=options.message_id)
    await telegram.wait_for_call("answerCallbackQuery", before + 1)
    assert "owner and administrators" in telegram.callback_answers[-1]["text"]
    assert (await subscription(db, "copper", channel)).silent

    await ingest(COPPER)
    await wait_for_alerts(telegram, 1, channel)
    [alert] = alerts_in(telegram, channel)
    assert alert.disable_notification and alert.reply_markup is None
    before = len(telegram.callback_answers)
    telegram.add_callback(channel, "less:1", message_id=alert.message_id, user_id=reader)
    await telegram.wait_for_call("answerCallbackQuery", before + 1)
    assert "from a private chat" in telegram.callback_answers[-1]["text"]


# ------------------------------------------------------------------------------ webhooks


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_private_feed_hosts": True})


async def test_an_alert_goes_to_telegram_and_to_the_chats_webhook_signed(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    receiver: WebhookReceiver,
) -> None:
    secret = "a-secret-of-the-chat"
    await say(telegram, "/subscribe copper, zinc", CHAT)
    await say(telegram, "/start", CHAT + 1)  # another chat, no webhook
    await say(telegram, "/subscribe copper", CHAT + 1)
    async with db() as session:
        await webhook_store.set_webhook(
            session=session, chat_id=CHAT, url=receiver.url(), secret=secret
        )
        await session.commit()
    receiver.fail_next(503)  # retried in the background; Telegram does not wait
    await ingest(COPPER_AND_ZINC)
    await wait_for_alerts(telegram, 1)
    await wait_for_alerts(telegram, 1, CHAT + 1)
    for _ in range(100):
        if receiver.deliveries:
            break
        await settle(0.05)
    [posted] = receiver.deliveries
    expected = "sha256=" + hmac.new(secret.encode(), posted.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, posted.headers["X-Tradebot-Signature"])
    body = json.loads(posted.body)
    assert posted.headers["Idempotency-Key"] == f"tradebot:{CHAT}:{body['article']['id']}"
    assert body["event"] == "alert" and body["chat_id"] == CHAT
    assert body["article"]["title"] == COPPER_AND_ZINC.title
    assert body["article"]["url"] == COPPER_AND_ZINC.url
    assert body["items"] == [
        {"topic": "copper", "main_story": True},
        {"topic": "zinc", "main_story": True},
    ]
    assert 0 < body["relevance"] <= 1
    assert "zinc rose 3%" in body["evidence"]
    assert body["sources"] == ["Metals Wire"]
    await settle(0.3)
    assert len(receiver.requests) == 2  # one failed attempt, one delivery; no other chat's


# ------------------------------------------------------------------------------ pure parts


def test_an_alert_is_silent_only_when_every_item_it_names_is() -> None:
    styles = {
        "copper": queries.ItemStyle(silent=True, preview="small"),
        "zinc": queries.ItemStyle(silent=False, preview="off"),
        "gold": queries.ItemStyle(silent=True, preview="large"),
    }
    assert alert_style(["copper"], styles) == (True, "small")
    assert alert_style(["copper", "zinc"], styles) == (False, "small")
    assert alert_style(["copper", "gold"], styles) == (True, "large")
    assert alert_style(["tin"], styles) == (False, "off")


def test_a_full_watch_list_with_options_fits_one_message_and_telegrams_100_buttons() -> None:
    rows = [
        rendering.ListedTopic(
            n + 1,
            f"{chr(97 + n % 26)}{chr(97 + n // 26)}" + "x" * 97,
            "all",
            silent=True,
            preview="large",
            muted_until=MUTED_FOREVER,
        )
        for n in range(50)
    ]
    listing = rendering.subscription_list(rows)
    assert rendering.visible_length(listing.text) <= rendering.MESSAGE_LIMIT
    assert sum(len(row) for row in listing.buttons) <= 100
    few = rendering.subscription_list(rows[:2])
    assert "— <i>🔇 muted until unmuted, 🔕 silent, large preview</i>" in few.text


def test_link_preview_options_name_the_article() -> None:
    assert link_preview("off", "https://a.example/x").is_disabled
    assert link_preview("large", None).is_disabled
    small = link_preview("small", "https://a.example/x")
    assert (small.url, small.prefer_small_media, bool(small.is_disabled)) == (
        "https://a.example/x",
        True,
        False,
    )


def test_option_and_less_like_this_buttons_round_trip_and_forgeries_are_refused() -> None:
    big = 2**63 - 1
    for made in (
        callbacks.ShowItemOptions(big),
        callbacks.ShowItemOptions(3, back=True),
        callbacks.SetItemOption(3, "preview", "small"),
        callbacks.SetItemOption(3, "mute", "ever"),
        callbacks.LessLikeThis(big),
        callbacks.LessChoice(big, "mute", big),
        callbacks.LessChoice(5, "source"),
        callbacks.UndoLess(big, "mute", big, str(253370764800)),
        callbacks.UndoLess(5, "main", 3, "all"),
        callbacks.InChannel(-1001234567890, callbacks.SetItemOption(big, "silent", "on")),
    ):
        assert callbacks.fits(made) and callbacks.decode(callbacks.encode(made)) == made
    for forged in (
        "opt:3:preview:huge",
        "opt:0:silent:on",
        "opt:3:colour:red",
        "less:-1",
        "less:3:front",
        "lessdo:5:source:3",  # a source choice carries no item
        "lessdo:5:main:0",
        "lessdo:5:delete:3",
        "undo:5:main:3:loud",
        "undo:5:mute:3:-4",
        "undo:5:source:0:1",
        "ch:-1001234567890:lessdo:5:main:3",  # a channel's alerts have no such button
    ):
        assert callbacks.decode(forged) is None, forged


async def test_item_options_and_muted_sources_come_and_go_with_their_migration(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    async def shape() -> tuple[list[str], list[str]]:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: (
                    inspect(sync).get_table_names(),
                    [c["name"] for c in inspect(sync).get_columns("subscriptions")],
                )
            )

    try:
        await upgrade_schema(engine)
        tables, columns = await shape()
        assert "muted_sources" in tables and {"silent", "preview", "muted_until"} <= set(columns)
        await migrate(engine, command.downgrade, "0010")
        tables, columns = await shape()
        assert "muted_sources" not in tables and "silent" not in columns
        await migrate(engine, command.upgrade, "head")
        tables, columns = await shape()
        assert "muted_sources" in tables and "muted_until" in columns
    finally:
        await engine.dispose()
