"""Story grouping on wire copy: precision and recall of "same story" over hand-labelled pairs.

The pairs (`story_pairs.csv`: two NEWIDs of the Reuters-21578 training split, a label, `same`
or `different`, and a set; ids only, the text stays in the corpus) were drawn from that split
among stories at most three days apart that share a title word of four letters or more: pairs
the grouping of `BASELINE_COMMIT` merges (a random sample of all of them, mostly quarterly
results and dividends, and one of the others), pairs it keeps apart whose titles score 60 or
more, and the runs of copper, lead and leading-indicator stories behind issue 13. Each was
labelled by reading both titles and leads: `same` when they report one event (a repeat, a
correction, a flash and its story, two wordings of one announcement), `different` when the
actor, the figures or the period differ or one reports a new development; unclear pairs were
left out. The `tuning` set was labelled first and the agreement rules of `bot.stories` were
tuned on it; the `check` set was drawn and labelled afterwards, with the rules fixed, and is
reported on its own.

Both groupings decide every pair in the same run: today's (`bot.stories.same_story`) and the
baseline's, the `bot/stories.py` of `BASELINE_COMMIT` read from git. Also timed for both: what
ingest spends per article on its story. The corpus is read from the path given; nothing of it
is copied.

    python -m bench.bench_stories --corpus ../shared/corpora/reuters21578-train.jsonl.gz
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT, Report
from bot.facts import normalize_fact
from bot.ingest import STORY_CANDIDATES
from bot.stories import StoryText, pick_cluster, same_story
from bot.text import normalize_word, sentence_spans

PAIRS = Path(__file__).with_name("story_pairs.csv")
BASELINE_COMMIT = "aa5dad6bce92b0d6d6ea805f8414071b1daeeae6"  # grouping before issue 13
SAME, DIFFERENT = "same", "different"
CHECK = "check"  # the pairs labelled after the rules were fixed
COST_STORIES = 3000  # the first of the corpus, timed through both groupings


@dataclass(frozen=True, slots=True)
class WireStory:
    """A corpus story as grouping reads it."""

    title: str
    body: str
    published: datetime


@dataclass(frozen=True, slots=True)
class LabelledPair:
    first: int
    second: int
    same: bool
    set: str  # "tuning" or "check"


Stories = dict[int, WireStory]  # by NEWID


def wire_time(text: str) -> datetime:
    """A corpus date ("26-FEB-1987 15:01:01.79") as a UTC time."""
    return datetime.strptime(text.strip().split(".")[0], "%d-%b-%Y %H:%M:%S").replace(tzinfo=UTC)


def read_pairs(path: Path) -> list[LabelledPair]:
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    labels = {row["label"] for row in rows}
    if not labels <= {SAME, DIFFERENT}:
        raise ValueError(f"unknown labels in {path}: {sorted(labels - {SAME, DIFFERENT})}")
    return [
        LabelledPair(int(row["first"]), int(row["second"]), row["label"] == SAME, row["set"])
        for row in rows
    ]


def read_corpus(corpus: Path) -> Stories:
    stories = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            stories[int(record["id"])] = WireStory(
                record["title"], record["body"], wire_time(record["date"])
            )
    return stories


@dataclass(frozen=True, slots=True)
class StoryGrouping:
    """A version of `bot.stories`: what ingest calls of it."""

    name: str
    text_of: Callable[[str, str, datetime], Any]  # StoryText.of
    same_story: Callable[[Any, Any], bool]
    pick_cluster: Callable[[Any, Sequence[Any]], int | None]

    def same(self, a: WireStory, b: WireStory) -> bool:
        return self.same_story(
            self.text_of(a.title, a.body, a.published), self.text_of(b.title, b.body, b.published)
        )


TODAY = StoryGrouping("today", StoryText.of, same_story, pick_cluster)


def baseline_grouping() -> StoryGrouping:
    """`bot/stories.py` as it was at `BASELINE_COMMIT`."""
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:bot/stories.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("baseline_stories")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, "baseline bot/stories.py", "exec"), module.__dict__)
    return StoryGrouping(
        f"baseline ({BASELINE_COMMIT[:7]})",
        module.StoryText.of,
        module.same_story,
        module.pick_cluster,
    )


def measure(
    report: Report,
    grouping: StoryGrouping,
    name: str,
    pairs: Sequence[LabelledPair],
    stories: Stories,
) -> None:
    """Precision and recall of "same story" over `pairs`, reported as `name`."""
    true_positive = false_positive = false_negative = 0
    for pair in pairs:
        decided = grouping.same(stories[pair.first], stories[pair.second])
        true_positive += decided and pair.same
        false_positive += decided and not pair.same
        false_negative += pair.same and not decided
    merged = true_positive + false_positive
    labelled_same = true_positive + false_negative
    report.add(
        f"{grouping.name}, {name}: precision",
        true_positive / merged if merged else float("nan"),
        "",
        note=f"{true_positive} of {merged} pairs grouped are one story",
    )
    report.add(
        f"{grouping.name}, {name}: recall",
        true_positive / labelled_same,
        "",
        note=f"{true_positive} of {labelled_same} same-story pairs grouped",
    )


def measure_cost(report: Report, grouping: StoryGrouping, stories: Sequence[WireStory]) -> None:
    """What ingest spends on an article's story: its signature, then `pick_cluster` against the
    `STORY_CANDIDATES` stories before it (in wire order), from cold text caches."""
    for cached in (normalize_fact, normalize_word, sentence_spans):
        cached.cache_clear()
    started = time.perf_counter()
    texts: list[Any] = []
    for story in stories:
        text = grouping.text_of(story.title, story.body, story.published)
        grouping.pick_cluster(text, texts[-STORY_CANDIDATES:])
        texts.append(text)
    report.add(
        f"{grouping.name}: signature and candidates per article",
        (time.perf_counter() - started) * 1000 / len(stories),
        "ms",
        note=f"{len(stories)} stories, {STORY_CANDIDATES} candidates each",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="the training split (.jsonl.gz)")
    parser.add_argument("--pairs", type=Path, default=PAIRS, help="labelled NEWID pairs (CSV)")
    args = parser.parse_args()
    started = time.monotonic()
    pairs = read_pairs(args.pairs)
    stories = read_corpus(args.corpus)
    missing = {i for pair in pairs for i in (pair.first, pair.second)} - stories.keys()
    if missing:
        raise SystemExit(f"{len(missing)} labelled ids are not in {args.corpus}: wrong file?")
    checks = [pair for pair in pairs if pair.set == CHECK]
    for name, subset in (
        (f"all {len(pairs)} pairs", pairs),
        (f"{len(checks)} check pairs", checks),
    ):
        same = sum(pair.same for pair in subset)
        print(f"  {name}: {same} same story, {len(subset) - same} different")
    report = Report("story grouping (Reuters-21578 training split)")
    in_wire_order = sorted(stories.values(), key=lambda story: story.published)[:COST_STORIES]
    for grouping in (baseline_grouping(), TODAY):
        measure(report, grouping, "all pairs", pairs, stories)
        measure(report, grouping, "check pairs", checks, stories)
        measure_cost(report, grouping, in_wire_order)
    print(f"  ({report.bench}: {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
