"""/test QUERY and the button under its report that subscribes to the query as tested."""

from __future__ import annotations

import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update

from bot import querytest, rendering
from bot.callbacks import SubscribeTested
from bot.context import BotApplication, BotContext
from bot.topics import TopicError, parse_watch_item
from handlers.common import (
    allowed_to_change,
    answer,
    button,
    button_pressed,
    command,
    in_group,
    remember_chat,
    topic_argument,
)
from handlers.preferences import current
from handlers.subscriptions import add_topic
from handlers.targets import Target, forum_route

TESTED = "tested"  # chat_data: the queries this chat tested, by token
KEPT_TESTS = 20


async def test(update: Update, context: BotContext) -> None:
    """Show what a query would have alerted on in the last 30 days: /test QUERY."""
    chat_id = await remember_chat(update, context)
    item = await topic_argument(update, context, rendering.test_usage())
    if chat_id is None or item is None:
        return
    services = context.services
    zone = ZoneInfo((await current(context, chat_id)).timezone)
    report = await querytest.test_query(services.sessions, item, services.lexicon, zone=zone)
    await answer(update, rendering.test_report(report, _keep_tested(context, item.key)))


def _keep_tested(context: BotContext, key: str) -> str:
    """A token for the tested query, kept in the chat's data for its subscribe button."""
    token = hashlib.sha256(key.encode()).hexdigest()[:12]
    chat_data: dict[Any, Any] = context.chat_data if context.chat_data is not None else {}
    tested: dict[str, str] = chat_data.setdefault(TESTED, {})
    tested.pop(token, None)
    tested[token] = key
    while len(tested) > KEPT_TESTS:
        del tested[next(iter(tested))]
    return token


async def on_subscribe_tested_button(update: Update, context: BotContext) -> None:
    """The button under a /test report: subscribe to the query tested in this chat."""
    query = update.callback_query
    chat = update.effective_chat
    pressed = button_pressed(update, SubscribeTested)
    if query is None or chat is None or pressed is None:
        return
    if not await allowed_to_change(update, context):
        return
    key = ((context.chat_data or {}).get(TESTED) or {}).get(pressed.token)
    if key is None:
        await query.answer(rendering.test_expired())
        return
    services = context.services
    try:
        topic = parse_watch_item(key, services.lexicon).key
    except TopicError as error:
        await query.answer(str(error))
        return
    await remember_chat(update, context)
    target = Target(chat.id, group=in_group(update), route=forum_route(update))
    confirmation = await add_topic(context, target, topic)
    await query.answer()
    await query.edit_message_reply_markup(None)
    await answer(update, confirmation)


def register(app: BotApplication) -> None:
    app.add_handler(command("test", test))
    app.add_handler(button(SubscribeTested, on_subscribe_tested_button))
