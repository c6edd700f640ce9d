"""One chat flooding the bot: other chats keep their answers, the flood is dropped after a
warning, and the bot still stops promptly."""

from __future__ import annotations

import asyncio
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from telegram import Bot, Update

from bot import rendering
from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.updates import (
    CHAT_BURST,
    FORGET_AFTER_SECONDS,
    MAX_WAITING_PER_CHAT,
    PerChatUpdateProcessor,
    TokenBucket,
)
from tests.fakes import FakeTelegram
from tests.test_instances import bot_env

FLOODER = 9001
OTHER = 9002
FLOOD_UPDATES = 2000
FLOOD_BATCH = 100  # updates injected together, every FLOOD_PAUSE seconds (1,000/s)
FLOOD_PAUSE = 0.1
HELP_ASKS = 20
REPLY_WAIT = 3.0  # seconds a /help answer is waited for before it counts as missing


async def flood(telegram: FakeTelegram, texts: Callable[[int], str]) -> None:
    """FLOOD_UPDATES messages from FLOODER, in batches spread over about two seconds."""
    for start in range(0, FLOOD_UPDATES, FLOOD_BATCH):
        for n in range(start, start + FLOOD_BATCH):
            telegram.add_message(FLOODER, texts(n))
        await asyncio.sleep(FLOOD_PAUSE)


async def help_latencies(telegram: FakeTelegram) -> list[float]:
    """Seconds OTHER waits for each of HELP_ASKS /help answers (inf once one never came)."""
    latencies: list[float] = []
    for _ in range(HELP_ASKS):
        before = len(telegram.sent_to(OTHER))
        asked = time.monotonic()
        telegram.add_message(OTHER, "/help")
        try:
            await telegram.wait_for_sent(before + 1, chat_id=OTHER, timeout=REPLY_WAIT)
        except AssertionError:
            return latencies + [math.inf] * (HELP_ASKS - len(latencies))
        latencies.append(time.monotonic() - asked)
        await asyncio.sleep(0.05)
    return latencies


def p95(values: list[float]) -> float:
    return sorted(values)[math.ceil(0.95 * len(values)) - 1]


def warnings_to(telegram: FakeTelegram, chat_id: int) -> int:
    return sum(m.text == rendering.slow_down() for m in telegram.sent_to(chat_id))


async def settle(telegram: FakeTelegram) -> None:
    """Wait until the bot has fetched every update and sent what it was going to send."""
    while telegram.pending_updates:
        await asyncio.sleep(0.05)
    count = -1
    while count != len(telegram.sent):
        count = len(telegram.sent)
        await asyncio.sleep(0.3)


async def flood_while_asking_for_help(
    telegram: FakeTelegram, texts: Callable[[int], str]
) -> list[float]:
    flooding = asyncio.create_task(flood(telegram, texts))
    await asyncio.sleep(0.2)  # the flood is under way
    latencies = await help_latencies(telegram)
    await flooding
    await settle(telegram)
    return latencies


async def test_a_subscribe_flood_from_one_chat_leaves_other_chats_answered_promptly(
    bot: BotApplication, telegram: FakeTelegram
) -> None:
    latencies = await flood_while_asking_for_help(telegram, lambda n: f"/subscribe topic{n}")

    assert p95(latencies) <= 1.0, latencies
    assert warnings_to(telegram, FLOODER) == 1
    assert len(telegram.sent_to(FLOODER)) < FLOOD_UPDATES // 20  # the rest was dropped


@pytest.fixture
async def copper_articles(ingest: Callable[..., Any]) -> None:
    """300 stored copper articles, each with a figure sentence."""
    await ingest(
        *(
            ArticleIn(
                title=f"Copper report {n}",
                body=f"Copper stocks in warehouse {n} rose {n % 9 + 1}% to {1000 + n * 37} "
                f"tonnes as smelter {n} output increased. " + "Traders were cautious. " * 20,
                url=f"https://x.example/{n}",
                source=f"Wire {n}",
            )
            for n in range(300)
        )
    )


async def test_a_facts_flood_from_one_chat_leaves_other_chats_answered_promptly(
    bot: BotApplication, telegram: FakeTelegram, copper_articles: None
) -> None:
    latencies = await flood_while_asking_for_help(telegram, lambda n: "/facts copper")

    assert p95(latencies) <= 1.0, latencies
    assert warnings_to(telegram, FLOODER) == 1
    answers = [m for m in telegram.sent_to(FLOODER) if m.text != rendering.slow_down()]
    assert 0 < len(answers) < FLOOD_UPDATES // 20
    assert all((m.plain_text or "").startswith("📊 Key facts: copper") for m in answers)


async def test_sigterm_stops_the_bot_within_five_seconds_during_a_flood(
    telegram: FakeTelegram, database_url: str, copper_articles: None
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=bot_env(telegram, database_url),
        stderr=subprocess.PIPE,
    )
    flooding: asyncio.Task[None] | None = None
    try:
        await telegram.wait_for_call("setMyCommands", timeout=30)
        flooding = asyncio.create_task(flood(telegram, lambda n: "/facts copper"))
        await telegram.wait_for_sent(chat_id=FLOODER, timeout=10)
        await asyncio.sleep(1.0)  # half the flood is in; the rest arrives while stopping
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=5)
        assert process.returncode == 0, stderr.decode()[-3000:]
    finally:
        if flooding is not None:
            flooding.cancel()
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_a_token_bucket_passes_a_burst_then_one_update_per_refill() -> None:
    bucket = TokenBucket.full(burst=3, per_second=0.5, now=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(101.0)  # half a token
    assert bucket.take(102.0)
    assert not bucket.take(102.0)


def test_a_token_bucket_refills_to_its_burst_and_no_further() -> None:
    bucket = TokenBucket.full(burst=3, per_second=0.5, now=0.0)
    assert all(bucket.take(0.0) for _ in range(3))
    assert not bucket.is_full(5.0)
    assert bucket.is_full(6.0)
    assert [bucket.take(1000.0) for _ in range(4)] == [True, True, True, False]


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def message_update(bot: Bot | None, chat_id: int, n: int) -> Update:
    update = Update.de_json(
        {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": 0,
                "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
                "text": "/help",
            },
        },
        bot,
    )
    assert update is not None
    return update


async def record(handled: list[int], n: int, release: asyncio.Event | None = None) -> None:
    """A stand-in for the handlers: waits for `release` if given, then notes `n`."""
    if release is not None:
        await release.wait()
    handled.append(n)


async def test_a_chats_waiting_updates_hold_no_slot_another_chat_needs() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    handled: list[int] = []
    release = asyncio.Event()
    busy = [
        asyncio.create_task(
            processor.process_update(message_update(None, FLOODER, n), record(handled, n, release))
        )
        for n in range(5)
    ]
    await asyncio.wait_for(
        processor.process_update(message_update(None, OTHER, 99), record(handled, 99)), 1
    )
    assert handled == [99]
    release.set()
    await asyncio.gather(*busy)
    assert handled == [99, 0, 1, 2, 3, 4]


async def test_a_flooding_chat_is_warned_once_and_again_only_after_a_quiet_spell(
    telegram: FakeTelegram,
) -> None:
    clock = Clock()
    processor = PerChatUpdateProcessor(clock=clock)
    handled: list[int] = []
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:

        async def send(count: int) -> None:
            for n in range(count):
                await processor.process_update(message_update(bot, FLOODER, n), record(handled, n))

        await send(CHAT_BURST + 30)
        clock.now += 5
        await send(30)
        assert len(handled) == CHAT_BURST + 5
        assert warnings_to(telegram, FLOODER) == 1

        clock.now += FORGET_AFTER_SECONDS
        await send(CHAT_BURST + 1)
        assert len(handled) == 2 * CHAT_BURST + 5
        assert warnings_to(telegram, FLOODER) == 2
    assert telegram.sent_to(FLOODER)[0].parse_mode == "HTML"


async def test_a_chats_backlog_is_bounded_and_kept_in_order(telegram: FakeTelegram) -> None:
    clock = Clock()
    processor = PerChatUpdateProcessor(clock=clock)
    handled: list[int] = []
    release = asyncio.Event()
    tasks = []
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:
        for n in range(MAX_WAITING_PER_CHAT + 10):
            clock.now += 1  # a token each time: only the backlog can turn updates away
            update = message_update(bot, FLOODER, n)
            tasks.append(
                asyncio.create_task(processor.process_update(update, record(handled, n, release)))
            )
            await asyncio.sleep(0)
        await telegram.wait_for_sent(chat_id=FLOODER)
        release.set()
        await asyncio.gather(*tasks)
    assert handled == list(range(MAX_WAITING_PER_CHAT + 1))
    assert warnings_to(telegram, FLOODER) == 1


async def test_updates_without_a_chat_are_never_dropped() -> None:
    processor = PerChatUpdateProcessor(clock=Clock())
    handled: list[int] = []
    for n in range(CHAT_BURST * 5):
        await processor.process_update(Update(update_id=n), record(handled, n))
    assert handled == list(range(CHAT_BURST * 5))


async def test_chats_quiet_for_a_while_are_forgotten() -> None:
    clock = Clock()
    processor = PerChatUpdateProcessor(clock=clock)
    for chat_id in range(1000):
        await processor.process_update(message_update(None, chat_id, 1), record([], 1))
    clock.now += FORGET_AFTER_SECONDS
    await processor.process_update(message_update(None, OTHER, 1), record([], 1))
    assert list(processor._chats) == [OTHER]
