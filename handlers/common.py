"""Small helpers shared by the handler modules: reading commands and sending replies."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode

from bot.rendering import Reply
from storage import queries
from storage.db import SessionFactory


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
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
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


async def remember_chat(update: Update, sessions: SessionFactory) -> int | None:
    """Record the chat of an update (and reactivate it); its id."""
    chat = update.effective_chat
    if chat is None:
        return None
    async with sessions() as session:
        await queries.ensure_chat(
            session=session, chat_id=chat.id, kind=chat.type, title=chat.title or chat.username
        )
        await session.commit()
    return chat.id
