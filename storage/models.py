"""Database tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back without a zone)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _timestamp(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # kept for the digest, never pushed (see bot.ingest.decide)
    # a later report of a story the chat was alerted to: the earlier alert's message is to be
    # edited to name its source (bot.story_edits), then `edited`, with that message's id
    EDIT = "edit"
    EDITED = "edited"


class DeliveryMode(StrEnum):
    INSTANT = "instant"  # each matching article pushed at once
    DIGEST = "digest"  # collected into the daily digest only
    BOTH = "both"


class Level(StrEnum):
    """How much of a watch item a chat hears about at once (per subscription)."""

    MAIN = "main"  # main stories about it, pushed; passing mentions dropped
    SPLIT = "split"  # main stories pushed, passing mentions kept for the digest
    ALL = "all"  # every mention pushed


class Preview(StrEnum):
    """The link preview of a watch item's alerts (`link_preview_options`)."""

    OFF = "off"
    SMALL = "small"
    LARGE = "large"


# `Subscription.muted_until` of an item muted until it is unmuted
MUTED_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
MAX_THREAD_NAME = 128  # Telegram's limit on a forum topic's name


class Chat(SQLModel, table=True):
    """A Telegram chat that has talked to the bot."""

    __tablename__ = "chats"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(default="private", max_length=20)
    title: str | None = Field(default=None, max_length=255)
    active: bool = True
    inactive_reason: str | None = Field(default=None, max_length=255)
    timezone: str = Field(default="UTC", max_length=64)
    # local "HH:MM", several separated by spaces ("07:30 13:00"), in order; None = off
    digest_time: str | None = Field(default="08:00", max_length=30)
    # local "HH:MM-HH:MM" (may span midnight): alerts due inside wait until it ends; None = off
    quiet_hours: str | None = Field(default=None, max_length=11)
    weekly_digest: str | None = Field(default=None, max_length=9)  # "mon 08:00" local; None = off
    mode: str = Field(default=DeliveryMode.BOTH, max_length=10)
    empty_digest_line: bool = False  # send "nothing new" instead of no digest at all
    paused: bool = False  # /stop: no alerts and no digests until /start
    language: str | None = Field(default=None, max_length=8)  # chosen with /language
    language_code: str | None = Field(default=None, max_length=16)  # last seen from Telegram
    # a forum supergroup's: each new item subscribed from General gets a topic of its own
    topics_auto: bool = False
    digest_thread_id: int | None = None  # the forum topic the digests go to (None: General)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Subscription(SQLModel, table=True):
    """One watch item of one chat."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("chat_id", "topic", name="uq_subscription_chat_topic"),
        # the fan-out walks a watch item's chats in id order
        Index("ix_subscription_topic_chat", "topic", "chat_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # found by chat through uq_subscription_chat_topic (chat_id first): no index of its own
    chat_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    )
    topic: str = Field(max_length=200)
    level: str = Field(default=Level.SPLIT, sa_column=Column(String(10), nullable=False))
    silent: bool = False  # its alerts arrive without a notification
    preview: str = Field(default=Preview.OFF, sa_column=Column(String(10), nullable=False))
    # muted: treated as not watched until then (MUTED_FOREVER: until unmuted)
    muted_until: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # the forum topic its alerts go to (None: the chat itself, a forum's General), and the
    # topic's name when known
    thread_id: int | None = None
    thread_name: str | None = Field(default=None, max_length=MAX_THREAD_NAME)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class MutedSource(SQLModel, table=True):
    """A source a chat hears nothing from ("less like this"), whatever its watch items."""

    __tablename__ = "muted_sources"

    chat_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    )
    source: str = Field(sa_column=Column(String(100), primary_key=True))  # Article.source
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Article(SQLModel, table=True):
    """A stored article, or a headline-only item linked to the article it came with."""

    __tablename__ = "articles"

    id: int | None = Field(default=None, primary_key=True)
    url: str | None = Field(default=None, max_length=2000, unique=True)
    content_hash: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    source: str | None = Field(default=None, max_length=100)
    published_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    ingested_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp(index=True))
    parent_id: int | None = Field(default=None, foreign_key="articles.id", index=True)
    # the first article of the same story from several sources (itself when it is the first)
    story_id: int | None = Field(default=None, index=True)
    # title and body as normalized words: what full-text search indexes on every backend
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    # normalized title and lead, compared with recent articles to find the same story
    story_signature: str = Field(default="", sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, max_length=8)  # ISO 639-1 (bot.language)


class StoryWord(SQLModel, table=True):
    """A word an article's story is found by (`bot.stories.story_words`): the newest
    articles having a word are an index range scan, as cheap with 100k articles as with 1k."""

    __tablename__ = "story_words"

    word: str = Field(sa_column=Column(String(40), primary_key=True))
    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    )


class ArticleMatch(SQLModel, table=True):
    """A watch item an article matched, stored with the article at ingest. The dispatcher
    expands it to the chats that watch the item (`subscriptions.topic`) when it sends."""

    __tablename__ = "article_matches"

    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    )
    topic: str = Field(sa_column=Column(String(200), primary_key=True))  # a stored watch item
    about: bool  # a main story about the item (bot.matching.Match.about)
    relevance: float
    evidence_at: int  # where the sentence showing the match is


class Fanout(SQLModel, table=True):
    """An article whose matches the dispatcher has not expanded to every chat yet: a cursor
    over chat ids, deleted when the expansion is done."""

    __tablename__ = "fanouts"

    article_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    # chats up to this id are expanded (None: none yet)
    after_chat: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    expanded: int = 0  # alerts written so far: the next one's position
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


# `Alert.thread_id` of an alert to the chat itself (a forum's General topic)
NO_THREAD = 0


class Alert(SQLModel, table=True):
    """What one destination is told about one article: the outbox the dispatcher sends from,
    written when the dispatcher expands the article's matches to the chat (unique per
    destination and article, so nothing is told twice). The destination is `chat_id` and
    `thread_id`: a forum topic, or `NO_THREAD` for the chat itself."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("chat_id", "thread_id", "article_id", name="uq_alert_destination_article"),
        Index("ix_alert_status_due", "status", "next_attempt_at"),
        Index("ix_alert_claim_order", "status", "position", "id"),  # claims: by position
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    )
    # not NULL for the chat itself: NULLs would not collide in the unique key
    thread_id: int = Field(default=NO_THREAD, sa_column=Column(Integer, nullable=False))
    article_id: int = Field(foreign_key="articles.id", index=True)
    topics: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of watch-item keys
    evidence_at: int = 0  # where the evidence sentence is (bot.matching.evidence_sentence)
    # JSON list of the watch-item keys (of `topics`) the article only mentions in passing
    mentions: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    relevance: float = 0.0  # the best of its watch items' (bot.matching.Match.relevance)
    # its place in its article's fan-out: claims go by position, so an article's first chats
    # are not queued behind the 2,000th chat of a bigger one
    position: int = 0
    status: str = Field(default=AlertStatus.PENDING, sa_column=Column(String(10), nullable=False))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # a dispatcher's lease on a pending alert: others skip it until the lease runs out
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    message_id: int | None = None
    # what its message shows under it since "less like this" was pressed, as the callback
    # data (bot.callbacks) of the button that shows it again: the choices (LessLikeThis) or the
    # undo of an applied one (UndoLess); None: the button itself. A story edit shows it again.
    buttons: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    sent_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class AlertSender(SQLModel, table=True):
    """Which dispatcher sends alerts (one row, written by each new holder of the sender lock),
    so the next holder gives back only this one's leases."""

    __tablename__ = "alert_sender"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    worker: str = Field(max_length=64)  # as in Alert.claimed_by
    since: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Fact(SQLModel, table=True):
    """A sentence of an article that carries figures, extracted at ingest."""

    __tablename__ = "facts"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(
        sa_column=Column(ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int  # sentence number in the article
    sentence: str = Field(sa_column=Column(Text, nullable=False))
    figures: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of figure texts
    fact_key: str = Field(max_length=64, index=True)  # equal for near-identical sentences


WEEKLY_SLOT = "weekly"


class Digest(SQLModel, table=True):
    """A digest sent to a chat: at most one per chat, local day and slot (a daily digest's
    local "HH:MM", or `WEEKLY_SLOT` on the weekly digest's day)."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("chat_id", "local_date", "slot", name="uq_digest_chat_day_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    )
    local_date: date
    slot: str = Field(max_length=10)
    covers_until: datetime = Field(sa_column=_timestamp())
    message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class VocabularyTerm(SQLModel, table=True):
    """A name seen in stored articles, offered as a "Did you mean …?" suggestion."""

    __tablename__ = "vocabulary_terms"

    term: str = Field(primary_key=True, max_length=100)
    count: int = 0


class FeedStatus(StrEnum):
    OK = "ok"
    BACKOFF = "backoff"  # the last fetch failed; the next one waits longer
    PAUSED = "paused"  # too many failures in a row: not polled until resumed


class Feed(SQLModel, table=True):
    """An RSS/Atom feed the running bot polls; due when `next_poll_at` has passed."""

    __tablename__ = "feeds"
    __table_args__ = (Index("ix_feed_due", "status", "next_poll_at"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    name: str | None = Field(default=None, max_length=100)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    last_fetch_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_success_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    consecutive_failures: int = 0
    next_poll_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    status: str = Field(default=FeedStatus.OK, sa_column=Column(String(10), nullable=False))
    paused_notified: bool = False
    items_seen: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class FeedEntry(SQLModel, table=True):
    """An entry (by guid or link) a feed has published: a re-published entry is never
    ingested twice, even when its article url changed."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_id", "entry_key", name="uq_feed_entry_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", ondelete="CASCADE", index=True)
    entry_key: str = Field(max_length=500)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Webhook(SQLModel, table=True):
    """A chat's outbound webhook: its alerts are also POSTed to `url` as JSON signed with
    `secret` (HMAC-SHA256); disabled after repeated failed deliveries."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=100)
    failures: int = 0  # failed deliveries in a row (each after its retries)
    disabled: bool = False
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
