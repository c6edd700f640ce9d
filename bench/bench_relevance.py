"""Alert quality on real newswire: the matcher's two levels against Reuters' own categories.

For 23 topics, every story of the corpus (Reuters-21578, Distribution 1.0; read from the path
given, never copied) is matched with the project's `Matcher`. A story is *on topic* when the
indexers gave it the topic's codes (a commodity code, or a place and a topic code for a pair such
as Brazil-coffee). Two levels are scored: "every mention" (any `Match`: what an item alerts on
by default) and "main stories only" (`Match.about`). Beside them, in the same run, two
baselines: a substring filter and a whole-word regular expression over the topic's words.
Printed: precision, recall and F1 per topic and micro-averaged, the targets, and the worst
off-topic alerts and misses of the matcher.

    python -m bench.bench_relevance --corpus ../shared/corpora/reuters21578-train.jsonl.gz
    python -m bench.bench_relevance --corpus PATH --fold held-out   # stories the fit never saw
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.lexicon import default_lexicon  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.topics import parse_watch_item  # noqa: E402


@dataclass(frozen=True, slots=True)
class Story:
    id: int
    title: str
    body: str
    topics: frozenset[str]
    places: frozenset[str]


@dataclass(frozen=True, slots=True)
class BenchTopic:
    """A watch-list topic and the Reuters codes that make a story about it."""

    typed: str
    topic_codes: frozenset[str]
    place_codes: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()  # what the baselines look for (all of them)

    def on_topic(self, story: Story) -> bool:
        return bool(self.topic_codes & story.topics) and (
            not self.place_codes or bool(self.place_codes & story.places)
        )


def _topic(typed: str, codes: str, places: str = "") -> BenchTopic:
    words = tuple(part.strip().lower() for part in typed.split("-"))
    return BenchTopic(typed, frozenset(codes.split()), frozenset(places.split()), words)


TOPICS = (
    _topic("copper", "copper"),
    _topic("tin", "tin"),
    _topic("zinc", "zinc"),
    _topic("lead", "lead"),
    _topic("gold", "gold"),
    _topic("silver", "silver"),
    _topic("nickel", "nickel"),
    _topic("aluminium", "alum"),
    _topic("steel", "iron-steel"),
    _topic("rubber", "rubber"),
    _topic("coffee", "coffee"),
    _topic("cocoa", "cocoa"),
    _topic("sugar", "sugar"),
    _topic("cotton", "cotton"),
    _topic("crude oil", "crude"),
    _topic("natural gas", "nat-gas"),
    _topic("wheat", "wheat"),
    _topic("rice", "rice"),
    _topic("palm oil", "palm-oil"),
    _topic("platinum", "platinum"),
    _topic("Brazil-coffee", "coffee", "brazil"),
    _topic("Chile-copper", "copper", "chile"),
    _topic("Japan-trade", "trade", "japan"),
)


@dataclass(frozen=True, slots=True)
class Target:
    """A figure the issue sets, read from the scored levels."""

    label: str
    level: str
    topic: str | None  # None: micro-averaged over the topics
    minimum: dict[str, float]  # "precision" / "recall" / "f1" → the least it may be


TARGETS = (
    Target("every mention", "every mention", None, {"precision": 0.65, "recall": 0.97}),
    Target("lead (every mention)", "every mention", "lead", {"precision": 0.60, "recall": 0.90}),
    Target("main stories only", "main stories only", None, {"f1": 0.85}),
)
HELD_OUT_EVERY = 5  # stories whose id is a multiple of 5: the fold the relevance fit never sees


def read_stories(path: Path) -> Iterator[Story]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            yield Story(
                raw["id"],
                raw.get("title", ""),
                raw.get("body", ""),
                frozenset(raw.get("topics", ())),
                frozenset(raw.get("places", ())),
            )


def in_fold(story_id: int, fold: str) -> bool:
    held_out = story_id % HELD_OUT_EVERY == 0
    return fold == "all" or (fold == "held-out") == held_out


@dataclass(slots=True)
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.true_positive += 1
        elif predicted:
            self.false_positive += 1
        elif actual:
            self.false_negative += 1

    def __iadd__(self, other: Counts) -> Counts:
        self.true_positive += other.true_positive
        self.false_positive += other.false_positive
        self.false_negative += other.false_negative
        return self

    @property
    def precision(self) -> float:
        alerted = self.true_positive + self.false_positive
        return self.true_positive / alerted if alerted else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positive + self.false_negative
        return self.true_positive / relevant if relevant else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def shown(self) -> str:
        return f"P {self.precision:.2f} R {self.recall:.2f} F1 {self.f1:.2f}"


@dataclass(slots=True)
class Mistake:
    topic: str
    story: Story
    relevance: float


@dataclass(slots=True)
class Level:
    name: str
    per_topic: dict[str, Counts] = field(default_factory=dict)
    off_topic: list[Mistake] = field(default_factory=list)
    missed: list[Mistake] = field(default_factory=list)

    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_topic.values():
            total += counts
        return total


Predictor = Callable[[Story], tuple[bool, float]]  # alerted?, relevance


def _substring(topic: BenchTopic) -> Predictor:
    def predict(story: Story) -> tuple[bool, float]:
        text = f"{story.title}\n{story.body}".lower()
        return all(word in text for word in topic.words), 0.0

    return predict


def _whole_word(topic: BenchTopic) -> Predictor:
    patterns = [re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE) for word in topic.words]

    def predict(story: Story) -> tuple[bool, float]:
        text = f"{story.title}\n{story.body}"
        return all(p.search(text) for p in patterns), 0.0

    return predict


def _matcher(topic: BenchTopic, *, about_only: bool) -> Predictor:
    lexicon = default_lexicon()
    matcher = Matcher([parse_watch_item(topic.typed, lexicon)], lexicon)

    def predict(story: Story) -> tuple[bool, float]:
        matches = matcher.match(story.title, story.body)
        if not matches:
            return False, 0.0
        best = max(matches, key=lambda m: m.relevance)
        return (best.about if about_only else True), best.relevance

    return predict


def score(
    stories: Sequence[Story], levels: dict[str, Callable[[BenchTopic], Predictor]]
) -> list[Level]:
    results = []
    for name, make in levels.items():
        level = Level(name)
        for topic in TOPICS:
            predict = make(topic)
            counts = level.per_topic[topic.typed] = Counts()
            for story in stories:
                alerted, relevance = predict(story)
                actual = topic.on_topic(story)
                counts.add(alerted, actual)
                if alerted != actual:
                    mistakes = level.off_topic if alerted else level.missed
                    mistakes.append(Mistake(topic.typed, story, relevance))
        results.append(level)
    return results


def _report(levels: Sequence[Level], *, worst: int) -> None:
    names = [level.name for level in levels]
    width = max(len(t.typed) for t in TOPICS) + 2
    print(f"{'topic':<{width}}" + "".join(f"{name:<26}" for name in names))
    for topic in TOPICS:
        row = "".join(f"{level.per_topic[topic.typed].shown():<26}" for level in levels)
        print(f"{topic.typed:<{width}}{row}")
    print(f"{'micro':<{width}}" + "".join(f"{level.micro().shown():<26}" for level in levels))
    print()
    by_name = {level.name: level for level in levels}
    for target in TARGETS:
        level = by_name[target.level]
        counts = level.micro() if target.topic is None else level.per_topic[target.topic]
        measured = {"precision": counts.precision, "recall": counts.recall, "f1": counts.f1}
        shown = ", ".join(
            f"{name} {measured[name]:.4f} (≥ {least:.2f})" for name, least in target.minimum.items()
        )
        met = all(measured[name] >= least for name, least in target.minimum.items())
        print(f"target {target.label}: {shown}  {'met' if met else 'NOT MET'}")
    for level in levels:
        if level.name not in ("every mention", "main stories only"):
            continue
        print(f"\n{level.name}: worst off-topic alerts (highest relevance first)")
        for mistake in sorted(level.off_topic, key=lambda m: -m.relevance)[:worst]:
            print(f"  {mistake.topic:<14} {mistake.relevance:.2f}  {mistake.story.title[:90]}")
        print(f"{level.name}: worst misses (lowest relevance first)")
        for mistake in sorted(level.missed, key=lambda m: m.relevance)[:worst]:
            print(f"  {mistake.topic:<14} {mistake.relevance:.2f}  {mistake.story.title[:90]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="reuters21578-train.jsonl.gz")
    parser.add_argument(
        "--fold",
        choices=("all", "held-out", "fit"),
        default="all",
        help="all stories, the held-out fold (id divisible by 5) or the fold the fit used",
    )
    parser.add_argument("--worst", type=int, default=15, help="mistakes listed per level")
    args = parser.parse_args(argv)
    stories = [s for s in read_stories(args.corpus) if in_fold(s.id, args.fold)]
    print(f"Reuters-21578, Distribution 1.0, training split, fold {args.fold}: {len(stories)}")
    levels = score(
        stories,
        {
            "substring": _substring,
            "whole word": _whole_word,
            "every mention": lambda topic: _matcher(topic, about_only=False),
            "main stories only": lambda topic: _matcher(topic, about_only=True),
        },
    )
    _report(levels, worst=args.worst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
