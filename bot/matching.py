"""Matching articles against watch items, at the speed of a compiled automaton.

Every way of writing a lexicon concept or a typed term (with its plural and singular forms) is a
pattern in an Aho-Corasick automaton (pyahocorasick) over the article's lower-cased text, with
every non-word character read as a space, so one C-speed pass finds all candidate words and
phrases. Python then looks only at the hits: the case rules of each surface ("China" is not
"fine china", "US" is not "us"), blocking by longer lexicon names ("South American" is a region,
not the US demonym; "palm oil" is not oil), market context for words such as "lead", and the
watch items whose terms were seen. The lexicon's automaton is built once and shared; each
Matcher adds a small one for the plain terms its watch items typed.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import ahocorasick

from bot.lexicon import Case, CaseFit, Lexicon, Surface
from bot.text import sentence_spans, singular, tokenize
from bot.topics import Term, WatchItem

_NON_WORD = re.compile(r"[\W_]")
_WORD = re.compile(r"[^\W_]+")
MAX_VARIANTS = 32


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # the watch item's key
    evidence: str  # the sentence or headline that matched


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a pattern stands for: a lexicon concept (by id) or a typed plain term."""

    owner: str | int  # a concept id, or the number of a plain term
    surface: Surface
    check: int  # 0: no case rule; 1: one capitalised word; 2: check every word

    @classmethod
    def of(cls, owner: str | int, surface: Surface) -> _Entry:
        if all(rule is Case.ANY for rule in surface.case):
            check = 0
        elif surface.case == (Case.CAPITALISED,):
            check = 1
        else:
            check = 2
        return cls(owner, surface, check)


@dataclass(slots=True)
class _Hit:
    entry: _Entry
    start: int  # in the text
    end: int
    fit: CaseFit


@dataclass(frozen=True, slots=True)
class _Need:
    """One term of a watch item, as the hits that satisfy it."""

    concepts: frozenset[str]
    relaxed: bool
    plain: int | None  # the number of a plain term


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _variants(surface: Surface) -> set[str]:
    """Lower-case spellings of a surface the text may use: singular and plural words."""
    options = []
    for word, case in zip(_WORD.findall(surface.text.lower()), surface.case, strict=False):
        if case is Case.UPPER:  # an abbreviation: "REE", "REEs"
            options.append({word, word + "s"})
        else:
            base = singular(word)
            options.append({word, base, _plural(base)})
    spellings = set()
    for combination in itertools.islice(itertools.product(*options), MAX_VARIANTS):
        spellings.add(" ".join(combination))
    return spellings


def _automaton(entries: Iterable[_Entry]) -> ahocorasick.Automaton | None:
    patterns: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        for spelling in _variants(entry.surface):
            patterns[f" {spelling} "].append(entry)
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for pattern, owners in patterns.items():
        automaton.add_word(pattern, (len(pattern), tuple(owners)))
    automaton.make_automaton()
    return automaton


@cache
def _lexicon_automaton(lexicon: Lexicon) -> ahocorasick.Automaton | None:
    return _automaton(
        _Entry.of(concept.id, surface)
        for concept in lexicon.concepts.values()
        for surface in concept.surfaces
    )


def _scannable(text: str) -> str:
    """The text lower-cased with non-word characters as spaces, padded; same length + 2."""
    lowered = _NON_WORD.sub(" ", text).lower()
    if len(lowered) != len(text):  # a character whose lower case is longer ("İ")
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in _NON_WORD.sub(" ", text))
    return f" {lowered} "


def _case_fit(surface: Surface, span: str) -> CaseFit:
    fit = CaseFit.STRICT
    for rule, word in zip(surface.case, _WORD.findall(span), strict=False):
        if rule is Case.UPPER:
            core = word[:-1] if len(word) > 2 and word.endswith("s") else word
            if not core.isupper():
                return CaseFit.NONE
        elif rule is Case.CAPITALISED and not word[:1].isupper():
            fit = CaseFit.RELAXED
    return fit


def _best_spelled(hits: list[_Hit], text: str) -> list[_Hit]:
    """Of names found on the same words, those spelled exactly so ("Americas" is not a plural
    of "America" when the lexicon knows the Americas)."""
    by_span: dict[tuple[int, int], list[_Hit]] = defaultdict(list)
    for hit in hits:
        by_span[(hit.start, hit.end)].append(hit)
    best: list[_Hit] = []
    for (start, end), same in by_span.items():
        if len(same) > 1:
            spelled = tuple(word.lower() for word in _WORD.findall(text[start:end]))
            exact = [hit for hit in same if hit.entry.surface.literal == spelled]
            same = exact or same
        best.extend(same)
    return best


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"“'‘(")
    return not before or before[-1] in ".!?\n:"


class Matcher:
    """Matches article text against a fixed set of watch items."""

    def __init__(self, items: Iterable[WatchItem], lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._shared = _lexicon_automaton(lexicon)
        self._items: dict[str, tuple[list[_Need], list[_Need]]] = {}
        self._by_concept: dict[str, set[str]] = defaultdict(set)
        self._by_plain: dict[int, set[str]] = defaultdict(set)
        self._plain_ids: dict[Surface, int] = {}
        for item in items:
            needs = [self._need(term) for term in item.terms]
            self._items[item.key] = (needs, [self._need(term) for term in item.exclusions])
            for need in needs:
                for concept_id in need.concepts:
                    self._by_concept[concept_id].add(item.key)
                if need.plain is not None:
                    self._by_plain[need.plain].add(item.key)
        self._own = _automaton(
            _Entry.of(number, surface) for surface, number in self._plain_ids.items()
        )

    def _need(self, term: Term) -> _Need:
        if term.surface is not None:
            number = self._plain_ids.setdefault(term.surface, len(self._plain_ids))
            return _Need(frozenset(), False, number)
        assert term.concept is not None
        return _Need(self._lexicon.expand(term.concept.id), term.relaxed, None)

    def __len__(self) -> int:
        return len(self._items)

    def match(self, title: str, body: str = "") -> list[Match]:
        """The watch items this article matches, each with its best evidence sentence."""
        text = f"{title}\n{body}" if body.strip() else title
        hits = self._hits(text)
        if not hits:
            return []
        article = _Article(text, len(title), self._lexicon)
        strict: dict[str, list[int]] = defaultdict(list)
        relaxed: dict[str, list[int]] = defaultdict(list)
        plain: dict[int, list[int]] = defaultdict(list)
        for hit in hits:
            surface = hit.entry.surface
            if surface.needs_context and not article.has_context(hit.start):
                continue
            owner = hit.entry.owner
            if isinstance(owner, int):
                plain[owner].append(hit.start)
            elif hit.fit is CaseFit.STRICT and not (
                surface.common_word and _at_sentence_start(text, hit.start)
            ):
                strict[owner].append(hit.start)
            else:
                relaxed[owner].append(hit.start)
        candidates: set[str] = set()
        for concept_id in (*strict, *relaxed):
            candidates |= self._by_concept.get(concept_id, set())
        for number in plain:
            candidates |= self._by_plain.get(number, set())
        matches = []
        for key in sorted(candidates):
            needs, exclusions = self._items[key]

            def positions(need: _Need) -> list[int]:
                if need.plain is not None:
                    return plain.get(need.plain, [])
                found = [p for c in need.concepts if c in strict for p in strict[c]]
                if need.relaxed:
                    found += [p for c in need.concepts if c in relaxed for p in relaxed[c]]
                return found

            if any(positions(need) for need in exclusions):
                continue
            per_term = [positions(need) for need in needs]
            if all(per_term):
                matches.append(Match(key, article.evidence(per_term)))
        return matches

    def _hits(self, text: str) -> list[_Hit]:
        """Every pattern found whose case rules the text meets; lexicon names inside a longer
        lexicon name are dropped, and of names on the same words the exactly spelled ones win."""
        scanned = _scannable(text)
        lexicon_hits: list[_Hit] = []
        plain_hits: list[_Hit] = []
        for automaton, found in ((self._shared, lexicon_hits), (self._own, plain_hits)):
            if automaton is None:
                continue
            for end, (length, entries) in automaton.iter(scanned):
                start = end - length + 1  # index in text: scanned has one leading pad
                stop = end - 1
                for entry in entries:
                    if entry.check == 0:
                        fit = CaseFit.STRICT
                    elif entry.check == 1:
                        fit = CaseFit.STRICT if text[start].isupper() else CaseFit.RELAXED
                    else:
                        fit = _case_fit(entry.surface, text[start:stop])
                    if fit is not CaseFit.NONE:
                        found.append(_Hit(entry, start, stop, fit))
        if len(lexicon_hits) > 1:
            lexicon_hits.sort(key=lambda hit: (hit.start, -hit.end))
            kept: list[_Hit] = []
            widest = (-1, -1)  # the span reaching furthest so far
            shared_span = False
            for hit in lexicon_hits:
                if hit.end <= widest[1] and (hit.start, hit.end) != widest:
                    continue  # inside a longer name
                if kept and (kept[-1].start, kept[-1].end) == (hit.start, hit.end):
                    shared_span = True
                kept.append(hit)
                if hit.end > widest[1]:
                    widest = (hit.start, hit.end)
            lexicon_hits = _best_spelled(kept, text) if shared_span else kept
        if plain_hits:
            lexicon_hits += [hit for hit in plain_hits if hit.fit is CaseFit.STRICT]
        return lexicon_hits


class _Article:
    """Sentence-level facts about a matched text, computed only when asked."""

    def __init__(self, text: str, title_length: int, lexicon: Lexicon) -> None:
        self._text = text
        self._title_length = title_length
        self._lexicon = lexicon
        self._spans: list[tuple[int, int]] | None = None
        self._starts: list[int] = []
        self._context: dict[int, bool] = {}
        self._sentence_at: dict[int, int] = {}
        self._texts: dict[int, str] = {}

    def _sentence(self, position: int) -> int:
        sentence = self._sentence_at.get(position)
        if sentence is None:
            if self._spans is None:
                self._spans = sentence_spans(self._text)
                self._starts = [start for start, _ in self._spans]
            sentence = max(bisect.bisect_right(self._starts, position) - 1, 0)
            self._sentence_at[position] = sentence
        return sentence

    def has_context(self, position: int) -> bool:
        """Whether the sentence at a position has a market-context word."""
        sentence = self._sentence(position)
        if sentence not in self._context:
            assert self._spans is not None
            start, end = self._spans[sentence]
            words = [t.norm for t in tokenize(self._text[start:end])]
            context = self._lexicon.context_words
            joined = f" {' '.join(words)} "
            self._context[sentence] = any(word in context for word in words) or any(
                " " in phrase and f" {phrase} " in joined for phrase in context
            )
        return self._context[sentence]

    def evidence(self, per_term: list[list[int]]) -> str:
        """The sentence naming most terms: the body's first such sentence, else the title."""
        if len(per_term) == 1:  # most items: the first mention in the body, else in the title
            in_body = [p for p in per_term[0] if p > self._title_length]
            return self._sentence_text(self._sentence(min(in_body or per_term[0])))
        counts: dict[int, int] = defaultdict(int)
        for positions in per_term:
            for sentence in {self._sentence(p) for p in positions}:
                counts[sentence] += 1
        in_title = bisect.bisect_right(self._starts, self._title_length)
        return self._sentence_text(max(counts, key=lambda s: (counts[s], s >= in_title, -s)))

    def _sentence_text(self, sentence: int) -> str:
        text = self._texts.get(sentence)
        if text is None:
            assert self._spans is not None
            start, end = self._spans[sentence]
            text = self._texts[sentence] = " ".join(self._text[start:end].split())
        return text
