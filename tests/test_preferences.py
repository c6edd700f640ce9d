"""Settings end to end: time zones typed as cities, abbreviations and offsets; 12-hour digest
times; a settings view whose digest line and delivery line agree; the welcome's buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.context import BotApplication
from bot.localtime import (
    ZoneFound,
    ZoneQuestion,
    ZoneUnknown,
    parse_digest_time,
    parse_digest_times,
    parse_weekly,
    resolve_timezone,
)
from tests.fakes import FakeTelegram, SentMessage
from tests.test_chat_commands import say

CHAT = 701
WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)


def buttons(message: SentMessage) -> list[dict[str, str]]:
    return [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


async def tap(telegram: FakeTelegram, message: SentMessage, label_start: str) -> SentMessage:
    """Press the message's button whose label starts with `label_start`; the bot's answer."""
    [data] = [b["callback_data"] for b in buttons(message) if b["text"].startswith(label_start)]
    before = len(telegram.sent_to(message.chat_id))
    telegram.add_callback(message.chat_id, data, message_id=message.message_id)
    return (await telegram.wait_for_sent(before + 1, chat_id=message.chat_id))[before]


async def test_the_settings_say_off_only_when_no_digest_comes(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    await say(telegram, "/digesttime off", CHAT)
    shown = (await say(telegram, "/settings", CHAT)).plain_text or ""
    assert "Delivery: instant alerts only" in shown
    assert "Daily digest: off" in shown
    assert "✓ instant" in [b["text"] for b in buttons(await say(telegram, "/settings", CHAT))]

    turned_on = (await say(telegram, "/digesttime 7:30am", CHAT)).plain_text or ""
    assert "07:30" in turned_on and "instant alerts and a daily digest" in turned_on
    shown = (await say(telegram, "/settings", CHAT)).plain_text or ""
    assert "Delivery: instant alerts and a daily digest" in shown
    assert "Daily digest: at 07:30 your time" in shown

    await say(telegram, "/mode instant", CHAT)
    assert "Daily digest: off" in ((await say(telegram, "/settings", CHAT)).plain_text or "")
    assert "at 07:30" in ((await say(telegram, "/mode digest", CHAT)).plain_text or "")


async def test_timezones_are_cities_abbreviations_and_offsets(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    current = (await say(telegram, "/timezone", CHAT)).plain_text or ""
    assert "Your time zone is UTC (UTC+00:00" in current

    assert (
        "set to Asia/Kolkata (UTC+05:30"
        in (await say(telegram, "/timezone Kolkata", CHAT)).plain_text
    )
    assert (
        "set to Etc/GMT-3 (UTC+03:00" in (await say(telegram, "/timezone GMT+3", CHAT)).plain_text
    )
    assert "set to Asia/Kolkata" in (await say(telegram, "/timezone UTC+5:30", CHAT)).plain_text
    assert "Your time zone is Asia/Kolkata" in (await say(telegram, "/timezone", CHAT)).plain_text

    question = await say(telegram, "/timezone IST", CHAT)
    assert "IST can mean more than one time zone" in (question.plain_text or "")
    labels = [b["text"] for b in buttons(question)]
    assert any("Asia/Jerusalem" in label for label in labels)
    chosen = await tap(telegram, question, "IST (UTC+02:00)")
    assert chosen.method == "editMessageText"
    assert "set to Asia/Jerusalem" in (chosen.plain_text or "")

    typo = await say(telegram, "/timezone Kolkataa", CHAT)
    assert "Did you mean" in (typo.plain_text or "")
    assert "set to Asia/Kolkata" in ((await tap(telegram, typo, "Kolkata, India")).plain_text or "")

    refused = (await say(telegram, "/timezone <b>Atlantis</b>", CHAT)).plain_text or ""
    assert "<b>Atlantis</b>" in refused and "/timezone Mumbai" in refused
    assert "forged" not in ((await say(telegram, "/settings", CHAT)).plain_text or "")
    telegram.add_callback(CHAT, "tz:Mars/Base", message_id=question.message_id)
    await telegram.wait_for_call("answerCallbackQuery")
    assert "Asia/Kolkata" in ((await say(telegram, "/timezone", CHAT)).plain_text or "")


async def test_start_is_a_short_welcome_with_buttons(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    welcome = await say(telegram, "/start", CHAT)
    assert len((welcome.plain_text or "").splitlines()) <= 5
    assert "/subscribe copper" in (welcome.plain_text or "")
    help_text = await tap(telegram, welcome, "📖 All commands")
    assert help_text.method == "sendMessage" and "/unsubscribe" in (help_text.plain_text or "")
    settings = await tap(telegram, welcome, "⚙️ Settings")
    assert "Your settings" in (settings.plain_text or "")
    telegram.add_message(-CHAT, "/start", chat_type="group")
    [in_group] = await telegram.wait_for_sent(chat_id=-CHAT)
    assert "sends you" in (welcome.plain_text or "")
    assert "sends this group" in (in_group.plain_text or "")


def test_twelve_and_twenty_four_hour_times() -> None:
    assert parse_digest_time("7:30") == "07:30"
    assert parse_digest_time("7:30am") == "07:30"
    assert parse_digest_time("7.30 p.m.") == "19:30"
    assert parse_digest_time("7 PM") == "19:00"
    assert parse_digest_time("12am") == "00:00"
    assert parse_digest_time("12:15pm") == "12:15"
    assert parse_digest_time("OFF") is None
    for bad in ("24:00", "7", "07:60", "13pm", "0am", "noon", "7:30 tomorrow"):
        try:
            parse_digest_time(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_zones_from_what_people_type() -> None:
    assert resolve_timezone("asia/kolkata", WINTER) == ZoneFound("Asia/Kolkata")
    assert resolve_timezone("Mumbai", WINTER) == ZoneFound("Asia/Kolkata")
    assert resolve_timezone("Bombay", WINTER) == ZoneFound("Asia/Kolkata")
    assert resolve_timezone("São Paulo", WINTER) == ZoneFound("America/Sao_Paulo")
    assert resolve_timezone("sao paulo", WINTER) == ZoneFound("America/Sao_Paulo")
    assert resolve_timezone("Paris", WINTER) == ZoneFound("Europe/Paris")  # not Paris, Texas
    assert resolve_timezone("India", WINTER) == ZoneFound("Asia/Kolkata")
    assert resolve_timezone("GMT", WINTER) == ZoneFound("UTC")
    assert resolve_timezone("EST", WINTER) == ZoneFound("America/New_York")
    assert resolve_timezone("UTC-3", WINTER) == ZoneFound("Etc/GMT+3")  # the tz sign is inverted
    assert resolve_timezone("+0545", WINTER) == ZoneFound("Asia/Kathmandu")

    portland = resolve_timezone("Portland", WINTER)
    assert isinstance(portland, ZoneQuestion)
    assert {"America/Los_Angeles", "America/New_York"} <= {c.zone for c in portland.choices}
    cst = resolve_timezone("CST", WINTER)
    assert isinstance(cst, ZoneQuestion)
    assert {"America/Chicago", "Asia/Shanghai"} & {c.zone for c in cst.choices}

    never = resolve_timezone("UTC-3:30", WINTER)  # Newfoundland has daylight saving time
    assert isinstance(never, ZoneUnknown) and "all year" in never.reason
    assert isinstance(resolve_timezone("UTC+15", WINTER), ZoneUnknown)
    assert isinstance(resolve_timezone("UTC-13", WINTER), ZoneUnknown)  # no Etc/GMT+13
    assert resolve_timezone("UTC+14", WINTER) == ZoneFound("Etc/GMT-14")
    assert "at most 64" in getattr(resolve_timezone("Kolkata" * 600, WINTER), "reason", "")
    nothing = resolve_timezone("qqqqqq", WINTER)
    assert isinstance(nothing, ZoneUnknown) and not nothing.suggestions


def test_several_digest_times_are_read_sorted_once_each_and_at_most_four() -> None:
    assert parse_digest_times("13:00 7:30am, 07:30") == ("07:30", "13:00")
    assert parse_digest_times("7 am 1 pm") == ("07:00", "13:00")
    assert parse_digest_times("off") is None
    with pytest.raises(ValueError, match="At most 4"):
        parse_digest_times("06:00 07:00 08:00 09:00 10:00")
    for typed in ("07:30 noonish", "07:30 off"):
        with pytest.raises(ValueError, match="Use a time like"):
            parse_digest_times(typed)


def test_a_weekly_digest_is_a_day_and_a_time() -> None:
    assert parse_weekly("Monday 8am") == "mon 08:00"
    assert parse_weekly("fri 17:30") == "fri 17:30"
    assert parse_weekly("off") is None
    for typed in ("08:00", "someday 08:00", "mon", "mon 25:00"):
        with pytest.raises(ValueError, match="mon 08:00"):
            parse_weekly(typed)
