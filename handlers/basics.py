"""/start, /help, unknown commands and the error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import rendering
from bot.context import BotApplication, BotContext
from handlers.common import answer, is_admin, remember_chat

log = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    """Greet a new chat and explain the commands."""
    await remember_chat(update, context)
    await answer(update, rendering.help_text(admin=is_admin(update, context.services)))


async def help_command(update: Update, context: BotContext) -> None:
    """Show the usage of every command (and to admins, the admin commands)."""
    await answer(update, rendering.help_text(admin=is_admin(update, context.services)))


async def unknown(update: Update, context: BotContext) -> None:
    """Point unknown commands and stray text at /help."""
    await answer(update, rendering.unknown_command())


async def on_error(update: object, context: BotContext) -> None:
    """Log any handler error and tell the user briefly; the bot keeps running."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await answer(update, rendering.apology())
        except Exception:
            log.exception("could not send the apology")


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_error_handler(on_error)


def register_fallbacks(app: BotApplication) -> None:
    """Catch-alls; registered after every feature so they only see what nobody handled."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown))
    app.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, unknown))
