""" "👎 less like this" under an alert: its choices, applied at once, and their undo."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot import feedback, rendering
from bot.callbacks import LessChoice, LessLikeThis, UndoLess
from bot.context import BotApplication, BotContext
from handlers.common import allowed_to_change, button, button_pressed, edit_pressed


async def _may_press(update: Update, context: BotContext) -> bool:
    """Whether the presser may change the chat's watch-list: in a group its administrators;
    a channel is managed from a private chat (its readers are told so)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return False
    if chat.type == ChatType.CHANNEL:
        await query.answer(rendering.less_in_channel(), show_alert=True)
        return False
    return await allowed_to_change(update, context)


async def on_less_button(update: Update, context: BotContext) -> None:
    """ "Less like this": show its choices under the alert (or, back, the button again)."""
    query, chat = update.callback_query, update.effective_chat
    pressed = button_pressed(update, LessLikeThis)
    if query is None or chat is None or pressed is None or not await _may_press(update, context):
        return
    if pressed.back:
        await feedback.close_choices(context.services.sessions, chat.id, pressed.alert_id)
        shown = rendering.less_like_this(pressed.alert_id)
    else:
        found = await feedback.choices(context.services.sessions, chat.id, pressed.alert_id)
        if found is None:
            await query.answer(rendering.alert_gone())
            return
        shown = rendering.less_choices(pressed.alert_id, found.items, found.source)
    await query.answer()
    await edit_pressed(query, shown, buttons_only=True)


async def on_less_choice(update: Update, context: BotContext) -> None:
    """A choice under an alert: apply it at once, leave an undo button."""
    query, chat = update.callback_query, update.effective_chat
    pressed = button_pressed(update, LessChoice)
    if query is None or chat is None or pressed is None or not await _may_press(update, context):
        return
    applied = await feedback.apply(context.services.sessions, chat.id, pressed)
    if applied is None:
        await query.answer(rendering.not_on_watch_list())
        return
    await query.answer(rendering.less_applied_notice(pressed.choice, applied.name))
    await edit_pressed(query, rendering.less_done(applied.undo), buttons_only=True)


async def on_undo(update: Update, context: BotContext) -> None:
    """Undo a choice: put back what it changed, and the "less like this" button."""
    query, chat = update.callback_query, update.effective_chat
    pressed = button_pressed(update, UndoLess)
    if query is None or chat is None or pressed is None or not await _may_press(update, context):
        return
    name = await feedback.undo(context.services.sessions, chat.id, pressed)
    if name is None:
        await query.answer(rendering.not_on_watch_list())
        return
    await query.answer(rendering.less_undone_notice(pressed.choice, name))
    shown = rendering.less_like_this(pressed.alert_id)
    await edit_pressed(query, shown, buttons_only=True)


def register(app: BotApplication) -> None:
    app.add_handler(button(LessLikeThis, on_less_button))
    app.add_handler(button(LessChoice, on_less_choice))
    app.add_handler(button(UndoLess, on_undo))
