"""Pacing under Telegram's limits: the send budget alone, then the dispatcher against a fake
Bot API that answers 429 like Telegram when a limit is exceeded."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from bot.app import running
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.delivery import SendBudget
from storage import queries
from storage.db import SessionFactory
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
