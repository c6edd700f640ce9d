"""Stories to share from any chat (inline mode: ``@botname copper``): the newest main stories
about a watch item, one report per story, and a short-lived cache of the answers so a user
typing or several users asking the same do not search again."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.knowledge import CANDIDATES, article_ref, search_query, when
from bot.lexicon import Lexicon
from bot.matching import Matcher
from bot.refs import ArticleRef
from bot.topics import WatchItem
from storage.db import SessionFactory
from storage.models import Article
from storage.search import search_articles

SHARED_STORIES = 10  # results of one inline answer
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 512


@dataclass(frozen=True, slots=True)
class SharedStory:
    article_id: int
    article: ArticleRef


async def main_stories(
    sessions: SessionFactory, item: WatchItem, lexicon: Lexicon, *, limit: int = SHARED_STORIES
) -> list[SharedStory]:
    """The newest stored main stories about the item (articles the matcher finds to be
    `about` it, not passing mentions), the newest report of each story."""
    async with sessions() as session:
        candidates = await search_articles(
            session=session, query=search_query(item, lexicon), limit=CANDIDATES
        )
    return await asyncio.to_thread(_main_stories, candidates, item, lexicon, limit)


def _main_stories(
    candidates: list[Article], item: WatchItem, lexicon: Lexicon, limit: int
) -> list[SharedStory]:
    matcher = Matcher([item], lexicon)
    stories: set[int] = set()
    found: list[SharedStory] = []
    for article in sorted(candidates, key=when, reverse=True):
        if article.id is None or not any(
            m.about for m in matcher.match(article.title, article.body)
        ):
            continue
        story = article.story_id or article.id
        if story in stories:
            continue
        stories.add(story)
        found.append(SharedStory(article.id, article_ref(article)))
        if len(found) == limit:
            break
    return found


class RecentAnswers:
    """Main stories per watch item key, kept `seconds` (at most `entries` keys, the oldest
    dropped first)."""

    def __init__(
        self,
        seconds: float = CACHE_SECONDS,
        entries: int = CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._entries = entries
        self._clock = clock
        self._kept: OrderedDict[str, tuple[float, list[SharedStory]]] = OrderedDict()

    def get(self, key: str) -> list[SharedStory] | None:
        kept = self._kept.get(key)
        if kept is None or kept[0] <= self._clock():
            self._kept.pop(key, None)
            return None
        return kept[1]

    def put(self, key: str, stories: list[SharedStory]) -> None:
        self._kept.pop(key, None)
        self._kept[key] = (self._clock() + self._seconds, stories)
        while len(self._kept) > self._entries:
            self._kept.popitem(last=False)
