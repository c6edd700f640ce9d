"""Story grouping on wire copy: precision and recall of "same story" over hand-labelled pairs.

The pairs (`story_pairs.csv`: two NEWIDs of the Reuters-21578 training split and a label,
`same` or `different`; ids only, the text stays in the corpus) were drawn from that split among
stories at most three days apart that share a title word of four letters or more: pairs the
grouping of `BASELINE_COMMIT` merges (one random sample of all of them, mostly quarterly
results and dividends, and one of the others), pairs it keeps apart with titles scoring 60 or
more, and the runs of copper, lead and leading-indicator stories behind issue 13. Each was
labelled by reading both titles and leads: `same` when they report one event (a repeat, a
correction, a flash and its story, two wordings of one announcement), `different` when the
actor, the figures or the period differ or one reports a new development; unclear pairs were
left out.

Both groupings decide every pair in the same run: today's (`bot.stories.same_story`) and the
baseline's, the `bot/stories.py` of `BASELINE_COMMIT` read from git. The corpus is read from
the path given; nothing of it is copied.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, Report
from bot.stories import StoryText, same_story

PAIRS = Path(__file__).with_name("story_pairs.csv")
BASELINE_COMMIT = "aa5dad6bce92b0d6d6ea805f8414071b1daeeae6"  # grouping before issue 13
SAME, DIFFERENT = "same", "different"


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


Grouping = Callable[[WireStory, WireStory], bool]  # whether two stories are one


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
        LabelledPair(int(row["first"]), int(row["second"]), row["label"] == SAME) for row in rows
    ]


def read_stories(corpus: Path, wanted: set[int]) -> dict[int, WireStory]:
    stories = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if int(record["id"]) in wanted:
                stories[int(record["id"])] = WireStory(
                    record["title"], record["body"], wire_time(record["date"])
                )
    missing = wanted - stories.keys()
    if missing:
        raise ValueError(f"{len(missing)} labelled ids are not in {corpus}, e.g. {min(missing)}")
    return stories


def todays_grouping(a: WireStory, b: WireStory) -> bool:
    return same_story(
        StoryText.of(a.title, a.body, a.published), StoryText.of(b.title, b.body, b.published)
    )


def baseline_grouping() -> Grouping:
    """`same_story` as `bot/stories.py` was at `BASELINE_COMMIT`."""
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

    def decide(a: WireStory, b: WireStory) -> bool:
        of = module.StoryText.of
        return bool(
            module.same_story(of(a.title, a.body, a.published), of(b.title, b.body, b.published))
        )

    return decide


def measure(
    report: Report,
    name: str,
    grouping: Grouping,
    pairs: Iterable[LabelledPair],
    stories: dict[int, WireStory],
) -> None:
    true_positive = false_positive = false_negative = 0
    for pair in pairs:
        decided = grouping(stories[pair.first], stories[pair.second])
        true_positive += decided and pair.same
        false_positive += decided and not pair.same
        false_negative += pair.same and not decided
    merged = true_positive + false_positive
    labelled_same = true_positive + false_negative
    report.add(
        f"{name}: precision of 'same story'",
        true_positive / merged if merged else float("nan"),
        "",
        note=f"{true_positive} of {merged} pairs grouped are the same story",
    )
    report.add(
        f"{name}: recall of 'same story'",
        true_positive / labelled_same,
        "",
        note=f"{true_positive} of {labelled_same} same-story pairs grouped",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="the training split (.jsonl.gz)")
    parser.add_argument("--pairs", type=Path, default=PAIRS, help="labelled NEWID pairs (CSV)")
    args = parser.parse_args()
    started = time.monotonic()
    pairs = read_pairs(args.pairs)
    stories = read_stories(args.corpus, {i for pair in pairs for i in (pair.first, pair.second)})
    same = sum(pair.same for pair in pairs)
    print(f"  {len(pairs)} labelled pairs: {same} same story, {len(pairs) - same} different")
    report = Report("story grouping (Reuters-21578 training split)")
    measure(report, f"baseline ({BASELINE_COMMIT[:7]})", baseline_grouping(), pairs, stories)
    measure(report, "today", todays_grouping, pairs, stories)
    print(f"  ({report.bench}: {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
