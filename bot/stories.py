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

Wording alone is not enough on wire copy, where different events share a template ("ASARCO
LOWERS COPPER PRICE 1.50 CTS TO 67 CTS" and "CYPRUS LOWERS COPPER PRICE 1.25 CTS TO 67 CTS"
score 84 on titles, quarterly results of two companies score 80-100 on their leads). So what
makes an event must also agree (`_keys_agree`); two reports are different stories when
- actors differ: each names someone in its title (a name written capitalised in its text, or
  in angle brackets: "<ASARCO>") that the other's title and lead never mention;
- figures differ: each title has a number or a month the other title lacks, or both leads
  have numbers and share none;
- directions differ: one title only rises and the other only falls.
A second report of one event keeps its actors and figures (one may carry more of them than the
other), so it still groups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache

from rapidfuzz import fuzz

from bot.facts import normalize_fact
from bot.text import normalize_word, search_words, sentence_spans, split_sentences, words_of

SAME_TITLE = 88.0
SAME_LEAD = 85.0
LEAD_WITH_TITLE = 70.0
TITLE_WITH_LEAD = 50.0
LEAD_SENTENCES = 2
DEFAULT_MAX_DAYS = 3.0
# Words a story is searched by (`story_words`): shorter ones are filler, longer ones no word.
STORY_WORD_MIN = 4
STORY_WORD_MAX = 40
# token_set_ratio scores 100 when one text's words are a subset of the other's ("Copper prices
# rise" inside "Copper prices rise as Chile strike drags on"); below this share of common
# words, the order-aware token_sort_ratio is used instead.
_MIN_SHARED = 0.5
# Sentences of the body searched for how a title's words are written (names are capitalised);
# the names of a title are in the first paragraphs.
ACTOR_SENTENCES = 10
_BRACKETED = re.compile(r"<([^>]*)>")  # wire copy brackets tickers and unlisted companies


def _words(text: str) -> list[str]:
    return text.split()


_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        _words("zero one two three four five six seven eight nine ten eleven twelve")
    )
}
_MONTHS = {
    spelling: month
    for month in _words(
        "january february march april may june july august september october november december"
    )
    for spelling in (month, month[:3])
} | {"sept": "september"}
_NOT_ACTORS = frozenset(
    [*_MONTHS, *_NUMBER_WORDS, *_words("monday tuesday wednesday thursday friday saturday sunday")]
)


class Direction(Enum):
    """Which way a title says something moved."""

    UP = "up"
    DOWN = "down"


_DIRECTIONS = {
    **dict.fromkeys(
        _words(
            "rise rose risen up ups upped raise raised increase increased higher gain gained "
            "climb climbed lift lifted boost boosted hike hiked jump jumped advance advanced"
        ),
        Direction.UP,
    ),
    **dict.fromkeys(
        _words(
            "fall fell fallen down lower lowered cut decrease decreased drop dropped decline "
            "declined reduce reduced slump slumped slip slipped ease eased"
        ),
        Direction.DOWN,
    ),
}


def story_signature(title: str, body: str) -> str:
    """The normalized text stories are compared in, one line each: the title's words, the
    lead's words (normal forms, numbers without separators, filler words dropped) and the
    title's actors (`story_actors`). Cheap to store with the article, so that clustering never
    needs the body again."""
    lead = _lead(body)
    title_words = normalize_fact(title)
    actors = " ".join(sorted(story_actors(title, body, title_words.split())))
    return f"{title_words}\n{normalize_fact(lead)}\n{actors}"


def story_words(title: str, body: str) -> tuple[str, ...]:
    """The words an article's story is found by: the distinct words (normal forms, as
    full-text search writes them) of its title and lead of more than three letters, the title's
    first. A new article looks for earlier reports having one of its title's words; these are
    what a stored article is indexed by (`storage.search.story_candidates`), so a report is
    found by what its story is compared on, whatever the length of its body."""
    words = search_words(title, _lead(body)).split()
    return tuple(w for w in dict.fromkeys(words) if STORY_WORD_MIN <= len(w) <= STORY_WORD_MAX)


def _lead(body: str) -> str:
    return " ".join(split_sentences(body)[:LEAD_SENTENCES]) if body.strip() else ""


def story_actors(title: str, body: str, title_words: Iterable[str]) -> frozenset[str]:
    """The words of a title (normalized, as `title_words`) that name someone: bracketed in the
    title, or written capitalised where case tells names (a title in sentence case after its
    first word, anywhere in the lead, inside the next sentences). Months, days and numbers
    are figures, not actors."""
    named = {
        normalize_word(word) for inside in _BRACKETED.findall(title) for word in words_of(inside)
    }
    later_title_words = words_of(title)[1:]
    if _in_sentence_case(later_title_words):
        named.update(_capitalised(later_title_words))
    spans = sentence_spans(body)[:ACTOR_SENTENCES] if body.strip() else ()
    for number, (start, end) in enumerate(spans):
        words = words_of(body[start:end])
        named.update(_capitalised(words if number < LEAD_SENTENCES else words[1:]))
    return frozenset(
        word
        for word in named.intersection(title_words)
        if word not in _NOT_ACTORS and not word[0].isdigit()
    )


def _in_sentence_case(words: list[str]) -> bool:
    """Whether case tells names among these words: under half of them are capitalised (not
    an all-caps wire headline, nor a headline in title case)."""
    return 2 * sum(word[0].isupper() for word in words) < len(words)


def _capitalised(words: Iterable[str]) -> Iterator[str]:
    return (normalize_word(word) for word in words if word[0].isupper())


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
        return self.signature.partition("\n")[2].partition("\n")[0]


@dataclass(frozen=True, slots=True)
class StoryKeys:
    """What must agree for two reports to be one story, read from a signature."""

    actors: frozenset[str]  # empty in signatures stored before actors were
    title_figures: frozenset[str]  # numbers and months, in one spelling
    lead_numbers: frozenset[str]
    direction: Direction | None  # None when the title moves both ways or not at all
    words: frozenset[str]  # of the title and the lead, with their figures' spellings


@lru_cache(maxsize=4096)  # a stored report is compared with every new one for three days
def story_keys(signature: str) -> StoryKeys:
    """The keys of a signature (`story_signature`)."""
    title, _, rest = signature.partition("\n")
    lead, _, actors = rest.partition("\n")
    title_words, lead_words = title.split(), lead.split()
    title_figures = frozenset(filter(None, map(_figure, title_words)))
    lead_numbers = frozenset(
        figure for figure in map(_figure, lead_words) if figure and figure[0].isdigit()
    )
    directions = {_DIRECTIONS[word] for word in title_words if word in _DIRECTIONS}
    return StoryKeys(
        actors=frozenset(actors.split()),
        title_figures=title_figures,
        lead_numbers=lead_numbers,
        direction=directions.pop() if len(directions) == 1 else None,
        words=frozenset([*title_words, *lead_words, *title_figures, *lead_numbers]),
    )


def _figure(word: str) -> str | None:
    """A number or a month in one spelling ("1.50" and "1.5", "one" and "1", "jan" and
    "january"), or None for another word."""
    if word[0].isdigit():
        return word.rstrip("0").rstrip(".") if "." in word else word
    return _NUMBER_WORDS.get(word) or _MONTHS.get(word)


def _keys_agree(a: StoryKeys, b: StoryKeys) -> bool:
    """Whether nothing that makes an event differs: actors, figures, direction (see the
    module's docstring)."""
    if a.actors - b.words and b.actors - a.words:
        return False
    if a.title_figures - b.title_figures and b.title_figures - a.title_figures:
        return False
    if a.lead_numbers and b.lead_numbers and a.lead_numbers.isdisjoint(b.lead_numbers):
        return False
    return a.direction is None or b.direction is None or a.direction == b.direction


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
    if not _keys_agree(story_keys(a.signature), story_keys(b.signature)):
        return None
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
    near-identical titles or leads (see the module's thresholds) and the same actors, figures
    and direction."""
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
