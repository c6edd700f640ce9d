"""/settings, /timezone, /digesttime, /mode and the settings buttons."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler

from bot import callbacks, rendering
from bot.callbacks import ChangeSetting
from bot.context import BotApplication, BotContext
from bot.digest_jobs import sync_digest_jobs
from bot.digests import parse_digest_time, parse_timezone
from bot.rendering import Reply
from handlers.common import (
    allowed_to_change,
    answer,
    command,
    command_argument,
    keyboard,
    remember_chat,
)
from storage import queries
from storage.models import Chat, DeliveryMode


async def settings(update: Update, context: BotContext) -> None:
    """Show the chat's time zone, digest time and delivery mode."""
    chat_id = await remember_chat(update, context)
    if chat_id is not None:
        await answer(update, await settings_view(context, chat_id))


async def timezone(update: Update, context: BotContext) -> None:
    """Set the chat's time zone: /timezone Asia/Kolkata."""
    chat_id = await remember_chat(update, context)
    typed = command_argument(update.effective_message).strip()
    if chat_id is None:
        return
    if not typed:
        await answer(update, rendering.timezone_usage())
        return
    try:
        zone = parse_timezone(typed)
    except ValueError as error:
        await answer(update, rendering.topic_error(str(error)))
        return
    if not await allowed_to_change(update, context):
        return
    await change(context, chat_id, timezone=zone)
    await answer(update, rendering.timezone_set(zone, datetime.now(ZoneInfo(zone))))


async def digest_time(update: Update, context: BotContext) -> None:
    """Set when the daily digest arrives: /digesttime 07:30, or /digesttime off."""
    chat_id = await remember_chat(update, context)
    typed = command_argument(update.effective_message).strip()
    if chat_id is None:
        return
    if not typed:
        await answer(update, rendering.digesttime_usage())
        return
    try:
        at = parse_digest_time(typed)
    except ValueError as error:
        await answer(update, rendering.topic_error(str(error)))
        return
    if not await allowed_to_change(update, context):
        return
    chat = await change(context, chat_id, digest_time=at)
    await answer(update, rendering.digest_time_set(at, chat.timezone if chat else "UTC"))


async def mode(update: Update, context: BotContext) -> None:
    """Choose instant alerts, a daily digest, or both: /mode digest."""
    chat_id = await remember_chat(update, context)
    typed = command_argument(update.effective_message).strip().lower()
    if chat_id is None:
        return
    if typed not in tuple(DeliveryMode):
        await answer(update, rendering.mode_usage())
        return
    if not await allowed_to_change(update, context):
        return
    await change(context, chat_id, mode=typed)
    await answer(update, rendering.mode_set(typed))


async def on_settings_button(update: Update, context: BotContext) -> None:
    """A button under /settings: change the mode or what an empty digest does."""
    query = update.callback_query
    chat = update.effective_chat
    pressed = callbacks.decode(query.data or "") if query else None
    if query is None or chat is None or not isinstance(pressed, ChangeSetting):
        return
    if not await allowed_to_change(update, context):
        return
    if pressed.name == "mode":
        await change(context, chat.id, mode=pressed.value)
    else:
        await change(context, chat.id, empty_digest_line=pressed.value == "line")
    await query.answer("Saved.")
    refreshed = await settings_view(context, chat.id)
    await query.edit_message_text(
        refreshed.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(refreshed)
    )


async def settings_view(context: BotContext, chat_id: int) -> Reply:
    async with context.services.sessions() as session:
        chat = await queries.ensure_chat(session=session, chat_id=chat_id)
        return rendering.settings_view(
            timezone=chat.timezone,
            digest_time=chat.digest_time,
            mode=chat.mode,
            empty_digest_line=chat.empty_digest_line,
        )


async def change(context: BotContext, chat_id: int, **values: object) -> Chat | None:
    """Store a settings change and reschedule the digest jobs it affects."""
    async with context.services.sessions() as session:
        chat = await queries.update_chat(session=session, chat_id=chat_id, **values)
        await session.commit()
    await sync_digest_jobs(cast(BotApplication, context.application))
    return chat


def register(app: BotApplication) -> None:
    app.add_handler(command("settings", settings))
    app.add_handler(command("timezone", timezone))
    app.add_handler(command("digesttime", digest_time))
    app.add_handler(command("mode", mode))
    app.add_handler(
        CallbackQueryHandler(on_settings_button, pattern=callbacks.pattern(ChangeSetting))
    )
