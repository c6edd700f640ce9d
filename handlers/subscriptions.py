"""/subscribe, /unsubscribe, /list and their inline buttons."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler

from bot import callbacks, rendering
from bot.callbacks import RemoveSubscription, SetLevel, SubscribeTo
from bot.context import BotApplication, BotContext, Services
from bot.rendering import Reply
from bot.topics import TopicError, parse_watch_item
from handlers.common import answer, command, keyboard, remember_chat, topic_argument
from storage import queries
from storage.models import Level

MAX_SUBSCRIPTIONS = 50


async def subscribe(update: Update, context: BotContext) -> None:
    """Add a topic to the chat's watch-list, or suggest a spelling: /subscribe TOPIC."""
    services = context.services
    chat_id = await remember_chat(update, context)
    item = await topic_argument(update, context, rendering.subscribe_usage())
    if chat_id is None or item is None:
        return
    candidates = services.suggester.suggest(item)
    if candidates:
        await answer(update, rendering.suggestion(item.key, candidates))
        return
    await answer(update, await add_topic(services, chat_id, item.key))


async def add_topic(services: Services, chat_id: int, topic: str) -> str:
    """Store a subscription within the per-chat limit; the confirmation to show."""
    async with services.sessions() as session:
        if await queries.count_subscriptions(session=session, chat_id=chat_id) >= MAX_SUBSCRIPTIONS:
            return rendering.too_many_subscriptions(MAX_SUBSCRIPTIONS)
        created = await queries.add_subscription(session=session, chat_id=chat_id, topic=topic)
        await session.commit()
    return rendering.subscribed(topic) if created else rendering.already_subscribed(topic)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """Remove a topic from the chat's watch-list: /unsubscribe TOPIC."""
    services = context.services
    chat_id = await remember_chat(update, context)
    item = await topic_argument(update, context, rendering.unsubscribe_usage())
    if chat_id is None or item is None:
        return
    topic = item.key
    async with services.sessions() as session:
        removed = await queries.remove_subscription(session=session, chat_id=chat_id, topic=topic)
        await session.commit()
    await answer(
        update, rendering.unsubscribed(topic) if removed else rendering.not_subscribed(topic)
    )


async def list_topics(update: Update, context: BotContext) -> None:
    """Show the chat's watch-list with a remove button per topic."""
    chat_id = await remember_chat(update, context)
    if chat_id is not None:
        await answer(update, await watch_list(context.services, chat_id))


async def watch_list(services: Services, chat_id: int) -> Reply:
    async with services.sessions() as session:
        rows = await queries.list_subscriptions(session=session, chat_id=chat_id)
    return rendering.subscription_list(
        [rendering.ListedTopic(row.id, row.topic, row.level) for row in rows if row.id is not None]
    )


async def on_subscribe_button(update: Update, context: BotContext) -> None:
    """A "Did you mean …?" button: subscribe to the chosen spelling."""
    query = update.callback_query
    chat = update.effective_chat
    pressed = callbacks.decode(query.data or "") if query else None
    if query is None or chat is None or not isinstance(pressed, SubscribeTo):
        return
    services = context.services
    try:
        topic = parse_watch_item(pressed.topic, services.lexicon).key
    except TopicError as error:
        await query.answer(str(error))
        return
    await remember_chat(update, context)
    confirmation = await add_topic(services, chat.id, topic)
    await query.answer()
    await query.edit_message_text(confirmation, parse_mode=ParseMode.HTML)


async def on_remove_button(update: Update, context: BotContext) -> None:
    """A remove button under /list: drop that topic and refresh the list."""
    query = update.callback_query
    chat = update.effective_chat
    pressed = callbacks.decode(query.data or "") if query else None
    if query is None or chat is None or not isinstance(pressed, RemoveSubscription):
        return
    services = context.services
    async with services.sessions() as session:
        topic = await queries.remove_subscription_by_id(
            session=session, chat_id=chat.id, subscription_id=pressed.subscription_id
        )
        await session.commit()
    if topic is None:
        await query.answer("Already removed.")
        return
    await query.answer(rendering.removed_notice(topic))
    refreshed = await watch_list(services, chat.id)
    await query.edit_message_text(
        refreshed.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(refreshed)
    )


async def on_level_button(update: Update, context: BotContext) -> None:
    """A level button under /list: switch what that topic sends at once, refresh the list."""
    query = update.callback_query
    chat = update.effective_chat
    pressed = callbacks.decode(query.data or "") if query else None
    if query is None or chat is None or not isinstance(pressed, SetLevel):
        return
    services = context.services
    async with services.sessions() as session:
        topic = await queries.set_level(
            session=session,
            chat_id=chat.id,
            subscription_id=pressed.subscription_id,
            level=Level(pressed.level),
        )
        await session.commit()
    if topic is None:
        await query.answer(rendering.not_on_watch_list())
        return
    await query.answer(rendering.level_set_notice(topic, pressed.level))
    refreshed = await watch_list(services, chat.id)
    await query.edit_message_text(
        refreshed.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(refreshed)
    )


def register(app: BotApplication) -> None:
    app.add_handler(command("subscribe", subscribe))
    app.add_handler(command("unsubscribe", unsubscribe))
    app.add_handler(command("list", list_topics))
    app.add_handler(
        CallbackQueryHandler(on_subscribe_button, pattern=callbacks.pattern(SubscribeTo))
    )
    app.add_handler(
        CallbackQueryHandler(on_remove_button, pattern=callbacks.pattern(RemoveSubscription))
    )
    app.add_handler(CallbackQueryHandler(on_level_button, pattern=callbacks.pattern(SetLevel)))
