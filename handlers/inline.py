"""Inline mode: ``@botname copper`` typed in any chat lists the newest main stories about
copper to post there, each with its headline, source and link. Answers are cached briefly,
by the bot per topic and by Telegram per query (`cache_time`). Inline mode is turned on with
BotFather's /setinline."""

from __future__ import annotations

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import InlineQueryHandler

from bot import rendering
from bot.context import BotApplication, BotContext
from bot.sharing import CACHE_SECONDS, RecentAnswers, SharedStory, main_stories
from bot.topics import TopicError, parse_watch_item

START_PARAMETER = "inline"  # the button under an empty answer opens the bot's chat with it


async def share(update: Update, context: BotContext) -> None:
    """Answer an inline query with the newest main stories on the typed topic."""
    query = update.inline_query
    if query is None:
        return
    typed = query.query.strip()
    if not typed:
        await _answer_empty(update, rendering.inline_help())
        return
    services = context.services
    try:
        item = parse_watch_item(typed, services.lexicon)
    except TopicError as error:
        await _answer_empty(update, rendering.inline_topic_error(str(error)))
        return
    cache: RecentAnswers = context.bot_data["inline_answers"]
    stories = cache.get(item.key)
    if stories is None:
        stories = await main_stories(services.sessions, item, services.lexicon)
        cache.put(item.key, stories)
    if not stories:
        await _answer_empty(update, rendering.inline_nothing(item.key))
        return
    await _answer(update, [_result(story) for story in stories])


def _result(story: SharedStory) -> InlineQueryResultArticle:
    text = rendering.shared_story(story.article)
    return InlineQueryResultArticle(
        id=str(story.article_id),
        title=text.title,
        description=text.description,
        url=story.article.url,
        input_message_content=InputTextMessageContent(
            text.message,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=story.article.url is None),
        ),
    )


async def _answer_empty(update: Update, hint: str) -> None:
    """No results, with a button saying why (it opens a private chat with the bot)."""
    await _answer(update, [], InlineQueryResultsButton(hint, start_parameter=START_PARAMETER))


async def _answer(
    update: Update,
    results: list[InlineQueryResultArticle],
    button: InlineQueryResultsButton | None = None,
) -> None:
    query = update.inline_query
    assert query is not None
    try:
        await query.answer(results, cache_time=int(CACHE_SECONDS), button=button)
    except BadRequest as error:  # the user typed on: the query expired before the answer
        if "query is too old" not in error.message.lower():
            raise


def register(app: BotApplication) -> None:
    app.bot_data["inline_answers"] = RecentAnswers()
    app.add_handler(InlineQueryHandler(share))
