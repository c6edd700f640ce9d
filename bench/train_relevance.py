"""Fit the relevance model (`bot/data/relevance.json`) on the Reuters-21578 training split.

Every match the matcher makes for the 23 topics of `bench_relevance` is one example: its
features (`bot.relevance.Features`, one set per term; an item of two terms gives both) and
whether Reuters' indexers filed the story under the topic. Stories whose id is a multiple of 5
are held out: the fit never sees them, and `bench_relevance --fold held-out` scores on them.
A logistic regression (L2-regularised, Newton's method, numpy) gives the weights; the score
from which an article is "about" its item is the one with the best micro-averaged F1 over the
fitted stories (unmatched on-topic stories count as misses).

    python -m bench.train_relevance --corpus ../shared/corpora/reuters21578-train.jsonl.gz
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.bench_relevance import ROOT, TOPICS, in_fold, read_stories
from bot.lexicon import default_lexicon
from bot.matching import Matcher
from bot.relevance import Features, RelevanceModel
from bot.topics import parse_watch_item

MODEL_PATH = ROOT / "bot" / "data" / "relevance.json"
L2 = 1.0  # on the weights, not the intercept
NEUTRAL = RelevanceModel((0.0,) * len(Features._fields), 0.0, 0.5)


@dataclass(frozen=True, slots=True)
class Example:
    features: tuple[Features, ...]
    on_topic: bool


def examples(corpus: Path, fold: str) -> tuple[list[Example], int]:
    """The matches of every topic over the fold's stories, and how many stories are on topic."""
    lexicon = default_lexicon()
    stories = [s for s in read_stories(corpus) if in_fold(s.id, fold)]
    found: list[Example] = []
    on_topic = 0
    for topic in TOPICS:
        matcher = Matcher([parse_watch_item(topic.typed, lexicon)], lexicon, relevance=NEUTRAL)
        for story in stories:
            actual = topic.on_topic(story)
            on_topic += actual
            for explained in matcher.explain(story.title, story.body):
                found.append(Example(explained.features, actual))
    return found, on_topic


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


def best_threshold(model: RelevanceModel, found: Sequence[Example], on_topic: int) -> float:
    scored = sorted(
        ((sum(model.score(f) for f in e.features) / len(e.features), e.on_topic) for e in found),
        reverse=True,
    )
    best, best_f1, true_positive = 0.5, -1.0, 0
    for alerted, (score, actual) in enumerate(scored, start=1):
        true_positive += actual
        f1 = 2 * true_positive / (alerted + on_topic)
        if f1 > best_f1:
            best, best_f1 = score, f1
    return round(best, 4)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="reuters21578-train.jsonl.gz")
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    found, on_topic = examples(args.corpus, "fit")
    rows = np.array([features for e in found for features in e.features], dtype=float)
    labels = np.array([e.on_topic for e in found for _ in e.features], dtype=float)
    weights, intercept = fit(rows, labels)
    model = RelevanceModel(tuple(round(float(w), 4) for w in weights), round(intercept, 4), 0.5)
    model = RelevanceModel(model.weights, model.intercept, best_threshold(model, found, on_topic))
    args.output.write_text(model.to_json(), encoding="utf-8")
    print(f"{len(found)} matches ({int(labels.sum())} term rows on topic) → {args.output}")
    print(model.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
