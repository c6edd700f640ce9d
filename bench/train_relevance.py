"""Fit the relevance model (`bot/data/relevance.json`) on the Reuters-21578 training split.

Every match the matcher makes for the 23 topics of `bench_relevance` is one example: its
features (`bot.relevance.Features`, one set per term; an item of two terms gives both) and
whether Reuters' indexers filed the story under the topic. Stories whose id is a multiple of 5
are held out: the fit never sees them, and `bench_relevance --fold held-out` scores on them.
A logistic regression (L2-regularised, Newton's method, numpy) gives the weights; the score
from which an article is "about" its item is the one with the best micro-averaged F1 over the
fitted stories (unmatched on-topic stories count as misses).

Before writing the weights it prints the F1 of a 5-fold cross-validation within the fitted
stories (each fold fitted on the other four, its threshold chosen there, scored on the fold):
once over the folds by story id (`id // 5 % 5`), the figure that chose the features so far, and
as the mean over `PARTITIONS` random partitions of the stories into five folds. The partition
alone moves the first by about ±0.004 (and one fold's F1 spreads ±0.02 about it), so compare
changes by the mean: change a feature in `bot.relevance.Features` and
`bot.matching._Article._rows`, run this, and keep the change only when the mean rises
by more than its noise. `--eliminate` prints the path of a backward elimination of features by
that mean (measured and left out: see README, *Quality*). A gradient-boosted model of depth-2
and depth-3 trees scored lower (0.843–0.850 against 0.853), so the scorer stays a dot product.

    python -m bench.train_relevance --corpus ../shared/corpora/reuters21578-train.jsonl.gz
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.bench_relevance import HELD_OUT_EVERY, ROOT, TOPICS, in_fold, read_stories
from bot.lexicon import default_lexicon
from bot.matching import Matcher
from bot.relevance import Features, RelevanceModel
from bot.topics import parse_watch_item

MODEL_PATH = ROOT / "bot" / "data" / "relevance.json"
L2 = 1.0  # on the weights, not the intercept
CV_FOLDS = 5
PARTITIONS = 20  # random partitions of the stories into CV_FOLDS folds, for the mean F1
ELIMINATION_PARTITIONS = 10
ELIMINATION_TOLERANCE = 0.001
NEUTRAL = RelevanceModel((0.0,) * len(Features._fields), 0.0, 0.5)
EVERY_FEATURE = Features._fields


@dataclass(frozen=True, slots=True)
class Example:
    features: tuple[Features, ...]
    on_topic: bool
    story: int  # the story's id


class Examples:
    """The examples as arrays: one row per term, and which example (match) each row is of."""

    def __init__(self, found: Sequence[Example], on_topic: Sequence[int]) -> None:
        self.rows = np.array([f for e in found for f in e.features], dtype=float)
        self.row_example = np.array([i for i, e in enumerate(found) for _ in e.features])
        self.terms = np.array([len(e.features) for e in found], dtype=float)
        self.labels = np.array([e.on_topic for e in found], dtype=bool)
        self.stories = np.array([e.story for e in found])
        self.on_topic = np.array(on_topic)

    def scores(self, model: RelevanceModel, columns: Sequence[int]) -> np.ndarray:
        """Every example's relevance: the mean of its terms' (`RelevanceModel.score`)."""
        z = model.intercept + self.rows[:, columns] @ np.array(model.weights)[columns]
        by_row = np.where(z > -30, 1.0 / (1.0 + np.exp(-np.maximum(z, -30))), 0.0)
        mean: np.ndarray = np.bincount(self.row_example, by_row, len(self.terms)) / self.terms
        return mean


def examples(corpus: Path, fold: str) -> tuple[list[Example], list[int]]:
    """The matches of every topic over the fold's stories, and the id of the story of every
    (topic, story) pair that is on topic."""
    lexicon = default_lexicon()
    stories = [s for s in read_stories(corpus) if in_fold(s.id, fold)]
    found: list[Example] = []
    on_topic: list[int] = []
    for topic in TOPICS:
        matcher = Matcher([parse_watch_item(topic.typed, lexicon)], lexicon, relevance=NEUTRAL)
        for story in stories:
            actual = topic.on_topic(story)
            if actual:
                on_topic.append(story.id)
            for explained in matcher.explain(story.title, story.body):
                found.append(Example(explained.features, actual, story.id))
    return found, on_topic


def fitted(
    data: Examples, inside: np.ndarray, on_topic: int, used: Sequence[str] = EVERY_FEATURE
) -> RelevanceModel:
    """The model fitted on the examples `inside` (a mask), with its threshold."""
    columns = [Features._fields.index(name) for name in used]
    rows = inside[data.row_example]
    labels = data.labels[data.row_example][rows]
    weights, intercept = fit(data.rows[rows][:, columns], labels.astype(float))
    every = [0.0] * len(Features._fields)
    for column, weight in zip(columns, weights, strict=True):
        every[column] = round(float(weight), 4)
    model = RelevanceModel(tuple(every), round(intercept, 4), 0.5)
    scores = data.scores(model, columns)[inside]
    threshold = best_threshold(scores, data.labels[inside], on_topic)
    return RelevanceModel(model.weights, model.intercept, threshold)


def cross_validated_f1(
    data: Examples, partition: int | None = None, used: Sequence[str] = EVERY_FEATURE
) -> float:
    """Micro F1 of "about" over CV_FOLDS folds of the stories, each scored by a model fitted on
    the others: the folds by story id (`partition` None) or a random partition (its seed)."""
    folds, on_topic_folds = _folds(data, partition)
    columns = [Features._fields.index(name) for name in used]
    true_positive = alerted = 0
    for fold in range(CV_FOLDS):
        model = fitted(data, folds != fold, int((on_topic_folds != fold).sum()), used)
        scored = folds == fold
        about = data.scores(model, columns)[scored] >= model.about_from
        alerted += int(about.sum())
        true_positive += int((about & data.labels[scored]).sum())
    return 2 * true_positive / (alerted + len(data.on_topic))


def mean_cross_validated_f1(
    data: Examples, partitions: int = PARTITIONS, used: Sequence[str] = EVERY_FEATURE
) -> float:
    return float(np.mean([cross_validated_f1(data, seed, used) for seed in range(partitions)]))


def _folds(data: Examples, partition: int | None) -> tuple[np.ndarray, np.ndarray]:
    if partition is None:
        return data.stories // HELD_OUT_EVERY % CV_FOLDS, data.on_topic // HELD_OUT_EVERY % CV_FOLDS
    stories = np.unique(np.concatenate([data.stories, data.on_topic]))
    fold_of = np.random.default_rng(partition).integers(0, CV_FOLDS, len(stories))
    return (
        fold_of[np.searchsorted(stories, data.stories)],
        fold_of[np.searchsorted(stories, data.on_topic)],
    )


def eliminated(data: Examples) -> list[str]:
    """Backward elimination from every feature, by the mean cross-validated F1: prints the path."""
    kept = list(Features._fields)
    best = mean_cross_validated_f1(data, ELIMINATION_PARTITIONS, kept)
    print(f"all {len(kept)} features: {best:.4f}")
    while len(kept) > 1:
        score, dropped = max(
            (mean_cross_validated_f1(data, ELIMINATION_PARTITIONS, [k for k in kept if k != d]), d)
            for d in kept
        )
        if score < best - ELIMINATION_TOLERANCE:
            break
        kept.remove(dropped)
        best = max(best, score)
        print(f"without {dropped}: {score:.4f} ({len(kept)} features)")
    return kept


def fit(rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    design = np.hstack([rows, np.ones((len(rows), 1))])
    penalty = np.eye(design.shape[1]) * L2
    penalty[-1, -1] = 0.0
    coefficients = np.zeros(design.shape[1])
    for _ in range(50):
        probability = 1.0 / (1.0 + np.exp(-design @ coefficients))
        gradient = design.T @ (probability - labels) + penalty @ coefficients
        curvature = design.T @ (design * (probability * (1 - probability))[:, None]) + penalty
        step = np.linalg.solve(curvature, gradient)
        coefficients -= step
        if np.abs(step).max() < 1e-8:
            break
    return coefficients[:-1], float(coefficients[-1])


def best_threshold(scores: np.ndarray, labels: np.ndarray, on_topic: int) -> float:
    """The score with the best micro F1 when every example scoring at least it is alerted."""
    order = np.argsort(-scores, kind="stable")
    true_positive = np.cumsum(labels[order])
    f1 = 2 * true_positive / (np.arange(1, len(order) + 1) + on_topic)
    return round(float(scores[order][int(np.argmax(f1))]), 4)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="reuters21578-train.jsonl.gz")
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    parser.add_argument(
        "--eliminate", action="store_true", help="print a backward elimination of the features"
    )
    args = parser.parse_args(argv)
    found, on_topic = examples(args.corpus, "fit")
    data = Examples(found, on_topic)
    if args.eliminate:
        print("kept:", ", ".join(eliminated(data)))
    print(
        f"{CV_FOLDS}-fold cross-validated F1 (main stories only, fit fold): "
        f"{cross_validated_f1(data):.4f} (folds by story id), "
        f"{mean_cross_validated_f1(data):.4f} (mean of {PARTITIONS} random partitions)"
    )
    model = fitted(data, np.ones(len(found), dtype=bool), len(on_topic))
    args.output.write_text(model.to_json(), encoding="utf-8")
    print(f"{len(found)} matches, {len(on_topic)} on-topic stories → {args.output}")
    print(model.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
