"""How much an article is about a watch item it mentions: a score from 0 to 1.

The matcher describes where and how a term appears (`Features`: the headline, the lead
paragraph, how often, its share of the article's commodity mentions, tables of prices, lists of
commodities, and a few products of these); a logistic regression whose weights are data
(`data/relevance.json`) turns that into a probability that a professional indexer would file the
story under the term. `bench/train_relevance.py` fits the weights on the Reuters-21578
training split and writes the file; `bench/bench_relevance.py` reports how the two alert levels
score on stories the fit never saw.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import NamedTuple


class Features(NamedTuple):
    """Where and how one term of a watch item appears in an article (built positionally, in
    this order, by the matcher)."""

    in_title: float  # 1 when the headline names it
    title_start: float  # 1 when the headline opens with it
    title_only: float  # 1 when the article is a headline alone
    in_lead: float  # 1 when the lead paragraph names it
    mentions: float  # log(1 + mentions in the body)
    share: float  # its mentions over every commodity mention in the article
    first_at: float  # where in the body it is first named, 0 (start) to 1 (end)
    commodities: float  # log(1 + distinct commodities the article names)
    in_tables: float  # share of its mentions on lines of figures (a table of prices)
    in_lists: float  # share of its mentions beside other commodities (a list)
    passing: float  # 1 when every mention is in a table of figures or a list of commodities
    foremost: float  # 1 when no other commodity is named more often
    density: float  # mentions per thousand characters
    length: float  # log(1 + thousands of characters in the body)
    other_in_title: float  # 1 when the headline names a commodity other than this one
    title_commodities: float  # log(1 + distinct commodities the headline names)
    share_by_length: float  # share times length (a share of a long story is not one of a short)
    first_at_by_length: float  # first_at times length (named late in a long story: in passing)
    # Interactions, chosen by cross-validation on the fitted fold (bench/train_relevance.py):
    # a headline, a lead or a share weighs differently beside the others
    title_by_share: float  # in_title times share
    title_by_lead: float  # in_title times in_lead
    lead_by_share: float  # in_lead times share
    title_by_mentions: float  # in_title times mentions
    title_by_other_in_title: float  # in_title times other_in_title (a headline of several)
    lists_by_mentions: float  # in_lists times mentions (named often, but always in lists)
    # 1 when the headline names a class that holds it, not it ("SOVIET GRAIN IMPORTS" for wheat)
    class_in_title: float


@dataclass(frozen=True, slots=True)
class RelevanceModel:
    """A logistic regression over `Features`, and the score from which an article is "about"."""

    weights: tuple[float, ...]
    intercept: float
    about_from: float

    def score(self, features: tuple[float, ...]) -> float:  # a `Features` or its values
        [score] = self.scores((features,))
        return score

    def scores(self, rows: Iterable[tuple[float, ...]]) -> list[float]:
        """The score of each row of features, in one call for all the terms of an article."""
        weights, intercept = self.weights, self.intercept
        found: list[float] = []
        for row in rows:
            total = 0.0
            for number in range(len(weights)):
                total += weights[number] * row[number]
            z = intercept + total
            found.append(1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0)
        return found

    def to_json(self) -> str:
        named = dict(zip(Features._fields, self.weights, strict=True))
        data = {"intercept": self.intercept, "weights": named, "about_from": self.about_from}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RelevanceModel:
        data = json.loads(text)
        weights = tuple(float(data["weights"][name]) for name in Features._fields)
        return cls(weights, float(data["intercept"]), float(data["about_from"]))


@cache
def default_model() -> RelevanceModel:
    """The model bundled with the project."""
    raw = resources.files("bot").joinpath("data/relevance.json").read_text(encoding="utf-8")
    return RelevanceModel.from_json(raw)
