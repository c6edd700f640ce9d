"""Small helpers shared by the handler modules: reading commands and sending replies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, filters

from bot import callbacks, rendering
from bot.context import BotApplication, BotContext, Services
from bot.digest_jobs import sync_digest_jobs
from bot.rendering import Reply
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage import queries

HandlerCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def command(
    name: str, callback: HandlerCallback, *, block: bool = True
) -> CommandHandler[BotContext, None]:
    """The handler of /name typed in a new message: editing a sent command does not run it
    again, and channel posts are not commands."""
    return CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE, block=block)


def command_argument(message: Message | None) -> str:
    """Everything after the command word ("/subscribe rare earths" → "rare earths")."""
    text = (message.text or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) == 2 else ""


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=callbacks.encode(b.action)) for b in row]
            for row in reply.buttons
        ]
    )


async def answer(update: Update, reply: Reply | str) -> None:
    """Reply in the chat the update came from, as HTML."""
    reply = Reply(reply) if isinstance(reply, str) else reply
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(
        reply.text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(reply),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


def is_admin(update: Update, services: Services) -> bool:
    """Whether the update's user is one of ADMIN_IDS."""
    user = update.effective_user
    return user is not None and user.id in services.settings.admin_ids


async def remember_chat(update: Update, context: BotContext) -> int | None:
    """Record the chat of an update (and reactivate it); its id. A new chat starts in the
    default time zone, and its digest slot gets a job."""
    chat = update.effective_chat
    if chat is None:
        return None
    services = context.services
    async with services.sessions() as session:
        row = await queries.ensure_chat(
            session=session,
            chat_id=chat.id,
            kind=chat.type,
            title=chat.title or chat.username,
            timezone=services.settings.default_timezone,
        )
        created = row in session.new
        await session.commit()
    if created:
        await sync_digest_jobs(cast(BotApplication, context.application))
    return chat.id


async def topic_argument(update: Update, context: BotContext, usage: str) -> WatchItem | None:
    """The watch item typed after a command, or None after telling the user what is wrong
    (`usage` when nothing was typed)."""
    typed = command_argument(update.effective_message)
    if not typed.strip():
        await answer(update, usage)
        return None
    try:
        return parse_watch_item(typed, context.services.lexicon)
    except TopicError as error:
        await answer(update, rendering.topic_error(str(error)))
        return None
