"""/stop pauses a chat's alerts and digests; /start resumes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot import subscriptions
from bot.context import BotApplication
from bot.digest_jobs import slot_job_name
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus
from tests.fakes import FakeTelegram
from tests.test_alerts import copper_story, settle, subscribe
from tests.test_chat_commands import say

CHAT = 701


def digest_jobs(app: BotApplication) -> list[str]:
    assert app.job_queue is not None
    return [job.name for job in app.job_queue.jobs() if job.name == slot_job_name("UTC", "08:00")]


async def test_a_paused_chat_gets_no_alerts_and_no_digest_until_start(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await say(telegram, "/subscribe copper", CHAT)
    assert digest_jobs(bot) != []
    paused = await say(telegram, "/stop", CHAT)
    assert "paused" in paused.plain_text and "/start" in paused.plain_text
    assert digest_jobs(bot) == []

    await ingest(copper_story(1))
    await settle()
    assert len(telegram.sent_to(CHAT)) == 2  # the /subscribe and /stop answers only
    async with db() as session:
        assert list((await session.exec(select(Alert))).all()) == []

    before = len(telegram.sent_to(CHAT))
    telegram.add_message(CHAT, "/start")
    resumed, help_text = (await telegram.wait_for_sent(before + 2, chat_id=CHAT))[before:]
    assert "on again" in resumed.plain_text and "/subscribe" in help_text.plain_text
    assert digest_jobs(bot) != []
    await ingest(copper_story(2))
    [alert] = (await telegram.wait_for_sent(before + 3, chat_id=CHAT))[before + 2 :]
    assert "Zambia copper exports" in alert.plain_text


async def test_alerts_not_yet_sent_when_a_chat_pauses_wait_for_its_digest(
    db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, CHAT, "copper")
    await ingest(copper_story(1))
    async with db() as session:
        unpaused = await queries.subscriptions_fingerprint(session=session)
    await subscriptions.pause(db, CHAT)
    async with db() as session:
        [alert] = (await session.exec(select(Alert))).all()
        assert alert.status == AlertStatus.HELD
        # a running ingest rebuilds its matcher without the paused chat
        assert await queries.subscriptions_fingerprint(session=session) != unpaused
        assert await queries.digest_slots(session=session) == []
    assert await subscriptions.resume(db, CHAT) is True
    assert await subscriptions.resume(db, CHAT) is False
    async with db() as session:
        assert await queries.digest_slots(session=session) == [queries.DigestSlot("UTC", "08:00")]


async def test_an_alert_queued_by_an_ingest_that_missed_the_pause_is_not_sent(
    db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, CHAT, "copper")
    await ingest(copper_story(1))  # matched before the pause reached this ingest
    async with db() as session:
        await queries.update_chat(session=session, chat_id=CHAT, paused=True)
        await session.commit()
    async with db() as session:
        claimed = await queries.claim_due_alerts(
            session=session, worker="w", limit=10, lease=timedelta(seconds=30)
        )
    assert claimed == []
