"""Questions about what is known: /digest (and the knowledge commands)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import rendering
from bot.context import BotApplication, BotContext
from bot.digest_jobs import digest_messages
from handlers.common import answer, remember_chat
from storage import queries
from storage.models import utcnow


async def digest_now(update: Update, context: BotContext) -> None:
    """Show the digest this chat would get now: what matched since its last digest."""
    chat_id = await remember_chat(update, context)
    if chat_id is None:
        return
    services = context.services
    async with services.sessions() as session:
        chat = await queries.ensure_chat(session=session, chat_id=chat_id)
        since = await queries.last_digest_end(session=session, chat_id=chat_id)
    messages = await digest_messages(services, chat, since=since, until=utcnow())
    for text in messages or [rendering.nothing_new()]:
        await answer(update, text)


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("digest", digest_now))
