"""/test QUERY end to end: counts per day at each level from stored articles, the newest with
their evidence, the button that subscribes as tested, and `tradebot test`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot import querytest, rendering
from bot.articles import ArticleIn
from bot.cli import main
from bot.context import BotApplication
from bot.lexicon import default_lexicon
from bot.refs import DayCount, QueryTestReport
from bot.topics import parse_watch_item
from storage.db import SessionFactory
from storage.models import Article
from tests.fakes import FakeTelegram
from tests.test_alerts import alerts, expand
from tests.test_chat_commands import CHAT, say, topics_of
from tests.test_groups import ADMIN, ADMINS_ONLY, GROUP, MEMBER, press_in_group, say_in_group

QUERY = "(copper OR nickel) -Copperfield"

STORIES = [
    ArticleIn(
        title="Nickel output jumps in Indonesia",
        body="Nickel output rose 12% in Indonesia as new smelters opened. Nickel ore "
        "exports were steady, and nickel prices eased.",
        url="https://news.example.com/nickel",
        source="Test Wire",
    ),
    ArticleIn(
        title='Copper <b>rallies</b> & "miners" gain',
        body="Copper rose 4% on the LME as Chilean copper mines cut output. Copper stocks fell.",
        url="https://news.example.com/copper?a=1&b=<2>",
        source="Wire <Daily>",
    ),
    ArticleIn(
        title="David Copperfield tour sells out",
        body="The magician's copper-coloured stage drew crowds.",
        source="Arts Desk",
    ),
    ArticleIn(
        title="Zinc smelters restart in Peru",
        body="Zinc output recovered in Peru after strikes ended and smelters reopened. Zinc "
        "concentrate shipments rose. Zinc prices fell as stocks grew. Analysts said zinc "
        "demand was firm. A small copper plant nearby was idle.",
        source="Test Wire",
    ),
]


async def age(db: SessionFactory, title: str, days: int) -> None:
    """Move a stored article back in time, as if ingested `days` days ago."""
    async with db() as session:
        article = (await session.exec(select(Article).where(col(Article.title) == title))).one()
        article.ingested_at = datetime.now(UTC) - timedelta(days=days)
        session.add(article)
        await session.commit()


async def test_test_counts_stored_alerts_per_day_and_shows_the_newest_with_evidence(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await ingest(*STORIES)
    await age(db, STORIES[0].title, 3)
    await age(db, STORIES[3].title, 40)  # outside the 30 days

    reply = await say(telegram, f"/test {QUERY}")
    text = reply.plain_text or ""
    assert text.startswith(f"🧪 {QUERY} over the last 30 days:")
    assert "main stories: 2 (0.1 a day) · every mention: 2 (0.1 a day)" in text
    day = (datetime.now(UTC) - timedelta(days=3)).strftime("%d %b")
    assert f"{day}: 1 · 1" in text
    assert 'Copper <b>rallies</b> & "miners" gain — main story' in text  # escaped, shown as typed
    assert "“Copper rose 4% on the LME as Chilean copper mines cut output.”" in text
    assert "Wire <Daily>" in text and "Copperfield tour" not in text
    assert text.index("Copper <b>rallies</b>") < text.index("Nickel output jumps")  # newest first
    [[button]] = reply.reply_markup["inline_keyboard"]
    assert button["callback_data"].startswith("tested:")
    assert await topics_of(db) == []

    telegram.add_callback(CHAT, button["callback_data"], message_id=reply.message_id)
    confirmation = (await telegram.wait_for_sent(len(telegram.sent_to(CHAT)) + 2, chat_id=CHAT))[-1]
    assert f"Subscribed to {QUERY}" in (confirmation.plain_text or "")
    assert await topics_of(db) == [QUERY]

    await ingest(ArticleIn(title="Nickel miners strike in Canada", body="Nickel output fell."))
    await expand(db)
    [alert] = await alerts(db)
    assert alert.chat_id == CHAT and QUERY in alert.topics
    await ingest(ArticleIn(title="Copperfield's nickel trick", body="Nickel coins vanished."))
    await expand(db)
    assert len(await alerts(db)) == 1


async def test_test_counts_every_mention_apart_from_main_stories(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(STORIES[3])
    text = (await say(telegram, "/test copper")).plain_text or ""
    assert "main stories: 0 (0.0 a day) · every mention: 1" in text
    assert "Zinc smelters restart in Peru — mentioned" in text


async def test_test_explains_a_bad_query_and_its_usage(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    assert "/test QUERY" in ((await say(telegram, "/test")).plain_text or "")
    reply = await say(telegram, "/test (copper OR nickel")
    assert "Unbalanced parenthesis after 'nickel'" in (reply.plain_text or "")
    reply = await say(telegram, "/test /(a+)+$/")
    assert "Nothing stored would have matched." in (reply.plain_text or "")
    assert "names no word the search index knows" in (reply.plain_text or "")


async def test_a_stale_or_forged_test_button_subscribes_nobody(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    reply = await say(telegram, "/test copper")
    before = len(telegram.callback_answers)
    telegram.add_callback(CHAT, "tested:0123456789ab", message_id=reply.message_id)
    await telegram.wait_for_call("answerCallbackQuery", before + 1, timeout=10)
    assert (
        telegram.callback_answers[before]["text"]
        == "This test is no longer kept: send /test again."
    )
    [[button]] = reply.reply_markup["inline_keyboard"]
    other = 777  # another chat pressing this chat's token: not kept there
    telegram.add_callback(other, button["callback_data"], message_id=reply.message_id)
    await telegram.wait_for_call("answerCallbackQuery", before + 2, timeout=10)
    assert await topics_of(db) == [] and await topics_of(db, other) == []


async def test_in_a_group_only_an_administrator_subscribes_as_tested(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    telegram.set_member_status(GROUP, ADMIN, "administrator")
    reply = await say_in_group(telegram, "/test copper OR tin", MEMBER)  # anyone may test
    [[button]] = reply.reply_markup["inline_keyboard"]
    data = button["callback_data"]
    assert await press_in_group(telegram, data, reply.message_id, MEMBER) == ADMINS_ONLY
    assert await topics_of(db, GROUP) == []
    await press_in_group(telegram, data, reply.message_id, ADMIN)
    assert await topics_of(db, GROUP) == ["copper OR tin"]


async def test_a_chat_holds_five_regex_topics(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory
) -> None:
    for n in range(5):
        reply = await say(telegram, f"/subscribe /cop{n}+er/")
        assert "Subscribed" in (reply.plain_text or "")
    reply = await say(telegram, "/subscribe /tin+/ OR zinc")
    assert "at most 5 topics with regular expressions" in (reply.plain_text or "")
    assert len(await topics_of(db)) == 5


async def test_the_cli_twin_prints_the_report(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ingest: Callable[..., Any],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    await ingest(*STORIES)
    assert await asyncio.to_thread(main, ["test", QUERY, "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"🧪 {QUERY} over the last 7 days:")
    assert 'Copper <b>rallies</b> & "miners" gain — main story' in out
    assert await asyncio.to_thread(main, ["test", "copper OR"]) == 2
    assert "tradebot: query: Expected a word, phrase or (…) after 'OR'." in capsys.readouterr().err


def test_a_report_says_from_when_it_counted_when_there_were_more_candidates() -> None:
    day = datetime(2026, 11, 24, tzinfo=UTC)
    report = QueryTestReport(
        "copper", (DayCount(day.date(), 1, 2),), (), 2000, True, day + timedelta(hours=7)
    )
    text = rendering.plain_text(rendering.test_report(report).text)
    assert "Counted on the newest 2000 articles that could match, since 24 Nov 07:00 UTC." in text
    unsearched = QueryTestReport("/x+y/", report.days, (), 1000, False, day)
    text = rendering.plain_text(rendering.test_report(unsearched).text)
    assert "tried on the newest 1000 articles, since 24 Nov 00:00 UTC." in text


async def test_test_counts_days_in_the_chat_time_zone(
    db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await ingest(STORIES[1])
    async with db() as session:
        article = (await session.exec(select(Article))).one()
        article.ingested_at = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 01:30 on 2 March in India
        session.add(article)
        await session.commit()
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    item = parse_watch_item("copper", default_lexicon())

    def per_day(report: QueryTestReport) -> dict[str, int]:
        return {f"{count.day:%d %b}": count.mentions for count in report.days if count.mentions}

    india = await querytest.test_query(
        db, item, default_lexicon(), days=2, zone=ZoneInfo("Asia/Kolkata"), now=now
    )
    assert per_day(india) == {"02 Mar": 1}
    utc = await querytest.test_query(db, item, default_lexicon(), days=2, now=now)
    assert per_day(utc) == {"01 Mar": 1}
