"""Self-tests of what the fake Bot API does with files and inline mode (getFile, downloads,
documents users send, inline queries and answerInlineQuery), through a real PTB ``Bot``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeTelegram

CHAT = 42


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


def article(result_id: str, text: str = "<b>Copper</b> rises") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        result_id, "Copper rises", InputTextMessageContent(text, parse_mode=ParseMode.HTML)
    )


async def test_a_document_a_user_sends_is_downloaded_through_get_file(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.add_document(CHAT, b"<opml/>", file_name="feeds.opml", mime_type="text/x-opml")
    [update] = await bot.get_updates()
    document = update.message.document if update.message else None
    assert document is not None and document.file_name == "feeds.opml"
    assert (document.file_size, document.mime_type) == (7, "text/x-opml")
    file = await bot.get_file(document.file_id)
    assert file.file_path is not None and file.file_path.startswith(fake.base_file_url)
    assert bytes(await file.download_as_bytearray()) == b"<opml/>"


async def test_files_the_bot_uploads_can_be_fetched_and_unknown_ids_are_refused(
    fake: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_document(CHAT, b"a,b\n", filename="list.csv")
    assert sent.document is not None
    assert fake.file_content(sent.document.file_id) == b"a,b\n"
    assert bytes(await (await bot.get_file(sent.document.file_id)).download_as_bytearray()) == (
        b"a,b\n"
    )
    with pytest.raises(BadRequest, match=re.compile("invalid file_id", re.I)):
        await bot.get_file("nope")


def test_inline_queries_need_inline_mode_on(fake: FakeTelegram) -> None:
    with pytest.raises(ValueError, match="/setinline"):
        fake.add_inline_query("copper")


async def test_an_inline_query_is_delivered_and_answered_once(fake: FakeTelegram, bot: Bot) -> None:
    fake.bot_user["supports_inline_queries"] = True
    query_id = fake.add_inline_query("copper " * 60, user_id=7, chat_type="group")
    [update] = await bot.get_updates()
    query = update.inline_query
    assert query is not None and query.id == query_id and query.chat_type == "group"
    assert len(query.query) == 256 and query.from_user.id == 7

    await query.answer([article("1"), article("2")], cache_time=30)
    answer = await fake.wait_for_inline_answer(query_id)
    assert [r["id"] for r in answer["results"]] == ["1", "2"]
    assert answer["cache_time"] == "30"
    with pytest.raises(BadRequest, match=re.compile("query is too old", re.I)):
        await query.answer([])


@pytest.mark.parametrize(
    ("results", "button", "error"),
    [
        ([article("1"), article("1")], None, "RESULT_ID_DUPLICATE"),
        ([article(str(n)) for n in range(51)], None, "RESULTS_TOO_MUCH"),
        ([article("x" * 65)], None, "RESULT_ID_INVALID"),
        ([article("1", "<b>unclosed")], None, "can't parse entities"),
        ([], InlineQueryResultsButton("Help", start_parameter="bad param!"), "START_PARAM_INVALID"),
    ],
)
async def test_answer_inline_query_checks_results_as_telegram_does(
    fake: FakeTelegram,
    bot: Bot,
    results: list[InlineQueryResultArticle],
    button: InlineQueryResultsButton | None,
    error: str,
) -> None:
    fake.bot_user["supports_inline_queries"] = True
    query_id = fake.add_inline_query("copper")
    with pytest.raises(BadRequest, match=re.compile(re.escape(error), re.I)):
        await bot.answer_inline_query(query_id, results, button=button)
    assert fake.inline_answers == []
