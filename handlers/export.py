"""/export: the chat's watch-list as a CSV document, in the format `tradebot subscriptions
import` reads. Like /list, anyone in a group may have the group's list; only that chat's."""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.constants import ParseMode

from bot import rendering
from bot.context import BotApplication, BotContext
from bot.watchlist_csv import write_csv
from handlers.common import answer, command, forum_thread, in_group, remember_chat
from storage import queries


async def export(update: Update, context: BotContext) -> None:
    """Send this chat's watch-list as a CSV file: /export."""
    chat_id = await remember_chat(update, context)
    chat = update.effective_chat
    if chat_id is None or chat is None:
        return
    async with context.services.sessions() as session:
        rows = await queries.all_subscriptions(session=session, chat_id=chat_id)
    group = in_group(update)
    if not rows:
        await answer(update, rendering.export_empty(group=group))
        return
    await chat.send_document(
        InputFile(write_csv(rows).encode("utf-8"), filename=f"watch-list-{abs(chat_id)}.csv"),
        caption=rendering.export_caption(len(rows), group=group),
        parse_mode=ParseMode.HTML,
        message_thread_id=forum_thread(update),
    )


def register(app: BotApplication) -> None:
    app.add_handler(command("export", export))
