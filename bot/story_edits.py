"""A story is one message. When a later source reports a story a chat was alerted to, the
fan-out writes that report's alert in status `edit` (`bot.fanout.later_report`) instead of a
new ping; the dispatcher claims it like an alert and edits the earlier alert's message in place,
the same text and buttons (as they are now: "less like this", its choices or an undo, as
`bot.feedback.buttons_under` tells) plus a line "Also reported by …" naming the later sources,
under the same send budget as messages: Telegram takes a message's buttons away on an edit
that does not give them again.

What a later report does is settled again when its edit is made, as an alert is when it is
sent: by the chat's watch-list of the moment (an item unwatched or muted, or the source muted:
nothing; a passing mention at a level that keeps it for the digest: held), then by the earlier
alert. That one is edited only when it went out as a message of its own (not in a list of
headlines, not in a digest) within `EDIT_WINDOW`; while it still waits to be sent the edit
waits with it; otherwise the later report is held for the digest, as before story edits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import feedback, rendering
from bot.fanout import alert_style, settle
from bot.matching import evidence_sentence
from storage import queries
from storage import story_edits as store
from storage.models import Alert, AlertStatus, Article

EDIT_WINDOW = timedelta(hours=48)  # an alert older than this is left as it is
TARGET_WAIT = timedelta(seconds=5)  # the earlier alert still waits to be sent: look again


@dataclass(frozen=True, slots=True)
class Edit:
    """The edit a later report makes: the earlier alert's message, as it now reads."""

    message_id: int
    text: str
    buttons: rendering.Reply  # what the message shows under it, kept (none for a channel)
    preview: str  # storage.models.Preview of the earlier alert's items
    url: str | None  # the earlier alert's link


class NoEdit(Enum):
    DROP = "drop"  # the chat no longer hears of this report
    HOLD = "hold"  # kept for the digest: nothing to edit within the window, or a mention
    WAIT = "wait"  # the earlier alert is not sent yet


@dataclass(frozen=True, slots=True)
class Later:
    """No edit now: what becomes of the later report (`until`: when to look again)."""

    outcome: NoEdit
    until: datetime | None = None


async def plan_edit(
    *, session: AsyncSession, alert: Alert, article: Article, now: datetime
) -> Edit | Later:
    """What a claimed later report does now: the edit of the earlier alert's message, or why
    not. Rendered in the language spoken."""
    matches = (await queries.matches_of(session=session, article_ids=[alert.article_id]))[
        alert.article_id
    ]
    story_id = article.story_id or alert.article_id
    target = await store.edit_target(
        session=session,
        chat_id=alert.chat_id,
        thread_id=alert.thread_id,
        story_id=story_id,
        article_id=alert.article_id,
    )
    earlier_topics = json.loads(target.alert.topics) if target else []
    watch = (
        await queries.watch_lists(
            session=session,
            chat_ids=[alert.chat_id],
            topics={*(m.topic for m in matches), *earlier_topics},
            sources=[article.source] if article.source else [],
        )
    ).get(alert.chat_id)
    routed = watch and settle(
        alert.chat_id,
        matches,
        watch.levels,
        watch.mode,
        source_muted=article.source in watch.muted_sources,
    )
    if not watch or not routed:
        return Later(NoEdit.DROP)
    if routed.status != AlertStatus.PENDING or target is None:
        return Later(NoEdit.HOLD)
    earlier, earlier_article = target.alert, target.article
    if earlier.status == AlertStatus.PENDING:
        due = earlier.next_attempt_at
        return Later(NoEdit.WAIT, max(now, due or now) + TARGET_WAIT)
    if (
        earlier.status != AlertStatus.SENT
        or earlier.message_id is None
        or target.alerts_in_message != 1
        or earlier.sent_at is None
        or earlier.sent_at < now - EDIT_WINDOW
    ):
        return Later(NoEdit.HOLD)
    sources = [
        *await store.edited_sources(
            session=session, chat_id=alert.chat_id, message_id=earlier.message_id
        ),
        *([article.source] if article.source else []),
    ]
    listed_with = None
    if earlier_article.parent_id is not None:
        parents = await queries.articles_by_id(
            session=session, article_ids=[earlier_article.parent_id]
        )
        listed_with = parents.get(earlier_article.parent_id)
    text = rendering.stored_alert(
        earlier,
        earlier_article,
        evidence=evidence_sentence(
            earlier_article.title, earlier_article.body, earlier.evidence_at
        ),
        listed_with=listed_with,
        also=[source for source in sources if source != earlier_article.source],
    )
    return Edit(
        message_id=earlier.message_id,
        text=text,
        buttons=(
            await feedback.buttons_under(session, alert.chat_id, earlier, earlier_article)
            if watch.kind != "channel"
            else rendering.Reply("")
        ),
        preview=alert_style(earlier_topics, watch.styles).preview,
        url=earlier_article.url,
    )


async def record_no_edit(*, session: AsyncSession, alert_id: int, later: Later) -> None:
    """Write what becomes of a later report that edits nothing now."""
    if later.outcome is NoEdit.DROP:
        await queries.resettle_alerts(session=session, settled=[queries.Settled(alert_id, None)])
    elif later.outcome is NoEdit.HOLD:
        await store.hold_edits(session=session, alert_ids=[alert_id])
    else:
        assert later.until is not None
        await queries.postpone_alerts(session=session, alert_ids=[alert_id], until=later.until)
