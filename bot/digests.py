"""Daily digests, the pure part: digest times, local days, and grouping what matched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_DIGEST_TIME = "08:00"


def local_time(digest_time: str, timezone: str) -> time:
    """The digest time as a time of day in the chat's zone (APScheduler follows DST with it)."""
    hours, minutes = digest_time.split(":")
    return time(int(hours), int(minutes), tzinfo=ZoneInfo(timezone))


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True, slots=True)
class DigestArticle:
    """One matched article as a digest lists it."""

    title: str
    source: str | None
    url: str | None
    story: int  # articles of the same story share this
    topics: tuple[str, ...]  # the watch items it matched, in the chat's order
    also: tuple[str, ...] = field(default=())  # other sources of the same story


def group_by_topic(articles: Iterable[DigestArticle]) -> list[tuple[str, list[DigestArticle]]]:
    """Group by watch item; each story once (under its first watch item), later copies from
    other sources folded in as "also reported by"."""
    stories: dict[int, DigestArticle] = {}
    for article in articles:
        first = stories.get(article.story)
        if first is None:
            stories[article.story] = article
        elif article.source and article.source != first.source and article.source not in first.also:
            stories[article.story] = DigestArticle(
                first.title,
                first.source,
                first.url,
                first.story,
                first.topics,
                (*first.also, article.source),
            )
    groups: dict[str, list[DigestArticle]] = {}
    for article in stories.values():
        groups.setdefault(article.topics[0], []).append(article)
    return sorted(groups.items(), key=lambda group: group[0].casefold())
