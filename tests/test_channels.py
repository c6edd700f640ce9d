"""Channels: managed from a private chat (`/subscribe @channel TOPIC`), only by the channel's
creator and administrators, asked again at each command and press; alerts and digests are
posted in the channel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot import rendering
from bot.callbacks import (
    InChannel,
    RemoveSubscription,
    SetLevel,
    ShowEvidence,
    SubscribeTo,
    decode,
    encode,
)
from bot.channels import Named, Refusal, bot_refusal, named_channel, user_refusal
from bot.context import BotApplication
from bot.subscriptions import MAX_SUBSCRIPTIONS
from storage.db import SessionFactory
from storage.models import Chat
from tests.fakes import FakeTelegram, SentMessage
from tests.test_alerts import copper_story
from tests.test_chat_commands import store_topics, topics_of
from tests.test_digests import digest_job

CHANNEL = -1_001_234_567_890
TITLE = "Metals <desk> & co"
OWNER, EDITOR, READER = 42, 43, 44  # each writes to the bot in a private chat of their own
NOT_ADMIN = f"Only the owner and administrators of {TITLE} can manage its alerts."


@pytest.fixture
def channel(telegram: FakeTelegram) -> int:
    """@metals_desk: OWNER created it, EDITOR is an administrator, the bot may post."""
    telegram.add_channel(CHANNEL, "metals_desk", title=TITLE)
    telegram.set_member_status(CHANNEL, OWNER, "creator")
    telegram.set_member_status(CHANNEL, EDITOR, "administrator")
    return CHANNEL


async def say(telegram: FakeTelegram, user: int, text: str) -> SentMessage:
    """`user` writes to the bot in their private chat; the bot's one reply."""
    before = len(telegram.sent_to(user))
    telegram.add_message(user, text)
    return (await telegram.wait_for_sent(before + 1, chat_id=user))[before]


async def press(telegram: FakeTelegram, user: int, data: str, message_id: int) -> str:
    """`user` presses a button in their private chat; the notice the bot answers with."""
    before = len(telegram.callback_answers)
    telegram.add_callback(user, data, message_id=message_id)
    await telegram.wait_for_call("answerCallbackQuery", before + 1, timeout=10)
    return telegram.callback_answers[before].get("text", "")


def buttons(message: SentMessage) -> list[str]:
    markup = message.reply_markup or {"inline_keyboard": []}
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


async def stored_chat(db: SessionFactory, chat_id: int) -> Chat:
    async with db() as session:
        chat = await session.get(Chat, chat_id)
    assert chat is not None
    return chat


async def test_a_channel_subscribed_from_a_private_chat_gets_its_alerts_and_digest(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    channel: int,
    ingest: Callable[..., Any],
) -> None:
    reply = await say(telegram, OWNER, "/subscribe @metals_desk copper")
    assert reply.plain_text == (
        f"✅ Subscribed to copper: it is on the watch-list of 📢 {TITLE}, and alerts are "
        "posted there."
    )
    assert await topics_of(db, channel) == ["copper"]
    assert await topics_of(db, OWNER) == []
    recorded = await stored_chat(db, channel)
    assert (recorded.kind, recorded.title, recorded.active) == ("channel", TITLE, True)

    await ingest(copper_story(1))
    [alert] = await telegram.wait_for_sent(chat_id=channel)
    assert "Copper output rises at Chilean mine" in (alert.plain_text or "")
    assert len(telegram.sent_to(OWNER)) == 1  # the owner got the confirmation only

    await digest_job(bot).run(bot)
    digest = (await telegram.wait_for_sent(2, chat_id=channel))[1]
    assert (digest.plain_text or "").startswith("📰")
    assert "Copper output rises at Chilean mine" in (digest.plain_text or "")


async def test_a_channel_named_by_its_id_is_listed_and_changed_through_its_buttons(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    added = await say(telegram, EDITOR, f"/subscribe {channel} copper, gold")
    assert "• ✅ Subscribed to gold: it is on the watch-list of 📢" in (added.plain_text or "")
    assert await topics_of(db, channel) == ["copper", "gold"]

    listing = await say(telegram, EDITOR, "/list @Metals_Desk")
    assert (listing.plain_text or "").startswith(f"The watch-list of 📢 {TITLE} (2):")
    remove_copper = buttons(listing)[0]
    assert all(data.startswith(f"ch:{channel}:") for data in buttons(listing))
    shown_before_press = len(telegram.sent_to(EDITOR))  # the edit may come before the answer
    assert await press(telegram, EDITOR, remove_copper, listing.message_id) == "Removed copper"
    assert await topics_of(db, channel) == ["gold"]
    edited = (await telegram.wait_for_sent(shown_before_press + 1, chat_id=EDITOR))[-1]
    assert "(1):" in (edited.plain_text or "")
    [options_gold] = [data for data in buttons(edited) if ":opts:" in data]
    shown_so_far = len(telegram.sent_to(EDITOR))
    await press(telegram, EDITOR, options_gold, edited.message_id)
    options = (await telegram.wait_for_sent(shown_so_far + 1, chat_id=EDITOR))[-1]
    level_gold = next(data for data in buttons(options) if ":lvl:" in data)
    assert (await press(telegram, EDITOR, level_gold, edited.message_id)).startswith("gold: ")
    shown_so_far += 1
    await telegram.wait_for_sent(shown_so_far + 1, chat_id=EDITOR)  # the options, edited

    shown = await say(telegram, EDITOR, "/settings @metals_desk")
    assert (shown.plain_text or "").startswith(f"Settings of 📢 {TITLE}")
    assert "/timezone @metals_desk CITY" in (shown.plain_text or "")
    digest_only = f"ch:{channel}:set:mode:digest"
    assert digest_only in buttons(shown)
    assert await press(telegram, EDITOR, digest_only, shown.message_id) == "Saved."
    await telegram.wait_for_sent(shown_so_far + 3, chat_id=EDITOR)  # the settings, edited
    zone = await say(telegram, EDITOR, "/timezone @metals_desk Asia/Kolkata")
    assert (zone.plain_text or "").startswith(f"📢 {TITLE}: Time zone set to Asia/Kolkata")
    recorded = await stored_chat(db, channel)
    assert (recorded.mode, recorded.timezone) == ("digest", "Asia/Kolkata")
    mine = await stored_chat(db, EDITOR)
    assert (mine.mode, mine.timezone) == ("both", "UTC")  # the private chat is untouched
    assert await topics_of(db, EDITOR) == []


async def test_only_the_channels_owner_and_administrators_manage_it_asked_at_each_press(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    for command in (
        "/subscribe @metals_desk copper",
        "/list @metals_desk",
        "/settings @metals_desk",
    ):
        assert (await say(telegram, READER, command)).plain_text == NOT_ADMIN
    assert await topics_of(db, channel) == []

    await say(telegram, EDITOR, "/subscribe @metals_desk copper")
    listing = await say(telegram, EDITOR, "/list @metals_desk")
    remove_copper = buttons(listing)[0]
    asked = len(telegram.calls_of("getChatMember"))
    # A reader who copies the button's data into a press of their own is asked too.
    assert await press(telegram, READER, remove_copper, listing.message_id) == NOT_ADMIN
    telegram.set_member_status(channel, EDITOR, "member")  # demoted since the list was shown
    assert await press(telegram, EDITOR, remove_copper, listing.message_id) == NOT_ADMIN
    assert await topics_of(db, channel) == ["copper"]
    assert len(telegram.calls_of("getChatMember")) == asked + 4  # the bot's and the user's, twice

    telegram.set_member_status(channel, EDITOR, "administrator")
    assert await press(telegram, EDITOR, remove_copper, listing.message_id) == "Removed copper"
    assert await topics_of(db, channel) == []


async def test_a_channel_that_cannot_be_managed_gets_a_one_line_reason(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    me = telegram.bot_user["id"]
    telegram.set_member_status(channel, me, "administrator", can_post_messages=False)
    assert (await say(telegram, OWNER, "/subscribe @metals_desk copper")).plain_text == (
        f"I cannot post in {TITLE}: let me post messages in its administrator rights."
    )
    telegram.set_member_status(channel, me, "left")
    assert (await say(telegram, OWNER, "/list @metals_desk")).plain_text == (
        f"I am not in {TITLE}: add me to it as an administrator who may post messages."
    )
    telegram.strict_chats = True  # like Telegram: an unknown @name is "chat not found"
    assert (await say(telegram, OWNER, "/subscribe @no_such_desk copper")).plain_text == (
        "I can't find a channel @no_such_desk: check its @name or its id (-100…)."
    )
    assert "can't find a channel with that name" in (
        (await say(telegram, OWNER, "/subscribe @x copper")).plain_text or ""
    )
    telegram.add_message(-1_009_999_999_999, "hello", chat_type="supergroup")  # a group, no channel
    refused = await say(telegram, OWNER, "/list -1009999999999")
    assert (
        refused.plain_text
        == "I can't find a channel -1009999999999: check its @name or its id (-100…)."
    )

    group = -100_200
    telegram.set_member_status(group, EDITOR, "administrator")
    telegram.add_message(group, "/subscribe @metals_desk copper", user_id=EDITOR, chat_type="group")
    [in_group] = await telegram.wait_for_sent(chat_id=group)
    assert in_group.plain_text == (
        "Manage a channel from your private chat with me: /subscribe @channel TOPIC."
    )
    assert await topics_of(db, channel) == [] and await topics_of(db, group) == []


async def test_a_channel_that_removed_the_bot_is_inactive_until_managed_again(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    channel: int,
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, OWNER, "/subscribe @metals_desk copper")
    await say(telegram, OWNER, "/subscribe copper")
    telegram.set_member_status(channel, telegram.bot_user["id"], "left")
    await ingest(copper_story(1))
    await telegram.wait_for_sent(3, chat_id=OWNER)  # the owner's own alert still comes
    for _ in range(100):  # the channel's send is refused at about the same time
        recorded = await stored_chat(db, channel)
        if not recorded.active:
            break
        await asyncio.sleep(0.05)
    assert not recorded.active
    assert "bot is not a member of the channel chat" in (recorded.inactive_reason or "")
    assert telegram.sent_to(channel) == []

    telegram.set_member_status(channel, telegram.bot_user["id"], "administrator")
    await say(telegram, OWNER, "/subscribe @metals_desk gold")
    assert (await stored_chat(db, channel)).active
    await ingest(copper_story(2))
    await telegram.wait_for_sent(chat_id=channel)


async def test_a_suggestion_for_a_channel_subscribes_the_channel(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    question = await say(telegram, OWNER, "/subscribe @metals_desk coper")
    assert "Did you mean copper?" in (question.plain_text or "")
    assert buttons(question) == [f"ch:{channel}:sub:copper", f"ch:{channel}:sub:coper"]
    shown = len(telegram.sent_to(OWNER))
    await press(telegram, OWNER, buttons(question)[0], question.message_id)
    [confirmed] = (await telegram.wait_for_sent(shown + 1, chat_id=OWNER))[shown:]
    assert f"it is on the watch-list of 📢 {TITLE}" in (confirmed.plain_text or "")
    assert await topics_of(db, channel) == ["copper"]
    assert await topics_of(db, OWNER) == []


async def test_a_channel_is_paused_and_resumed_from_the_private_chat(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    stopped = await say(telegram, OWNER, "/stop @metals_desk")
    assert stopped.plain_text == (
        f"📢 {TITLE}: ⏸ Alerts and digests are paused. Send /start @metals_desk to turn them "
        "on again."
    )
    assert (await stored_chat(db, channel)).paused
    assert not (await stored_chat(db, OWNER)).paused
    assert (await say(telegram, READER, "/start @metals_desk")).plain_text == NOT_ADMIN
    assert (await stored_chat(db, channel)).paused
    resumed = await say(telegram, EDITOR, "/start @metals_desk")
    assert resumed.plain_text == f"📢 {TITLE}: ▶️ Alerts and digests are on again."
    assert not (await stored_chat(db, channel)).paused


async def test_channel_posts_are_never_commands(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    telegram.add_message(channel, "/subscribe copper", chat_type="channel")
    telegram.add_message(channel, "/list", chat_type="channel")
    telegram.add_message(channel, "copper", chat_type="channel")
    await say(telegram, OWNER, "/help")  # updates are handled in order: the posts are done
    assert telegram.sent_to(channel) == []
    assert await topics_of(db, channel) == []


async def test_a_channels_watch_list_has_the_usual_limit(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    await say(telegram, OWNER, "/list @metals_desk")  # records the channel
    await store_topics(db, [f"metal{n}" for n in range(MAX_SUBSCRIPTIONS)], chat_id=channel)
    refused = await say(telegram, OWNER, "/subscribe @metals_desk zinc")
    assert refused.plain_text == (
        f"The watch-list of 📢 {TITLE} holds at most {MAX_SUBSCRIPTIONS} topics. "
        "Remove one first (see /list @metals_desk)."
    )
    assert len(await topics_of(db, channel)) == MAX_SUBSCRIPTIONS


async def test_an_evidence_button_in_a_channel_answers_the_reader_alone(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    channel: int,
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, OWNER, "/subscribe @metals_desk copper")
    await ingest(copper_story(1))
    [alert] = await telegram.wait_for_sent(chat_id=channel)
    for pressed in range(1, 50):  # the alert's message id is stored just after it is sent
        telegram.add_callback(
            channel, encode(ShowEvidence()), message_id=alert.message_id, user_id=READER
        )
        await telegram.wait_for_call("answerCallbackQuery", pressed, timeout=10)
        notice = telegram.callback_answers[-1]
        if notice.get("text", "").startswith("Copper output rises at Chilean mine: copper"):
            break
        await asyncio.sleep(0.1)
    assert notice.get("text", "").startswith("Copper output rises at Chilean mine: copper")
    assert notice.get("show_alert") == "true"
    assert len(telegram.sent_to(channel)) == 1  # nothing posted for every reader to see


# Pure logic ------------------------------------------------------------------------------------


def test_a_channel_is_named_first_by_its_username_or_id() -> None:
    assert named_channel("@metals_desk copper, gold") == Named("@metals_desk", "copper, gold")
    assert named_channel(" -1001234567890 copper") == Named(-1_001_234_567_890, "copper")
    assert named_channel("@metals_desk") == Named("@metals_desk", "")
    assert named_channel("copper -Copperfield") == Named(None, "copper -Copperfield")
    assert named_channel("-1234 copper") == Named(None, "-1234 copper")  # not a channel's id
    assert named_channel("@me copper") == Named(None, "copper", malformed=True)
    assert named_channel("") == Named(None, "")


def test_the_bot_must_post_and_the_user_must_manage_the_channel() -> None:
    assert bot_refusal("administrator", can_post_messages=True) is None
    assert bot_refusal("administrator", can_post_messages=False) is Refusal.BOT_CANNOT_POST
    assert bot_refusal("left", can_post_messages=None) is Refusal.BOT_NOT_IN
    assert bot_refusal("kicked", can_post_messages=None) is Refusal.BOT_NOT_IN
    assert user_refusal("creator") is None and user_refusal("administrator") is None
    for status in ("member", "restricted", "left", "kicked"):
        assert user_refusal(status) is Refusal.NOT_ADMIN


def test_a_button_for_a_channel_carries_it_through_the_codec() -> None:
    for action in (RemoveSubscription(7), SetLevel(7, "all"), SubscribeTo("copper")):
        pressed = InChannel(CHANNEL, action)
        assert decode(encode(pressed)) == pressed
    for data in (
        f"ch:{CHANNEL}:why",  # not something a channel's button does
        f"ch:{CHANNEL}:ch:{CHANNEL}:unsub:7",
        "ch:-1234:unsub:7",  # no channel's id
        f"ch:{-CHANNEL}:unsub:7",
        f"ch:{CHANNEL}:unsub:x",
    ):
        assert decode(data) is None


def test_channel_titles_are_escaped_in_replies() -> None:
    name = rendering.ChannelName("<b>Desk</b> & co", "@desk")
    text = rendering.subscribed("copper", channel=name)
    assert "&lt;b&gt;Desk&lt;/b&gt; &amp; co" in text and "<b>Desk</b>" not in text
    listing = rendering.subscription_list([], channel=name)
    assert "&lt;b&gt;Desk" in listing.text and "<code>/subscribe @desk TOPIC</code>" in listing.text
    settings = rendering.settings_view(
        timezone="UTC", digest_time="08:00", mode="both", empty_digest_line=False, channel=name
    )
    assert "&lt;b&gt;Desk" in settings.text.splitlines()[0]


async def test_a_channels_quiet_hours_and_digests_are_set_from_a_private_chat(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, channel: int
) -> None:
    quiet = (await say(telegram, OWNER, "/quiet @metals_desk 22:00-07:00")).plain_text
    assert quiet == (
        f"📢 {TITLE}: Quiet hours set to 22:00-07:00 (UTC): alerts that come then arrive "
        "together when they end."
    )
    digests = (await say(telegram, EDITOR, "/digesttime @metals_desk 07:30 13:00")).plain_text
    assert "07:30 and 13:00" in (digests or "")
    weekly = (await say(telegram, OWNER, "/weekly @metals_desk fri 17:00")).plain_text
    assert "on fri 17:00" in (weekly or "")
    assert (await say(telegram, READER, "/quiet @metals_desk off")).plain_text == NOT_ADMIN
    assert (await say(telegram, READER, "/weekly @metals_desk off")).plain_text == NOT_ADMIN
    shown = (await say(telegram, OWNER, "/settings @metals_desk")).plain_text or ""
    assert "Quiet hours: 22:00-07:00" in shown and "Weekly digest: fri 17:00" in shown
    stored = await stored_chat(db, channel)
    assert (stored.quiet_hours, stored.digest_time, stored.weekly_digest) == (
        "22:00-07:00",
        "07:30 13:00",
        "fri 17:00",
    )
    assert (await stored_chat(db, OWNER)).quiet_hours is None
    assert digest_job(bot, at="07:30") and digest_job(bot, at="fri 17:00")
