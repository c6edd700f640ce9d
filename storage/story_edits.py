"""Storage of story edits: a later report of a story a chat was alerted to is an alert row in
status `edit` (unique per chat and article, like every alert), claimed under a lease like a
pending alert, and marked `edited` with the id of the message it edited once Telegram took the
edit, so each later report edits the chat's message at most once, across restarts and
instances (`bot.story_edits`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import queries
from storage.models import Alert, AlertStatus, Article, utcnow


async def edits_waiting(*, session: AsyncSession) -> bool:
    """Whether any later report waits to edit (due or not): a read on the status index, so a
    dispatcher round with none takes no lock for them."""
    result = await session.exec(
        select(Alert.id).where(col(Alert.status) == AlertStatus.EDIT).limit(1)
    )
    return result.first() is not None


async def claim_due_edits(
    *, session: AsyncSession, worker: str, limit: int, lease: timedelta
) -> list[tuple[Alert, Article]]:
    """Lease due edits to `worker`, oldest first, with their articles, and commit, as
    `queries.claim_due_alerts` leases alerts: two dispatchers never lease the same one."""
    now = utcnow()
    due = await session.exec(
        queries.due_for_claim(AlertStatus.EDIT, now).order_by(col(Alert.id)).limit(limit)
    )
    ids = [alert_id for alert_id, _ in due.all() if alert_id is not None]
    return await queries.lease_alerts(
        session=session, ids=ids, status=AlertStatus.EDIT, worker=worker, lease=lease, now=now
    )


class EditTarget(NamedTuple):
    """The alert a later report of its story edits, with its article."""

    alert: Alert
    article: Article
    alerts_in_message: int  # the sent alerts its message carries (1: an alert of its own)


async def edit_target(
    *, session: AsyncSession, chat_id: int, thread_id: int, story_id: int, article_id: int
) -> EditTarget | None:
    """The chat's first alert of a story about another article than `article_id` that is not
    itself a later report, in the forum topic `thread_id` when it has one there (None when
    the chat has none left)."""
    result = await session.exec(
        select(Alert, Article)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Article.story_id) == story_id,
            col(Alert.article_id) != article_id,
            col(Alert.status).not_in([AlertStatus.EDIT, AlertStatus.EDITED]),
        )
        .order_by(col(Alert.thread_id) != thread_id, col(Alert.id))
        .limit(1)
    )
    found = result.first()
    if found is None:
        return None
    alert, article = found
    carried = 0
    if alert.message_id is not None:
        carried = (
            await session.exec(
                select(func.count()).where(
                    col(Alert.chat_id) == chat_id,
                    col(Alert.message_id) == alert.message_id,
                    col(Alert.status) == AlertStatus.SENT,
                )
            )
        ).one()
    return EditTarget(alert, article, carried)


async def edited_sources(*, session: AsyncSession, chat_id: int, message_id: int) -> list[str]:
    """The sources of the later reports that edited one of a chat's messages, in the order
    they came (those that have one)."""
    result = await session.exec(
        select(Article.source)
        .join(Alert, col(Alert.article_id) == Article.id)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Alert.message_id) == message_id,
            col(Alert.status) == AlertStatus.EDITED,
            col(Article.source).is_not(None),
        )
        .order_by(col(Alert.id))
    )
    return [source for source in result.all() if source]


async def mark_edited(
    *, session: AsyncSession, alert_id: int, message_id: int, note: str | None = None
) -> None:
    """Record that a later report's edit of message `message_id` is done (`note`: why nothing
    changed, when nothing did)."""
    await session.exec(
        update(Alert)
        .where(col(Alert.id) == alert_id)
        .values(status=AlertStatus.EDITED, message_id=message_id, sent_at=utcnow(), last_error=note)
    )


async def hold_edits(*, session: AsyncSession, alert_ids: Sequence[int]) -> None:
    """Keep later reports that will edit nothing for the digest, as before story edits."""
    await session.exec(
        update(Alert)
        .where(col(Alert.id).in_(alert_ids), col(Alert.status) == AlertStatus.EDIT)
        .values(status=AlertStatus.HELD, claimed_by=None, claimed_until=None)
    )


async def told_sources(
    *, session: AsyncSession, chat_id: int, story_ids: Collection[int]
) -> dict[int, list[str]]:
    """The sources of the reports of some stories that a chat has alerts about, whenever they
    came (sent, edited or held), by story, in the order they came."""
    sources: dict[int, list[str]] = {}
    if not story_ids:
        return sources
    result = await session.exec(
        select(Article.story_id, Article.source)
        .join(Alert, col(Alert.article_id) == Article.id)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Article.story_id).in_(story_ids),
            col(Article.source).is_not(None),
        )
        .order_by(col(Alert.id))
    )
    for story_id, source in result.all():
        if story_id is not None and source and source not in sources.setdefault(story_id, []):
            sources[story_id].append(source)
    return sources
