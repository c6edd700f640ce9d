"""Database tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Chat(SQLModel, table=True):
    """A Telegram chat that has talked to the bot."""

    __tablename__ = "chats"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(default="private", max_length=20)
    title: str | None = Field(default=None, max_length=255)
    active: bool = True
    inactive_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Subscription(SQLModel, table=True):
    """One watch item of one chat."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("chat_id", "topic", name="uq_subscription_chat_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    topic: str = Field(max_length=200)
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


class Alert(SQLModel, table=True):
    """An alert for one chat about one article: the outbox the dispatcher sends from."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("chat_id", "article_id", name="uq_alert_chat_article"),
        Index("ix_alert_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), nullable=False)
    )
    article_id: int = Field(foreign_key="articles.id", index=True)
    topics: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of watch-item keys
    evidence: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default=AlertStatus.PENDING, sa_column=Column(String(10), nullable=False))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # a dispatcher's lease on a pending alert: others skip it until the lease runs out
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    sent_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class VocabularyTerm(SQLModel, table=True):
    """A name seen in stored articles, offered as a "Did you mean …?" suggestion."""

    __tablename__ = "vocabulary_terms"

    term: str = Field(primary_key=True, max_length=100)
    count: int = 0
