"""The fan-out at delivery, end to end: alerts not yet sent follow the watch-list of the
moment, and a small story is not queued behind a big fan-out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

import bot.fanout
from bot.app import build_application, running
from bot.articles import ArticleIn
from bot.delivery import SendBudget
from bot.settings import Settings
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus, Level
from tests.conftest import FAST_BUDGET
from tests.fakes import FakeTelegram
from tests.test_alerts import expand, settle, subscribe
from tests.test_chat_commands import say
from tests.test_instances import subscribe_many

CHAT = 901
BURST = 2.0  # seconds a chat's next alerts are held back to be combined

FIRST = ArticleIn(
    title="Copper output rises at Chilean mine",
    body="Copper production rose 3% in October at the Escondida mine.",
    url="https://wire.example/first",
)
COPPER_ONLY = ArticleIn(
    title="Zambia copper exports hit a record",
    body="Zambia shipped 80,000 tonnes of copper in May, the most in a decade.",
    url="https://wire.example/copper-only",
)
COPPER_AND_ZINC = ArticleIn(
    title="Copper and zinc prices climb on the LME",
    body="Copper rose 2% and zinc rose 3% on the London Metal Exchange as stocks fell.",
    url="https://wire.example/copper-zinc",
)
MENTION = ArticleIn(
    title="Argentina's wheat harvest beats forecasts",
    body="Farmers in Argentina brought in 21 million tonnes of wheat, well above forecasts. "
    "Exporters expect record shipments to Brazil and Indonesia. Rain in the Pampas helped "
    "yields in the south. Elsewhere on commodity markets, copper prices edged up on the LME.",
    url="https://farm.example/wheat",
)


def bursting_bot(settings: Settings) -> Any:
    return build_application(
        settings.model_copy(update={"alert_burst_seconds": BURST}),
        budget=SendBudget(**FAST_BUDGET),
    )


async def held_back(db: SessionFactory, count: int) -> None:
    """Wait until `count` alerts of the chat are written and held back to be combined."""
    for _ in range(100):
        async with db() as session:
            rows = (
                await session.exec(
                    select(Alert).where(
                        Alert.chat_id == CHAT,
                        Alert.status == AlertStatus.PENDING,
                        col(Alert.next_attempt_at).is_not(None),
                    )
                )
            ).all()
        if len(rows) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} alerts held back")


def alert_texts(telegram: FakeTelegram) -> list[str]:
    return [m.plain_text or "" for m in telegram.sent_to(CHAT) if (m.plain_text or "")[:1] == "🔔"]


async def test_an_unsubscribe_takes_effect_for_alerts_already_queued(
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    settings: Settings,
) -> None:
    await subscribe(db, CHAT, "copper", "zinc")
    async with running(bursting_bot(settings), poll_timeout=1):
        await ingest(FIRST)
        await telegram.wait_for_sent(chat_id=CHAT)
        await ingest(COPPER_ONLY, COPPER_AND_ZINC)
        await held_back(db, 2)  # queued: held back to go with the chat's next alerts
        assert "copper" in (await say(telegram, "/unsubscribe copper", CHAT)).plain_text
        await settle(BURST + 1.0)
    texts = alert_texts(telegram)
    assert len(texts) == 2, texts
    assert "Zambia" not in texts[1]  # it matched copper only
    assert texts[1].startswith("🔔 Copper and zinc prices climb on the LME")
    [reasons] = [line for line in texts[1].splitlines() if line.startswith("Matched:")]
    assert reasons.startswith("Matched: zinc") and "copper" not in reasons
    async with db() as session:
        rows = (await session.exec(select(Alert).where(Alert.chat_id == CHAT))).all()
    assert sorted(row.status for row in rows) == [AlertStatus.SENT, AlertStatus.SENT]


async def test_a_level_changed_to_main_keeps_a_queued_mention_from_being_pushed(
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    settings: Settings,
) -> None:
    await subscribe(db, CHAT, "copper")
    async with db() as session:
        [watched] = await queries.list_subscriptions(session=session, chat_id=CHAT)
        assert watched.id is not None
        await queries.set_level(
            session=session, chat_id=CHAT, subscription_id=watched.id, level=Level.ALL
        )
        await session.commit()
    async with running(bursting_bot(settings), poll_timeout=1):
        await ingest(FIRST)
        await telegram.wait_for_sent(chat_id=CHAT)
        await ingest(MENTION)
        await held_back(db, 1)
        async with db() as session:
            await queries.set_level(
                session=session, chat_id=CHAT, subscription_id=watched.id, level=Level.MAIN
            )
            await session.commit()
        await settle(BURST + 1.0)
        digest = (await say(telegram, "/digest", CHAT)).plain_text or ""
    assert len(alert_texts(telegram)) == 1
    assert "Argentina" not in digest and "Copper output rises" in digest


async def test_a_story_for_one_chat_is_not_queued_behind_a_big_fan_out(
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    settings: Settings,
) -> None:
    big = range(5000, 5300)
    await subscribe_many(db, big, "copper")
    await subscribe(db, CHAT, "lithium")
    app = build_application(
        settings, budget=SendBudget(per_second=60, private_interval=0.01, group_interval=0.01)
    )
    async with running(app, poll_timeout=1):
        await ingest(FIRST)
        await telegram.wait_for_sent(30, timeout=10)
        await ingest(
            ArticleIn(
                title="Lithium brine output rises in Chile",
                body="Lithium output from the Atacama brines rose 5%.",
                url="https://wire.example/lithium",
            )
        )
        ingested = time.monotonic()
        [alert] = await telegram.wait_for_sent(chat_id=CHAT, timeout=10)
        waited = time.monotonic() - ingested
        before = sum(m.chat_id in big for m in telegram.sent if m.at < alert.at)
        await telegram.wait_for_sent(len(big) + 1, timeout=20)
    assert "Lithium brine output rises" in (alert.plain_text or "")
    assert waited < 2.0
    assert before < len(big) - 100, "the single story waited for most of the fan-out"
    assert telegram.too_many_requests == 0


async def test_a_fan_out_in_small_chunks_gives_each_chat_one_alert_naming_its_items(
    db: SessionFactory, ingest: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.fanout, "CHUNK", 3)
    watching = {
        chat: [topic for topic, every in (("copper", 2), ("zinc", 3)) if chat % every == 0]
        for chat in range(1, 21)
    }
    for chat, topics in watching.items():
        await subscribe(db, chat, *topics)
    await ingest(COPPER_AND_ZINC)
    async with db() as session:
        assert await bot.fanout.expand_round(session=session) == 1  # one chunk per round
    await expand(db)
    async with db() as session:
        rows = (await session.exec(select(Alert).order_by(col(Alert.position)))).all()
    told = {row.chat_id: json.loads(row.topics) for row in rows}
    assert told == {chat: topics for chat, topics in watching.items() if topics}
    assert [row.position for row in rows] == list(range(len(rows)))
    assert [row.chat_id for row in rows] == sorted(told)
