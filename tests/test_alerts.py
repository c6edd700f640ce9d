"""Alerts end to end: ingest → outbox → dispatcher → fake Bot API, exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

import bot.ingest
from bot.app import running
from bot.articles import ArticleIn, ParsedFile, read_articles
from bot.context import BotApplication
from bot.facts import extract_facts
from bot.fanout import expand_round
from bot.ingest import Ingestor
from bot.lexicon import default_lexicon
from bot.parsing import ParseWorkers
from bot.stories import story_signature
from bot.text import search_words
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, AlertStatus, Article, Chat, Fact
from tests.conftest import DATA
from tests.fakes import FakeTelegram

ANALYST, TRADER, BATTERY = 11, 12, 13


async def subscribe(db: SessionFactory, chat_id: int, *topics: str) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=chat_id)
        for topic in topics:
            await queries.add_subscription(session=session, chat_id=chat_id, topic=topic)
        await session.commit()


async def expand(db: SessionFactory) -> None:
    """Expand every open fan-out to its chats, as the running dispatcher does."""
    async with db() as session:
        while await expand_round(session=session):
            pass


async def alerts(db: SessionFactory) -> list[Alert]:
    async with db() as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())


async def settle(seconds: float = 0.8) -> None:
    """Give the dispatcher time to send anything more it (wrongly) would."""
    await asyncio.sleep(seconds)


STORIES = {
    1: ("Copper output rises at Chilean mine", "Copper production rose 3% in October."),
    2: ("Zambia copper exports hit a record", "Shipments climbed to 80,000 tonnes in May."),
    3: ("Copper smelter strike ends in Peru", "Workers accepted a 6% wage increase."),
}


def copper_story(n: int = 1, **fields: Any) -> ArticleIn:
    """One of three different copper stories (different stories, so each is alerted)."""
    title, body = STORIES[n]
    return ArticleIn(
        title=fields.pop("title", title),
        body=fields.pop("body", body),
        url=fields.pop("url", f"https://news.example.com/copper-{n}"),
        source=fields.pop("source", "Test Wire"),
        **fields,
    )


async def test_the_seed_article_gives_each_chat_one_alert_naming_all_its_topics(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper", "rare earths", "India-Chile")
    await subscribe(db, TRADER, "copper")
    await subscribe(db, BATTERY, "lithium")
    [article] = ParsedFile.of(read_articles(DATA / "india-chile-copper.txt")).articles

    report = await ingest(article)
    assert (report.new, report.new_headlines) == (1, 4)

    [to_analyst] = await telegram.wait_for_sent(chat_id=ANALYST)
    [to_trader] = await telegram.wait_for_sent(chat_id=TRADER)
    await settle()
    assert telegram.sent_to(ANALYST) == [to_analyst] and telegram.sent_to(TRADER) == [to_trader]
    assert telegram.sent_to(BATTERY) == []
    text = to_analyst.plain_text or ""
    assert text.startswith("🔔 India is negotiating with Chile and Peru")
    assert "Matched: India-Chile, copper — main subject; rare earths — mentioned" in text
    assert "“India is negotiating with Chile and Peru" in text  # the sentence that matched
    assert "source unknown" in text and "india-chile-copper" not in text  # not the file name
    assert "Matched: copper" in (to_trader.plain_text or "")


async def test_a_related_headline_is_alerted_like_any_article(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "gold")
    [article] = ParsedFile.of(read_articles(DATA / "india-chile-copper.txt")).articles
    await ingest(article)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    lines = (alert.plain_text or "").splitlines()
    assert "Gold Price Forecast Lifted to $6,300" in lines[0]
    assert lines[2].startswith("A related headline listed with “India is negotiating with Chile")
    assert lines[3] == "source unknown · date unknown · no link"


async def test_near_misses_stay_quiet(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper", "China", "Turkey", "India")
    articles = ParsedFile.of(read_articles(DATA / "near-misses.jsonl")).articles
    assert len(articles) == 4
    await ingest(*articles)
    await settle(1.0)
    assert telegram.sent_to(ANALYST) == []
    assert await alerts(db) == []


async def test_article_text_is_escaped_in_alerts(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    hostile = copper_story(
        title='<script>alert("x")</script> Copper & <b>tin</b> <3',
        body="Copper rose 5% <i>overnight</i> & more.",
        source="Wire <Daily> & Co",
        url="https://news.example.com/a?b=1&c=<2>",
    )
    await ingest(hostile)
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    assert alert.parse_mode == "HTML"
    text = alert.plain_text or ""
    assert '<script>alert("x")</script> Copper & <b>tin</b> <3' in text
    assert "Wire <Daily> & Co" in text
    [link] = [e for e in alert.entities if e["type"] == "text_link"]
    assert link["url"] == "https://news.example.com/a?b=1&c=<2>"


async def test_control_and_bidi_characters_of_articles_never_reach_telegram(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(
        copper_story(
            title="Copper\x00 rises \u202eon Chile\u2066 news",
            body="Copper rose 5%\x07 overnight\u200f.\r\nTraders cheered.",
            source="Wire\x1b[31m",
        )
    )
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST)
    forbidden = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} - {"\n"}
    forbidden |= set("\u202e\u2066\u200f")
    assert not forbidden & set(alert.text or "")
    assert "Copper rises on Chile news" in (alert.plain_text or "")


async def test_reingesting_the_same_article_queues_nothing(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await ingest(copper_story())
    await telegram.wait_for_sent(chat_id=ANALYST)
    same_url = await ingest(copper_story(title="Copper output rises (updated)"))
    same_text = await ingest(
        copper_story(
            url="https://mirror.example.com/x", title="COPPER output  rises at Chilean mine"
        )
    )
    assert (same_url.new, same_url.duplicates) == (0, 1)
    assert (same_text.new, same_text.duplicates) == (0, 1)
    await settle()
    assert len(telegram.sent_to(ANALYST)) == 1
    assert len(await alerts(db)) == 1


async def test_429_waits_retry_after_and_delivers_exactly_once(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    telegram.fail_next("sendMessage", status=429, retry_after=1, chat_id=ANALYST)
    await ingest(copper_story())
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST, timeout=5)
    refused = [c for c in telegram.calls_of("sendMessage") if c.status == 429]
    assert len(refused) == 1
    assert alert.at - refused[0].at >= 0.95
    await settle()
    assert len(telegram.sent_to(ANALYST)) == 1
    [row] = await alerts(db)
    assert row.status == AlertStatus.SENT and row.message_id == alert.message_id


async def test_403_deactivates_the_chat_and_others_still_get_alerts(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    await subscribe(db, TRADER, "copper")
    telegram.block_chat(ANALYST)
    await ingest(copper_story(1), copper_story(2))
    await telegram.wait_for_sent(2, chat_id=TRADER)
    await settle()
    blocked = [c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == str(ANALYST)]
    assert len(blocked) == 1  # no retry, and the second alert was not tried
    async with db() as session:
        chat = await session.get(Chat, ANALYST)
        assert chat is not None and not chat.active
    statuses = {(a.chat_id, a.status) for a in await alerts(db)}
    assert statuses == {(ANALYST, AlertStatus.FAILED), (TRADER, AlertStatus.SENT)}

    await ingest(copper_story(3))  # an inactive chat is not even queued
    await telegram.wait_for_sent(3, chat_id=TRADER)
    assert len([a for a in await alerts(db) if a.chat_id == ANALYST]) == 2


async def test_server_errors_are_retried_with_backoff(
    bot: BotApplication, telegram: FakeTelegram, db: SessionFactory, ingest: Callable[..., Any]
) -> None:
    await subscribe(db, ANALYST, "copper")
    telegram.fail_next("sendMessage", status=502, chat_id=ANALYST)
    await ingest(copper_story())
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST, timeout=6)
    failed = [c for c in telegram.calls_of("sendMessage") if c.status == 502]
    assert len(failed) == 1 and alert.at - failed[0].at >= 1.5
    await settle()
    [row] = await alerts(db)
    assert row.status == AlertStatus.SENT and row.attempts == 1


async def test_a_restart_sends_what_is_pending_and_nothing_twice(
    make_bot: Callable[..., BotApplication],
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
) -> None:
    await subscribe(db, ANALYST, "copper")
    async with running(make_bot(), poll_timeout=1):
        await ingest(copper_story(1))
        await telegram.wait_for_sent(chat_id=ANALYST)
    await ingest(copper_story(2))  # queued while the bot is down
    async with running(make_bot(), poll_timeout=1):
        sent = await telegram.wait_for_sent(2, chat_id=ANALYST)
        await settle()
    assert len(telegram.sent_to(ANALYST)) == 2
    assert "Chilean mine" in (sent[0].plain_text or "") and "Zambia" in (sent[1].plain_text or "")
    assert {a.status for a in await alerts(db)} == {AlertStatus.SENT}


async def test_ingest_from_another_process_reaches_the_running_bot(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    database_url: str,
) -> None:
    await subscribe(db, ANALYST, "copper", "rare earths")
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ingest",
        str(DATA / "india-chile-copper.txt"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert "new: 1 article (+4 headlines)" in stdout.decode()
    [alert] = await telegram.wait_for_sent(chat_id=ANALYST, timeout=10)
    assert "Matched: copper — main subject; rare earths — mentioned" in (alert.plain_text or "")
    assert alert.at - started < 10


async def test_a_long_lived_ingestor_follows_watch_list_and_mode_changes(
    db: SessionFactory,
) -> None:
    ingestor = Ingestor(db, default_lexicon())
    await subscribe(db, ANALYST, "copper")
    await ingestor.refresh()
    await subscribe(db, TRADER, "lithium")
    async with db() as session:
        await queries.update_chat(session=session, chat_id=ANALYST, mode="digest")
        await session.commit()
    await ingestor.refresh()
    await ingestor.ingest(
        [
            copper_story(1),
            ArticleIn(title="Lithium brine output rises", url="https://x.example/li"),
        ]
    )
    await expand(db)
    assert {(a.chat_id, a.status) for a in await alerts(db)} == {
        (ANALYST, AlertStatus.HELD),
        (TRADER, AlertStatus.PENDING),
    }


CODELCO_WIRE = ArticleIn(
    title="Codelco lifts copper output forecast as Chilean mines recover",
    body="Chile's state miner Codelco raised its copper production forecast for next year to 1.4 "
    "million tonnes on Monday, citing a recovery at its El Teniente and Chuquicamata mines.",
    url="https://wire.example/codelco",
    source="Wire",
)
CODELCO_REWRITE = ArticleIn(
    title="Chile's Codelco raises copper production forecast as mines recover",
    body="Codelco, Chile's state-owned copper miner, on Monday raised its production forecast "
    "for next year to 1.4 million tonnes as its El Teniente and Chuquicamata mines recovered.",
    url="https://daily.example/codelco",
    source="Daily",
)


async def statuses_by_article(db: SessionFactory) -> list[tuple[str, int, str]]:
    await expand(db)
    async with db() as session:
        rows = await session.exec(
            select(Article.source, Alert.chat_id, Alert.status)
            .join(Article, col(Article.id) == Alert.article_id)
            .order_by(col(Alert.id))
        )
        return [(source or "", chat, status) for source, chat, status in rows.all()]


async def test_a_second_report_of_a_story_edits_the_first_alert_in_one_batch_or_two(
    db: SessionFactory,
) -> None:
    await subscribe(db, ANALYST, "copper")
    ingestor = Ingestor(db, default_lexicon())
    await ingestor.refresh()
    await ingestor.ingest([CODELCO_WIRE, CODELCO_REWRITE])  # one batch
    third = replace(
        CODELCO_REWRITE,
        title="Codelco raises its copper production forecast as mines recover",
        url="https://third.example/codelco",
        source="Third",
    )
    await ingestor.ingest([third])  # another batch
    assert await statuses_by_article(db) == [
        ("Wire", ANALYST, AlertStatus.PENDING),
        ("Daily", ANALYST, AlertStatus.EDIT),
        ("Third", ANALYST, AlertStatus.EDIT),
    ]
    async with db() as session:
        stories = (await session.exec(select(Article.story_id).order_by(col(Article.id)))).all()
    assert len(set(stories)) == 1


async def test_batches_are_prepared_while_the_previous_one_is_stored_and_lose_nothing(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.ingest, "BATCH_SIZE", 2)
    await subscribe(db, ANALYST, "copper", "India-Chile")
    await subscribe(db, BATTERY, "lithium")
    ingestor = Ingestor(db, default_lexicon())
    await ingestor.refresh()
    done: list[int] = []
    articles = [
        *ParsedFile.of(read_articles(DATA / "india-chile-copper.txt")).articles,
        copper_story(2),
        CODELCO_WIRE,
        copper_story(2),  # the same again, in another batch
        CODELCO_REWRITE,
    ]
    report = await ingestor.ingest(articles, progress=done.append)
    assert (report.new, report.new_headlines, report.duplicates) == (4, 4, 1)
    assert done == [2, 4, 5]
    assert [(chat, status) for _source, chat, status in await statuses_by_article(db)] == [
        (ANALYST, AlertStatus.PENDING),
        (ANALYST, AlertStatus.PENDING),
        (ANALYST, AlertStatus.PENDING),
        (ANALYST, AlertStatus.EDIT),
    ]
    async with db() as session:
        facts = (await session.exec(select(Fact))).all()
    assert any("97%" in fact.sentence for fact in facts)


async def test_an_article_the_database_refuses_costs_only_itself(db: SessionFactory) -> None:
    await subscribe(db, ANALYST, "copper")
    async with db() as session:
        if session.get_bind().dialect.name == "postgresql":
            refuse = "ALTER TABLE articles ADD CONSTRAINT refused CHECK (title <> 'Refused')"
        else:
            refuse = (
                "CREATE TRIGGER refused BEFORE INSERT ON articles WHEN new.title = 'Refused' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        await session.exec(text(refuse))
        await session.commit()
    ingestor = Ingestor(db, default_lexicon())
    await ingestor.refresh()
    report = await ingestor.ingest(
        [copper_story(1), copper_story(2, title="Refused"), copper_story(3)]
    )
    assert (report.new, len(report.rejected)) == (2, 1)
    assert report.rejected[0].where == "Refused"
    assert [source for source, *_ in await statuses_by_article(db)] == ["Test Wire"] * 2


@pytest.mark.parametrize("seconds", [10.0, 1e-6], ids=["in workers", "worker overruns"])
async def test_text_workers_read_articles_as_ingest_does_and_a_bad_one_alone_is_rejected(
    db: SessionFactory, seconds: float
) -> None:
    workers = ParseWorkers(seconds=seconds, memory_bytes=512 * 1024 * 1024)
    try:
        ingestor = Ingestor(db, default_lexicon(), text_workers=workers)
        await ingestor.refresh()
        report = await ingestor.ingest(
            [copper_story(1), copper_story(2, title="x" * 301), copper_story(3)]
        )
    finally:
        workers.close()
    assert (report.new, [r.where for r in report.rejected]) == (2, ["x" * 60])
    async with db() as session:
        stored = (await session.exec(select(Article).order_by(col(Article.id)))).all()
        facts = (await session.exec(select(Fact))).all()
    assert [(a.search_text, a.story_signature) for a in stored] == [
        (search_words(a.title, a.body), story_signature(a.title, a.body))
        for a in (copper_story(1), copper_story(3))
    ]
    assert len(facts) == sum(len(extract_facts(a.title, a.body)) for a in stored)


async def test_a_record_without_source_or_date_is_credited_to_its_host_and_not_dated_today(
    bot: BotApplication,
    telegram: FakeTelegram,
    db: SessionFactory,
    ingest: Callable[..., Any],
    tmp_path: Path,
) -> None:
    await subscribe(db, ANALYST, "copper")
    records = tmp_path / "wire.jsonl"
    records.write_text(
        '{"title": "Copper miners strike at Chuquicamata", "url": "https://www.mining.example/'
        'strike", "body": "Copper miners at Chuquicamata walked out over pay in 1987."}\n'
        '{"title": "Copper smelter restarts in Zambia", "body": "The copper smelter restarted."}\n',
        encoding="utf-8",
    )
    await ingest(*ParsedFile.of(read_articles(records)).articles)
    sent = await telegram.wait_for_sent(2, chat_id=ANALYST)
    last_lines = sorted((m.plain_text or "").splitlines()[-1] for m in sent)
    assert last_lines == [
        "mining.example · date unknown · Read more",
        "source unknown · date unknown · no link",
    ]
