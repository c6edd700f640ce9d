"""Questions about what is known: /facts, /related, /latest, /trend and /digest."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler

from bot import callbacks, knowledge, rendering
from bot.callbacks import MoreFacts
from bot.charts import has_activity, trend_caption, trend_chart
from bot.context import BotApplication, BotContext
from bot.digest_jobs import digest_text
from bot.topics import TopicError, WatchItem, parse_watch_item
from handlers.common import answer, command, keyboard, remember_chat, topic_argument
from storage import queries
from storage.models import utcnow


async def asked_item(update: Update, context: BotContext, command: str) -> WatchItem | None:
    """The watch item after a question command (or None, the user told what is wrong)."""
    await remember_chat(update, context)
    return await topic_argument(update, context, rendering.question_usage(command))


async def facts(update: Update, context: BotContext) -> None:
    """The key figures about a topic from stored articles: /facts copper."""
    item = await asked_item(update, context, "facts")
    if item is not None:
        services = context.services
        found = await knowledge.key_facts(services.sessions, item, services.lexicon)
        await answer(update, rendering.facts_page(item.key, found))


async def on_more_facts(update: Update, context: BotContext) -> None:
    """The "more…" button under a facts page: show the next page in the same message."""
    query = update.callback_query
    pressed = callbacks.decode(query.data or "") if query else None
    if query is None or query.message is None or not isinstance(pressed, MoreFacts):
        return
    topic = rendering.facts_topic(getattr(query.message, "text", None) or "")
    try:
        item = parse_watch_item(topic or "", context.services.lexicon)
    except TopicError:
        await query.answer(rendering.stale_button())
        return
    services = context.services
    found = await knowledge.key_facts(services.sessions, item, services.lexicon)
    page = rendering.facts_page(
        item.key, found, pressed.offset if pressed.offset < len(found) else 0
    )
    await query.answer()
    await query.edit_message_text(page.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(page))


async def related(update: Update, context: BotContext) -> None:
    """Headlines related to a topic: /related India-Chile."""
    item = await asked_item(update, context, "related")
    if item is not None:
        services = context.services
        found = await knowledge.related(services.sessions, item, services.lexicon)
        await answer(update, rendering.related_list(item.key, found))


async def latest(update: Update, context: BotContext) -> None:
    """The newest stored articles on a topic: /latest lithium."""
    item = await asked_item(update, context, "latest")
    if item is not None:
        services = context.services
        found = await knowledge.latest(services.sessions, item, services.lexicon)
        await answer(update, rendering.latest_list(item.key, found))


async def trend(update: Update, context: BotContext) -> None:
    """A chart of matching articles per day over the last 30 days: /trend copper."""
    item = await asked_item(update, context, "trend")
    chat = update.effective_chat
    if item is None or chat is None:
        return
    services = context.services
    counts = await knowledge.daily_counts(services.sessions, item, services.lexicon)
    caption = rendering.escape(trend_caption(item.key, counts))
    if not has_activity(counts):
        await answer(update, caption)
        return
    chart = trend_chart(counts, title=f"{item.key}: articles per day")
    await chat.send_photo(chart, caption=caption, parse_mode=ParseMode.HTML)


async def digest_now(update: Update, context: BotContext) -> None:
    """Show the digest this chat would get now: what matched since its last digest."""
    chat_id = await remember_chat(update, context)
    if chat_id is None:
        return
    services = context.services
    async with services.sessions() as session:
        chat = await queries.ensure_chat(session=session, chat_id=chat_id)
        since = await queries.last_digest_end(session=session, chat_id=chat_id)
    messages = await digest_text(services.sessions, chat, since=since, until=utcnow())
    for text in messages or [rendering.nothing_new()]:
        await answer(update, text)


def register(app: BotApplication) -> None:
    app.add_handler(command("facts", facts))
    app.add_handler(command("related", related))
    app.add_handler(command("latest", latest))
    app.add_handler(command("trend", trend))
    app.add_handler(command("digest", digest_now))
    app.add_handler(CallbackQueryHandler(on_more_facts, pattern=callbacks.pattern(MoreFacts)))
