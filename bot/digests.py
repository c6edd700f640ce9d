"""Daily digests, the pure part: digest times, local days, and grouping what matched."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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
    mentions: tuple[str, ...] = field(default=())  # of `topics`, those only mentioned in passing
    relevance: float = 0.0
    published: datetime | None = None

    def is_mention(self, topic: str) -> bool:
        return topic in self.mentions


def group_by_topic(articles: Iterable[DigestArticle]) -> list[tuple[str, list[DigestArticle]]]:
    """Group by watch item: each story under every item it matched, once per item; later
    copies from other sources folded in as "also reported by". In a group, main stories come
    before passing mentions, each by relevance."""
    stories: dict[int, DigestArticle] = {}
    for article in articles:
        first = stories.get(article.story)
        stories[article.story] = article if first is None else _folded(first, article)
    groups: dict[str, list[DigestArticle]] = {}
    for article in stories.values():
        for topic in article.topics:
            groups.setdefault(topic, []).append(article)
    ranked = [(topic, _ranked(topic, listed)) for topic, listed in groups.items()]
    return sorted(ranked, key=lambda group: group[0].casefold())


def _ranked(topic: str, articles: list[DigestArticle]) -> list[DigestArticle]:
    """Main stories about the topic first, then passing mentions, each by relevance."""
    return sorted(articles, key=lambda article: (article.is_mention(topic), -article.relevance))


def _folded(first: DigestArticle, later: DigestArticle) -> DigestArticle:
    """A story's first report with a later one folded in: its source, its watch items (an item
    is a main story when either report is about it), the better relevance."""
    also = first.also
    if later.source and later.source != first.source and later.source not in also:
        also = (*also, later.source)
    topics = tuple(dict.fromkeys((*first.topics, *later.topics)))
    mentions = tuple(
        topic
        for topic in topics
        if (topic in first.mentions or topic not in first.topics)
        and (topic in later.mentions or topic not in later.topics)
    )
    return replace(
        first,
        topics=topics,
        also=also,
        mentions=mentions,
        relevance=max(first.relevance, later.relevance),
    )
