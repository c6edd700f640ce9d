"""Storage functions. Each takes the session first, as `*, session`, and leaves committing to
the caller unless its name says otherwise."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.db import bulk_load, driver_value, insert_many
from storage.models import (
    NO_THREAD,
    WEEKLY_SLOT,
    Alert,
    AlertSender,
    AlertStatus,
    Article,
    ArticleMatch,
    Chat,
    DeliveryMode,
    Digest,
    Fact,
    Fanout,
    Level,
    MutedSource,
    Subscription,
    VocabularyTerm,
    utcnow,
)

ALERT_SENDER_ROW = 1  # the id of the one row of `alert_sender`


async def ensure_chat(
    *,
    session: AsyncSession,
    chat_id: int,
    kind: str = "private",
    title: str | None = None,
    timezone: str = "UTC",
    language_code: str | None = None,
) -> Chat:
    """The chat's row, created on first contact (in `timezone`, with the Telegram
    `language_code` of who wrote); a chat that writes again is active again."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(
            id=chat_id, kind=kind, title=title, timezone=timezone, language_code=language_code
        )
        session.add(chat)
    elif not chat.active:
        chat.active, chat.inactive_reason = True, None
    return chat


async def chat_languages(
    *, session: AsyncSession, chat_id: int, seen_code: str | None = None
) -> tuple[str | None, str | None]:
    """A chat's chosen language and Telegram language code (both None for an unknown chat);
    `seen_code`, the language code of who writes now, is recorded when it changed."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return None, None
    if seen_code and chat.language_code != seen_code[:16]:
        chat.language_code = seen_code[:16]
        await session.commit()
    return chat.language, chat.language_code


class ChatLanguage(NamedTuple):
    chosen: str | None  # with /language
    code: str | None  # the Telegram language code of who last wrote there


async def languages_of(
    *, session: AsyncSession, chat_ids: Collection[int]
) -> dict[int, ChatLanguage]:
    """The chosen languages and Telegram language codes of some chats (those that exist)."""
    if not chat_ids:
        return {}
    rows = await session.exec(
        select(Chat.id, Chat.language, Chat.language_code).where(col(Chat.id).in_(chat_ids))
    )
    return {chat_id: ChatLanguage(chosen, code) for chat_id, chosen, code in rows.all()}


async def chosen_languages(*, session: AsyncSession, chat_ids: Iterable[int]) -> dict[int, str]:
    """The languages chosen with /language by those of `chat_ids` that chose one."""
    ids = list(chat_ids)
    if not ids:
        return {}
    rows = await session.exec(
        select(Chat.id, Chat.language).where(col(Chat.id).in_(ids), col(Chat.language).is_not(None))
    )
    return {chat_id: language for chat_id, language in rows.all() if language}


async def deactivate_chat(*, session: AsyncSession, chat_id: int, reason: str) -> None:
    """Stop sending to a chat: mark it inactive and fail its pending alerts."""
    chat = await session.get(Chat, chat_id)
    if chat is not None:
        chat.active, chat.inactive_reason = False, reason[:255]
    await session.exec(
        update(Alert)
        .where(col(Alert.chat_id) == chat_id, col(Alert.status) == AlertStatus.PENDING)
        .values(status=AlertStatus.FAILED, last_error=f"chat inactive: {reason}"[:500])
    )


async def count_subscriptions(*, session: AsyncSession, chat_id: int) -> int:
    result = await session.exec(
        select(func.count()).select_from(Subscription).where(Subscription.chat_id == chat_id)
    )
    return result.one()


async def find_subscription(
    *, session: AsyncSession, chat_id: int, topic: str
) -> Subscription | None:
    result = await session.exec(
        select(Subscription).where(Subscription.chat_id == chat_id, Subscription.topic == topic)
    )
    return result.first()


async def add_subscription(*, session: AsyncSession, chat_id: int, topic: str) -> bool:
    """Subscribe a chat to a watch item; False when it already had it."""
    if await find_subscription(session=session, chat_id=chat_id, topic=topic):
        return False
    session.add(Subscription(chat_id=chat_id, topic=topic))
    await session.flush()
    return True


async def remove_subscription(*, session: AsyncSession, chat_id: int, topic: str) -> bool:
    subscription = await find_subscription(session=session, chat_id=chat_id, topic=topic)
    if subscription is None:
        return False
    await session.delete(subscription)
    return True


async def remove_subscription_by_id(
    *, session: AsyncSession, chat_id: int, subscription_id: int
) -> str | None:
    """Remove one of the chat's subscriptions by id; its topic, or None if it was not there."""
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or subscription.chat_id != chat_id:
        return None
    await session.delete(subscription)
    return subscription.topic


async def list_subscriptions(*, session: AsyncSession, chat_id: int) -> Sequence[Subscription]:
    result = await session.exec(
        select(Subscription)
        .where(Subscription.chat_id == chat_id)
        .order_by(col(Subscription.topic))
    )
    return result.all()


async def active_topics(*, session: AsyncSession) -> list[str]:
    """The distinct watch items of active chats not paused, for building the matcher."""
    result = await session.exec(
        select(Subscription.topic)
        .join(Chat, col(Chat.id) == Subscription.chat_id)
        .where(col(Chat.active).is_(True), col(Chat.paused).is_(False))
        .distinct()
    )
    return list(result.all())


async def subscriptions_fingerprint(*, session: AsyncSession) -> tuple[int, ...]:
    """Changes whenever what `active_topics` returns may have changed."""
    subscriptions = await session.exec(
        select(
            func.count(),
            func.coalesce(func.max(Subscription.id), 0),
            *(
                func.coalesce(
                    func.sum(case((col(Subscription.level) == level, Subscription.id), else_=0)), 0
                )
                for level in (Level.MAIN, Level.ALL)
            ),
        ).select_from(Subscription)
    )
    chats = await session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(case((col(Chat.active).is_(True), Chat.id), else_=0)), 0),
            func.coalesce(
                func.sum(case((col(Chat.mode) == DeliveryMode.DIGEST, Chat.id), else_=0)), 0
            ),
            func.coalesce(func.sum(case((col(Chat.paused).is_(True), Chat.id), else_=0)), 0),
        ).select_from(Chat)
    )
    return tuple(int(value or 0) for value in (*subscriptions.one(), *chats.one()))


class SubscriptionRow(NamedTuple):
    """A subscription as exported and imported (CSV); an imported row may leave out the
    level and the delivery options (the defaults) and the time it was created (now)."""

    chat_id: int
    topic: str
    level: str | None = None
    created_at: datetime | None = None
    silent: bool | None = None
    preview: str | None = None
    muted_until: datetime | None = None  # storage.models.MUTED_FOREVER: until unmuted
    thread_id: int | None = None  # the forum topic its alerts go to (None: the chat itself)
    thread_name: str | None = None  # that topic's name, when known
    # whether the row names its forum topic (False: a row of an earlier version's file, without
    # thread columns, which leaves an item the chat already has where it is)
    placed: bool = True


async def all_subscriptions(
    *, session: AsyncSession, chat_id: int | None = None
) -> list[SubscriptionRow]:
    """Every subscription (or one chat's), by chat and topic."""
    statement = select(Subscription).order_by(col(Subscription.chat_id), col(Subscription.topic))
    if chat_id is not None:
        statement = statement.where(Subscription.chat_id == chat_id)
    result = await session.exec(statement)
    return [
        SubscriptionRow(
            row.chat_id,
            row.topic,
            row.level,
            row.created_at,
            row.silent,
            row.preview,
            row.muted_until,
            row.thread_id,
            row.thread_name,
        )
        for row in result.all()
    ]


async def stored_keys(
    *, session: AsyncSession, content_hashes: Collection[str], urls: Collection[str]
) -> tuple[set[str], set[str]]:
    """Which of these content hashes and urls stored articles already have."""
    if not content_hashes and not urls:
        return set(), set()
    result = await session.exec(
        select(Article.content_hash, Article.url).where(
            or_(col(Article.content_hash).in_(content_hashes), col(Article.url).in_(urls))
        )
    )
    hashes: set[str] = set()
    found_urls: set[str] = set()
    for content_hash, url in result.all():
        hashes.add(content_hash)
        if url is not None:
            found_urls.add(url)
    return hashes, found_urls


async def add_articles(*, session: AsyncSession, rows: Sequence[dict[str, object]]) -> list[int]:
    """Store article rows (column values, no id) in one statement; their ids, in order."""
    if not rows:
        return []
    table = Article.__table__  # type: ignore[attr-defined]
    inserted = await session.exec(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), params=rows
    )
    return list(inserted.scalars())


async def set_stories(*, session: AsyncSession, stories: Iterable[tuple[int, int]]) -> None:
    """Record which story articles belong to: (article id, story id) pairs."""
    table = Article.__table__  # type: ignore[attr-defined]
    params = [{"article": article_id, "story": story_id} for article_id, story_id in stories]
    if params:
        await session.exec(
            update(table)
            .where(table.c.id == bindparam("article"))
            .values(story_id=bindparam("story")),
            params=params,
        )


async def add_facts(
    *, session: AsyncSession, facts: Iterable[tuple[int, int, str, str, str]]
) -> None:
    """Store fact sentences: (article id, position, sentence, figures JSON, fact key)."""
    rows = [
        {
            "article_id": article_id,
            "position": position,
            "sentence": sentence,
            "figures": figures,
            "fact_key": key,
        }
        for article_id, position, sentence, figures, key in facts
    ]
    if rows:
        await session.exec(insert(Fact.__table__), params=rows)  # type: ignore[attr-defined]


class NewMatch(NamedTuple):
    article_id: int
    topic: str  # a stored watch item (`subscriptions.topic`)
    about: bool
    relevance: float
    evidence_at: int


async def add_matches(*, session: AsyncSession, matches: Sequence[NewMatch]) -> int:
    """Record what articles matched and open their fan-outs; how many articles matched."""
    if not matches:
        return 0
    table = ArticleMatch.__table__  # type: ignore[attr-defined]
    columns = ("article_id", "topic", "about", "relevance", "evidence_at")
    await insert_many(session=session, table=table, columns=columns, rows=list(matches))
    created = await driver_value(
        session=session,
        column=Fanout.__table__.c.created_at,  # type: ignore[attr-defined]
        value=utcnow(),
    )
    articles = sorted({match.article_id for match in matches})
    await insert_many(
        session=session,
        table=Fanout.__table__,  # type: ignore[attr-defined]
        columns=("article_id", "after_chat", "expanded", "created_at"),
        rows=[(article_id, None, 0, created) for article_id in articles],
    )
    return len(articles)


class StoredMatch(NamedTuple):
    topic: str
    about: bool
    relevance: float
    evidence_at: int


IDS_PER_STATEMENT = 1000  # ids per IN (…): within every driver's limit on bound parameters
_Item = TypeVar("_Item")


def _chunks(items: Sequence[_Item]) -> Iterable[Sequence[_Item]]:
    for start in range(0, len(items), IDS_PER_STATEMENT):
        yield items[start : start + IDS_PER_STATEMENT]


async def matches_of(
    *, session: AsyncSession, article_ids: Collection[int]
) -> dict[int, list[StoredMatch]]:
    """What some articles matched, each article's watch items in topic order."""
    matches: dict[int, list[StoredMatch]] = {article_id: [] for article_id in article_ids}
    for ids in _chunks(sorted(article_ids)):
        result = await session.exec(
            select(ArticleMatch)
            .where(col(ArticleMatch.article_id).in_(ids))
            .order_by(col(ArticleMatch.article_id), col(ArticleMatch.topic))
        )
        for m in result.all():
            matches[m.article_id].append(StoredMatch(m.topic, m.about, m.relevance, m.evidence_at))
    return matches


class OpenFanout(NamedTuple):
    article_id: int
    story_id: int  # the article's story (its own id when it is the first report)
    started: bool
    waiting: int  # its alerts written and not sent yet, not deferred


async def open_fanouts(*, session: AsyncSession, limit: int) -> list[OpenFanout]:
    """Articles still being expanded, those not started first, then the oldest, with how many
    of their alerts wait to be sent."""
    started = case((col(Fanout.after_chat).is_(None), 0), else_=1)
    result = await session.exec(
        select(Fanout.article_id, Article.story_id, started)
        .join(Article, col(Article.id) == Fanout.article_id)
        .order_by(started, col(Fanout.article_id))
        .limit(limit)
    )
    rows = result.all()
    if not rows:
        return []
    now = utcnow()
    waiting = await session.exec(
        select(Alert.article_id, func.count())
        .where(
            col(Alert.article_id).in_([article_id for article_id, _, _ in rows]),
            col(Alert.status) == AlertStatus.PENDING,
            or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now),
        )
        .group_by(col(Alert.article_id))
    )
    counts = dict(waiting.all())
    return [
        OpenFanout(article_id, story_id or article_id, bool(started), counts.get(article_id, 0))
        for article_id, story_id, started in rows
    ]


class Cursor(NamedTuple):
    after_chat: int | None  # chats up to this id are expanded
    expanded: int  # the position of the next alert


async def lock_fanout(*, session: AsyncSession, article_id: int) -> Cursor | None:
    """Lock an open fan-out for this transaction; its cursor, or None when it is done or
    another dispatcher holds it (PostgreSQL skips a locked row)."""
    result = await session.exec(
        select(Fanout.after_chat, Fanout.expanded)
        .where(col(Fanout.article_id) == article_id)
        .with_for_update(skip_locked=True)
    )
    row = result.first()
    return None if row is None else Cursor(*row)


async def fanouts_behind(*, session: AsyncSession, chat_id: int) -> list[OpenFanout]:
    """Open fan-outs that have not reached a chat yet and matched an item it watches."""
    result = await session.exec(
        select(Fanout.article_id, Article.story_id, Fanout.after_chat)
        .join(Article, col(Article.id) == Fanout.article_id)
        .join(ArticleMatch, col(ArticleMatch.article_id) == Fanout.article_id)
        .join(Subscription, col(Subscription.topic) == ArticleMatch.topic)
        .where(
            col(Subscription.chat_id) == chat_id,
            or_(col(Fanout.after_chat).is_(None), col(Fanout.after_chat) < chat_id),
        )
        .distinct()
        .order_by(col(Fanout.article_id))
    )
    return [
        OpenFanout(article_id, story_id or article_id, after_chat is not None, 0)
        for article_id, story_id, after_chat in result.all()
    ]


class Watcher(NamedTuple):
    chat_id: int
    topic: str
    level: str
    mode: str  # the chat's DeliveryMode
    thread_id: int | None  # the forum topic its alerts go to (None: the chat itself)


def _unmuted() -> ColumnElement[bool]:
    """A subscription not muted now: a muted item counts as not watched until its mute ends."""
    return or_(col(Subscription.muted_until).is_(None), col(Subscription.muted_until) <= utcnow())


async def next_watchers(
    *, session: AsyncSession, topic: str, after_chat: int | None, limit: int
) -> list[Watcher]:
    """The next chats (by id, after `after_chat`) watching a topic (not muted), active and not
    paused."""
    query = (
        select(Subscription.chat_id, Subscription.level, Chat.mode, Subscription.thread_id)
        .join(Chat, col(Chat.id) == Subscription.chat_id)
        .where(
            col(Subscription.topic) == topic,
            col(Chat.active).is_(True),
            col(Chat.paused).is_(False),
            _unmuted(),
        )
        .order_by(col(Subscription.chat_id))
        .limit(limit)
    )
    if after_chat is not None:
        query = query.where(col(Subscription.chat_id) > after_chat)
    return [
        Watcher(chat_id, topic, level, mode, thread_id)
        for chat_id, level, mode, thread_id in (await session.exec(query)).all()
    ]


async def advance_fanout(*, session: AsyncSession, article_id: int, cursor: Cursor | None) -> None:
    """Move a fan-out's cursor on; None: it is done."""
    if cursor is None:
        await session.exec(delete(Fanout).where(col(Fanout.article_id) == article_id))
    else:
        await session.exec(
            update(Fanout)
            .where(col(Fanout.article_id) == article_id)
            .values(after_chat=cursor.after_chat, expanded=cursor.expanded)
        )


class ToldAt(NamedTuple):
    """Where a chat was told of something: the chat, and its forum topic (NO_THREAD: the chat
    itself)."""

    chat_id: int
    thread_id: int


async def told_of_story(
    *, session: AsyncSession, story_id: int, article_id: int, chat_ids: Collection[int]
) -> set[ToldAt]:
    """Where some chats already have an alert about another report of a story."""
    result = await session.exec(
        select(Alert.chat_id, Alert.thread_id)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(
            col(Article.story_id) == story_id,
            col(Alert.article_id) != article_id,
            col(Alert.chat_id).in_(chat_ids),
        )
        .distinct()
    )
    return {ToldAt(chat_id, thread_id) for chat_id, thread_id in result.all()}


class NewAlert(NamedTuple):
    chat_id: int
    topics: tuple[str, ...]  # watch items
    mentions: tuple[str, ...]  # those of `topics` the article only mentions in passing
    evidence_at: int
    relevance: float
    status: str
    thread_id: int = NO_THREAD  # the forum topic it goes to (NO_THREAD: the chat itself)


async def add_alerts(
    *,
    session: AsyncSession,
    article_id: int,
    first_position: int,
    alerts: Sequence[NewAlert],
    at: datetime,
) -> int:
    """Write an article's alerts for some destinations (chats, forum topics), in fan-out
    order from `first_position`, created `at`; a destination that already has one for the
    article keeps it. How many were written."""
    if not alerts:
        return 0
    rows = [
        {
            "chat_id": alert.chat_id,
            "thread_id": alert.thread_id,
            "article_id": article_id,
            "topics": json.dumps(list(alert.topics)),
            "evidence_at": alert.evidence_at,
            "mentions": json.dumps(list(alert.mentions)),
            "relevance": alert.relevance,
            "position": first_position + index,
            "status": alert.status,
            "attempts": 0,
            "created_at": at,
        }
        for index, alert in enumerate(alerts)
    ]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = Alert.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        insert(table)
        .on_conflict_do_nothing(index_elements=["chat_id", "thread_id", "article_id"])
        .returning(table.c.id),
        params=rows,
    )
    return len(result.all())


def due_for_claim(status: str, now: datetime) -> Select[int | None, int]:
    """(id, chat id) of the alerts in `status` that are due at `now`, of active chats that are
    not paused and leased to nobody, locked for the claim (rows another dispatcher is claiming
    are skipped on PostgreSQL: FOR UPDATE SKIP LOCKED)."""
    return (
        select(Alert.id, Alert.chat_id)
        .join(Chat, col(Chat.id) == Alert.chat_id)
        .where(
            col(Alert.status) == status,
            col(Chat.active).is_(True),
            col(Chat.paused).is_(False),
            or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now),
            or_(col(Alert.claimed_until).is_(None), col(Alert.claimed_until) <= now),
        )
        .with_for_update(skip_locked=True, of=Alert)
    )


async def lease_alerts(
    *,
    session: AsyncSession,
    ids: Sequence[int],
    status: str,
    worker: str,
    lease: timedelta,
    now: datetime,
) -> list[tuple[Alert, Article]]:
    """Lease those of `ids` still in `status` and held by nobody to `worker`, commit, and read
    back what it got, with the articles, oldest first: the conditional UPDATE only takes rows
    nobody holds, so two dispatchers never lease the same alert."""
    if ids:
        await session.exec(
            update(Alert)
            .where(
                col(Alert.id).in_(ids),
                col(Alert.status) == status,
                or_(col(Alert.claimed_until).is_(None), col(Alert.claimed_until) <= now),
            )
            .values(claimed_by=worker, claimed_until=now + lease)
        )
    await session.commit()
    if not ids:
        return []
    result = await session.exec(
        select(Alert, Article)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(col(Alert.id).in_(ids), col(Alert.claimed_by) == worker)
        .order_by(col(Alert.id))
    )
    return list(result.all())


async def claim_due_alerts(
    *, session: AsyncSession, worker: str, limit: int, lease: timedelta
) -> list[tuple[Alert, Article]]:
    """Lease due pending alerts to `worker` (`due_for_claim`, `lease_alerts`), with their
    articles, and commit: up to `limit` by fan-out position (so a new article's first chats
    come before the far end of a big fan-out), then the other due alerts of the same chats, so
    that a chat's alerts go out together."""
    now = utcnow()
    due = due_for_claim(AlertStatus.PENDING, now)
    first = (
        await session.exec(due.order_by(col(Alert.position), col(Alert.id)).limit(limit))
    ).all()
    if not first:
        return await lease_alerts(
            session=session, ids=[], status=AlertStatus.PENDING, worker=worker, lease=lease, now=now
        )
    chats = sorted({chat_id for _, chat_id in first})
    more = await session.exec(
        due.where(col(Alert.chat_id).in_(chats)).order_by(col(Alert.id)).limit(limit * 5)
    )
    ids = sorted({alert_id for alert_id, _ in [*first, *more.all()] if alert_id is not None})
    return await lease_alerts(
        session=session, ids=ids, status=AlertStatus.PENDING, worker=worker, lease=lease, now=now
    )


class ItemStyle(NamedTuple):
    """How a watch item's alerts are sent."""

    silent: bool
    preview: str  # storage.models.Preview


class WatchList(NamedTuple):
    mode: str  # the chat's DeliveryMode
    levels: dict[str, str]  # watch item → level, of the items asked about (not muted)
    styles: dict[str, ItemStyle]  # watch item → how its alerts are sent
    kind: str  # the chat's kind (a channel's readers press no buttons)
    muted_sources: frozenset[str]  # of the sources asked about
    threads: dict[str, int]  # watch item → the forum topic its alerts go to, or NO_THREAD


async def watch_lists(
    *,
    session: AsyncSession,
    chat_ids: Collection[int],
    topics: Collection[str],
    sources: Collection[str] = (),
) -> dict[int, WatchList]:
    """Which of some topics some chats watch now (muted items are not watched), at what level
    and how sent, and which of some sources they muted; chats watching none of the topics
    are left out."""
    lists: dict[int, WatchList] = {}
    if not chat_ids or not topics:
        return lists
    result = await session.exec(
        select(Subscription, Chat.mode, Chat.kind)
        .join(Chat, col(Chat.id) == Subscription.chat_id)
        .where(
            col(Subscription.chat_id).in_(chat_ids),
            col(Subscription.topic).in_(topics),
            _unmuted(),
        )
    )
    muted = await muted_sources(session=session, chat_ids=chat_ids, sources=sources)
    for row, mode, kind in result.all():
        watch = lists.setdefault(
            row.chat_id, WatchList(mode, {}, {}, kind, frozenset(muted.get(row.chat_id, ())), {})
        )
        watch.levels[row.topic] = row.level
        watch.styles[row.topic] = ItemStyle(row.silent, row.preview)
        watch.threads[row.topic] = NO_THREAD if row.thread_id is None else row.thread_id
    return lists


async def muted_sources(
    *, session: AsyncSession, chat_ids: Collection[int], sources: Collection[str]
) -> dict[int, set[str]]:
    """Which of some sources some chats muted."""
    muted: dict[int, set[str]] = {}
    if not chat_ids or not sources:
        return muted
    result = await session.exec(
        select(MutedSource.chat_id, MutedSource.source).where(
            col(MutedSource.chat_id).in_(chat_ids), col(MutedSource.source).in_(sources)
        )
    )
    for chat_id, source in result.all():
        muted.setdefault(chat_id, set()).add(source)
    return muted


async def set_source_muted(
    *, session: AsyncSession, chat_id: int, source: str, muted: bool
) -> None:
    """Mute a source for a chat, or unmute it."""
    row = await session.get(MutedSource, (chat_id, source))
    if muted and row is None:
        session.add(MutedSource(chat_id=chat_id, source=source))
        await session.flush()
    elif not muted and row is not None:
        await session.delete(row)


class Settled(NamedTuple):
    """A claimed alert settled again at sending: None for `status` when nothing is left to
    tell (the chat no longer watches what it matched)."""

    alert_id: int
    status: str | None
    topics: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    evidence_at: int = 0
    relevance: float = 0.0


async def resettle_alerts(*, session: AsyncSession, settled: Sequence[Settled]) -> None:
    """Write what changed when claimed alerts were settled again: dropped ones deleted, held
    ones given back for the digest, the others naming only the items still watched."""
    dropped = [row.alert_id for row in settled if row.status is None]
    if dropped:
        await session.exec(delete(Alert).where(col(Alert.id).in_(dropped)))
    kept = [row for row in settled if row.status is not None]
    if kept:
        table = Alert.__table__  # type: ignore[attr-defined]
        await session.exec(
            update(table)
            .where(table.c.id == bindparam("alert"))
            .values(
                status=bindparam("new_status"),
                topics=bindparam("new_topics"),
                mentions=bindparam("new_mentions"),
                evidence_at=bindparam("new_evidence_at"),
                relevance=bindparam("new_relevance"),
            ),
            params=[
                {
                    "alert": row.alert_id,
                    "new_status": row.status,
                    "new_topics": json.dumps(list(row.topics)),
                    "new_mentions": json.dumps(list(row.mentions)),
                    "new_evidence_at": row.evidence_at,
                    "new_relevance": row.relevance,
                }
                for row in kept
            ],
        )


class AlertKey(NamedTuple):
    chat_id: int
    article_id: int


async def pending_destinations(
    *, session: AsyncSession, keys: Collection[AlertKey]
) -> dict[AlertKey, set[int]]:
    """The forum topics (NO_THREAD: the chat itself) that have a pending alert of an article
    for a chat, for some (chat, article) pairs."""
    found: dict[AlertKey, set[int]] = {}
    if not keys:
        return found
    result = await session.exec(
        select(Alert.chat_id, Alert.article_id, Alert.thread_id).where(
            col(Alert.chat_id).in_({key.chat_id for key in keys}),
            col(Alert.article_id).in_({key.article_id for key in keys}),
            col(Alert.status) == AlertStatus.PENDING,
        )
    )
    for chat_id, article_id, thread_id in result.all():
        key = AlertKey(chat_id, article_id)
        if key in keys:
            found.setdefault(key, set()).add(thread_id)
    return found


class Forgotten(NamedTuple):
    """What went to a forum topic that was deleted, and goes to General from now on."""

    topics: list[str]  # watch items
    digest: bool  # the chat's digests


async def forget_thread(*, session: AsyncSession, chat_id: int, thread_id: int) -> Forgotten:
    """A forum topic was deleted: the items and the digest that went there go to General
    now, and so do its pending alerts, except those of an article General has an alert of
    already (settled at sending: see `bot.fanout.levels_at`). What went there (nothing when
    it was forgotten before)."""
    topics = (
        await session.exec(
            select(Subscription.topic).where(
                col(Subscription.chat_id) == chat_id, col(Subscription.thread_id) == thread_id
            )
        )
    ).all()
    await session.exec(
        update(Subscription)
        .where(col(Subscription.chat_id) == chat_id, col(Subscription.thread_id) == thread_id)
        .values(thread_id=None, thread_name=None)
    )
    digest = await session.exec(
        update(Chat)
        .where(col(Chat.id) == chat_id, col(Chat.digest_thread_id) == thread_id)
        .values(digest_thread_id=None)
    )
    general = aliased(Alert)
    await session.exec(
        update(Alert)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Alert.thread_id) == thread_id,
            col(Alert.status) == AlertStatus.PENDING,
            ~select(general.id)
            .where(
                general.chat_id == chat_id,
                general.thread_id == NO_THREAD,
                general.article_id == Alert.article_id,
            )
            .exists(),
        )
        .values(thread_id=NO_THREAD)
    )
    return Forgotten(sorted(topics), digest.rowcount > 0)


async def release_claims(*, session: AsyncSession, worker: str) -> None:
    """Give a worker's leased pending alerts (and edits of earlier alerts) back."""
    await session.exec(
        update(Alert)
        .where(
            col(Alert.status).in_([AlertStatus.PENDING, AlertStatus.EDIT]),
            col(Alert.claimed_by) == worker,
        )
        .values(claimed_by=None, claimed_until=None)
    )


async def take_over_sending(*, session: AsyncSession, worker: str) -> str | None:
    """Record `worker` as the alert sender and give back the leases of the previous sender
    (which died or lost the sender lock), not those of anyone else; the previous sender."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = await session.exec(
        insert(AlertSender)
        .values(id=ALERT_SENDER_ROW, worker=worker, since=utcnow())
        .on_conflict_do_nothing()  # the first sender ever; the row stays otherwise
        .returning(col(AlertSender.id))
    )
    if created.first() is not None:
        return None
    sender = (await session.exec(select(AlertSender).with_for_update())).one()
    previous = sender.worker
    await release_claims(session=session, worker=previous)
    sender.worker, sender.since = worker, utcnow()
    return previous


async def next_due_time(*, session: AsyncSession) -> datetime | None:
    """When the earliest deferred pending alert falls due, if one is deferred."""
    result = await session.exec(
        select(func.min(Alert.next_attempt_at)).where(
            col(Alert.status) == AlertStatus.PENDING, col(Alert.next_attempt_at) > utcnow()
        )
    )
    return result.one()


async def mark_alerts_sent(
    *, session: AsyncSession, alert_ids: Sequence[int], message_id: int | None
) -> None:
    await session.exec(
        update(Alert)
        .where(col(Alert.id).in_(alert_ids))
        .values(status=AlertStatus.SENT, sent_at=utcnow(), message_id=message_id, last_error=None)
    )


async def postpone_alerts(
    *, session: AsyncSession, alert_ids: Sequence[int], until: datetime
) -> None:
    """Hold pending alerts back until a time (not a failure: nothing is counted)."""
    await session.exec(
        update(Alert)
        .where(col(Alert.id).in_(alert_ids))
        .values(next_attempt_at=until, claimed_by=None, claimed_until=None)
    )


async def mark_alert_failed(*, session: AsyncSession, alert_id: int, error: str) -> None:
    await session.exec(
        update(Alert)
        .where(col(Alert.id) == alert_id)
        .values(status=AlertStatus.FAILED, last_error=error[:500], attempts=Alert.attempts + 1)
    )


async def defer_alert(
    *, session: AsyncSession, alert_id: int, error: str, retry_at: datetime
) -> None:
    await session.exec(
        update(Alert)
        .where(col(Alert.id) == alert_id)
        .values(
            next_attempt_at=retry_at,
            last_error=error[:500],
            attempts=Alert.attempts + 1,
            claimed_by=None,
            claimed_until=None,
        )
    )


async def alert_counts(*, session: AsyncSession) -> dict[str, int]:
    result = await session.exec(select(Alert.status, func.count()).group_by(col(Alert.status)))
    return {str(status): count for status, count in result.all()}


async def record_vocabulary(*, session: AsyncSession, terms: Counter[str]) -> None:
    """Add names seen in articles to the suggestion vocabulary (an upsert, safe to race:
    terms go in sorted order, so two writers on PostgreSQL lock rows in the same order)."""
    if not terms:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(VocabularyTerm)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=[VocabularyTerm.term],
            set_={"count": VocabularyTerm.count + statement.excluded.count},
        ),
        params=[{"term": term, "count": terms[term]} for term in sorted(terms)],
    )


async def vocabulary(*, session: AsyncSession, limit: int = 20_000) -> list[str]:
    """The most frequent names seen in stored articles."""
    result = await session.exec(
        select(VocabularyTerm.term).order_by(col(VocabularyTerm.count).desc()).limit(limit)
    )
    return list(result.all())


async def update_chat(*, session: AsyncSession, chat_id: int, **values: object) -> Chat | None:
    """Change a chat's settings (timezone, digest_time, mode, empty_digest_line, paused,
    language)."""
    chat = await session.get(Chat, chat_id)
    if chat is not None:
        for name, value in values.items():
            setattr(chat, name, value)
    return chat


class DigestSlot(NamedTuple):
    """A scheduled digest: a daily time, or the weekly digest's day and time ("mon 08:00")."""

    timezone: str
    at: str  # local "HH:MM" of a daily digest, or "mon 08:00" of the weekly one
    weekly: bool = False


async def digest_slots(*, session: AsyncSession) -> list[DigestSlot]:
    """Distinct digest slots (each daily time, with its zone, of chats that take daily
    digests; each weekly day and time) of active, unpaused chats."""
    result = await session.exec(
        select(Chat.timezone, Chat.digest_time, Chat.mode, Chat.weekly_digest)
        .where(
            col(Chat.active).is_(True),
            col(Chat.paused).is_(False),
            or_(col(Chat.digest_time).is_not(None), col(Chat.weekly_digest).is_not(None)),
        )
        .distinct()
    )
    slots: set[DigestSlot] = set()
    for zone, times, mode, weekly in result.all():
        if mode != DeliveryMode.INSTANT:
            slots.update(DigestSlot(zone, at) for at in (times or "").split())
        if weekly:
            slots.add(DigestSlot(zone, weekly, weekly=True))
    return sorted(slots)


async def chats_in_slot(*, session: AsyncSession, slot: DigestSlot) -> list[Chat]:
    """The active, unpaused chats of a slot: whose weekly digest it is, or (taking daily
    digests) whose digest times include it."""
    result = await session.exec(
        select(Chat).where(
            col(Chat.active).is_(True),
            col(Chat.paused).is_(False),
            col(Chat.timezone) == slot.timezone,
            col(Chat.weekly_digest) == slot.at
            if slot.weekly
            else and_(
                col(Chat.mode) != DeliveryMode.INSTANT, col(Chat.digest_time).contains(slot.at)
            ),
        )
    )
    chats = list(result.all())
    return chats if slot.weekly else [c for c in chats if slot.at in (c.digest_time or "").split()]


async def last_digest_end(
    *, session: AsyncSession, chat_id: int, weekly: bool = False
) -> datetime | None:
    """Up to when the chat's last daily digest (or weekly one) covered."""
    kind = col(Digest.slot) == WEEKLY_SLOT if weekly else col(Digest.slot) != WEEKLY_SLOT
    result = await session.exec(
        select(func.max(Digest.covers_until)).where(col(Digest.chat_id) == chat_id, kind)
    )
    return result.one()


async def record_digest(
    *, session: AsyncSession, chat_id: int, local_date: date, slot: str, covers_until: datetime
) -> int | None:
    """Claim the chat's digest for a local day and slot (committed); None when it was already
    sent."""
    digest = Digest(chat_id=chat_id, local_date=local_date, slot=slot, covers_until=covers_until)
    session.add(digest)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return digest.id


class Quiet(NamedTuple):
    hours: str  # "HH:MM-HH:MM", local
    timezone: str


async def quiet_hours_of(*, session: AsyncSession, chat_ids: Iterable[int]) -> dict[int, Quiet]:
    """The quiet hours of those chats that have them."""
    result = await session.exec(
        select(Chat.id, Chat.quiet_hours, Chat.timezone).where(
            col(Chat.id).in_(list(chat_ids)), col(Chat.quiet_hours).is_not(None)
        )
    )
    return {chat_id: Quiet(hours, zone) for chat_id, hours, zone in result.all() if hours}


async def release_postponed(*, session: AsyncSession, chat_id: int) -> int:
    """Make a chat's postponed alerts (held back for quiet hours or a burst, not retries after
    a failure) due now, so changed quiet hours apply to them; how many."""
    now = utcnow()
    result = await session.exec(
        update(Alert)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Alert.status) == AlertStatus.PENDING,
            col(Alert.attempts) == 0,
            col(Alert.next_attempt_at) > now,
        )
        .values(next_attempt_at=now)
    )
    return result.rowcount


async def set_digest_message(*, session: AsyncSession, digest_id: int, message_id: int) -> None:
    await session.exec(
        update(Digest).where(col(Digest.id) == digest_id).values(message_id=message_id)
    )


async def matched_between(
    *, session: AsyncSession, chat_id: int, since: datetime, until: datetime
) -> list[tuple[Alert, Article]]:
    """What matched a chat's watch-list in a period, oldest first."""
    result = await session.exec(
        select(Alert, Article)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Alert.created_at) > since,
            col(Alert.created_at) <= until,
        )
        .order_by(col(Alert.id))
    )
    return list(result.all())


async def facts_of(*, session: AsyncSession, article_ids: Sequence[int]) -> dict[int, list[Fact]]:
    """The stored fact sentences of some articles, in article order."""
    if not article_ids:
        return {}
    result = await session.exec(
        select(Fact).where(col(Fact.article_id).in_(article_ids)).order_by(col(Fact.position))
    )
    facts: dict[int, list[Fact]] = {}
    for fact in result.all():
        facts.setdefault(fact.article_id, []).append(fact)
    return facts


async def children_of(*, session: AsyncSession, parent_ids: Sequence[int]) -> list[Article]:
    """The related-headline items stored with some articles."""
    if not parent_ids:
        return []
    result = await session.exec(select(Article).where(col(Article.parent_id).in_(parent_ids)))
    return list(result.all())


# the columns of `subscriptions` an import gives (the others: their defaults)
_IMPORTED = tuple(name for name in SubscriptionRow._fields if name != "placed")


class Imported(NamedTuple):
    """What an import did to the subscriptions it was given."""

    added: int
    moved: int  # subscriptions a chat had, now posting to the forum topic their row names


async def import_subscriptions(
    *, session: AsyncSession, rows: Sequence[SubscriptionRow], timezone: str
) -> Imported:
    """Add subscriptions in bulk: chats created as needed (in `timezone`) or made active
    again, a subscription a chat already has moved to the forum topic its row names (left
    alone by a row that names none) and otherwise kept as it is (a topic listed twice: the
    first row). The rows go to a temporary table in one load (COPY on PostgreSQL), then into
    the tables with a statement each."""
    if not rows:
        return Imported(0, 0)
    upsert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    first: dict[tuple[int, str], SubscriptionRow] = {}
    for row in rows:
        first.setdefault((row.chat_id, row.topic), row)
    subscriptions = Subscription.__table__  # type: ignore[attr-defined]
    defaults = Subscription(chat_id=0, topic="", created_at=now)
    level, silent, preview = defaults.level, defaults.silent, defaults.preview
    staged = Table(
        "imported_subscriptions",
        MetaData(),
        *(Column(name, subscriptions.c[name].type) for name in _IMPORTED),
        Column("placed", Boolean),
        prefixes=["TEMPORARY"],
    )
    connection = await session.connection()
    await connection.run_sync(staged.create)
    await bulk_load(
        session=session,
        table=staged,
        columns=(*_IMPORTED, "placed"),
        rows=[
            (
                row.chat_id,
                row.topic,
                row.level or level,
                row.created_at or now,
                silent if row.silent is None else row.silent,
                row.preview or preview,
                row.muted_until,
                row.thread_id,
                row.thread_name,
                row.placed,
            )
            for row in first.values()
        ],
    )
    chats = Chat.__table__  # type: ignore[attr-defined]
    new_chat = Chat(id=0, timezone=timezone, created_at=now).model_dump(exclude={"id"})
    await session.exec(
        upsert(chats)
        .from_select(
            ["id", *new_chat],
            select(
                staged.c.chat_id,
                *(literal(value, chats.c[name].type) for name, value in new_chat.items()),
            )
            .distinct()
            .where(true()),  # SQLite reads ON CONFLICT after a SELECT only behind a WHERE
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    await session.exec(
        update(Chat)
        .where(col(Chat.id).in_(select(staged.c.chat_id)), col(Chat.active).is_(False))
        .values(active=True, inactive_reason=None)
    )
    moved = 0
    if any(row.placed for row in first.values()):  # files of earlier versions move nothing
        # one UPDATE … FROM joining the staged rows to the subscriptions' (chat_id, topic) key
        result = await session.exec(
            update(subscriptions)
            .where(
                subscriptions.c.chat_id == staged.c.chat_id,
                subscriptions.c.topic == staged.c.topic,
                staged.c.placed.is_(True),
                subscriptions.c.thread_id.is_distinct_from(staged.c.thread_id),
            )
            .values(thread_id=staged.c.thread_id, thread_name=staged.c.thread_name)
        )
        moved = result.rowcount
    inserted = await session.exec(
        upsert(subscriptions)
        .from_select(
            list(_IMPORTED),
            # in index order: PostgreSQL updates the indexes faster than in the file's order
            select(*(staged.c[name] for name in _IMPORTED))
            .where(true())
            .order_by(staged.c.chat_id, staged.c.topic),
        )
        .on_conflict_do_nothing(index_elements=["chat_id", "topic"])
    )
    await connection.run_sync(staged.drop)
    return Imported(inserted.rowcount, moved)


async def hold_pending_alerts(*, session: AsyncSession, chat_id: int) -> None:
    """Keep a pausing chat's unsent alerts (and edits of earlier ones) for its next digest
    instead of pushing them."""
    await session.exec(
        update(Alert)
        .where(
            col(Alert.chat_id) == chat_id,
            col(Alert.status).in_([AlertStatus.PENDING, AlertStatus.EDIT]),
            or_(col(Alert.claimed_until).is_(None), col(Alert.claimed_until) <= utcnow()),
        )
        .values(status=AlertStatus.HELD)
    )


async def articles_per_source(*, session: AsyncSession, since: datetime) -> dict[str, int]:
    """How many articles (not headline items) of each named source were stored since `since`."""
    result = await session.exec(
        select(Article.source, func.count())
        .where(
            col(Article.ingested_at) >= since,
            col(Article.parent_id).is_(None),
            col(Article.source).is_not(None),
        )
        .group_by(col(Article.source))
    )
    return {source: count for source, count in result.all() if source is not None}


async def set_level(
    *, session: AsyncSession, chat_id: int, subscription_id: int, level: Level
) -> str | None:
    """Set the level of one of the chat's subscriptions; its topic, or None if it is not the
    chat's."""
    subscription = await chat_subscription(
        session=session, chat_id=chat_id, subscription_id=subscription_id
    )
    if subscription is None:
        return None
    subscription.level = level
    return subscription.topic


async def chat_subscription(
    *, session: AsyncSession, chat_id: int, subscription_id: int
) -> Subscription | None:
    """One of the chat's subscriptions by id (None when it is gone or another chat's)."""
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or subscription.chat_id != chat_id:
        return None
    return subscription


async def chat_alert(
    *, session: AsyncSession, chat_id: int, alert_id: int
) -> tuple[Alert, Article] | None:
    """One of the chat's alerts with its article (None when it is gone or another chat's)."""
    result = await session.exec(
        select(Alert, Article)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(col(Alert.id) == alert_id, col(Alert.chat_id) == chat_id)
    )
    found = result.first()
    return None if found is None else (found[0], found[1])


async def set_alert_buttons(
    *, session: AsyncSession, chat_id: int, alert_id: int, buttons: str | None
) -> None:
    """Record what one of the chat's alerts shows under its message (`Alert.buttons`)."""
    await session.exec(
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.chat_id) == chat_id)
        .values(buttons=buttons)
    )


async def alerts_in_message(
    *, session: AsyncSession, chat_id: int, message_id: int
) -> list[tuple[Alert, Article]]:
    """The alerts a chat was sent as one message, with their articles, in order."""
    result = await session.exec(
        select(Alert, Article)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(col(Alert.chat_id) == chat_id, col(Alert.message_id) == message_id)
        .order_by(col(Alert.id))
    )
    return list(result.all())


async def article_sources(*, session: AsyncSession, article_ids: Collection[int]) -> dict[int, str]:
    """The sources of some articles (those that have one)."""
    if not article_ids:
        return {}
    result = await session.exec(
        select(Article.id, Article.source).where(
            col(Article.id).in_(article_ids), col(Article.source).is_not(None)
        )
    )
    return {article_id: source for article_id, source in result.all() if article_id and source}


async def story_sources(*, session: AsyncSession, story_id: int) -> list[str]:
    """The sources that reported a story, first report first."""
    result = await session.exec(
        select(Article.source)
        .where(col(Article.story_id) == story_id, col(Article.source).is_not(None))
        .order_by(col(Article.ingested_at), col(Article.id))
    )
    return list(dict.fromkeys(source for source in result.all() if source))


async def articles_by_id(
    *, session: AsyncSession, article_ids: Collection[int]
) -> dict[int, Article]:
    """Some articles by id (those still stored)."""
    if not article_ids:
        return {}
    result = await session.exec(select(Article).where(col(Article.id).in_(article_ids)))
    return {article.id: article for article in result.all() if article.id is not None}
