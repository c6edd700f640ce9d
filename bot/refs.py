"""What answers show of stored articles (plain data, shared by knowledge and rendering)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

TEST_DAYS = 30  # the days /test looks back by default
MAX_DAYS = 90  # and at most


@dataclass(frozen=True, slots=True)
class ArticleRef:
    title: str
    source: str | None
    url: str | None
    published: datetime | None


@dataclass(frozen=True, slots=True)
class Story:
    """The newest report of a story and the other sources that reported it."""

    article: ArticleRef
    also: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    main: int  # alerts at the main-stories level
    mentions: int  # alerts at the every-mention level (main stories included)


@dataclass(frozen=True, slots=True)
class MatchExample:
    article: ArticleRef
    evidence: str  # the sentence that matched
    about: bool  # a main story, not only a mention


@dataclass(frozen=True, slots=True)
class QueryTestReport:
    """What /test answers: what a query would have alerted on (`bot.querytest`)."""

    key: str
    days: tuple[DayCount, ...]  # every day of the window, newest first (UTC days of ingest)
    newest: tuple[MatchExample, ...]
    read: int  # articles the matcher read
    searched: bool  # candidates came from the full-text index (else the newest articles)
    counted_since: datetime | None  # more articles than read: the counts start here
