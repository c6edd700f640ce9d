""" "Less like this" under an alert: the choices it offers a chat, applied at once and undone
the same way. What the alert's message shows under it is recorded with the alert
(`Alert.buttons`), so that a story edit of the message shows the same (`buttons_under`).
Nothing here talks to Telegram; who may press is checked by the handler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import callbacks, rendering
from bot.callbacks import LessChoice, LessLikeThis, UndoLess
from bot.rendering import LessItem, Reply
from storage import queries
from storage.db import SessionFactory
from storage.models import Alert, Article, Level, utcnow

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
    """The choices for one of the chat's alerts, recorded as shown (None when it is not the
    chat's, or gone)."""
    async with sessions() as session:
        found = await queries.chat_alert(session=session, chat_id=chat_id, alert_id=alert_id)
        if found is None:
            return None
        alert, article = found
        offered = await _choices(session, chat_id, alert, article)
        await _show(session, chat_id, alert_id, LessLikeThis(alert_id))
        await session.commit()
    return offered


async def close_choices(sessions: SessionFactory, chat_id: int, alert_id: int) -> None:
    """Record that an alert shows its "less like this" button again, its choices closed."""
    async with sessions() as session:
        await _show(session, chat_id, alert_id, None)
        await session.commit()


async def buttons_under(
    session: AsyncSession, chat_id: int, alert: Alert, article: Article
) -> Reply:
    """What one of the chat's alerts shows under its message now: "less like this", its
    choices (as they are now) or the undo of an applied one."""
    assert alert.id is not None
    shown = callbacks.decode(alert.buttons) if alert.buttons else None
    if isinstance(shown, UndoLess):
        return rendering.less_done(shown)
    if isinstance(shown, LessLikeThis):
        offered = await _choices(session, chat_id, alert, article)
        return rendering.less_choices(alert.id, offered.items, offered.source)
    return rendering.less_like_this(alert.id)


async def _choices(
    session: AsyncSession, chat_id: int, alert: Alert, article: Article
) -> AlertChoices:
    named = json.loads(alert.topics)
    watched = {
        row.topic: row.id
        for row in await queries.list_subscriptions(session=session, chat_id=chat_id)
    }
    items = tuple(LessItem(row_id, t) for t in named if (row_id := watched.get(t)) is not None)
    return AlertChoices(items, article.source)


async def _show(
    session: AsyncSession, chat_id: int, alert_id: int, shown: LessLikeThis | UndoLess | None
) -> None:
    await queries.set_alert_buttons(
        session=session,
        chat_id=chat_id,
        alert_id=alert_id,
        buttons=None if shown is None else callbacks.encode(shown),
    )


async def apply(sessions: SessionFactory, chat_id: int, choice: LessChoice) -> Applied | None:
    """Apply a choice for one of the chat's alerts, its undo recorded as shown; None when the
    alert or the item is not the chat's (any more)."""
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
            applied = Applied(article.source, UndoLess(choice.alert_id, "source", 0, "0"))
        else:
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
            undo = UndoLess(choice.alert_id, choice.choice, choice.subscription_id, previous)
            applied = Applied(row.topic, undo)
        await _show(session, chat_id, choice.alert_id, applied.undo)
        await session.commit()
        return applied


async def undo(sessions: SessionFactory, chat_id: int, undone: UndoLess) -> str | None:
    """Put back what a choice changed, its alert's "less like this" recorded as shown again;
    the item or source it was about, or None when the alert or the item is not the chat's
    (any more)."""
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
            name = article.source
        else:
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
            name = row.topic
        await _show(session, chat_id, undone.alert_id, None)
        await session.commit()
        return name
