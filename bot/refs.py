"""What answers show of stored articles (plain data, shared by knowledge and rendering)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
