"""Settings and daily digests: per-chat time zones, slot jobs, DST, at most one per day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot import rendering
from bot.app import running
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.digest_jobs import slot_job_name
from bot.digests import DigestArticle, group_by_topic
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus, Digest
from tests.fakes import FakeTelegram, parse_telegram_html, utf16_len
from tests.test_alerts import expand
from tests.test_chat_commands import say

CHAT = 601


def digest_job(app: BotApplication, zone: str = "UTC", at: str = "08:00") -> Any:
    assert app.job_queue is not None
    [job] = [j for j in app.job_queue.jobs() if j.name == slot_job_name(zone, at)]
    return job


def story(n: int, title: str, source: str = "Wire", body: str = "") -> ArticleIn:
    return ArticleIn(title=title, body=body or title, url=f"https://x.example/{n}", source=source)


async def test_settings_commands_change_zone_time_and_mode(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    shown = await say(telegram, "/settings", CHAT)
    assert "Time zone: UTC" in shown.plain_text
    assert "Daily digest: at 08:00 your time" in shown.plain_text

    assert (
        "don't know the time zone" in (await say(telegram, "/timezone Mars/Base", CHAT)).plain_text
    )
    assert "Asia/Kolkata" in (await say(telegram, "/timezone Asia/Kolkata", CHAT)).plain_text
    assert "Use a time like" in (await say(telegram, "/digesttime 25:00", CHAT)).plain_text
    assert "07:30" in (await say(telegram, "/digesttime 7:30", CHAT)).plain_text
    assert "Usage" in (await say(telegram, "/mode sometimes", CHAT)).plain_text
    assert "daily digest only" in (await say(telegram, "/mode digest", CHAT)).plain_text
    assert digest_job(bot, "Asia/Kolkata", "07:30").next_t is not None

    shown = await say(telegram, "/settings", CHAT)
    buttons = [b for row in shown.reply_markup["inline_keyboard"] for b in row]
    assert "✓ digest" in [b["text"] for b in buttons]
    telegram.add_callback(CHAT, "set:empty:line", message_id=shown.message_id)
    edited = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 1, chat_id=CHAT))[-1]
    assert "short “nothing new” line" in edited.plain_text

    assert "turned off" in (await say(telegram, "/digesttime off", CHAT)).plain_text
    assert all(
        not (j.name or "").startswith("digest ")
        for j in bot.job_queue.jobs()  # type: ignore[union-attr]
    )


async def test_the_digest_lists_a_story_under_every_watch_item_it_matched_once_each(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    await say(telegram, "/subscribe lithium", CHAT)
    await say(telegram, "/mode digest", CHAT)
    sent_before = len(telegram.sent_to(CHAT))
    await ingest(
        story(1, "Copper and lithium prices <rise> & fall"),
        story(2, "Lithium mine opens in Chile"),
        story(3, "Copper smelter output falls"),
    )
    await expand(db)
    async with db() as session:
        statuses = {row.status for row in (await session.exec(select(Alert))).all()}
    assert statuses == {AlertStatus.HELD}

    await digest_job(bot).run(bot)
    [digest] = (await telegram.wait_for_sent(sent_before + 1, chat_id=CHAT))[sent_before:]
    text = digest.plain_text or ""
    assert "Digest for" in text and "3 articles" in text
    copper, lithium = text.split("\ncopper\n")[1].split("\nlithium\n")
    assert copper.count("Copper and lithium prices <rise> & fall") == 1
    assert lithium.count("Copper and lithium prices <rise> & fall") == 1  # under both items
    assert "Copper smelter output falls" in copper and "Copper smelter" not in lithium
    assert "Lithium mine opens in Chile" in lithium and "Lithium mine" not in copper

    await digest_job(bot).run(bot)  # the same day again: nothing more
    await say(telegram, "/help", CHAT)
    assert len(telegram.sent_to(CHAT)) == sent_before + 2


async def test_a_restart_does_not_send_the_day_twice(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=CHAT)
        await queries.add_subscription(session=session, chat_id=CHAT, topic="copper")
        await session.commit()
    await ingest(story(1, "Copper climbs"))
    async with running(make_bot(), poll_timeout=1) as app:
        await telegram.wait_for_sent(chat_id=CHAT)  # the instant alert
        await digest_job(app).run(app)
        await telegram.wait_for_sent(2, chat_id=CHAT)
    async with running(make_bot(), poll_timeout=1) as app:
        await digest_job(app).run(app)
        telegram.add_message(CHAT, "/help")
        await telegram.wait_for_sent(3, chat_id=CHAT)
    assert [m.plain_text.split("\n")[0] for m in telegram.sent_to(CHAT)][1].startswith("📰")
    assert len(telegram.sent_to(CHAT)) == 3


async def test_an_empty_digest_is_skipped_or_one_line(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    quiet, talkative = CHAT, CHAT + 1
    await say(telegram, "/subscribe copper", quiet)
    await say(telegram, "/subscribe copper", talkative)
    shown = await say(telegram, "/settings", talkative)
    telegram.add_callback(talkative, "set:empty:line", message_id=shown.message_id)
    await telegram.wait_for_sent(3, chat_id=talkative)
    await digest_job(bot).run(bot)
    [line] = (await telegram.wait_for_sent(4, chat_id=talkative))[3:]
    assert "Nothing new on your watch-list" in line.plain_text
    assert "Nothing new" in (await say(telegram, "/digest", quiet)).plain_text
    assert len(telegram.sent_to(quiet)) == 2  # /subscribe and /digest answers: no digest


async def test_digest_jobs_follow_daylight_saving_time(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    await say(telegram, "/timezone Europe/London", CHAT)
    trigger = digest_job(bot, "Europe/London").job.trigger
    spring = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert spring.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # BST, UTC+1
    autumn = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # GMT again


def test_grouping_folds_other_sources_of_a_story_and_ranks_main_stories_first() -> None:
    articles = [
        DigestArticle("Copper up", "Wire A", None, 1, ("copper",), relevance=0.6),
        DigestArticle("Copper rises", "Wire B", None, 1, ("copper",)),
        DigestArticle(
            "Lithium down", "Wire A", None, 2, ("lithium", "copper"), mentions=("copper",)
        ),
        DigestArticle("Copper mine opens", "Wire C", None, 3, ("copper",), relevance=0.9),
    ]
    groups = group_by_topic(articles)
    assert [(topic, [a.title for a in items]) for topic, items in groups] == [
        ("copper", ["Copper mine opens", "Copper up", "Lithium down"]),
        ("lithium", ["Lithium down"]),
    ]
    assert groups[0][1][1].also == ("Wire B",)
    assert groups[0][1][2].is_mention("copper") and not groups[1][1][0].is_mention("lithium")


def test_a_digest_split_over_messages_never_ends_one_with_a_section_heading() -> None:
    day = datetime(2026, 12, 7, tzinfo=UTC).date()
    for width in range(60, 150, 3):  # moves where the first message ends
        groups = [
            (
                f"topic {n}",
                [
                    DigestArticle(
                        f"{n}.{k} " + "ore " * (width // 4),
                        "Wire",
                        None,
                        n * 100 + k,
                        (f"topic {n}",),
                    )
                    for k in range(6)
                ],
            )
            for n in range(12)
        ]
        messages = rendering.digest(day, groups)
        assert len(messages) > 1
        for message in messages:
            assert not message.rstrip().endswith("</b>"), (width, message[-80:])
            assert utf16_len(parse_telegram_html(message)) <= rendering.MESSAGE_LIMIT


async def test_several_digests_a_day_each_cover_what_came_since_the_previous_once_per_slot(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    async with running(make_bot(), poll_timeout=1) as app:
        await say(telegram, "/subscribe copper", CHAT)
        await say(telegram, "/mode digest", CHAT)
        refused = (await say(telegram, "/digesttime 6am 7am 8am 9am 10am", CHAT)).plain_text
        assert "At most 4 digests a day." in refused
        set_to = (await say(telegram, "/digesttime 13:00 7:30am", CHAT)).plain_text or ""
        assert "at 07:30 and 13:00 (UTC)" in set_to
        assert "at 07:30 and 13:00 your time" in (await say(telegram, "/settings", CHAT)).plain_text
        before = len(telegram.sent_to(CHAT))

        await ingest(story(1, "Copper smelter output falls"))
        await expand(db)
        await digest_job(app, at="07:30").run(app)
        [morning] = (await telegram.wait_for_sent(before + 1, chat_id=CHAT))[before:]
        assert "Copper smelter output falls" in (morning.plain_text or "")

        await ingest(story(2, "Copper mine reopens in Peru"))
        await expand(db)
        await digest_job(app, at="13:00").run(app)
        [noon] = (await telegram.wait_for_sent(before + 2, chat_id=CHAT))[before + 1 :]
        assert "Copper mine reopens in Peru" in (noon.plain_text or "")
        assert "Copper smelter" not in (noon.plain_text or "")  # the morning's already told

        await digest_job(app, at="07:30").run(app)
        await digest_job(app, at="13:00").run(app)
    async with running(make_bot(), poll_timeout=1) as app:  # a restart: each slot still once
        await digest_job(app, at="07:30").run(app)
        await digest_job(app, at="13:00").run(app)
        telegram.add_message(CHAT, "/help")
        await telegram.wait_for_sent(before + 3, chat_id=CHAT)
    assert len(telegram.sent_to(CHAT)) == before + 3
    async with db() as session:
        slots = sorted((await session.exec(select(Digest.slot))).all())
    assert slots == ["07:30", "13:00"]


async def test_each_digest_time_and_the_weekly_one_follow_daylight_saving_time(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    await say(telegram, "/timezone Europe/London", CHAT)
    await say(telegram, "/digesttime 07:30 18:00", CHAT)
    trigger = digest_job(bot, "Europe/London", "18:00").job.trigger
    spring = trigger.get_next_fire_time(None, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert spring.astimezone(UTC) == datetime(2026, 3, 29, 17, 0, tzinfo=UTC)  # BST
    autumn = trigger.get_next_fire_time(None, datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 18, 0, tzinfo=UTC)  # GMT
    await say(telegram, "/weekly mon 08:00", CHAT)
    weekly = digest_job(bot, "Europe/London", "mon 08:00").job.trigger
    spring = weekly.get_next_fire_time(None, datetime(2026, 3, 25, 12, 0, tzinfo=UTC))
    assert spring.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Monday, BST
    autumn = weekly.get_next_fire_time(None, datetime(2026, 10, 21, 12, 0, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # Monday, GMT


WHEAT_MENTIONING_COPPER = ArticleIn(
    title="Argentina's wheat harvest beats forecasts",
    body="Farmers in Argentina brought in 21 million tonnes of wheat, well above forecasts. "
    "Exporters expect record shipments to Brazil and Indonesia. Rain in the Pampas helped "
    "yields in the south. Elsewhere on commodity markets, copper prices edged up on the LME.",
    url="https://farm.example/wheat",
    source="Farm Desk",
)


async def test_the_weekly_digest_lists_the_weeks_main_stories_once_a_week(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    async with running(make_bot(), poll_timeout=1) as app:
        await say(telegram, "/subscribe copper", CHAT)
        await say(telegram, "/mode instant", CHAT)  # no daily digest: the weekly one still comes
        assert "Usage: /weekly mon 08:00" in (await say(telegram, "/weekly", CHAT)).plain_text
        assert "Use a day and a time" in (await say(telegram, "/weekly someday", CHAT)).plain_text
        set_to = (await say(telegram, "/weekly Monday 8am", CHAT)).plain_text or ""
        assert "on mon 08:00 (UTC)" in set_to
        assert "Weekly digest: mon 08:00" in (await say(telegram, "/settings", CHAT)).plain_text
        trigger = digest_job(app, at="mon 08:00").job.trigger
        wednesday = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
        assert trigger.get_next_fire_time(None, wednesday) == datetime(
            2026, 12, 14, 8, 0, tzinfo=UTC
        )
        before = len(telegram.sent_to(CHAT))
        await ingest(story(1, "Copper smelter output falls"), WHEAT_MENTIONING_COPPER)
        await telegram.wait_for_sent(before + 1, chat_id=CHAT)  # the instant alert
        before += 1
        await digest_job(app, at="mon 08:00").run(app)
        [weekly] = (await telegram.wait_for_sent(before + 1, chat_id=CHAT))[before:]
        text = weekly.plain_text or ""
        assert text.startswith("📰 Weekly digest, week to")
        assert "Copper smelter output falls" in text
        assert "wheat" not in text  # a passing mention is not a main story
        await digest_job(app, at="mon 08:00").run(app)
    async with running(make_bot(), poll_timeout=1) as app:  # a restart: still once this week
        await digest_job(app, at="mon 08:00").run(app)
        assert "Weekly digest turned off" in (await say(telegram, "/weekly off", CHAT)).plain_text
        assert app.job_queue is not None
        assert all(not (j.name or "").endswith("mon 08:00") for j in app.job_queue.jobs())
    assert len(telegram.sent_to(CHAT)) == before + 2  # the weekly digest, then /weekly off
