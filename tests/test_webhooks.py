"""Outbound webhooks (bot/webhooks.py, /webhook): signed JSON POSTs to a local receiver,
retries, address rules, disabling after repeated failures, and the admin command end to end
against the fake Bot API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect

from bot.app import build_application, running
from bot.context import BotApplication
from bot.fetch import RefusedURL
from bot.settings import Settings
from bot.webhooks import (
    DISABLE_AFTER,
    DisabledWebhook,
    WebhookArticle,
    WebhookItem,
    WebhookPayload,
    WebhookPolicy,
    WebhookSender,
    WebhookTarget,
    alert_payload,
    check_webhook_address,
    deliver,
)
from handlers import admin
from storage import queries
from storage import webhooks as webhook_store
from storage.db import SessionFactory, create_engine
from storage.schema import upgrade_schema
from tests.fakes import FakeTelegram
from tests.fakes.receiver import Received, WebhookReceiver
from tests.test_schema import migrate

ADMIN = 81
STRANGER = 82
GROUP = -100_881
SECRET = "s3cret-for-tests"
FAST = WebhookPolicy(allow_private=True, timeout=2.0, attempts=4, first_delay=0.01)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"admin_ids": frozenset({ADMIN}), "allow_private_feed_hosts": True}
    )


def copper_alert(chat_id: int = ADMIN) -> WebhookPayload:
    article = WebhookArticle(
        id=17,
        title="Codelco output falls <8%> & copper rises",
        url="https://news.example/codelco",
        source="Mining Weekly",
        published_at=datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
    )
    return alert_payload(
        chat_id,
        article,
        (WebhookItem("copper", main_story=True), WebhookItem("Chile", main_story=False)),
        relevance=0.8766,
        evidence="Codelco said production dropped 8% in February.",
        sources=("Mining Weekly", "Reuters"),
    )


def verified(received: Received, secret: str) -> bool:
    """What a receiver does (the README's snippet): HMAC the raw body, compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers.get("X-Tradebot-Signature", ""))


# ------------------------------------------------------------------------------ the sender


async def test_a_receiver_that_fails_twice_gets_the_alert_once_with_a_valid_signature(
    receiver: WebhookReceiver,
) -> None:
    receiver.fail_next(503, times=2)
    result = await deliver(WebhookTarget(receiver.url(), SECRET), copper_alert(), policy=FAST)
    assert (result.delivered, result.status, result.attempts) == (True, 200, 3)
    assert [r.status for r in receiver.requests] == [503, 503, 200]
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1  # every attempt signs the same bytes
    [delivered] = receiver.deliveries
    assert verified(delivered, SECRET) and not verified(delivered, "another secret")
    assert delivered.headers["Idempotency-Key"] == f"tradebot:{ADMIN}:17"
    assert delivered.headers["Content-Type"] == "application/json"
    assert json.loads(delivered.body) == {
        "event": "alert",
        "chat_id": ADMIN,
        "article": {
            "id": 17,
            "title": "Codelco output falls <8%> & copper rises",
            "url": "https://news.example/codelco",
            "source": "Mining Weekly",
            "published_at": "2026-03-04T08:00:00+00:00",
        },
        "items": [
            {"topic": "copper", "main_story": True},
            {"topic": "Chile", "main_story": False},
        ],
        "relevance": 0.877,
        "evidence": "Codelco said production dropped 8% in February.",
        "sources": ["Mining Weekly", "Reuters"],
    }


async def test_a_timeout_and_a_429_are_retried_and_a_client_error_is_final(
    receiver: WebhookReceiver,
) -> None:
    target = WebhookTarget(receiver.url(), SECRET)
    receiver.stall_next(1.0)
    policy = WebhookPolicy(allow_private=True, timeout=0.3, attempts=3, first_delay=0.01)
    timed_out = await deliver(target, copper_alert(), policy=policy)
    assert (timed_out.delivered, timed_out.attempts) == (True, 2)

    receiver.fail_next(429, retry_after=1)
    started = time.monotonic()
    limited = await deliver(target, copper_alert(), policy=FAST)
    assert (limited.delivered, limited.attempts) == (True, 2)
    assert time.monotonic() - started >= 0.9  # waited as Retry-After said

    receiver.fail_next(410)
    gone = await deliver(target, copper_alert(), policy=FAST)
    assert (gone.delivered, gone.status, gone.attempts, gone.error) == (False, 410, 1, "HTTP 410")

    receiver.fail_next(500, times=4)
    down = await deliver(target, copper_alert(), policy=FAST)
    assert (down.delivered, down.status, down.attempts) == (False, 500, 4)


async def test_private_hosts_are_refused_unless_allowed_and_metadata_addresses_always(
    receiver: WebhookReceiver,
) -> None:
    strict = WebhookPolicy(allow_private=False, attempts=1)
    refused = await deliver(WebhookTarget(receiver.url(), SECRET), copper_alert(), policy=strict)
    assert not refused.delivered and "ALLOW_PRIVATE_FEED_HOSTS" in (refused.error or "")
    https_loopback = receiver.url().replace("http://", "https://")
    refused = await deliver(WebhookTarget(https_loopback, SECRET), copper_alert(), policy=strict)
    assert not refused.delivered and "loopback" in (refused.error or "")
    assert receiver.requests == []

    for url, allow_private, reason in (
        ("http://news.example/hook", False, "need https"),
        ("ftp://news.example/hook", True, "only http and https"),
        ("https://localhost/hook", False, "loopback"),
        ("https://10.1.2.3/hook", False, "private"),
        ("http://169.254.169.254/latest", True, "metadata"),
        ("https://[::ffff:169.254.169.254]/", True, "metadata"),
    ):
        with pytest.raises(RefusedURL, match=reason):
            await check_webhook_address(url, allow_private=allow_private)
    assert (await check_webhook_address(receiver.url(), allow_private=True)).port is not None


async def test_repeated_failures_disable_the_webhook_and_the_admins_are_told_once(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, receiver: WebhookReceiver
) -> None:
    telegram.add_message(ADMIN, "/start")
    await telegram.wait_for_sent(chat_id=ADMIN)
    async with db() as session:
        await webhook_store.set_webhook(
            session=session, chat_id=ADMIN, url=receiver.url(), secret=SECRET
        )
        await session.commit()
    told: list[DisabledWebhook] = []

    async def on_disabled(disabled: DisabledWebhook) -> None:
        told.append(disabled)
        await admin.report_disabled_webhook(bot.bot, db, {ADMIN}, disabled)

    sender = WebhookSender(db, WebhookPolicy(allow_private=True, attempts=1), on_disabled)
    receiver.fail_next(500, times=1)
    assert (await sender.deliver(copper_alert())) is not None
    assert (await sender.deliver(copper_alert())).delivered  # type: ignore[union-attr]
    async with db() as session:
        hook = await webhook_store.get_webhook(session=session, chat_id=ADMIN)
        assert hook is not None and hook.failures == 0  # a delivery forgets earlier failures

    receiver.fail_next(502, times=DISABLE_AFTER + 1)
    for _ in range(DISABLE_AFTER):
        result = await sender.deliver(copper_alert())
        assert result is not None and not result.delivered
    assert await sender.deliver(copper_alert()) is None  # disabled: not even tried
    assert len(receiver.requests) == 2 + DISABLE_AFTER
    assert [(d.chat_id, d.failures, d.error) for d in told] == [(ADMIN, DISABLE_AFTER, "HTTP 502")]
    notice = (await telegram.wait_for_sent(2, chat_id=ADMIN))[-1].plain_text or ""
    assert "disabled after 5 failed deliveries in a row" in notice and "HTTP 502" in notice
    async with db() as session:
        hook = await webhook_store.get_webhook(session=session, chat_id=ADMIN)
        assert hook is not None and hook.disabled and hook.last_error == "HTTP 502"


async def test_submit_never_waits_for_the_receiver(
    db: SessionFactory, receiver: WebhookReceiver
) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=ADMIN)
        await webhook_store.set_webhook(
            session=session, chat_id=ADMIN, url=receiver.url(), secret=SECRET
        )
        await session.commit()

    async def on_disabled(_disabled: DisabledWebhook) -> None:
        raise AssertionError("not disabled here")

    sender = WebhookSender(db, FAST, on_disabled)
    receiver.stall_next(0.3)
    started = time.monotonic()
    sender.submit(copper_alert())
    assert time.monotonic() - started < 0.05
    await sender.wait()
    assert len(receiver.deliveries) == 1
    sender.submit(copper_alert(chat_id=STRANGER))  # no webhook: nothing happens
    await sender.stop()


async def test_the_webhooks_table_comes_and_goes_with_its_migration(database_url: str) -> None:
    engine = create_engine(database_url)

    async def tables() -> list[str]:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())

    try:
        await upgrade_schema(engine)
        assert "webhooks" in await tables()
        await migrate(engine, command.downgrade, "0009")
        assert "webhooks" not in await tables()
        await migrate(engine, command.upgrade, "head")
        assert "webhooks" in await tables()
    finally:
        await engine.dispose()


# ------------------------------------------------------------------------------ /webhook


async def say(telegram: FakeTelegram, text: str, chat_id: int = ADMIN, **kwargs: object) -> str:
    before = len(telegram.sent_to(chat_id))
    telegram.add_message(chat_id, text, **kwargs)  # type: ignore[arg-type]
    replies = await telegram.wait_for_sent(before + 1, chat_id=chat_id)
    return replies[before].plain_text or ""


async def test_an_admin_adds_tests_lists_and_removes_a_chats_webhook(
    bot: BotApplication, telegram: FakeTelegram, receiver: WebhookReceiver
) -> None:
    assert "No webhooks yet" in await say(telegram, "/webhook")
    added = await say(telegram, f"/webhook add {receiver.url()}")
    assert f"Webhook added for chat {ADMIN}: {receiver.url()}" in added
    secret = added.split("Secret (shown only now): ", 1)[1].split("\n", 1)[0]
    assert len(secret) >= 40

    tested = await say(telegram, "/webhook test")
    assert "Test alert delivered" in tested and "HTTP 200 after 1 attempt" in tested
    [test_post] = receiver.deliveries
    assert verified(test_post, secret)
    assert json.loads(test_post.body)["event"] == "test"
    assert test_post.headers["X-Tradebot-Event"] == "test"

    receiver.fail_next(404)
    assert "not delivered" in await say(telegram, "/webhook test")
    listing = await say(telegram, "/webhook")
    assert f"chat {ADMIN}: {receiver.url()} ✅ ok" in listing  # a test does not count
    assert f"Webhook removed from chat {ADMIN}" in await say(telegram, "/webhook remove")
    assert f"No webhook for chat {ADMIN}" in await say(telegram, "/webhook test")


async def test_an_admin_attaches_a_webhook_to_a_group_by_its_id_from_a_private_chat(
    bot: BotApplication, telegram: FakeTelegram, receiver: WebhookReceiver
) -> None:
    assert "has to talk to me first" in await say(
        telegram, f"/webhook add {GROUP} {receiver.url()}"
    )
    await say(telegram, "/start", chat_id=GROUP, chat_type="group")
    added = await say(telegram, f"/webhook add {GROUP} {receiver.url()}")
    assert f"Webhook added for chat {GROUP}" in added
    replaced = await say(telegram, f"/webhook add {GROUP} {receiver.url('/v2')}")
    assert f"Webhook replaced for chat {GROUP}: {receiver.url('/v2')}" in replaced
    assert "Test alert delivered" in await say(telegram, f"/webhook test {GROUP}")
    assert (
        receiver.deliveries[0]
        .headers.get("Idempotency-Key", "")
        .startswith(f"tradebot:test:{GROUP}:")
    )
    assert "Usage" in await say(telegram, "/webhook add")
    assert "Usage" in await say(telegram, "/webhook frobnicate")


async def test_webhook_is_for_admins_in_private_only(
    bot: BotApplication, telegram: FakeTelegram, receiver: WebhookReceiver
) -> None:
    assert "admin-only" in await say(telegram, f"/webhook add {receiver.url()}", chat_id=STRANGER)
    in_group = await say(telegram, "/webhook", chat_id=GROUP, user_id=ADMIN, chat_type="group")
    assert "only in a private chat" in in_group
    assert receiver.requests == []


async def test_a_private_webhook_address_is_refused_without_allow_private_feed_hosts(
    settings: Settings, telegram: FakeTelegram, receiver: WebhookReceiver
) -> None:
    strict = settings.model_copy(update={"allow_private_feed_hosts": False})
    async with running(build_application(strict), poll_timeout=1):
        refused = await say(telegram, f"/webhook add {receiver.url()}")
        assert "Not added" in refused and "ALLOW_PRIVATE_FEED_HOSTS" in refused
        metadata = await say(telegram, "/webhook add https://169.254.169.254/hook")
        assert "cloud metadata address" in metadata
        assert "No webhooks yet" in await say(telegram, "/webhook")
    assert receiver.requests == []
