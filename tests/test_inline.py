"""Inline mode: `@botname copper` in any chat answers with the newest main stories about
copper (never passing mentions), one per story, each with its headline, source and link,
HTML escaped; empty or invalid queries get an empty answer with a helpful button; answers
are cached briefly. Against the fake Bot API, with articles ingested as `tradebot ingest` does."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.articles import ArticleIn
from bot.context import BotApplication
from bot.refs import ArticleRef
from bot.sharing import RecentAnswers, SharedStory
from tests.fakes import FakeTelegram, parse_telegram_html
from tests.test_levels import MAIN_STORIES, MENTIONS

NOW = datetime.now(UTC)
HOSTILE = ArticleIn(
    title='Copper <script>alert("x")</script> & "tariffs" hit smelters',
    body="Copper smelters said new tariffs & levies would cut copper output by 5%. "
    "Copper buyers in China <b>expect</b> higher prices for copper cathodes.",
    url="https://wire.example/copper?a=1&b=<2>",
    source="Wire & <Co>",
    published=NOW - timedelta(hours=1),
)


@pytest.fixture
def telegram(telegram: FakeTelegram) -> FakeTelegram:
    telegram.bot_user["supports_inline_queries"] = True  # BotFather's /setinline
    return telegram


def dated(articles: list[ArticleIn], hours_ago: int) -> list[ArticleIn]:
    return [
        replace(a, published=NOW - timedelta(hours=hours_ago + n)) for n, a in enumerate(articles)
    ]


async def ask(telegram: FakeTelegram, query: str, **options: Any) -> dict[str, Any]:
    query_id = telegram.add_inline_query(query, **options)
    return await telegram.wait_for_inline_answer(query_id)


async def test_an_inline_query_lists_the_newest_main_stories_with_source_and_link(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(*dated(MAIN_STORIES, hours_ago=2), *dated(MENTIONS, hours_ago=0))

    answer = await ask(telegram, "copper", chat_type="supergroup")
    results = answer["results"]
    assert [r["title"] for r in results] == [
        "Copper prices climb as Chilean mines cut output",
        "Zambia copper exports hit a record",
        "Copper smelter strike ends in Peru",
    ]  # newest first; the wheat, coffee and freight stories only mention copper
    first = results[0]
    assert first["type"] == "article" and first["url"] == "https://wire.example/copper-climbs"
    assert first["description"].startswith("Metals Wire, ")
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert parse_telegram_html(content["message_text"]).startswith(
        "Copper prices climb as Chilean mines cut output\nMetals Wire, "
    )
    assert '<a href="https://wire.example/copper-climbs">' in content["message_text"]
    assert int(answer["cache_time"]) == 60
    assert len({r["id"] for r in results}) == 3


async def test_headlines_sources_and_links_are_escaped(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(HOSTILE)
    [result] = (await ask(telegram, "copper"))["results"]
    shown = parse_telegram_html(result["input_message_content"]["message_text"])
    assert shown.splitlines()[0] == HOSTILE.title
    assert shown.splitlines()[1].startswith("Wire & <Co>, ")
    assert result["title"] == HOSTILE.title  # plain text there: no markup to escape
    assert result["url"] == HOSTILE.url


@pytest.mark.parametrize(
    ("query", "button"),
    [
        ("", "Type a topic after my name, e.g. copper"),
        ("   ", "Type a topic after my name, e.g. copper"),
        ("-copper", "A topic needs at least one word to look for, not only exclusions."),
        ("!!!", "A topic needs at least one letter or digit."),
        ("nickel", "No main stories on nickel yet"),
    ],
)
async def test_empty_or_invalid_queries_get_an_empty_answer_with_a_hint(
    bot: BotApplication,
    telegram: FakeTelegram,
    ingest: Callable[..., Any],
    query: str,
    button: str,
) -> None:
    await ingest(*MAIN_STORIES)
    answer = await ask(telegram, query)
    assert answer["results"] == []
    assert json.loads(answer["button"]) == {"text": button, "start_parameter": "inline"}


async def test_answers_are_cached_briefly_per_topic(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    await ingest(MAIN_STORIES[0])
    first = await ask(telegram, "copper")
    await ingest(MAIN_STORIES[1])
    again = await ask(telegram, "Copper")  # the same topic: the cached answer
    assert [r["title"] for r in again["results"]] == [r["title"] for r in first["results"]]
    other = await ask(telegram, "copper -Copperfield")  # another topic: searched afresh
    assert len(other["results"]) == 2


def test_the_cache_forgets_after_its_time_and_keeps_a_bounded_number_of_topics() -> None:
    now = [0.0]
    cache = RecentAnswers(seconds=60, entries=2, clock=lambda: now[0])
    story = SharedStory(1, ArticleRef("Copper rises", None, None, None))
    cache.put("copper", [story])
    now[0] = 59.0
    assert cache.get("copper") == [story]
    now[0] = 60.0
    assert cache.get("copper") is None
    for key in ("a", "b", "c"):
        cache.put(key, [])
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, [], [])
