"""Watch-lists and pausing, over storage: adding within the per-chat limit, removing by any
spelling that reads as the stored item, /stop and /start. Nothing here talks to Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import OptionName
from bot.fanout import expand_for_chat
from bot.lexicon import Lexicon
from bot.query import check_pattern_room, pattern_sources
from bot.text import collapse_whitespace
from bot.topics import TopicError, WatchItem, parse_watch_item
from storage import queries
from storage.db import SessionFactory
from storage.models import MUTED_FOREVER, Preview, Subscription, utcnow

MAX_SUBSCRIPTIONS = 50
MAX_TOPICS_AT_ONCE = 10  # topics separated by commas in one command


class Added(Enum):
    ADDED = "added"
    ALREADY = "already"  # the chat watches this item already
    MOVED = "moved"  # the chat watched it already; its alerts now go to another forum topic
    FULL = "full"  # the chat watches MAX_SUBSCRIPTIONS items


@dataclass(frozen=True, slots=True)
class Route:
    """Where a forum group's item goes: a topic (its thread id, and its name when known), or
    General (`thread_id` None). Any other chat's items have no route."""

    thread_id: int | None = None
    name: str | None = None


GENERAL = Route()


@dataclass(frozen=True, slots=True)
class Subscribed:
    added: Added
    before: Route = GENERAL  # where a moved item went before


@dataclass(frozen=True, slots=True)
class Removal:
    removed: str | None  # the stored topic that was removed
    alike: tuple[str, ...] = ()  # several stored topics read as the typed one: none removed


async def add(
    sessions: SessionFactory, chat_id: int, topic: str, route: Route | None = None
) -> Subscribed:
    """Put a watch item's key on the chat's watch-list, unless it is full; TopicError when
    its regular expressions pass the chat's limits (`bot.query.check_pattern_room`). In a
    forum group (`route`) the item goes to the topic it was subscribed from: an item is
    routed to one place per chat, so subscribing it again from another topic moves it there
    (its alerts not yet sent too, as `bot.fanout.levels_at` settles them)."""
    async with sessions() as session:
        existing = await queries.find_subscription(session=session, chat_id=chat_id, topic=topic)
        if existing is not None:
            before = Route(existing.thread_id, existing.thread_name)
            if route is None or route.thread_id == existing.thread_id:
                return Subscribed(Added.ALREADY)
            existing.thread_id, existing.thread_name = route.thread_id, route.name
            await session.commit()
            return Subscribed(Added.MOVED, before)
        if await queries.count_subscriptions(session=session, chat_id=chat_id) >= MAX_SUBSCRIPTIONS:
            return Subscribed(Added.FULL)
        if pattern_sources(topic):
            stored = await queries.list_subscriptions(session=session, chat_id=chat_id)
            check_pattern_room([row.topic for row in stored], topic)
        created = await queries.add_subscription(session=session, chat_id=chat_id, topic=topic)
        if route is not None and route.thread_id is not None:
            await _route(session, chat_id, topic, route)
        await session.commit()
    return Subscribed(Added.ADDED if created else Added.ALREADY)


async def route_to(sessions: SessionFactory, chat_id: int, topic: str, route: Route) -> None:
    """Send a watched item's alerts to a forum topic (a topic made for it by /topics auto)."""
    async with sessions() as session:
        await _route(session, chat_id, topic, route)
        await session.commit()


async def _route(session: AsyncSession, chat_id: int, topic: str, route: Route) -> None:
    row = await queries.find_subscription(session=session, chat_id=chat_id, topic=topic)
    if row is not None:
        row.thread_id, row.thread_name = route.thread_id, route.name


async def remove(
    sessions: SessionFactory, lexicon: Lexicon, chat_id: int, item: WatchItem
) -> Removal:
    """Take the stored item that `item` reads as off the chat's watch-list: the same canonical
    item, else the one that is the same up to case (`india-chile` removes `India-Chile`)."""
    async with sessions() as session:
        stored = await queries.list_subscriptions(session=session, chat_id=chat_id)
        same = [s for s in stored if s.topic == item.key or _key(s.topic, lexicon) == item.key]
        if not same:
            relaxed = _relaxed_key(item.key, lexicon)
            same = [s for s in stored if _relaxed_key(s.topic, lexicon) == relaxed]
        if len(same) != 1:
            return Removal(None, tuple(s.topic for s in same))
        await session.delete(same[0])
        await session.commit()
    return Removal(same[0].topic)


async def remove_by_id(sessions: SessionFactory, chat_id: int, subscription_id: int) -> str | None:
    """Remove one of the chat's subscriptions by id; its topic, or None if it was not there."""
    async with sessions() as session:
        topic = await queries.remove_subscription_by_id(
            session=session, chat_id=chat_id, subscription_id=subscription_id
        )
        await session.commit()
    return topic


MUTES = {"1d": timedelta(days=1), "7d": timedelta(days=7)}


def muted_until(subscription: Subscription, now: datetime | None = None) -> datetime | None:
    """When the item's mute ends, if it is muted now."""
    until = subscription.muted_until
    return until if until is not None and until > (now or utcnow()) else None


async def item_options(
    sessions: SessionFactory, chat_id: int, subscription_id: int
) -> Subscription | None:
    """One of the chat's watch items with its options (None when it is gone or another
    chat's)."""
    async with sessions() as session:
        return await queries.chat_subscription(
            session=session, chat_id=chat_id, subscription_id=subscription_id
        )


async def set_item_option(
    sessions: SessionFactory, chat_id: int, subscription_id: int, name: OptionName, value: str
) -> Subscription | None:
    """Set one delivery option of one of the chat's watch items (values as the codec reads
    them); the item as it is now, or None when it is gone or another chat's. The dispatcher
    settles every alert not yet sent by it."""
    async with sessions() as session:
        row = await queries.chat_subscription(
            session=session, chat_id=chat_id, subscription_id=subscription_id
        )
        if row is None:
            return None
        match name:
            case "silent":
                row.silent = value == "on"
            case "preview":
                row.preview = Preview(value)
            case "mute":
                row.muted_until = (
                    None
                    if value == "off"
                    else MUTED_FOREVER
                    if value == "ever"
                    else utcnow() + MUTES[value]
                )
        await session.commit()
        await session.refresh(row)
        return row


async def pause(sessions: SessionFactory, chat_id: int) -> None:
    """/stop: no alerts and no digests for the chat until it resumes. Alerts not yet sent are
    kept for the first digest after that."""
    async with sessions() as session:
        await queries.update_chat(session=session, chat_id=chat_id, paused=True)
        await expand_for_chat(session=session, chat_id=chat_id, at=utcnow())
        await queries.hold_pending_alerts(session=session, chat_id=chat_id)
        await session.commit()


async def resume(sessions: SessionFactory, chat_id: int) -> bool:
    """/start after /stop: alerts and digests again; whether the chat was paused."""
    async with sessions() as session:
        chat = await queries.ensure_chat(session=session, chat_id=chat_id)
        was_paused = chat.paused
        chat.paused = False
        await session.commit()
    return was_paused


def _key(topic: str, lexicon: Lexicon) -> str | None:
    try:
        return parse_watch_item(topic, lexicon).key
    except TopicError:
        return None


def _relaxed_key(topic: str, lexicon: Lexicon) -> str:
    """The item as if typed in lower case, where every name matches in any case."""
    return (_key(topic.lower(), lexicon) or collapse_whitespace(topic)).casefold()


async def topics_auto(sessions: SessionFactory, chat_id: int) -> bool:
    """Whether new items subscribed in a forum group's General get a topic of their own."""
    async with sessions() as session:
        return (await queries.ensure_chat(session=session, chat_id=chat_id)).topics_auto


async def set_topics_auto(sessions: SessionFactory, chat_id: int, on: bool) -> None:
    """/topics auto (on) or /topics off."""
    async with sessions() as session:
        await queries.update_chat(session=session, chat_id=chat_id, topics_auto=on)
        await session.commit()
