""" "Less like this" under an alert: the choices it offers a chat, applied at once and undone
the same way. Nothing here talks to Telegram; who may press is checked by the handler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.callbacks import LessChoice, UndoLess
from bot.rendering import LessItem
from storage import queries
from storage.db import SessionFactory
from storage.models import Level, utcnow

MUTE_DAYS = 7


@dataclass(frozen=True, slots=True)
class AlertChoices:
    """What "less like this" may change for an alert: the items it named that the chat still
    watches, and its article's source."""

    items: tuple[LessItem, ...]
    source: str | None


@dataclass(frozen=True, slots=True)
class Applied:
    """A choice applied: what it was about (an item or a source) and how to undo it."""

    name: str
    undo: UndoLess


async def choices(sessions: SessionFactory, chat_id: int, alert_id: int) -> AlertChoices | None:
    """The choices for one of the chat's alerts (None when it is not the chat's, or gone)."""
    async with sessions() as session:
        found = await queries.chat_alert(session=session, chat_id=chat_id, alert_id=alert_id)
        if found is None:
            return None
        alert, article = found
        named = json.loads(alert.topics)
        watched = {
            row.topic: row.id
            for row in await queries.list_subscriptions(session=session, chat_id=chat_id)
        }
    items = tuple(LessItem(row_id, t) for t in named if (row_id := watched.get(t)) is not None)
    return AlertChoices(items, article.source)


async def apply(sessions: SessionFactory, chat_id: int, choice: LessChoice) -> Applied | None:
    """Apply a choice for one of the chat's alerts; None when the alert or the item is not
    the chat's (any more)."""
    async with sessions() as session:
        found = await queries.chat_alert(session=session, chat_id=chat_id, alert_id=choice.alert_id)
        if found is None:
            return None
        _, article = found
        if choice.choice == "source":
            if not article.source:
                return None
            await queries.set_source_muted(
                session=session, chat_id=chat_id, source=article.source, muted=True
            )
            await session.commit()
            return Applied(article.source, UndoLess(choice.alert_id, "source", 0, "0"))
        row = await queries.chat_subscription(
            session=session, chat_id=chat_id, subscription_id=choice.subscription_id
        )
        if row is None:
            return None
        if choice.choice == "main":
            previous = row.level
            row.level = Level.MAIN
        else:
            previous = str(int(row.muted_until.timestamp())) if row.muted_until else "0"
            row.muted_until = utcnow() + timedelta(days=MUTE_DAYS)
        await session.commit()
        return Applied(
            row.topic, UndoLess(choice.alert_id, choice.choice, choice.subscription_id, previous)
        )


async def undo(sessions: SessionFactory, chat_id: int, undone: UndoLess) -> str | None:
    """Put back what a choice changed; the item or source it was about, or None when the
    alert or the item is not the chat's (any more)."""
    async with sessions() as session:
        found = await queries.chat_alert(session=session, chat_id=chat_id, alert_id=undone.alert_id)
        if found is None:
            return None
        _, article = found
        if undone.choice == "source":
            if not article.source:
                return None
            await queries.set_source_muted(
                session=session, chat_id=chat_id, source=article.source, muted=False
            )
            await session.commit()
            return article.source
        row = await queries.chat_subscription(
            session=session, chat_id=chat_id, subscription_id=undone.subscription_id
        )
        if row is None:
            return None
        if undone.choice == "main":
            row.level = Level(undone.previous)
        else:
            seconds = int(undone.previous)
            row.muted_until = datetime.fromtimestamp(seconds, UTC) if seconds else None
        await session.commit()
        return row.topic
