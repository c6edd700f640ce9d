"""Pacing under Telegram's limits: the send budget alone, then the dispatcher against a fake
Bot API that answers 429 like Telegram when a limit is exceeded."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.app import build_application, running
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.delivery import SendBudget
from bot.settings import Settings
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus
from tests.fakes import FakeTelegram


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_spaces_sends_overall_and_per_chat() -> None:
    clock = Clock()
    budget = SendBudget(per_second=10, private_interval=1.0, group_interval=3.0, clock=clock)
    assert [round(budget.reserve(chat), 2) for chat in (1, 2, 3)] == [0.0, 0.1, 0.2]
    assert round(budget.reserve(-5), 2) == 0.3  # a group's first message is not held back
    assert round(budget.reserve(1), 2) == 1.0  # the same private chat: a second apart
    assert round(budget.reserve(-5), 2) == 3.3  # the same group: three seconds apart


def test_a_pause_holds_every_chat() -> None:
    clock = Clock()
    budget = SendBudget(per_second=10, clock=clock)
    budget.pause(5)
    assert budget.is_paused()
    assert budget.reserve(42) == 5.0
    clock.now += 5
    assert not budget.is_paused()


def test_sends_held_up_together_go_out_spread_and_at_most_a_second_full() -> None:
    clock = Clock()
    budget = SendBudget(per_second=10, clock=clock)
    assert [round(budget.reserve(chat), 2) for chat in range(1, 13)] == [
        round(0.1 * n, 2) for n in range(12)
    ]
    clock.now += 1.5  # the event loop stalled: every slot so far has passed
    budget.started(1)
    assert round(budget.crowded(), 3) == 0.05  # not at once: half a slot after the last
    for chat in range(2, 11):
        clock.now += budget.crowded()
        budget.started(chat)
    assert round(budget.crowded(), 3) == 0.55  # ten started within the second: wait for room


def test_a_send_that_starts_late_spaces_its_chat_from_when_it_started() -> None:
    clock = Clock()
    budget = SendBudget(per_second=10, private_interval=1.0, clock=clock)
    assert budget.reserve(7) == 0.0
    clock.now += 0.7  # held up: the second was full
    budget.started(7)
    assert round(budget.reserve(7), 2) == 1.0


async def test_the_dispatcher_stays_under_telegrams_limits_without_429s(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    telegram.set_rate_limits(per_second=30, per_chat_per_second=1, group_per_minute=20)
    chats = list(range(100, 140))
    async with db() as session:
        for chat_id in chats:
            await queries.ensure_chat(session=session, chat_id=chat_id)
            await queries.add_subscription(session=session, chat_id=chat_id, topic="copper")
        await session.commit()
    stories = [
        ArticleIn(title=title, body=title, url=f"https://x.example/{n}")
        for n, title in enumerate(
            [
                "Copper output rises at Chilean mine",
                "Zambia copper exports hit a record",
                "Copper smelter strike ends in Peru",
            ]
        )
    ]
    await ingest(*stories)
    async with running(make_bot(budget=SendBudget()), poll_timeout=1):
        await telegram.wait_for_sent(len(chats) * len(stories), timeout=20)
    assert telegram.too_many_requests == 0
    for chat_id in chats:
        times = [m.at for m in telegram.sent_to(chat_id)]
        assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


async def test_a_burst_for_one_chat_becomes_a_few_lists_of_headlines(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    settings: Settings,
) -> None:
    telegram.set_rate_limits(per_second=30, per_chat_per_second=1, group_per_minute=20)
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=77)
        await queries.add_subscription(session=session, chat_id=77, topic="copper")
        await session.commit()
    fast_settings = settings.model_copy(update={"alert_burst_seconds": 1.0})
    app = build_application(fast_settings, budget=SendBudget())
    companies = "Codelco Glencore Antofagasta Freeport Zijin Anglo Teck Vale Rio BHP"
    events = "strike flood permit audit merger outage expansion lawsuit tender recall"
    places = "Atacama Katanga Arizona Sonora Zambia Mongolia Panama Peru Quebec Yukon"
    who, what, where = (line.split() for line in (companies, events, places))
    titles = [  # different stories, so that none is folded into another as a second report
        f"{who[n % 10]} copper {what[(n + n // 10) % 10]} in {where[(3 * n + n // 10) % 10]}"
        for n in range(30)
    ]
    async with running(app, poll_timeout=1):
        await ingest(ArticleIn(title=titles[0], url="https://x.example/0"))
        [first] = await telegram.wait_for_sent(chat_id=77)
        await ingest(
            *(
                ArticleIn(title=title, url=f"https://x.example/{n}")
                for n, title in enumerate(titles[1:], start=1)
            )
        )
        for _ in range(100):  # until every headline has gone out, at most 10 s
            listed = "\n".join(m.plain_text or "" for m in telegram.sent_to(77)[1:])
            if all(title in listed for title in titles[1:]):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
    messages = telegram.sent_to(77)
    assert "Matched: copper" in (first.plain_text or "")
    assert all(title in listed for title in titles[1:])
    assert 2 <= len(messages) <= 5, [m.plain_text for m in messages]
    assert all("new articles on your watch-list" in (m.plain_text or "") for m in messages[1:])
    assert telegram.too_many_requests == 0
    async with db() as session:
        rows = (await session.exec(select(Alert))).all()
    assert {row.status for row in rows} == {AlertStatus.SENT}


async def test_a_list_of_headlines_gives_source_date_and_short_labels_and_shows_the_evidence(
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    settings: Settings,
) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=78)
        await queries.add_subscription(session=session, chat_id=78, topic="copper -Copperfield")
        await session.commit()
    app = build_application(
        settings.model_copy(update={"alert_burst_seconds": 0.5}), budget=SendBudget()
    )
    stories = [
        ArticleIn(
            title="Codelco copper strike in Atacama",
            body="Workers at Codelco's Atacama copper mine walked out on Monday.",
            url="https://x.example/strike",
            source="Mining Wire",
            published=datetime(1987, 3, 2, tzinfo=UTC),
        ),
        ArticleIn(
            title="Zijin copper permit granted in Katanga",
            body="Congo granted Zijin a permit to expand its Katanga copper mine by 40%.",
            source="Metals Daily",
        ),
    ]
    async with running(app, poll_timeout=1):
        await ingest(ArticleIn(title="Glencore copper output rises", url="https://x.example/0"))
        await telegram.wait_for_sent(chat_id=78)
        await ingest(*stories)
        listing = (await telegram.wait_for_sent(2, chat_id=78, timeout=10))[1]
        text = listing.plain_text or ""
        assert "2 new articles" in text
        assert "Codelco copper strike in Atacama — Mining Wire, 02 Mar 1987 · copper" in text
        assert (
            "Zijin copper permit granted in Katanga — Metals Daily, date unknown · copper" in text
        )
        assert "Copperfield" not in text  # the label, not the whole watch item on every line
        [[button]] = listing.reply_markup["inline_keyboard"]
        for _ in range(50):  # until the dispatcher has recorded which message carried them
            async with db() as session:
                statuses = {row.status for row in (await session.exec(select(Alert))).all()}
            if statuses == {AlertStatus.SENT}:
                break
            await asyncio.sleep(0.1)
        telegram.add_callback(78, button["callback_data"], message_id=listing.message_id)
        why = (await telegram.wait_for_sent(3, chat_id=78))[2].plain_text or ""
    assert (
        "Codelco copper strike in Atacama\ncopper -Copperfield — main subject: “Workers at" in why
    )
    assert "“Congo granted Zijin a permit to expand its Katanga copper mine by 40%.”" in why
