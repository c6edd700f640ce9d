"""Storage of chats' outbound webhooks. Each function takes the session first, as
`*, session`, and leaves committing to the caller."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Chat, Webhook

ERROR_LENGTH = 500


async def chat_exists(*, session: AsyncSession, chat_id: int) -> bool:
    return await session.get(Chat, chat_id) is not None


async def set_webhook(*, session: AsyncSession, chat_id: int, url: str, secret: str) -> Webhook:
    """The chat's webhook, now posting to `url` with `secret`: created, or replaced (enabled
    again, its failures forgotten)."""
    webhook = await get_webhook(session=session, chat_id=chat_id)
    if webhook is None:
        webhook = Webhook(chat_id=chat_id, url=url, secret=secret)
    else:
        webhook.url, webhook.secret = url, secret
        webhook.failures, webhook.disabled, webhook.last_error = 0, False, None
    session.add(webhook)
    await session.flush()
    return webhook


async def get_webhook(*, session: AsyncSession, chat_id: int) -> Webhook | None:
    result = await session.exec(select(Webhook).where(Webhook.chat_id == chat_id))
    return result.first()


async def remove_webhook(*, session: AsyncSession, chat_id: int) -> Webhook | None:
    """Delete the chat's webhook; the webhook, or None if it had none."""
    webhook = await get_webhook(session=session, chat_id=chat_id)
    if webhook is not None:
        await session.delete(webhook)
    return webhook


async def chats_with_webhooks(*, session: AsyncSession, chat_ids: Collection[int]) -> set[int]:
    """Those of some chats that have an enabled webhook."""
    if not chat_ids:
        return set()
    result = await session.exec(
        select(Webhook.chat_id).where(
            col(Webhook.chat_id).in_(chat_ids), col(Webhook.disabled).is_(False)
        )
    )
    return set(result.all())


async def list_webhooks(*, session: AsyncSession) -> Sequence[Webhook]:
    result = await session.exec(select(Webhook).order_by(col(Webhook.chat_id)))
    return result.all()


async def record_delivery(
    *, session: AsyncSession, webhook_id: int, error: str | None, disable_after: int
) -> bool:
    """Record a delivery (`error` None: delivered); True when this failure disabled the
    webhook (the `disable_after`-th in a row). Counted in the database, so deliveries of
    several instances at once each count and only one of them disables."""
    webhook = col(Webhook.id) == webhook_id
    if error is None:
        await session.exec(update(Webhook).where(webhook).values(failures=0, last_error=None))
        return False
    await session.exec(
        update(Webhook)
        .where(webhook)
        .values(failures=col(Webhook.failures) + 1, last_error=error[:ERROR_LENGTH])
    )
    disabled = await session.exec(
        update(Webhook)
        .where(webhook, col(Webhook.failures) >= disable_after, col(Webhook.disabled).is_(False))
        .values(disabled=True)
    )
    return bool(disabled.rowcount)
