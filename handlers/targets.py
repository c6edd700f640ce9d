"""Which chat a command or a button acts on: the chat it came from, or a channel it names.

A channel cannot type commands, so it is managed from a private chat: `/subscribe @channel
TOPIC` (or the channel's id, -100…) acts on the channel, and the buttons of such a reply carry
the channel (`InChannel`). Each command and each press asks Telegram again whether the bot may
post in the channel and whether the user is its creator or one of its administrators; nothing
of that is cached, so a demoted administrator loses access at once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic

from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden

from bot import callbacks, i18n, rendering
from bot.callbacks import CHANNEL_ACTIONS, InChannel
from bot.channels import Refusal, bot_refusal, named_channel, user_refusal
from bot.context import BotContext
from bot.i18n import _
from bot.rendering import ChannelName, Reply
from bot.subscriptions import Route
from handlers.common import (
    Pressed,
    allowed_to_change,
    answer,
    button_pressed,
    command_argument,
    forum_thread,
    forum_topic_name,
    in_group,
    record_chat,
    remember_chat,
)


@dataclass(frozen=True, slots=True)
class Target:
    """The chat a command acts on, what was typed for it, and how replies name it."""

    chat_id: int
    argument: str = ""  # what follows the command, without the channel it names
    group: bool = False
    channel: ChannelName | None = None  # set when acting on a channel from a private chat
    route: Route | None = None  # in a forum group: the topic (or General) it came from

    @property
    def forum_topic(self) -> bool:
        """Whether it came from a forum topic (not General)."""
        return self.route is not None and self.route.thread_id is not None

    def reply(self, reply: Reply) -> Reply:
        """A reply whose buttons act on this target: for a channel each button carries it
        (one that would no longer fit Telegram's 64 bytes is left out)."""
        if self.channel is None:
            return reply
        rows = tuple(
            tuple(
                replace(button, action=InChannel(self.chat_id, button.action))
                for button in row
                if isinstance(button.action, CHANNEL_ACTIONS)
                and callbacks.fits(InChannel(self.chat_id, button.action))
            )
            for row in reply.buttons
        )
        return Reply(reply.text, tuple(row for row in rows if row))

    def about(self, text: str) -> str:
        """A reply's HTML, headed by the channel it is about (when it is about one)."""
        return text if self.channel is None else f"{self.channel.html()}: {text}"


@dataclass(frozen=True, slots=True)
class ChannelFound:
    chat_id: int
    name: ChannelName


@dataclass(frozen=True, slots=True)
class Refused:
    refusal: Refusal
    name: str  # the channel's title, or what was typed when there is no such channel


async def command_target(update: Update, context: BotContext) -> Target | None:
    """The chat a command acts on: a channel named first after it, when the user may manage
    it, else the chat it was typed in (both recorded). None after saying why not."""
    chat_id = await remember_chat(update, context)
    chat, user = update.effective_chat, update.effective_user
    if chat_id is None or chat is None:
        return None
    named = named_channel(command_argument(update.effective_message))
    found: ChannelFound | Refused
    if named.malformed:
        found = Refused(Refusal.NO_SUCH_CHANNEL, _("with that name"))
    elif named.channel is None:
        return Target(chat_id, named.rest, group=in_group(update), route=forum_route(update))
    elif chat.type != ChatType.PRIVATE or user is None:
        found = Refused(Refusal.NOT_PRIVATE, str(named.channel))
    else:
        found = await channel_access(context, named.channel, user.id)
    if isinstance(found, Refused):
        refusal = rendering.channel_refused(found.refusal, found.name)
        await answer(update, rendering.escape(refusal))
        return None
    return Target(found.chat_id, named.rest, channel=found.name)


@dataclass(frozen=True, slots=True)
class Press(Generic[Pressed]):
    """A pressed button: its query, what it asks for and the chat it acts on."""

    query: CallbackQuery
    pressed: Pressed
    target: Target


async def press_on_target(
    update: Update, context: BotContext, kind: type[Pressed]
) -> Press[Pressed] | None:
    """The press of a button of `kind` and the chat it acts on (`button_target`); None for
    any other button, or after answering a presser who may not act on that chat."""
    query = update.callback_query
    pressed = button_pressed(update, kind)
    if query is None or pressed is None:
        return None
    target = await button_target(update, context)
    return None if target is None else Press(query, pressed, target)


async def button_target(update: Update, context: BotContext) -> Target | None:
    """The chat a pressed button acts on: the channel it carries, when the presser may still
    manage it, else the chat it was pressed in, when the presser may change it. None after
    answering the press with the reason."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    pressed = callbacks.decode(query.data or "") if query is not None else None
    if query is None or chat is None:
        return None
    if not isinstance(pressed, InChannel):
        if not await allowed_to_change(update, context):
            return None
        await remember_chat(update, context)
        return Target(chat.id, group=in_group(update), route=forum_route(update))
    found: ChannelFound | Refused = Refused(Refusal.NOT_PRIVATE, str(pressed.channel_id))
    if chat.type == ChatType.PRIVATE and user is not None:
        found = await channel_access(context, pressed.channel_id, user.id)
    if isinstance(found, Refused):
        await query.answer(rendering.channel_refused(found.refusal, found.name))
        return None
    return Target(found.chat_id, channel=found.name)


def forum_route(update: Update) -> Route | None:
    """In a forum group, the topic (or General) an update came from; None elsewhere."""
    chat = update.effective_chat
    if chat is None or not chat.is_forum:
        return None
    return Route(forum_thread(update), forum_topic_name(update))


async def channel_access(
    context: BotContext, channel: str | int, user_id: int
) -> ChannelFound | Refused:
    """The channel `channel` names, recorded as a chat, when the bot may post there and the
    user is its creator or an administrator; else why not."""
    bot = context.bot
    try:
        info = await bot.get_chat(channel)
    except (BadRequest, Forbidden):
        return Refused(Refusal.NO_SUCH_CHANNEL, str(channel))
    if info.type != ChatType.CHANNEL:
        return Refused(Refusal.NO_SUCH_CHANNEL, str(channel))
    title = info.title or info.username or str(info.id)
    try:
        me = await bot.get_chat_member(info.id, bot.id)
    except (BadRequest, Forbidden):  # the member list of a channel the bot is not in is closed
        return Refused(Refusal.BOT_NOT_IN, title)
    refusal = bot_refusal(me.status, can_post_messages=getattr(me, "can_post_messages", None))
    if refusal is None:
        try:
            refusal = user_refusal((await bot.get_chat_member(info.id, user_id)).status)
        except (BadRequest, Forbidden):
            refusal = Refusal.NOT_ADMIN
    if refusal is not None:
        return Refused(refusal, title)
    # A new channel speaks the language of the manager who makes it known.
    language = i18n.current_language()
    await record_chat(context, info.id, kind=ChatType.CHANNEL, title=title, language_code=language)
    ref = f"@{info.username}" if info.username else str(info.id)
    return ChannelFound(info.id, ChannelName(title, ref))
