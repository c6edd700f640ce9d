"""Story clustering: the same story from several sources is one story.

Pure domain code (no Telegram, no database). Two articles are the same story when they were
published within a few days of each other and their titles or leads (first two sentences) are
near-identical, compared with rapidfuzz `token_set_ratio` on normalized words.

Thresholds (0-100), tuned on rewrites of one wire story by two outlets against different
stories about the same commodity on the same day:
- rewrites score 64-94 on titles and 73-89 on leads; different same-day copper stories (a
  price move, a mine protest, a new chairman at the same miner) score 44-73 on titles and
  47-65 on leads;
- so a story is the same when its lead scores `SAME_LEAD` or more, or its title `SAME_TITLE`
  or more, or both agree moderately: lead `LEAD_WITH_TITLE` and title `TITLE_WITH_LEAD`;
- headline-only items (no body) are compared on titles alone, with `SAME_TITLE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from bot.facts import normalize_fact
from bot.text import split_sentences

SAME_TITLE = 88.0
SAME_LEAD = 85.0
LEAD_WITH_TITLE = 70.0
TITLE_WITH_LEAD = 50.0
LEAD_SENTENCES = 2
DEFAULT_MAX_DAYS = 3.0
# token_set_ratio scores 100 when one text's words are a subset of the other's ("Copper prices
# rise" inside "Copper prices rise as Chile strike drags on"); below this share of common
# words, the order-aware token_sort_ratio is used instead.
_MIN_SHARED = 0.5


def story_signature(title: str, body: str) -> str:
    """The normalized text stories are compared in: the title's words, a newline, the lead's
    words (normal forms, numbers without separators, filler words dropped). Cheap to store
    with the article, so that clustering never needs the body again."""
    lead = " ".join(split_sentences(body)[:LEAD_SENTENCES]) if body.strip() else ""
    return f"{normalize_fact(title)}\n{normalize_fact(lead)}"


@dataclass(frozen=True, slots=True)
class StoryText:
    """What clustering needs of an article: its signature and when it was published (or
    ingested, when the source gave no date)."""

    signature: str
    published: datetime

    @classmethod
    def of(cls, title: str, body: str, published: datetime) -> StoryText:
        """A story from an article's text."""
        return cls(story_signature(title, body), published)

    @property
    def title(self) -> str:
        """The normalized title."""
        return self.signature.partition("\n")[0]

    @property
    def lead(self) -> str:
        """The normalized lead; empty for a headline without a body."""
        return self.signature.partition("\n")[2]


def _similarity(a: str, b: str) -> float:
    """How alike two normalized texts are, 0-100: `token_set_ratio`, or `token_sort_ratio`
    when the words they share are under half of the longer one's."""
    words_a, words_b = set(a.split()), set(b.split())
    if not words_a or not words_b:
        return 0.0
    if len(words_a & words_b) < _MIN_SHARED * max(len(words_a), len(words_b)):
        return float(fuzz.token_sort_ratio(a, b))
    return float(fuzz.token_set_ratio(a, b))


def _score(a: StoryText, b: StoryText) -> float | None:
    """How strongly a and b look like one story, or None when they do not."""
    title = _similarity(a.title, b.title)
    if not a.lead or not b.lead:
        return title if title >= SAME_TITLE else None
    lead = _similarity(a.lead, b.lead)
    if (
        title >= SAME_TITLE
        or lead >= SAME_LEAD
        or (lead >= LEAD_WITH_TITLE and title >= TITLE_WITH_LEAD)
    ):
        return (title + lead) / 2
    return None


def _within(a: StoryText, b: StoryText, max_days: float) -> bool:
    return abs(a.published - b.published) <= timedelta(days=max_days)


def same_story(a: StoryText, b: StoryText, *, max_days: float = DEFAULT_MAX_DAYS) -> bool:
    """Whether two articles tell the same story: published at most `max_days` apart, with
    near-identical titles or leads (see the module's thresholds)."""
    return _within(a, b, max_days) and _score(a, b) is not None


def pick_cluster(
    candidate: StoryText, recent: Sequence[StoryText], *, max_days: float = DEFAULT_MAX_DAYS
) -> int | None:
    """The index in `recent` of the earlier story `candidate` belongs to: the most similar of
    those it is the same story as (the closest in time on a tie), or None for a new story."""
    best: tuple[float, float] | None = None
    best_index = None
    for index, story in enumerate(recent):
        if not _within(candidate, story, max_days):
            continue
        score = _score(candidate, story)
        if score is None:
            continue
        rank = (score, -abs((candidate.published - story.published).total_seconds()))
        if best is None or rank > best:
            best, best_index = rank, index
    return best_index
