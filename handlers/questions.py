"""Questions about what is known: /facts, /related, /latest, /trend and /digest."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot import knowledge, rendering
from bot.callbacks import Ask, MoreFacts, Question
from bot.charts import has_activity, trend_caption, trend_chart, trend_title
from bot.context import BotApplication, BotContext, Services
from bot.digest_jobs import digest_text
from bot.rendering import Reply
from bot.senders.telegram import keyboard
from bot.topics import TopicError, WatchItem, parse_watch_item
from handlers.common import (
    answer,
    button,
    button_pressed,
    command,
    command_argument,
    forum_thread,
    remember_chat,
    topic_argument,
)
from storage import queries
from storage.models import utcnow


async def asked_item(update: Update, context: BotContext, question: Question) -> WatchItem | None:
    """The watch item after a question command, or None after telling the user what is wrong
    or suggesting spellings (with buttons that ask again) for a typo."""
    await remember_chat(update, context)
    item = await topic_argument(update, context, rendering.question_usage(question))
    if item is None:
        return None
    candidates = context.services.suggester.suggest(item)
    if candidates:
        await answer(update, rendering.question_suggestion(question, item.key, candidates))
        return None
    return item


async def ask(update: Update, context: BotContext, question: Question, item: WatchItem) -> None:
    """Answer a question about a watch item in the update's chat."""
    services = context.services
    sessions, lexicon = services.sessions, services.lexicon
    match question:
        case "facts":
            found = await knowledge.key_facts(sessions, item, lexicon)
            await answer(update, rendering.facts_page(item.key, found))
        case "related":
            related = await knowledge.related(sessions, item, lexicon)
            await answer(update, rendering.related_list(item.key, related))
        case "latest":
            stories = await knowledge.latest(sessions, item, lexicon)
            await answer(update, rendering.latest_list(item.key, stories))
        case "trend":
            await send_trend(update, context, item)


async def facts(update: Update, context: BotContext) -> None:
    """The key figures about a topic from stored articles: /facts copper; /facts alone: the
    newest few of each item of the chat's watch-list."""
    if not command_argument(update.effective_message).strip():
        chat_id = await remember_chat(update, context)
        if chat_id is not None:
            await answer(update, await watch_list_facts(context.services, chat_id))
        return
    item = await asked_item(update, context, "facts")
    if item is not None:
        await ask(update, context, "facts", item)


async def watch_list_facts(services: Services, chat_id: int) -> Reply:
    async with services.sessions() as session:
        rows = await queries.list_subscriptions(session=session, chat_id=chat_id)
    found = []
    for row in rows:
        try:
            item = parse_watch_item(row.topic, services.lexicon)
        except TopicError:
            continue  # a stored topic always parses; a hand-edited row is skipped
        found.append(
            (row.topic, await knowledge.key_facts(services.sessions, item, services.lexicon))
        )
    return rendering.watch_list_facts(found)


async def on_more_facts(update: Update, context: BotContext) -> None:
    """The "more…" button under a facts page: show the next page in the same message."""
    query = update.callback_query
    pressed = button_pressed(update, MoreFacts)
    if query is None or query.message is None or pressed is None:
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


async def on_ask_again(update: Update, context: BotContext) -> None:
    """A button that asks a question about a topic (a suggested spelling, the typed one, a
    watch item): the answer comes as a new message."""
    query = update.callback_query
    pressed = button_pressed(update, Ask)
    if query is None or pressed is None:
        return
    try:
        item = parse_watch_item(pressed.topic, context.services.lexicon)
    except TopicError as error:
        await query.answer(str(error))
        return
    await remember_chat(update, context)
    await query.answer()
    await ask(update, context, pressed.question, item)


async def related(update: Update, context: BotContext) -> None:
    """Headlines related to a topic: /related India-Chile."""
    item = await asked_item(update, context, "related")
    if item is not None:
        await ask(update, context, "related", item)


async def latest(update: Update, context: BotContext) -> None:
    """The newest stored articles on a topic: /latest lithium."""
    item = await asked_item(update, context, "latest")
    if item is not None:
        await ask(update, context, "latest", item)


async def trend(update: Update, context: BotContext) -> None:
    """A chart of matching articles per day over the last 30 days: /trend copper."""
    item = await asked_item(update, context, "trend")
    if item is not None:
        await ask(update, context, "trend", item)


async def send_trend(update: Update, context: BotContext, item: WatchItem) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    services = context.services
    counts = await knowledge.daily_counts(services.sessions, item, services.lexicon)
    caption = rendering.escape(trend_caption(item.key, counts))
    if not has_activity(counts):
        await answer(update, caption)
        return
    chart = trend_chart(counts, title=trend_title(item.key))
    await chat.send_photo(
        chart, caption=caption, parse_mode=ParseMode.HTML, message_thread_id=forum_thread(update)
    )


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
    app.add_handler(button(MoreFacts, on_more_facts))
    app.add_handler(button(Ask, on_ask_again))
