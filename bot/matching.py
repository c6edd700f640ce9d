"""Matching articles against watch items.

Each sentence is scanned once: lexicon surfaces are found leftmost-longest (so "South American"
is a region and not the US demonym, "palm oil" is not oil), plain typed terms at every position.
Watch items are then evaluated only when one of their terms was seen, so the cost per article
grows with the hits, not with the number of subscriptions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from bot.lexicon import CaseFit, Lexicon, Surface, case_fit
from bot.text import Token, split_sentences, tokenize
from bot.topics import Term, WatchItem


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # the watch item's key
    evidence: str  # the sentence or headline that matched


@dataclass(slots=True)
class _SentenceHits:
    strict: set[str] = field(default_factory=set)  # concept ids, case rules met
    relaxed: set[str] = field(default_factory=set)  # concept ids met only with relaxed case
    plain: set[Surface] = field(default_factory=set)  # typed terms found with their case rules met


class _SurfaceTable:
    """Normal form of a surface → the surfaces (and owners) written that way."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, ...], list[tuple[str, Surface]]] = defaultdict(list)
        self.longest = 0

    def add(self, owner: str, surface: Surface) -> None:
        if surface.words:
            self.entries[surface.words].append((owner, surface))
            self.longest = max(self.longest, len(surface.words))


@cache
def _lexicon_table(lexicon: Lexicon) -> _SurfaceTable:
    table = _SurfaceTable()
    for concept in lexicon.concepts.values():
        for surface in concept.surfaces:
            table.add(concept.id, surface)
    return table


def _best_spelled(
    entries: Sequence[tuple[str, Surface]], window: list[Token]
) -> Sequence[tuple[str, Surface]]:
    """Entries spelled exactly as the text, when some are ("Americas" is not "America")."""
    if len(entries) < 2:
        return entries
    literal = tuple(t.literal for t in window)
    exact = [entry for entry in entries if entry[1].literal == literal]
    return exact or entries


def _has_context(lexicon: Lexicon, tokens: list[Token]) -> bool:
    words = [t.norm for t in tokens]
    if any(word in lexicon.context_words for word in words):
        return True
    joined = f" {' '.join(words)} "
    return any(" " in phrase and f" {phrase} " in joined for phrase in lexicon.context_words)


def _term_ids(term: Term, lexicon: Lexicon) -> frozenset[str]:
    return lexicon.expand(term.concept.id) if term.concept else frozenset()


class Matcher:
    """Matches article text against a fixed set of watch items."""

    def __init__(self, items: Iterable[WatchItem], lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._table = _lexicon_table(lexicon)
        self._plain = _SurfaceTable()
        self._items: dict[str, WatchItem] = {}
        self._by_concept: dict[str, set[str]] = defaultdict(set)
        self._by_plain: dict[Surface, set[str]] = defaultdict(set)
        for item in items:
            self._items[item.key] = item
            for term in item.terms:
                if term.concept:
                    for concept_id in _term_ids(term, lexicon):
                        self._by_concept[concept_id].add(item.key)
                elif term.surface:
                    self._plain.add("", term.surface)
                    self._by_plain[term.surface].add(item.key)
            for term in item.exclusions:
                if term.surface:
                    self._plain.add("", term.surface)

    def __len__(self) -> int:
        return len(self._items)

    def match(self, title: str, body: str = "") -> list[Match]:
        """The watch items this article matches, each with its best evidence sentence."""
        sentences = [*split_sentences(body), title] if body.strip() else [title]
        hits = [self._scan(tokenize(sentence)) for sentence in sentences]
        candidates: set[str] = set()
        for sentence_hits in hits:
            for concept_id in sentence_hits.strict | sentence_hits.relaxed:
                candidates |= self._by_concept.get(concept_id, set())
            for surface in sentence_hits.plain:
                candidates |= self._by_plain.get(surface, set())
        matches = []
        for key in sorted(candidates):
            evidence = self._evaluate(self._items[key], sentences, hits)
            if evidence is not None:
                matches.append(Match(key, evidence))
        return matches

    def _scan(self, tokens: list[Token]) -> _SentenceHits:
        hits = _SentenceHits()
        context: bool | None = None
        blocked_until = 0
        for start in range(len(tokens)):
            if start >= blocked_until:
                for length in range(min(self._table.longest, len(tokens) - start), 0, -1):
                    window = tokens[start : start + length]
                    found = False
                    for concept_id, surface in _best_spelled(
                        self._table.entries.get(tuple(t.norm for t in window), ()), window
                    ):
                        fit = case_fit(surface.case, window)
                        if fit is CaseFit.NONE:
                            continue
                        found = True
                        if surface.common_word and start == 0 and fit is CaseFit.STRICT:
                            fit = CaseFit.RELAXED
                        if surface.needs_context:
                            if context is None:
                                context = _has_context(self._lexicon, tokens)
                            if not context:
                                continue
                        (hits.strict if fit is CaseFit.STRICT else hits.relaxed).add(concept_id)
                    if found:
                        blocked_until = start + length
                        break
            for length in range(min(self._plain.longest, len(tokens) - start), 0, -1):
                window = tokens[start : start + length]
                for _, surface in self._plain.entries.get(tuple(t.norm for t in window), ()):
                    if case_fit(surface.case, window) is CaseFit.STRICT:
                        hits.plain.add(surface)
        return hits

    def _term_in(self, term: Term, hits: _SentenceHits) -> bool:
        if term.surface is not None:
            return term.surface in hits.plain
        found = hits.strict | hits.relaxed if term.relaxed else hits.strict
        return not found.isdisjoint(_term_ids(term, self._lexicon))

    def _evaluate(
        self, item: WatchItem, sentences: list[str], hits: list[_SentenceHits]
    ) -> str | None:
        for term in item.exclusions:
            if any(self._term_in(term, h) for h in hits):
                return None
        best_count, best_sentence = 0, None
        seen: set[int] = set()
        for sentence, sentence_hits in zip(sentences, hits, strict=True):
            present = {i for i, term in enumerate(item.terms) if self._term_in(term, sentence_hits)}
            seen |= present
            if len(present) > best_count:
                best_count, best_sentence = len(present), sentence
        if len(seen) < len(item.terms):
            return None
        return best_sentence
