"""Small helpers shared by the handler modules: reading commands and sending replies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from telegram import (
    CallbackQuery,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import callbacks, i18n, rendering
from bot.context import BotApplication, BotContext, Services
from bot.digest_jobs import sync_digest_jobs
from bot.rendering import Reply
from bot.senders.telegram import keyboard
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage import queries

HandlerCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
Pressed = TypeVar("Pressed")

GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
GROUP_ADMINS = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


def command(
    name: str, callback: HandlerCallback, *, block: bool = True
) -> CommandHandler[BotContext, None]:
    """The handler of /name typed in a new message: editing a sent command does not run it
    again, and channel posts are not commands."""
    return CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE, block=block)


def button(
    kind: type[callbacks.Callback], callback: HandlerCallback
) -> CallbackQueryHandler[BotContext, None]:
    """The handler of presses of one kind of button (data the codec reads as `kind`)."""
    return CallbackQueryHandler(callback, pattern=callbacks.pattern(kind))


def button_pressed(update: Update, kind: type[Pressed]) -> Pressed | None:
    """What the pressed button asks for, when it is of `kind` (None for anything else); for a
    button that acts on a channel, what it asks of the channel (see handlers.targets)."""
    query = update.callback_query
    decoded = callbacks.decode(query.data or "") if query is not None else None
    if isinstance(decoded, callbacks.InChannel):
        return decoded.action if isinstance(decoded.action, kind) else None
    return decoded if isinstance(decoded, kind) else None


def command_argument(message: Message | None) -> str:
    """Everything after the command word ("/subscribe rare earths" → "rare earths")."""
    text = (message.text or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) == 2 else ""


def addressed_to_another_bot(message: Message | None, bot_username: str) -> bool:
    """Whether a command names another bot (`/subscribe@other_bot gold`)."""
    command_word = ((message.text or "") if message else "").split(maxsplit=1)[:1]
    _, at, name = (command_word[0] if command_word else "").partition("@")
    return bool(at) and name.casefold() != bot_username.casefold()


def in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in GROUP_CHATS


async def may_change_chat(update: Update, context: BotContext) -> bool:
    """Whether the sender may change the chat's watch-list and settings: anyone in a private
    chat; in a group only its administrators (by getChatMember, or writing anonymously as the
    group itself)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type not in GROUP_CHATS:
        return chat is not None
    message = update.message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in GROUP_ADMINS


async def allowed_to_change(update: Update, context: BotContext) -> bool:
    """`may_change_chat`, telling anyone else briefly (as a button notice for a press)."""
    if await may_change_chat(update, context):
        return True
    if update.callback_query is not None:
        await update.callback_query.answer(rendering.group_admins_only())
    else:
        await answer(update, rendering.group_admins_only())
    return False


async def edit_pressed(query: CallbackQuery, reply: Reply, *, buttons_only: bool = False) -> None:
    """Edit the message whose button was pressed into `reply` (only its buttons, keeping the
    text, with `buttons_only`). A press that changes nothing (the current choice pressed
    again) leaves it as it is: Telegram refuses an edit to the same message."""
    try:
        if buttons_only:
            await query.edit_message_reply_markup(reply_markup=keyboard(reply))
        else:
            await query.edit_message_text(
                reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
            )
    except BadRequest as error:
        if "message is not modified" not in error.message.lower():
            raise


def forum_thread(update: Update) -> int | None:
    """The forum topic an update came from (None: not a forum's topic, or its General)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or not chat.is_forum or message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def forum_topic_name(update: Update) -> str | None:
    """The name of the forum topic an update came from, when Telegram tells it: a message in a
    topic replies to the message that opened it, unless it replies to another."""
    message = update.effective_message
    opened = message.reply_to_message if message is not None else None
    created = opened.forum_topic_created if opened is not None else None
    return created.name if created is not None and forum_thread(update) is not None else None


async def answer(update: Update, reply: Reply | str) -> None:
    """Reply in the chat the update came from (in its forum topic), as HTML."""
    reply = Reply(reply) if isinstance(reply, str) else reply
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(
        reply.text,
        parse_mode=ParseMode.HTML,
        message_thread_id=forum_thread(update),
        reply_markup=keyboard(reply),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def choose_language(update: object, context: BotContext) -> None:
    """Speak the chat's language for the rest of the update: the one chosen with /language,
    else that of the user who writes (whose language code the chat records, so alerts and
    digests follow it too)."""
    if not isinstance(update, Update):
        return
    chat, user = update.effective_chat, update.effective_user
    seen = user.language_code if user is not None and not user.is_bot else None
    chosen = None
    if chat is not None:
        async with context.services.sessions() as session:
            chosen, stored = await queries.chat_languages(
                session=session, chat_id=chat.id, seen_code=seen
            )
        seen = seen or stored
    i18n.speak(i18n.chat_language(chosen, seen))


def is_admin(update: Update, services: Services) -> bool:
    """Whether the update's user is one of ADMIN_IDS."""
    user = update.effective_user
    return user is not None and user.id in services.settings.admin_ids


async def remember_chat(update: Update, context: BotContext) -> int | None:
    """Record the chat of an update (and reactivate it); its id."""
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    await record_chat(
        context,
        chat.id,
        kind=chat.type,
        title=chat.title or chat.username,
        language_code=user.language_code if user is not None else None,
    )
    return chat.id


async def record_chat(
    context: BotContext,
    chat_id: int,
    *,
    kind: str,
    title: str | None,
    language_code: str | None = None,
) -> None:
    """Record a chat the bot talks to, active again, with its current title. A new chat starts
    in the default time zone and the language of whoever made it known (`language_code`), and
    its digest slot gets a job."""
    services = context.services
    async with services.sessions() as session:
        row = await queries.ensure_chat(
            session=session,
            chat_id=chat_id,
            kind=kind,
            title=title,
            timezone=services.settings.default_timezone,
            language_code=language_code,
        )
        created = row in session.new
        row.title = title
        await session.commit()
    if created:
        await sync_digest_jobs(cast(BotApplication, context.application))


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
