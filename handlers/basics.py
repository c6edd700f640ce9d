"""/start, /stop, /help, plain text, unknown commands and the error handler."""

from __future__ import annotations

import logging
from typing import cast

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import rendering, subscriptions
from bot.callbacks import ShowHelp
from bot.context import BotApplication, BotContext
from bot.digest_jobs import sync_digest_jobs
from bot.topics import topic_in_text
from handlers.common import (
    addressed_to_another_bot,
    allowed_to_change,
    answer,
    button,
    command,
    is_admin,
    may_change_chat,
)
from handlers.targets import command_target

log = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    """Greet a chat briefly, with buttons to every command and to the settings; after /stop,
    turn alerts on again (/start @CHANNEL: the channel's)."""
    target = await command_target(update, context)
    if target is None:
        return
    chat_id = target.chat_id
    if target.channel is not None:
        await subscriptions.resume(context.services.sessions, chat_id)
        await sync_digest_jobs(cast(BotApplication, context.application))
        await answer(update, target.about(rendering.resumed()))
        return
    was_paused = await may_change_chat(update, context) and await subscriptions.resume(
        context.services.sessions, chat_id
    )
    if was_paused:
        await sync_digest_jobs(cast(BotApplication, context.application))
        await answer(update, rendering.resumed())
    chat = update.effective_chat
    await answer(
        update, rendering.welcome(group=chat is not None and chat.type != ChatType.PRIVATE)
    )


async def stop(update: Update, context: BotContext) -> None:
    """Pause all alerts and digests until /start (/stop @CHANNEL: the channel's)."""
    target = await command_target(update, context)
    if target is None or not await allowed_to_change(update, context):
        return
    await subscriptions.pause(context.services.sessions, target.chat_id)
    await sync_digest_jobs(cast(BotApplication, context.application))
    await answer(update, target.about(rendering.paused(target.channel)))


async def help_command(update: Update, context: BotContext) -> None:
    """Show the usage of every command (and to admins, the admin commands)."""
    await answer(update, rendering.help_text(admin=is_admin(update, context.services)))


async def on_help_button(update: Update, context: BotContext) -> None:
    """The "All commands" button under the welcome: the help, as a new message."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        await help_command(update, context)


async def unknown(update: Update, context: BotContext) -> None:
    """Point unknown commands at /help; a command for another bot is none of ours."""
    if not addressed_to_another_bot(update.effective_message, context.bot.username):
        await answer(update, rendering.unknown_command())


async def plain_text(update: Update, context: BotContext) -> None:
    """A message that is not a command: offer what the bot can do with the topic it names."""
    message = update.effective_message
    topic = topic_in_text(message.text or "", context.services.lexicon) if message else None
    await answer(update, rendering.text_offer(topic) if topic else rendering.text_not_understood())


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
    app.add_handler(command("stop", stop))
    app.add_handler(button(ShowHelp, on_help_button))
    app.add_error_handler(on_error)


def register_fallbacks(app: BotApplication) -> None:
    """Catch-alls; registered after every feature so they only see what nobody handled."""
    new_message = filters.UpdateType.MESSAGE  # not an edit, not a channel post
    app.add_handler(MessageHandler(new_message & filters.COMMAND, unknown))
    app.add_handler(
        MessageHandler(new_message & filters.TEXT & filters.ChatType.PRIVATE, plain_text)
    )
    app.add_handler(CallbackQueryHandler(stale_button))
