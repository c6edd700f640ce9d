"""The button under a list of headlines: why each of its alerts came."""

from __future__ import annotations

import json

from telegram import Update
from telegram.constants import ChatType

from bot import rendering
from bot.callbacks import ShowEvidence
from bot.context import BotApplication, BotContext
from bot.matching import evidence_sentence
from handlers.common import answer, button
from storage import queries


async def on_evidence_button(update: Update, context: BotContext) -> None:
    """Show the watch items and the matching sentence of each alert in the pressed message."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or query.message is None:
        return
    async with context.services.sessions() as session:
        rows = await queries.alerts_in_message(
            session=session, chat_id=chat.id, message_id=query.message.message_id
        )
    evidence = [
        rendering.Evidence(
            title=article.title,
            topics=tuple(json.loads(alert.topics)),
            mentions=tuple(json.loads(alert.mentions)),
            sentence=evidence_sentence(article.title, article.body, alert.evidence_at),
        )
        for alert, article in rows
    ]
    if chat.type == ChatType.CHANNEL:  # any reader may press: answer them alone
        await query.answer(rendering.evidence_notice(evidence), show_alert=True)
        return
    await query.answer()
    for text in rendering.burst_evidence(evidence):
        await answer(update, text)


def register(app: BotApplication) -> None:
    app.add_handler(button(ShowEvidence, on_evidence_button))
