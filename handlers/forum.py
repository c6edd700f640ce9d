"""/topics, and the forum topics the bot makes: in a forum group with `/topics auto`, each new
item subscribed in General gets a topic of its own (createForumTopic, named after the item)
when the bot may manage topics. Routing an item to the topic it was subscribed from is
`bot.subscriptions.add`'s."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden

from bot import rendering, subscriptions
from bot.context import BotApplication, BotContext
from bot.text import shorten
from handlers.common import allowed_to_change, answer, command
from handlers.targets import Target, command_target
from storage.models import MAX_THREAD_NAME

log = logging.getLogger(__name__)

NOT_ENOUGH_RIGHTS = "not enough rights"


async def topics(update: Update, context: BotContext) -> None:
    """Give each new item subscribed in General a forum topic of its own, or not:
    /topics auto|off."""
    target = await command_target(update, context)
    if target is None:
        return
    if target.route is None:
        await answer(update, rendering.topics_only_in_forums())
        return
    sessions = context.services.sessions
    typed = target.argument.strip().lower()
    if typed not in ("auto", "off"):
        on = await subscriptions.topics_auto(sessions, target.chat_id)
        await answer(update, rendering.topics_usage(on))
        return
    if not await allowed_to_change(update, context):
        return
    on = typed == "auto"
    if on and not await may_manage_topics(context, target.chat_id):
        await answer(update, rendering.topic_right_missing())
        return
    await subscriptions.set_topics_auto(sessions, target.chat_id, on)
    await answer(update, rendering.topics_auto_set(on))


async def may_manage_topics(context: BotContext, chat_id: int) -> bool:
    """Whether the bot may create forum topics in a group: its creator, or an administrator
    with the right to manage topics (asked each time: rights change)."""
    me = await context.bot.get_chat_member(chat_id, context.bot.id)
    if me.status == ChatMemberStatus.OWNER:
        return True
    return me.status == ChatMemberStatus.ADMINISTRATOR and bool(
        getattr(me, "can_manage_topics", False)
    )


async def topic_for_new_item(context: BotContext, target: Target, topic: str) -> str | None:
    """With /topics auto, a new item subscribed in a forum's General gets a topic of its own,
    named after it: the line saying so, or which right the bot is missing; None otherwise
    (the item stays in General)."""
    route, sessions = target.route, context.services.sessions
    if route is None or route.thread_id is not None:
        return None
    if not await subscriptions.topics_auto(sessions, target.chat_id):
        return None
    name = shorten(topic, MAX_THREAD_NAME)
    try:
        created = await context.bot.create_forum_topic(target.chat_id, name)
    except (BadRequest, Forbidden) as error:
        if NOT_ENOUGH_RIGHTS in error.message.lower():
            subscribed = rendering.subscribed(topic, group=True)
            return f"{subscribed}\n{rendering.topic_right_missing()}"
        log.warning("no forum topic for %r in chat %s: %s", topic, target.chat_id, error)
        return None
    route = subscriptions.Route(created.message_thread_id, created.name)
    await subscriptions.route_to(sessions, target.chat_id, topic, route)
    return rendering.subscribed_in_new_topic(topic, created.name)


def register(app: BotApplication) -> None:
    app.add_handler(command("topics", topics))
