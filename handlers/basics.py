"""/start, /help, unknown commands and the error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import callbacks, rendering
from bot.callbacks import ShowHelp
from bot.context import BotApplication, BotContext
from handlers.common import answer, command, is_admin, remember_chat

log = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    """Greet a chat briefly, with buttons to every command and to the settings."""
    await remember_chat(update, context)
    chat = update.effective_chat
    await answer(
        update, rendering.welcome(group=chat is not None and chat.type != ChatType.PRIVATE)
    )


async def help_command(update: Update, context: BotContext) -> None:
    """Show the usage of every command (and to admins, the admin commands)."""
    await answer(update, rendering.help_text(admin=is_admin(update, context.services)))


async def on_help_button(update: Update, context: BotContext) -> None:
    """The "All commands" button under the welcome: the help, as a new message."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        await help_command(update, context)


async def unknown(update: Update, context: BotContext) -> None:
    """Point unknown commands and stray text at /help."""
    await answer(update, rendering.unknown_command())


async def stale_button(update: Update, _context: BotContext) -> None:
    """Answer a button press whose data no handler takes (old, or not made by this bot)."""
    if update.callback_query is not None:
        await update.callback_query.answer(rendering.stale_button())


async def on_error(update: object, context: BotContext) -> None:
    """Log any handler error and tell the user briefly; the bot keeps running."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await answer(update, rendering.apology())
        except Exception:
            log.exception("could not send the apology")


def register(app: BotApplication) -> None:
    app.add_handler(command("start", start))
    app.add_handler(command("help", help_command))
    app.add_handler(CallbackQueryHandler(on_help_button, pattern=callbacks.pattern(ShowHelp)))
    app.add_error_handler(on_error)


def register_fallbacks(app: BotApplication) -> None:
    """Catch-alls; registered after every feature so they only see what nobody handled."""
    new_message = filters.UpdateType.MESSAGE  # not an edit, not a channel post
    app.add_handler(MessageHandler(new_message & filters.COMMAND, unknown))
    app.add_handler(MessageHandler(new_message & filters.TEXT & filters.ChatType.PRIVATE, unknown))
    app.add_handler(CallbackQueryHandler(stale_button))
