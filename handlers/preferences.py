"""/settings, /timezone, /digesttime, /weekly, /quiet, /mode and the settings buttons.

The mode says whether there is a daily digest, the digest time when: `/digesttime off` is
`/mode instant`, a digest time given while the digest was off turns it on (both), and the
time is kept while the digest is off."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ParseMode

from bot import i18n, menus, rendering
from bot.callbacks import ChangeSetting, SetLanguage, SetTimezone, ShowSettings
from bot.context import BotApplication, BotContext
from bot.digest_jobs import sync_digest_jobs
from bot.digests import DEFAULT_DIGEST_TIME
from bot.localtime import (
    ZoneFound,
    ZoneQuestion,
    parse_digest_times,
    parse_quiet_hours,
    parse_weekly,
    resolve_timezone,
)
from bot.rendering import Reply
from bot.senders.telegram import keyboard
from handlers.common import (
    allowed_to_change,
    answer,
    button,
    button_pressed,
    command,
    command_argument,
    in_group,
    remember_chat,
)
from handlers.targets import Target, command_target, press_on_target
from storage import queries
from storage.models import Chat, DeliveryMode


async def settings(update: Update, context: BotContext) -> None:
    """Show the chat's (or a channel's) time zone, digest time and delivery mode:
    /settings [@CHANNEL]."""
    target = await command_target(update, context)
    if target is not None:
        await answer(update, await settings_view(context, target))


async def on_settings_shortcut(update: Update, context: BotContext) -> None:
    """The Settings button under the welcome: the settings, as a new message."""
    chat_id = await remember_chat(update, context)
    if update.callback_query is not None and chat_id is not None:
        await update.callback_query.answer()
        await answer(update, await settings_view(context, Target(chat_id, group=in_group(update))))


async def timezone(update: Update, context: BotContext) -> None:
    """Show or set the chat's (or a channel's) time zone: /timezone [@CHANNEL] Mumbai, IST,
    UTC+5:30 or Asia/Kolkata."""
    target = await command_target(update, context)
    if target is None:
        return
    typed = target.argument.strip()
    if not typed:
        zone = (await current(context, target.chat_id)).timezone
        shown = rendering.timezone_current(zone, datetime.now(ZoneInfo(zone)))
        await answer(update, target.about(shown))
        return
    found = await asyncio.to_thread(resolve_timezone, typed)  # the first call reads GeoNames
    if isinstance(found, ZoneFound):
        if not await allowed_to_change(update, context):
            return
        await change(context, target.chat_id, timezone=found.zone)
        shown = rendering.timezone_set(found.zone, datetime.now(ZoneInfo(found.zone)))
        await answer(update, target.about(shown))
    elif isinstance(found, ZoneQuestion):
        await answer(update, target.reply(rendering.timezone_question(found.typed, found.choices)))
    else:
        unknown = rendering.timezone_unknown(found.typed, found.suggestions, found.reason)
        await answer(update, target.reply(unknown))


async def on_timezone_button(update: Update, context: BotContext) -> None:
    """A zone offered by /timezone: set it and say so in place of the question."""
    press = await press_on_target(update, context, SetTimezone)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    await change(context, target.chat_id, timezone=pressed.zone)
    await query.answer(rendering.saved())
    shown = rendering.timezone_set(pressed.zone, datetime.now(ZoneInfo(pressed.zone)))
    await query.edit_message_text(target.about(shown), parse_mode=ParseMode.HTML)


async def digest_time(update: Update, context: BotContext) -> None:
    """Set when the daily digests arrive: /digesttime [@CHANNEL] 07:30 13:00 or 7:30am;
    /digesttime off."""
    target = await command_target(update, context)
    if target is None:
        return
    chat_id, typed = target.chat_id, target.argument.strip()
    if not typed:
        await answer(update, rendering.digesttime_usage())
        return
    try:
        times = parse_digest_times(typed)
    except ValueError as error:
        await answer(update, rendering.topic_error(str(error)))
        return
    if not await allowed_to_change(update, context):
        return
    if times is None:
        await change(context, chat_id, mode=DeliveryMode.INSTANT)
        await answer(update, target.about(rendering.digest_time_set(None, "")))
        return
    before = await current(context, chat_id)
    turned_on = before.mode == DeliveryMode.INSTANT
    at = " ".join(times)
    # in a forum group the digest goes to the topic this was typed in (else to General)
    thread_id = target.route.thread_id if target.route is not None else None
    values: dict[str, object] = {"digest_time": at, "digest_thread_id": thread_id}
    if turned_on:
        values["mode"] = DeliveryMode.BOTH
    chat = await change(context, chat_id, **values)
    zone = chat.timezone if chat else before.timezone
    text = rendering.digest_time_set(at, zone, turned_on=turned_on)
    if thread_id is not None:
        text += " " + rendering.digest_comes_here()
    await answer(update, target.about(text))


async def quiet(update: Update, context: BotContext) -> None:
    """Set quiet hours, when alerts wait and then arrive together: /quiet [@CHANNEL]
    22:00-07:00; /quiet off."""
    target = await command_target(update, context)
    if target is None:
        return
    typed = target.argument.strip()
    if not typed:
        await answer(update, rendering.quiet_usage())
        return
    try:
        hours = parse_quiet_hours(typed)
    except ValueError as error:
        await answer(update, rendering.topic_error(str(error)))
        return
    if not await allowed_to_change(update, context):
        return
    chat = await change(context, target.chat_id, quiet_hours=hours)
    async with context.services.sessions() as session:  # the new hours apply to them too
        await queries.release_postponed(session=session, chat_id=target.chat_id)
        await session.commit()
    context.services.dispatcher.wake()
    zone = chat.timezone if chat else "UTC"
    await answer(update, target.about(rendering.quiet_set(hours, zone)))


async def weekly(update: Update, context: BotContext) -> None:
    """Set the weekly digest of the week's main stories: /weekly [@CHANNEL] mon 08:00;
    /weekly off."""
    target = await command_target(update, context)
    if target is None:
        return
    typed = target.argument.strip()
    if not typed:
        await answer(update, rendering.weekly_usage())
        return
    try:
        at = parse_weekly(typed)
    except ValueError as error:
        await answer(update, rendering.topic_error(str(error)))
        return
    if not await allowed_to_change(update, context):
        return
    chat = await change(context, target.chat_id, weekly_digest=at)
    zone = chat.timezone if chat else "UTC"
    await answer(update, target.about(rendering.weekly_set(at, zone)))


async def mode(update: Update, context: BotContext) -> None:
    """Choose instant alerts, a daily digest, or both: /mode [@CHANNEL] digest."""
    target = await command_target(update, context)
    if target is None:
        return
    chat_id, typed = target.chat_id, target.argument.strip().lower()
    if typed not in tuple(DeliveryMode):
        await answer(update, rendering.mode_usage())
        return
    if not await allowed_to_change(update, context):
        return
    chat = await set_mode(context, chat_id, DeliveryMode(typed))
    shown_time = chat.digest_time if chat and typed != DeliveryMode.INSTANT else None
    await answer(update, target.about(rendering.mode_set(typed, shown_time)))


async def set_mode(context: BotContext, chat_id: int, chosen: DeliveryMode) -> Chat | None:
    """Store a mode; a digest needs a time, so one turned off by an older version of the bot
    (no time stored) comes back at the default."""
    values: dict[str, object] = {"mode": chosen}
    if chosen != DeliveryMode.INSTANT and (await current(context, chat_id)).digest_time is None:
        values["digest_time"] = DEFAULT_DIGEST_TIME
    return await change(context, chat_id, **values)


async def on_settings_button(update: Update, context: BotContext) -> None:
    """A button under /settings: change the mode or what an empty digest does."""
    press = await press_on_target(update, context, ChangeSetting)
    if press is None:
        return
    query, pressed, target = press.query, press.pressed, press.target
    if pressed.name == "mode":
        await set_mode(context, target.chat_id, DeliveryMode(pressed.value))
    else:
        await change(context, target.chat_id, empty_digest_line=pressed.value == "line")
    await query.answer(rendering.saved())
    refreshed = await settings_view(context, target)
    await query.edit_message_text(
        refreshed.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(refreshed)
    )


async def language(update: Update, context: BotContext) -> None:
    """Show or choose the chat's interface language: /language es (auto: the app's)."""
    chat_id = await remember_chat(update, context)
    if chat_id is None:
        return
    typed = command_argument(update.effective_message)
    if not typed.strip():
        chosen = (await current(context, chat_id)).language in i18n.LANGUAGES
        await answer(update, rendering.language_menu(i18n.current_language(), chosen=chosen))
        return
    named = i18n.language_named(typed)
    if named is None:
        await answer(update, rendering.language_usage())
        return
    if await allowed_to_change(update, context):
        await answer(update, await choose_language(update, context, chat_id, named))


async def on_language_button(update: Update, context: BotContext) -> None:
    """A language button under /language: choose it and say so in place of the question."""
    query = update.callback_query
    chat = update.effective_chat
    pressed = button_pressed(update, SetLanguage)
    if query is None or chat is None or pressed is None:
        return
    if not await allowed_to_change(update, context):
        return
    said = await choose_language(update, context, chat.id, pressed.language)
    await query.answer()
    await query.edit_message_text(said, parse_mode=ParseMode.HTML)


async def choose_language(update: Update, context: BotContext, chat_id: int, named: str) -> str:
    """Store the chat's language (none for automatic), speak it from now on and give the
    chat its menu in it; what to say."""
    chosen = None if named == i18n.AUTOMATIC else named
    async with context.services.sessions() as session:
        await queries.update_chat(session=session, chat_id=chat_id, language=chosen)
        await session.commit()
    user = update.effective_user
    i18n.speak(i18n.chat_language(chosen, user.language_code if user else None))
    admin = chat_id in context.services.settings.admin_ids  # an admin's private chat
    await menus.set_chat_menu(context.bot, chat_id, chosen, admin=admin)
    return rendering.language_set(i18n.current_language(), automatic=chosen is None)


async def current(context: BotContext, chat_id: int) -> Chat:
    """The chat's row as stored now."""
    async with context.services.sessions() as session:
        return await queries.ensure_chat(session=session, chat_id=chat_id)


async def settings_view(context: BotContext, target: Target) -> Reply:
    chat = await current(context, target.chat_id)
    return target.reply(
        rendering.settings_view(
            timezone=chat.timezone,
            digest_time=chat.digest_time,
            mode=chat.mode,
            empty_digest_line=chat.empty_digest_line,
            quiet_hours=chat.quiet_hours,
            weekly_digest=chat.weekly_digest,
            channel=target.channel,
        )
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
    app.add_handler(command("quiet", quiet))
    app.add_handler(command("weekly", weekly))
    app.add_handler(command("mode", mode))
    app.add_handler(button(ChangeSetting, on_settings_button))
    app.add_handler(button(SetTimezone, on_timezone_button))
    app.add_handler(button(ShowSettings, on_settings_shortcut))
    app.add_handler(command("language", language))
    app.add_handler(button(SetLanguage, on_language_button))
