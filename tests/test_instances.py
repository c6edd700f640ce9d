"""Several instances on one database: webhook mode, alert leases, the sender lock (PostgreSQL's
advisory lock, SQLite's lock file), takeover after a crash, and concurrent ingest processes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select
from telegram import Bot

from bot.articles import ArticleIn
from bot.delivery import NOT_THE_SENDER, Dispatcher, SendBudget
from bot.feeds import FeedPoller, add_feed
from bot.ingest import Ingestor
from bot.lexicon import default_lexicon
from bot.settings import Settings
from storage import queries
from storage.db import SessionFactory, create_engine, session_factory
from storage.locks import SenderLock, sender_lock_file
from storage.models import Alert, AlertSender, AlertStatus, Article, Level, Subscription, utcnow
from tests.conftest import FAST_BUDGET
from tests.fakes import FakeTelegram
from tests.fakes.web import FakeWeb, Item, rss20
from tests.test_alerts import expand

SECRET = "s3cret-token_1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bot_env(telegram: FakeTelegram, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "DATABASE_URL": database_url,
        "ALERT_POLL_SECONDS": "0.5",
        **extra,
    }


@asynccontextmanager
async def webhook_instance(
    telegram: FakeTelegram, database_url: str, **extra: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`tradebot run` in webhook mode as its own process; yields it and its webhook URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = bot_env(
        telegram,
        database_url,
        WEBHOOK_URL=url,
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,
        **extra,
    )
    webhooks_before = len(telegram.calls_of("setWebhook"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=subprocess.PIPE
    )
    try:
        await telegram.wait_for_call("setWebhook", webhooks_before + 1, timeout=20)
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def post_update(url: str, secret: str, update: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with aiohttp.ClientSession() as session:
        for _ in range(50):  # the webhook server starts just after setWebhook
            try:
                async with session.post(url, json=update, headers=headers) as response:
                    return response.status
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listens on {url}")


async def subscribe_many(db: SessionFactory, chat_ids: range, topic: str) -> None:
    async with db() as session:
        for chat_id in chat_ids:
            await queries.ensure_chat(session=session, chat_id=chat_id)
            await queries.add_subscription(session=session, chat_id=chat_id, topic=topic)
        await session.commit()


def start_update(chat_id: int) -> dict[str, Any]:
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_webhook_mode_takes_updates_only_with_the_secret(
    telegram: FakeTelegram, database_url: str
) -> None:
    async with webhook_instance(telegram, database_url) as (process, url):
        [registration] = telegram.calls_of("setWebhook")
        assert registration.params["url"] == url
        assert registration.params["secret_token"] == SECRET

        assert await post_update(url, "wrong", start_update(77)) == 403
        assert await post_update(url, SECRET, start_update(78)) == 200
        [reply] = await telegram.wait_for_sent(chat_id=78, timeout=10)
        assert "/subscribe" in (reply.plain_text or "")
        assert telegram.sent_to(77) == []
        assert telegram.calls_of("getUpdates") == []

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0


def test_a_webhook_url_needs_a_secret() -> None:
    env = {**os.environ, "WEBHOOK_URL": "https://bot.example.com/hook", "WEBHOOK_SECRET": ""}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "tradebot: setting WEBHOOK_SECRET: required when WEBHOOK_URL is set"
    )


async def make_dispatcher(
    telegram: FakeTelegram, database_url: str, *, lock_key: int
) -> tuple[Dispatcher, Callable[[], Any]]:
    engine = create_engine(database_url)
    bot = Bot(telegram.token, base_url=telegram.base_url)
    await bot.initialize()
    dispatcher = Dispatcher(
        bot,
        session_factory(engine),
        poll_seconds=0.3,
        sender_lock=SenderLock(engine, key=lock_key),
        budget=SendBudget(**FAST_BUDGET),
    )

    async def close() -> None:
        await dispatcher.stop()
        await bot.shutdown()
        await engine.dispose()

    return dispatcher, close


@pytest.mark.parametrize("shared_lock", [False, True], ids=["leases-only", "sender-lock"])
async def test_two_dispatchers_deliver_500_alerts_exactly_once(
    postgres_url: str,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    shared_lock: bool,
) -> None:
    chats = range(1000, 1500)
    await subscribe_many(db, chats, "copper")
    first, close_first = await make_dispatcher(telegram, postgres_url, lock_key=1)
    second, close_second = await make_dispatcher(
        telegram, postgres_url, lock_key=1 if shared_lock else 2
    )
    first.start()
    second.start()
    try:
        # Alerts only once both have started: a new sender gives back its predecessor's leases,
        # which with two lock keys (never in production) is a live sender's.
        async with asyncio.timeout(10):
            while first.is_sender + second.is_sender < (1 if shared_lock else 2):
                await asyncio.sleep(0.05)
        await ingest(
            ArticleIn(title="Copper jumps 4%", url="https://x.example/c", body="Copper rose.")
        )
        await telegram.wait_for_sent(500, timeout=60)
        await asyncio.sleep(0.5)
    finally:
        await close_first()
        await close_second()
    assert Counter(m.chat_id for m in telegram.sent) == Counter(chats)
    async with db() as session:
        rows = (await session.exec(select(Alert))).all()
    assert {row.status for row in rows} == {AlertStatus.SENT}
    senders = {row.claimed_by for row in rows}
    assert len(senders) == (1 if shared_lock else 2)


async def test_killing_the_sender_lets_another_instance_finish(
    postgres_url: str, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    chats = range(2000, 2150)
    await subscribe_many(db, chats, "copper")
    await ingest(
        ArticleIn(title="Copper slides 2%", url="https://x.example/k", body="Copper fell.")
    )
    async with webhook_instance(telegram, postgres_url) as (first, _):
        await telegram.wait_for_sent(20, timeout=20)
        async with webhook_instance(telegram, postgres_url) as (second, _):
            first.kill()  # no clean shutdown: leases and the lock die with the process
            await first.wait()
            await telegram.wait_for_sent(len(chats), timeout=30)
            await asyncio.sleep(1.0)
            received = Counter(m.chat_id for m in telegram.sent)
            assert set(received) == set(chats)
            assert sum(count - 1 for count in received.values()) <= 1  # the one in flight
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=10)
    async with db() as session:
        pending = await session.exec(
            select(func.count()).select_from(Alert).where(Alert.status != AlertStatus.SENT)
        )
        assert pending.one() == 0


class StderrLines:
    """A process's stderr, read line by line as it comes (so the pipe never fills up)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        self._stream = process.stderr
        self.lines: list[str] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self._stream.readline():
            self.lines.append(line.decode(errors="replace"))

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def wait_for(self, text: str, *, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not self.count(text):
                await asyncio.sleep(0.05)


async def test_a_second_instance_waits_while_the_sender_lives_and_finishes_when_it_dies(
    database_url: str, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    chats = range(3000, 3300)
    await subscribe_many(db, chats, "copper")
    await ingest(ArticleIn(title="Copper climbs 3%", url="https://x.example/w", body="Copper."))
    async with webhook_instance(telegram, database_url) as (first, _):
        await telegram.wait_for_sent(20, timeout=20)
        async with webhook_instance(telegram, database_url) as (second, _):
            second_log = StderrLines(second)
            await second_log.wait_for(NOT_THE_SENDER, timeout=10)
            sent = len(telegram.sent)
            await telegram.wait_for_sent(sent + 50, timeout=10)  # both run, the fan-out goes on
            both_running = Counter(m.chat_id for m in telegram.sent)
            assert max(both_running.values()) == 1
            assert sum(both_running.values()) < len(chats), "the fan-out ended before the kill"
            first.kill()  # no clean shutdown: its leases stay, its lock file closes
            await first.wait()
            await second_log.wait_for("now the alert sender", timeout=10)
            await telegram.wait_for_sent(len(chats), timeout=20)
            await asyncio.sleep(1.0)
            received = Counter(m.chat_id for m in telegram.sent)
            assert set(received) == set(chats)
            assert sum(count - 1 for count in received.values()) <= 1  # the one in flight
            assert second_log.count(NOT_THE_SENDER) == 1
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=10)
    async with db() as session:
        pending = await session.exec(
            select(func.count()).select_from(Alert).where(Alert.status != AlertStatus.SENT)
        )
        assert pending.one() == 0


HOLD_THE_SENDER_LOCK = """
import asyncio, sys
from storage.db import create_engine
from storage.locks import SenderLock

async def hold() -> None:
    print(await SenderLock(create_engine(sys.argv[1])).hold(), flush=True)
    await asyncio.sleep(60)

asyncio.run(hold())
"""


async def test_the_sqlite_lock_file_is_held_by_one_process_until_it_dies(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tradebot.db'}"
    engine = create_engine(url)
    assert sender_lock_file(engine.url) == tmp_path / "tradebot.db.sender-lock"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_THE_SENDER_LOCK, url, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), timeout=20) == b"True\n"
        lock = SenderLock(engine)
        assert not await lock.hold()
        assert not await lock.hold()
        holder.kill()
        await holder.wait()
        assert await lock.hold()
        assert await lock.hold()
        assert not await SenderLock(engine).hold()  # exclusive within a process too
        await lock.release()
        assert await SenderLock(engine).hold()
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await engine.dispose()


async def test_in_memory_sqlite_always_holds_the_sender_lock() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    assert sender_lock_file(engine.url) is None
    assert await SenderLock(engine).hold()
    assert await SenderLock(engine).hold()
    await engine.dispose()


async def test_a_new_sender_gives_back_only_the_leases_of_the_one_before_it(
    database_url: str, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe_many(db, range(1, 4), "copper")
    await ingest(ArticleIn(title="Copper dips 1%", url="https://x.example/d", body="Copper fell."))
    await expand(db)
    leased_until = utcnow() + timedelta(hours=1)
    async with db() as session:
        await queries.take_over_sending(session=session, worker="dead-sender")
        alerts = {a.chat_id: a for a in (await session.exec(select(Alert))).all()}
        alerts[1].claimed_by, alerts[1].claimed_until = "dead-sender", leased_until
        alerts[2].claimed_by, alerts[2].claimed_until = "another-worker", leased_until
        await session.commit()
    dispatcher, close = await make_dispatcher(telegram, database_url, lock_key=3)
    dispatcher.start()
    try:
        await telegram.wait_for_sent(2, timeout=10)
        await asyncio.sleep(0.5)
    finally:
        await close()
    assert sorted(m.chat_id for m in telegram.sent) == [1, 3]
    async with db() as session:
        kept = (await session.exec(select(Alert).where(Alert.chat_id == 2))).one()
        sender = (await session.exec(select(AlertSender))).one()
    assert (kept.status, kept.claimed_by) == (AlertStatus.PENDING, "another-worker")
    assert sender.worker not in ("dead-sender", "another-worker")


async def test_two_ingest_processes_store_each_article_once(
    tmp_path: Path, database_url: str, db: SessionFactory
) -> None:
    await subscribe_many(db, range(1, 4), "copper")
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps(
                {"title": f"Copper story {n}", "url": f"https://x.example/{n}", "body": "Copper."}
            )
            for n in range(150)
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "DATABASE_URL": database_url}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "ingest",
            str(batch),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await process.communicate() for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
        assert "locked" not in stderr.decode()
    new = sum(int(out.decode().split("new: ")[1].split()[0]) for out, _ in outputs)
    assert new == 150
    await expand(db)
    async with db() as session:
        articles = await session.exec(select(func.count()).select_from(Article))
        alerts = await session.exec(select(func.count()).select_from(Alert))
        assert (articles.one(), alerts.one()) == (150, 450)


async def test_two_instances_share_feed_polling_without_fetching_a_feed_twice(
    postgres_url: str, web: FakeWeb, settings: Settings
) -> None:
    feed_settings = settings.model_copy(
        update={"allow_private_feed_hosts": True, "database_url": postgres_url}
    )
    engines = [create_engine(postgres_url) for _ in range(2)]
    pollers = [
        FeedPoller(
            session_factory(e), Ingestor(session_factory(e), default_lexicon()), feed_settings
        )
        for e in engines
    ]
    try:
        for n in range(6):
            web.serve(
                f"/feed-{n}.xml", rss20([Item(title=f"Item {n}", link=f"https://x.example/{n}")])
            )
            await add_feed(
                session_factory(engines[0]), web.url(f"/feed-{n}.xml"), None, allow_private=True
            )
        rounds = await asyncio.gather(*(poller.start_round() for poller in pollers))
        await asyncio.gather(*(task for tasks in rounds for task in tasks))
        assert sum(len(tasks) for tasks in rounds) == 6
        assert [len(web.hits_to(f"/feed-{n}.xml")) for n in range(6)] == [1] * 6
    finally:
        for poller in pollers:
            await poller.stop()
        for engine in engines:
            await engine.dispose()


# Workload 1's shape, small: chats watching five topics each with Zipf-like popularity (a few
# topics watched by many chats), 10% groups, articles each about one or two of the topics.
COMMODITIES = ["copper", "gold", "silver", "nickel", "zinc", "tin", "wheat", "soybeans", "sugar"]
COMMODITIES += ["coffee", "cocoa", "cotton", "coal", "aluminium", "platinum", "rice", "barley"]
COMMODITIES += ["lithium", "cobalt", "uranium"]
COUNTRIES = ["Chile", "Peru", "Brazil", "India", "Japan", "Australia", "Canada", "Mexico"]
COUNTRIES += ["Indonesia", "Argentina", "Kenya", "Ghana", "Vietnam", "Thailand", "Norway"]
COUNTRIES += ["Poland", "Egypt", "Nigeria", "Colombia", "Zambia"]
PAIRS = ["Chile-copper", "Brazil-coffee", "India-sugar", "Peru-gold", "Australia-coal"]
PAIRS += ["Ghana-cocoa", "Indonesia-nickel", "Canada-wheat"]
ACTOR_STARTS = ["Var", "Kel", "Mor", "Tas", "Bel", "Dun", "Ors", "Pel"]
ACTOR_ENDS = ["onex", "avi", "utra", "embo", "iska", "orin", "adel", "uvo"]
ACTOR_KINDS = ["Holdings", "Trading", "Resources", "Commodities"]
# Alerts after the first are combined for 2 s; warnings only (nothing reads the instances' stderr).
QUIET = {"ALERT_BURST_SECONDS": "2", "LOG_LEVEL": "WARNING"}


def watch_lists(chat_ids: list[int], per_chat: int, seed: int) -> dict[int, list[str]]:
    """`per_chat` distinct topics for each chat, drawn with weight 1/(rank+5)."""
    rng = random.Random(seed)
    topics = [*COMMODITIES[:6], *COUNTRIES[:6], *PAIRS, *COMMODITIES[6:], *COUNTRIES[6:]]
    weights = [1 / (rank + 5) for rank in range(len(topics))]
    lists = {}
    for chat_id in chat_ids:
        chosen: set[str] = set()
        while len(chosen) < per_chat:
            chosen.add(rng.choices(topics, weights)[0])
        lists[chat_id] = sorted(chosen)
    return lists


def wire_story(n: int) -> tuple[dict[str, str], set[str]]:
    """Article `n` (its own story: an actor and figures of its own), and the names it is about:
    one commodity or country, or every fifth a country and a commodity together."""
    actor = (
        f"{ACTOR_STARTS[n % 8]}{ACTOR_ENDS[n // 8 % 8]} {ACTOR_KINDS[n // 64 % 4]}"
        if n < 256
        else f"Firm {n}"
    )
    singles = COMMODITIES + COUNTRIES
    if n % 5 == 4:
        country, commodity = PAIRS[n // 5 % len(PAIRS)].split("-")
        if n // 5 % 3 == 0:  # every third of them names another country with the commodity
            country = COUNTRIES[(n // 5 + 10) % len(COUNTRIES)]
        names = {country, commodity}
        about = f"{country} {commodity}"
    else:
        about = singles[n % len(singles)]
        names = {about}
    pct = 2 + n % 37
    record = {
        "title": f"{actor} expects {about} shipments to rise {pct}% in its {n}th quarter",
        "body": f"{actor} said on Tuesday that {about} shipments would rise {pct} percent, "
        "citing firm demand. The company gave no further detail.",
        "url": f"https://wire.example/story/{n}",
        "source": "Test Wire",
    }
    return record, names


def delivered_pairs(telegram: FakeTelegram) -> Counter[tuple[int, int]]:
    """(chat, article number) for every article linked in a sent message, once per message."""
    found: Counter[tuple[int, int]] = Counter()
    for message in telegram.sent:
        numbers = {
            int(n) for n in re.findall(r"https://wire\.example/story/(\d+)", message.text or "")
        }
        found.update((message.chat_id, n) for n in numbers)
    return found


async def test_two_instances_and_two_ingests_deliver_every_alert_exactly_once(
    tmp_path: Path, database_url: str, telegram: FakeTelegram, db: SessionFactory
) -> None:
    chat_ids = [-(10**12) - n if n % 10 == 9 else 5000 + n for n in range(100)]  # 10% groups
    lists = watch_lists(chat_ids, 5, seed=14)
    async with db() as session:
        for chat_id in chat_ids:
            kind = "supergroup" if chat_id < 0 else "private"
            await queries.ensure_chat(session=session, chat_id=chat_id, kind=kind)
        for chat_id, topics in lists.items():
            for topic in topics:
                session.add(Subscription(chat_id=chat_id, topic=topic, level=Level.ALL))
        await session.commit()
    stories = [wire_story(n) for n in range(200)]
    expected = {
        (chat_id, n)
        for n, (_, names) in enumerate(stories)
        for chat_id, topics in lists.items()
        if any(set(topic.split("-")) <= names for topic in topics)
    }
    files = []
    for part in range(2):  # even and odd articles, and 20 both ingest
        path = tmp_path / f"part-{part}.jsonl"
        numbers = [n for n in range(200) if n % 2 == part or n < 20]
        path.write_text("\n".join(json.dumps(stories[n][0]) for n in numbers), encoding="utf-8")
        files.append(path)
    env = {**os.environ, "DATABASE_URL": database_url}
    ingests = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "ingest", str(path), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for path in files
    ]  # fmt: skip
    async with (  # the instances start while the ingests run
        webhook_instance(telegram, database_url, **QUIET) as (first, _),
        webhook_instance(telegram, database_url, **QUIET) as (second, _),
    ):
        outputs = [await process.communicate() for process in ingests]
        for process, (_, stderr) in zip(ingests, outputs, strict=True):
            assert process.returncode == 0, stderr.decode()
        assert sum(int(out.decode().split("new: ")[1].split()[0]) for out, _ in outputs) == 200
        async with asyncio.timeout(60):
            while set(delivered_pairs(telegram)) != expected:
                await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # a duplicate would be sent by now
        assert first.returncode is None and second.returncode is None
    delivered = delivered_pairs(telegram)
    assert set(delivered) == expected
    assert [pair for pair, times in delivered.items() if times > 1] == []
