"""Quiet hours: alerts due inside a chat's quiet hours are postponed to their end (in the
chat's zone, across midnight and DST) and then arrive together as one list of headlines;
a restart during quiet hours loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select, update

from bot.app import build_application, running
from bot.articles import ArticleIn
from bot.delivery import SendBudget
from bot.localtime import parse_quiet_hours
from bot.quiet import quiet_until
from bot.settings import Settings
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus, Chat, utcnow
from tests.conftest import FAST_BUDGET
from tests.fakes import FakeTelegram
from tests.test_chat_commands import say

CHAT = 951


def test_quiet_hours_across_midnight_end_the_next_morning() -> None:
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert quiet_until("22:00-07:00", "UTC", late) == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    early = datetime(2026, 12, 8, 6, 59, tzinfo=UTC)
    assert quiet_until("22:00-07:00", "UTC", early) == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    assert quiet_until("22:00-07:00", "UTC", datetime(2026, 12, 8, 7, 0, tzinfo=UTC)) is None
    assert quiet_until("22:00-07:00", "UTC", datetime(2026, 12, 8, 12, 0, tzinfo=UTC)) is None
    noon = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)
    assert quiet_until("12:00-14:00", "UTC", noon) == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    assert quiet_until("12:00-14:00", "UTC", datetime(2026, 12, 8, 23, 0, tzinfo=UTC)) is None


def test_quiet_hours_are_the_chats_local_time_across_daylight_saving_changes() -> None:
    # 23:00 UTC on 28 March is 23:00 GMT in London; BST starts at 01:00 UTC that night, so
    # 07:00 local the next morning is 06:00 UTC.
    spring = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert quiet_until("22:00-07:00", "Europe/London", spring) == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC
    )
    # 22:30 UTC on 24 October is 23:30 BST; GMT is back by the morning: 07:00 local is 07:00
    autumn = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    assert quiet_until("22:00-07:00", "Europe/London", autumn) == datetime(
        2026, 10, 25, 7, 0, tzinfo=UTC
    )
    # 20:00 UTC is 01:30 in Kolkata: inside, ending at 07:00 local = 01:30 UTC
    kolkata = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    assert quiet_until("22:00-07:00", "Asia/Kolkata", kolkata) == datetime(
        2026, 12, 8, 1, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("22:00-07:00", "22:00-07:00"), ("10pm-7am", "22:00-07:00"), ("22:00 – 6:30", "22:00-06:30")],
)
def test_quiet_hours_are_typed_as_a_span(typed: str, stored: str) -> None:
    assert parse_quiet_hours(typed) == stored


@pytest.mark.parametrize("typed", ["22:00", "22:00-22:00", "25:00-07:00", "night", "-07:00"])
def test_a_span_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="22:00-07:00"):
        parse_quiet_hours(typed)


def around_now() -> tuple[str, datetime]:
    """Quiet hours (UTC) that `now` falls in, and their end."""
    now = utcnow().replace(second=0, microsecond=0)
    start, end = now - timedelta(hours=2), now + timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}", end


def copper(n: int) -> ArticleIn:
    return ArticleIn(
        title=f"Copper story number {n} lifts prices",
        body=f"Copper rose {n}% on the LME as Chilean mines cut output.",
        url=f"https://wire.example/copper-{n}",
        source="Metals Wire",
    )


async def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def stored_alerts(db: SessionFactory) -> list[Alert]:
    async with db() as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())


async def test_alerts_in_quiet_hours_wait_through_a_restart_and_arrive_together_once(
    settings: Settings,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    bursting = settings.model_copy(update={"alert_burst_seconds": 1.0})

    def make() -> Any:
        return build_application(bursting, budget=SendBudget(**FAST_BUDGET))

    hours, end = around_now()
    async with running(make(), poll_timeout=1):
        await say(telegram, "/subscribe copper", CHAT)
        shown = (await say(telegram, f"/quiet {hours}", CHAT)).plain_text or ""
        assert f"Quiet hours set to {hours} (UTC)" in shown
        assert f"Quiet hours: {hours}" in ((await say(telegram, "/settings", CHAT)).plain_text)
        answered = len(telegram.sent_to(CHAT))
        await ingest(copper(1), copper(2))

        async def postponed() -> bool:
            rows = await stored_alerts(db)
            return len(rows) == 2 and all(a.next_attempt_at == end for a in rows)

        await wait_for(postponed)
    assert len(telegram.sent_to(CHAT)) == answered  # nothing pushed in quiet hours

    async with running(make(), poll_timeout=1):  # a restart during quiet hours
        await ingest(copper(3))

        async def all_postponed() -> bool:
            rows = await stored_alerts(db)
            return len(rows) == 3 and all(a.next_attempt_at == end for a in rows)

        await wait_for(all_postponed)
        await asyncio.sleep(0.5)
    rows = await stored_alerts(db)
    assert {(a.status, a.claimed_by) for a in rows} == {(AlertStatus.PENDING, None)}
    assert len(telegram.sent_to(CHAT)) == answered

    # The clock reaches the end of quiet hours: what was postponed to it is due now.
    async with db() as session:
        await session.exec(update(Alert).values(next_attempt_at=utcnow()))
        await session.exec(update(Chat).where(Chat.id == CHAT).values(quiet_hours=None))
        await session.commit()
    async with running(make(), poll_timeout=1):
        [together] = (await telegram.wait_for_sent(answered + 1, chat_id=CHAT))[answered:]
        await asyncio.sleep(1.5)
    text = together.plain_text or ""
    assert all(f"Copper story number {n}" in text for n in (1, 2, 3))
    assert len(telegram.sent_to(CHAT)) == answered + 1  # once, as one list
    rows = await stored_alerts(db)
    assert {a.status for a in rows} == {AlertStatus.SENT}
    assert {a.message_id for a in rows} == {together.message_id}


async def test_turning_quiet_hours_off_sends_what_they_held_back(
    bot: Any, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    assert "Usage: /quiet 22:00-07:00" in (await say(telegram, "/quiet", CHAT)).plain_text
    refused = (await say(telegram, "/quiet <b>all day</b>", CHAT)).plain_text or ""
    assert "Use a span like 22:00-07:00" in refused
    await say(telegram, "/subscribe copper", CHAT)
    hours, end = around_now()
    await say(telegram, f"/quiet {hours}", CHAT)
    answered = len(telegram.sent_to(CHAT))
    await ingest(copper(1))

    async def postponed() -> bool:
        return [a.next_attempt_at for a in await stored_alerts(db)] == [end]

    await wait_for(postponed)
    assert "Quiet hours off" in (await say(telegram, "/quiet off", CHAT)).plain_text
    [alert] = (await telegram.wait_for_sent(answered + 2, chat_id=CHAT))[answered + 1 :]
    assert "Copper story number 1" in (alert.plain_text or "")
    assert "Quiet hours: off" in (await say(telegram, "/settings", CHAT)).plain_text
    async with db() as session:
        chat = await session.get(Chat, CHAT)
    assert chat is not None and chat.quiet_hours is None
