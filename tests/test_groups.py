"""Groups: only administrators change a group's watch-list and settings; commands for other
bots are left alone."""

from __future__ import annotations

from sqlmodel import select

from bot.context import BotApplication
from storage.db import SessionFactory
from storage.models import Chat
from tests.fakes import FakeTelegram, SentMessage
from tests.test_chat_commands import topics_of

GROUP = -100_200
MEMBER, ADMIN = 1001, 1002
ADMINS_ONLY = "Only this group's administrators can change its watch-list and settings."


async def say_in_group(
    telegram: FakeTelegram, text: str, user_id: int = MEMBER, *, anonymous: bool = False
) -> SentMessage:
    """Write in the group as `user_id` (or as an anonymous administrator); the bot's reply."""
    before = len(telegram.sent_to(GROUP))
    telegram.add_message(
        GROUP, text, user_id=user_id, chat_type="supergroup", anonymous_admin=anonymous
    )
    return (await telegram.wait_for_sent(before + 1, chat_id=GROUP))[before]


async def press_in_group(telegram: FakeTelegram, data: str, message_id: int, user_id: int) -> str:
    """Press a button in the group as `user_id`; the notice the bot answers with."""
    before = len(telegram.callback_answers)
    telegram.add_callback(GROUP, data, message_id=message_id, user_id=user_id)
    await telegram.wait_for_call("answerCallbackQuery", before + 1, timeout=10)
    return telegram.callback_answers[before].get("text", "")


async def test_only_the_groups_administrators_change_its_watch_list(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.set_member_status(GROUP, ADMIN, "administrator")
    refused = await say_in_group(telegram, "/subscribe copper")
    assert refused.plain_text == ADMINS_ONLY
    assert await topics_of(db, GROUP) == []

    added = await say_in_group(telegram, "/subscribe copper, gold", ADMIN)
    assert "Subscribed to copper: it is on this group's watch-list" in added.plain_text
    assert await topics_of(db, GROUP) == ["copper", "gold"]

    assert (await say_in_group(telegram, "/unsubscribe copper")).plain_text == ADMINS_ONLY
    listing = await say_in_group(telegram, "/list")  # anyone may look
    assert listing.plain_text.startswith("This group's watch-list (2):")
    remove_copper = listing.reply_markup["inline_keyboard"][0][0]["callback_data"]
    assert await press_in_group(telegram, remove_copper, listing.message_id, MEMBER) == ADMINS_ONLY
    assert await topics_of(db, GROUP) == ["copper", "gold"]
    shown = len(telegram.sent_to(GROUP))
    assert await press_in_group(telegram, remove_copper, listing.message_id, ADMIN) == (
        "Removed copper"
    )
    await telegram.wait_for_sent(shown + 1, chat_id=GROUP)  # the list, edited
    removed = await say_in_group(telegram, "/unsubscribe gold", ADMIN)
    assert "Unsubscribed from gold: it is off this group's watch-list" in removed.plain_text
    assert await topics_of(db, GROUP) == []

    telegram.set_member_status(GROUP, MEMBER, "creator")
    assert "Subscribed to tin" in (await say_in_group(telegram, "/subscribe tin")).plain_text
    telegram.set_member_status(GROUP, MEMBER, "restricted")
    assert (await say_in_group(telegram, "/subscribe zinc")).plain_text == ADMINS_ONLY
    assert await topics_of(db, GROUP) == ["tin"]


async def test_a_members_press_on_a_suggestion_or_question_changes_nothing(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.set_member_status(GROUP, ADMIN, "administrator")
    question = await say_in_group(telegram, "/subscribe India Chile", ADMIN)
    both, either = (row[0]["callback_data"] for row in question.reply_markup["inline_keyboard"])
    for data in (both, either, "sub:copper"):
        assert await press_in_group(telegram, data, question.message_id, MEMBER) == ADMINS_ONLY
    assert await topics_of(db, GROUP) == []
    await press_in_group(telegram, either, question.message_id, ADMIN)
    assert await topics_of(db, GROUP) == ["Chile", "India"]


async def test_an_anonymous_administrator_counts_as_one(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    reply = await say_in_group(telegram, "/subscribe copper", anonymous=True)
    assert "Subscribed to copper" in reply.plain_text
    assert await topics_of(db, GROUP) == ["copper"]
    assert telegram.calls_of("getChatMember") == []  # the group itself wrote


async def test_only_administrators_change_the_groups_settings_or_pause_it(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.set_member_status(GROUP, ADMIN, "administrator")
    assert (await say_in_group(telegram, "/mode digest")).plain_text == ADMINS_ONLY
    assert (await say_in_group(telegram, "/timezone Asia/Kolkata")).plain_text == ADMINS_ONLY
    assert (await say_in_group(telegram, "/digesttime 07:00")).plain_text == ADMINS_ONLY
    assert (await say_in_group(telegram, "/quiet 22:00-07:00")).plain_text == ADMINS_ONLY
    assert (await say_in_group(telegram, "/weekly mon 08:00")).plain_text == ADMINS_ONLY
    assert (await say_in_group(telegram, "/stop")).plain_text == ADMINS_ONLY
    shown = await say_in_group(telegram, "/settings")
    assert await press_in_group(telegram, "set:mode:digest", shown.message_id, MEMBER) == (
        ADMINS_ONLY
    )
    async with db() as session:
        chat = (await session.exec(select(Chat).where(Chat.id == GROUP))).one()
    assert (chat.mode, chat.timezone, chat.digest_time, chat.paused, chat.quiet_hours) == (
        "both",
        "UTC",
        "08:00",
        False,
        None,
    )

    assert "digest" in (await say_in_group(telegram, "/mode digest", ADMIN)).plain_text
    before = len(telegram.sent_to(GROUP))
    assert await press_in_group(telegram, "set:mode:instant", shown.message_id, ADMIN) == "Saved."
    await telegram.wait_for_sent(before + 1, chat_id=GROUP)  # the settings, edited
    assert (
        "Quiet hours set" in (await say_in_group(telegram, "/quiet 22:00-07:00", ADMIN)).plain_text
    )
    assert "paused" in (await say_in_group(telegram, "/stop", ADMIN)).plain_text
    async with db() as session:
        chat = (await session.exec(select(Chat).where(Chat.id == GROUP))).one()
    assert (chat.mode, chat.paused, chat.quiet_hours) == ("instant", True, "22:00-07:00")


async def test_commands_addressed_to_another_bot_are_ignored(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.set_member_status(GROUP, ADMIN, "administrator")
    telegram.add_message(GROUP, "/subscribe@other_bot gold", user_id=ADMIN, chat_type="supergroup")
    telegram.add_message(GROUP, "/weather@other_bot", user_id=ADMIN, chat_type="supergroup")
    reply = await say_in_group(telegram, "/subscribe@tradebot_test_bot copper", ADMIN)
    assert "Subscribed to copper" in reply.plain_text
    assert len(telegram.sent_to(GROUP)) == 1
    assert await topics_of(db, GROUP) == ["copper"]
    assert "/help" in (await say_in_group(telegram, "/weather@tradebot_test_bot")).plain_text


async def test_a_private_chat_needs_no_membership_check(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.add_message(77, "/subscribe copper")
    await telegram.wait_for_sent(1, chat_id=77)
    assert await topics_of(db, 77) == ["copper"]
    assert telegram.calls_of("getChatMember") == []
