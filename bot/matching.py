"""Matching articles against watch items, at the speed of a compiled automaton.

Every way of writing a lexicon concept or a typed term (with its plural and singular forms) is a
pattern in an Aho-Corasick automaton (pyahocorasick) over the article's lower-cased text, with
every non-word character read as a space, so one C-speed pass finds all candidate words and
phrases. Python then looks only at the hits: the case rules of each surface ("China" is not
"fine china", "US" is not "us"), blocking by longer lexicon names ("South American" is a region,
not the US demonym; "palm oil" is not oil), and market context for words such as "lead". What a
hit needs checking for is worked out per spelling when the automaton is built: where its words
with case rules are, and whether a longer lexicon name may hold it. The automaton holding the
lexicon's names also finds the words a few checks look for (`_MARKS`: a line of business, a list
of industries, an ore body), so an article without them is known not to need those checks
without searching its text.

A Matcher numbers the distinct terms ("needs") of its watch items: a concept with its group
members, strict or case-relaxed, or a typed plain term. Each hit is credited to the needs it
satisfies; a watch item is looked at only when its first term was found (one of two terms, only
when both were), and items with the same terms share their evidence. A match's evidence is a
position in the article (the first mention in the body, or the sentence naming most terms); the
sentence itself is read only when an alert shows it. Sentences, for market context and for
items of several terms, are found around the positions that need them, never by splitting the
whole article; an item's sentence naming every term is looked for only on the lines that name
them all.

Word sense is settled per hit from lexicon data: words beside an everyday-sense word that give
it its everyday sense ("could lead to", "lead manager", "trade sources"), names that hold a
commodity ("Tin Council") or another sense of its word ("heating oil", "gold and currency
reserves"), company names ("Husky Oil Ltd", "STANDARD OIL <SRD>", "Dome Petroleum" in running
text and then in the headline's capitals), and a verb after a name that is also a word ("TURKEY
TO RAISE"). Every match carries a relevance (`bot.relevance`): once the scan is done, the
features of every term found are built in one call (`_Article._rows`, the one place features are
computed; terms named in the same places share a row) and scored together, the article's shape
read once, from the hits of the same scan.

The lexicon's automaton is built once and shared by small Matchers, which add one for the plain
terms their watch items typed; a Matcher with many typed terms (the one ingest routes with)
builds one automaton holding the lexicon's spellings and its own, so each article is scanned
once.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import ahocorasick

from bot.lexicon import Case, CaseFit, Lexicon, OtherSense, Surface
from bot.query import Hits, Leaf, Node, PatternHits, Plan, evaluate, triggers
from bot.query import plan as query_plan
from bot.relevance import Features, RelevanceModel, default_model
from bot.text import (
    LETTERS,
    NON_LETTER,
    collapse_whitespace,
    normalize_word,
    sentence_span_at,
    singular,
    words_of,
)
from bot.topics import Term, WatchItem

_NON_WORD = NON_LETTER  # combining marks are part of a word ("तांबा")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_WORD = re.compile(LETTERS)
# An ASCII byte lower-cased, or a space for a non-word character (any other byte: a space).
_SCANNABLE_BYTES = (
    bytes(ord(" ") if _NON_WORD.match(chr(code)) else ord(chr(code).lower()) for code in range(128))
    + b" " * 128
)
MAX_VARIANTS = 32
# How a hit fits its case rules; looking an enum member up costs ~50 ns on Python 3.11.
_STRICT, _RELAXED, _NO_FIT = CaseFit.STRICT, CaseFit.RELAXED, CaseFit.NONE
ONE_AUTOMATON_FROM = 100  # typed plain terms; one automaton for all then costs ~5 ms more to build


class Match(NamedTuple):  # a tuple: an article makes a dozen, built faster than a dataclass
    key: str  # the watch item's key
    # A position in the article's `matched_text` inside the sentence that shows the match best;
    # `evidence_sentence` reads it when an alert is shown, so matching never copies sentences.
    evidence_at: int
    relevance: float  # 0 to 1: how much the article is about the item (`bot.relevance`)
    about: bool  # a main story about the item: what "main stories only" alerts on


class Explained(NamedTuple):
    """A match with the features its relevance was scored from (one per term of the item)."""

    match: Match
    features: tuple[Features, ...]


_new_tuple = tuple.__new__  # builds a NamedTuple from its values without a Python-level call
_by_match_key = operator.attrgetter("match.key")
_key = operator.itemgetter(0)  # of a `Match`: sorting by it compares strings, not tuples


# The words of a spelling that have a case rule: (offset, length, upper case or else capitalised).
_Checks = tuple[tuple[int, int, bool], ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A lexicon concept a pattern stands for, written one way."""

    owner: str  # the concept's id
    surface: Surface
    # credited on its case alone, in the scan: not a commodity (whose name may be a company's),
    # nor a word with an everyday sense, one that needs a market word, or a common word
    by_case: bool


# What a lexicon spelling stands for: the names it writes, each with the checks of its case rules.
_Entries = tuple[tuple[_Entry, _Checks], ...]


@dataclass(frozen=True, slots=True)
class _Rules:
    """How the lexicon names of a spelling bear on other names found with or around them."""

    spelled: bool  # the names differ: those spelled exactly so win ("Americas" over "America")
    holds: bool  # it may hold a shorter lexicon name
    held: bool  # a longer lexicon name may hold it: it does not count there ("oil", "palm oil")
    held_after: bool  # … one that goes on after it ("customs duty"), found only after it


class _Pattern(NamedTuple):
    """What a spelling in an automaton stands for."""

    length: int
    lexicon: _Entries  # one per concept and way of fitting
    plain: tuple[tuple[int, _Checks], ...]  # the needs of typed plain terms
    rules: _Rules | None  # None for most spellings
    marks: tuple[str, ...]  # the kinds of `_MARKS` it is a word of (most: none)


_Name = tuple[_Entry, int, CaseFit]  # a lexicon name found: where it starts, how it fits


class _Needs:
    """The distinct terms ("needs") of watch items, numbered as they are met: a concept with
    its group members, strict or case-relaxed, a typed plain term, or a query's regular
    expression. A Matcher keeps what matching reads of it; the typed terms (their `Surface`)
    are let go once its automaton is built."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        # (a concept with its group members, relaxed) → need
        self._concepts: dict[tuple[frozenset[str], bool], int] = {}
        self.plain: dict[Surface, int] = {}  # a typed plain term → its need
        self.patterns: dict[str, int] = {}  # a query's regular expression → its need
        self.strict: dict[str, list[int]] = defaultdict(list)  # concept → needs it satisfies
        self.relaxed: dict[str, list[int]] = defaultdict(list)  # … when its case is relaxed
        self._count = 0

    def _next(self) -> int:
        self._count += 1
        return self._count - 1

    def of(self, term: Term) -> int:
        """The need of a term."""
        if term.surface is not None:
            number = self.plain.get(term.surface)
            if number is None:
                number = self.plain[term.surface] = self._next()
            return number
        assert term.concept is not None
        concept = (self._lexicon.expand(term.concept.id), term.relaxed)
        number = self._concepts.get(concept)
        if number is None:
            number = self._concepts[concept] = self._next()
            for concept_id in concept[0]:
                self.strict[concept_id].append(number)
                if term.relaxed:
                    self.relaxed[concept_id].append(number)
        return number

    def pattern(self, source: str) -> int:
        """The need of a query's regular expression."""
        number = self.patterns.get(source)
        if number is None:
            number = self.patterns[source] = self._next()
        return number


@dataclass(frozen=True, slots=True)
class _Item:
    """A watch item of several terms (but a pair without exclusions), as needs."""

    key: str
    needs: tuple[int, ...]  # one per term, in order
    required: frozenset[int]
    exclusions: frozenset[int]


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _variants(surface: Surface) -> set[str]:
    """Lower-case spellings of a surface the text may use: singular and plural words. The
    spelling as written comes first, so a long name keeps it among its first `MAX_VARIANTS`
    (the same ones on every run: the options are ordered, not sets)."""
    options: list[list[str]] = []
    for word, case in zip(_WORD.findall(surface.text.lower()), surface.case, strict=False):
        if case is Case.UPPER:  # an abbreviation: "REE", "REEs"
            options.append([word, word + "s"])
        elif surface.singular_only or word.upper() == word:
            # a mass noun ("leads" is the verb, "oils" edible oils), or a word of a script
            # without case (Devanagari), which has no plural in -s
            options.append([word])
        else:
            base = singular(word)
            options.append(list(dict.fromkeys((word, base, _plural(base)))))
    spellings = set()
    for combination in itertools.islice(itertools.product(*options), MAX_VARIANTS):
        spellings.add(" ".join(combination))
    return spellings


def _checks(surface: Surface, spelling: str) -> _Checks:
    return _word_checks(surface.case, tuple(len(word) for word in spelling.split(" ")))


@cache  # shared: most spellings have one of a few shapes
def _word_checks(rules: tuple[Case, ...], lengths: tuple[int, ...]) -> _Checks:
    checks = []
    offset = 0
    for length, rule in zip(lengths, rules, strict=False):
        if rule is not Case.ANY:
            checks.append((offset, length, rule is Case.UPPER))
        offset += length + 1
    return tuple(checks)


@cache
def _lexicon_spellings(lexicon: Lexicon) -> dict[str, tuple[_Entries, _Rules | None]]:
    """Every spelling of the lexicon's names: the names it stands for, and its rules."""
    entries: dict[str, list[_Entry]] = defaultdict(list)
    for concept in lexicon.concepts.values():
        for surface in concept.surfaces:
            by_case = concept.kind != "commodity" and not (
                surface.needs_context or surface.common_word or surface.other_sense
            )
            entry = _Entry(concept.id, surface, by_case)
            for spelling in _variants(surface):
                entries[spelling].append(entry)
    holds: set[str] = set()
    held: set[str] = set()
    held_after: set[str] = set()
    for spelling in entries:
        words = spelling.split(" ")
        for first, last in itertools.combinations(range(len(words) + 1), 2):
            part = " ".join(words[first:last])
            if part != spelling and part in entries:
                holds.add(spelling)
                held.add(part)
                if last < len(words):
                    held_after.add(part)
    lexicon_spellings = {}
    for spelling, names in entries.items():
        checked = tuple((entry, _checks(entry.surface, spelling)) for entry in names)
        alike = {
            (e.owner, checks, e.surface.needs_context, e.surface.common_word, e.surface.other_sense)
            for e, checks in checked
        }
        if len(alike) == 1:  # surfaces of one concept that read the same ("tariff", "tariffs")
            checked = checked[:1]
        flags = (len(alike) > 1, spelling in holds, spelling in held, spelling in held_after)
        lexicon_spellings[spelling] = (checked, _Rules(*flags) if any(flags) else None)
    return lexicon_spellings


# A plain spelling of one need, not a lexicon spelling (most spellings of a large Matcher), is
# an int in its automaton, not an object: the need, shifted, with the index of its length and
# checks in the automaton's table of shapes. Any other spelling is a negative int, ~ the index
# of its `_Pattern`. pyahocorasick keeps an int value in 32 bits (signed): a need beyond
# `_LARGEST_NEED`, or a shape beyond the table's room, makes its spelling a `_Pattern` too.
_SHAPE_BITS = 10
_SHAPE_MASK = (1 << _SHAPE_BITS) - 1
_LARGEST_NEED = (1 << (31 - _SHAPE_BITS)) - 1


class _Automaton(NamedTuple):
    """An automaton over spellings, and what the ints it finds stand for."""

    automaton: ahocorasick.Automaton
    patterns: tuple[_Pattern, ...]
    shapes: tuple[tuple[int, _Checks], ...]  # a plain spelling's length (with pads), checks


def _automaton(
    lexicon: dict[str, tuple[_Entries, _Rules | None]],
    plain_terms: Iterable[tuple[int, Surface]],
    marks: dict[str, tuple[str, ...]] | None = None,
) -> _Automaton | None:
    marks = marks or {}
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    shapes: dict[tuple[int, _Checks], int] = {}
    shaped: list[tuple[int, _Checks]] = []  # the keys of `shapes`, by index
    several: dict[str, list[tuple[int, _Checks]]] = {}  # the needs of other plain spellings
    for need, surface in plain_terms:  # added at once: the build holds no table of them
        for spelling in _variants(surface):
            checks = _checks(surface, spelling)
            needs = several.get(spelling)
            if needs is not None:
                needs.append((need, checks))
                continue
            value = automaton.get(f" {spelling} ", None)
            if value is not None:  # a second need
                previous = (value >> _SHAPE_BITS, shaped[value & _SHAPE_MASK][1])
                several[spelling] = [previous, (need, checks)]
                continue
            shape = shapes.get((len(spelling) + 2, checks))
            if shape is None and len(shaped) <= _SHAPE_MASK:
                shape = shapes[len(spelling) + 2, checks] = len(shaped)
                shaped.append((len(spelling) + 2, checks))
            if (
                spelling in lexicon
                or f" {spelling} " in marks
                or shape is None
                or need > _LARGEST_NEED
            ):
                several[spelling] = [(need, checks)]
            else:
                automaton.add_word(f" {spelling} ", need << _SHAPE_BITS | shape)
    if not lexicon and not len(automaton) and not several:
        return None
    patterns: list[_Pattern] = []
    for spelling in lexicon.keys() | several.keys():
        names, rules = lexicon.get(spelling, ((), None))
        plain = tuple(several.get(spelling, ()))
        pattern = f" {spelling} "
        patterns.append(_Pattern(len(pattern), names, plain, rules, marks.get(pattern, ())))
        automaton.add_word(pattern, ~(len(patterns) - 1))
    for pattern, kinds in marks.items():
        if pattern not in automaton:  # not a name's spelling: a mark alone
            patterns.append(_Pattern(len(pattern), (), (), None, kinds))
            automaton.add_word(pattern, ~(len(patterns) - 1))
    automaton.make_automaton()
    return _Automaton(automaton, tuple(patterns), tuple(shaped))


@cache
def _lexicon_automaton(lexicon: Lexicon) -> _Automaton | None:
    return _automaton(_lexicon_spellings(lexicon), (), _MARKS)


def _scannable(text: str) -> str:
    """The text lower-cased with non-word characters as spaces, padded; same length + 2."""
    if text.isascii() or all(_NON_WORD.match(c) for c in set(_NON_ASCII.findall(text))):
        # No word character beyond ASCII (curly quotes and dashes are not): one pass over bytes,
        # where every other character is one "?" that reads as a space.
        scanned = text.encode("ascii", "replace").translate(_SCANNABLE_BYTES)
        return f" {scanned.decode('ascii')} "
    lowered = _NON_WORD.sub(" ", text).lower()
    if len(lowered) != len(text):  # a character whose lower case is longer ("İ")
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in _NON_WORD.sub(" ", text))
    return f" {lowered} "


def _fit(text: str, start: int, checks: _Checks) -> CaseFit:
    """How well the words of the text from `start` meet their case rules."""
    fit = _STRICT
    for offset, length, upper in checks:
        if upper:
            word = text[start + offset : start + offset + length]
            core = word[:-1] if length > 2 and word.endswith("s") else word
            if not core.isupper():
                return _NO_FIT
        elif not text[start + offset].isupper():  # a capitalised word
            fit = _RELAXED
    return fit


def _exactly_spelled(names: list[_Name], words: str) -> list[_Name]:
    """Of names found on the same words, those spelled exactly so ("Americas" is not a plural
    of "America" when the lexicon knows the Americas)."""
    spelled = tuple(word.lower() for word in _WORD.findall(words))
    return [name for name in names if name[0].surface.literal == spelled] or names


def _held(start: int, stop: int, holders: list[tuple[int, int]]) -> bool:
    """Whether the words at start:stop are inside one of the holders, and not all of it."""
    for outer_start, outer_stop in holders:  # a loop: most articles have none or one
        if (
            outer_start <= start
            and stop <= outer_stop
            and (outer_start, outer_stop) != (start, stop)
        ):
            return True
    return False


def _at_sentence_start(text: str, start: int) -> bool:
    before = start  # step back over spaces, opening quotes and brackets
    while before and text[before - 1] in " \t\"“'‘(":
        before -= 1
    return not before or text[before - 1] in ".!?\n:"


# the next word of a name: capitalised, or a ticker; "and" or "of" may join them ("Gold Fields of
# South Africa Ltd")
_NAME_WORDS = re.compile(r"(?:[ \t&]+(?:(?:and|of)[ \t]+)?([A-Z][\w.]*|<[A-Z][A-Z0-9.]{0,9}>))")
NAME_REACH = 4  # words after a commodity word that may still be a company's name


def _in_company_name(text: str, start: int, words: int, lexicon: Lexicon) -> bool:
    """Whether the capitalised name of `words` words at `start` is part of a company's name:
    inside angle brackets (how Reuters marks companies), or followed by capitalised words that
    end in a company suffix or a ticker ("Husky Oil Ltd", "VALERO NATURAL GAS <VLP>")."""
    line_start = text.rfind("\n", 0, start) + 1
    opening = text.rfind("<", max(line_start, start - 60), start)
    if opening >= 0 and text[opening + 1 : opening + 2].isalnum():  # "<Husky Oil Ltd>"
        closing = text.find(">", start, start + 60)
        newline = text.find("\n", start, start + 60)
        if text.find(">", opening, start) < 0 and closing >= 0 and not 0 <= newline < closing:
            return True
    position = start
    for word in itertools.islice(_WORD.finditer(text, start), words):
        position = word.end()
    for _ in range(NAME_REACH):
        following = _NAME_WORDS.match(text, position)
        if following is None:
            return False
        name_word = following.group(1)
        lowered = name_word.rstrip(".").lower()
        if name_word.startswith("<") or lowered in lexicon.company_suffixes:
            return True
        if lowered in lexicon.company_words and not name_word.isupper():
            return True
        position = following.end()
    return False


# A commodity named as one of several industries ("the steel and shipbuilding industries", "the
# chemical, petrochemical and oil industries", "banks, steel and other businesses"): branches of an
# economy or of a company, not news about the commodity. The plural head noun follows within a few
# words, the commodity is joined to the others by a comma, "and" or "or", and the sentence has no
# market word ("exports from the rubber and palm oil industries" is rubber news).
_INDUSTRY_NOUNS = (" industries ", " sectors ", " businesses ")  # in the scannable text: fast
_INDUSTRY_LIST = re.compile(
    r"(?P<between>(?:[ \t,/&]+[\w'-]+){0,6}?)[ \t]+(?:industries|sectors|businesses)\b",
    re.IGNORECASE,
)
_JOINED = re.compile(r",|\b(?:and|or)\b", re.IGNORECASE)
_JOINED_BEFORE = re.compile(r"(?:,|\band|\bor)[ \t]*$", re.IGNORECASE)
INDUSTRY_REACH = 90  # characters after a mention where the industries' noun may be


def _negated(text: str, start: int) -> bool:
    """Whether the word at `start` follows "non-": "non-gold holdings", "non-oil exports"."""
    return text[start - 1 : start] == "-" and text[max(0, start - 4) : start - 1].lower() == "non"


def _among_industries(text: str, scanned: str, start: int, words: int) -> bool:
    """Whether the commodity name of `words` words at `start` is one of a list of industries."""
    if all(
        scanned.find(noun, start + 1, start + 1 + INDUSTRY_REACH) < 0 for noun in _INDUSTRY_NOUNS
    ):
        return False
    end = start
    for word in itertools.islice(_WORD.finditer(text, start), words):
        end = word.end()
    listed = _INDUSTRY_LIST.match(text, end)
    if listed is None:
        return False
    return (
        _JOINED.search(listed.group("between")) is not None
        or _JOINED_BEFORE.search(text, max(0, start - 6), start) is not None
    )


_NAME_BEFORE = re.compile(r"([A-Z][a-z][\w&'.-]*) $")
# Capitalised words that start a sentence or a name without being a company's first word
_NOT_HEADS = frozenset({"the", "a", "an", "and", "of", "in", "for", "its", "their", "his", "her"})


def _is_head(word: str, lexicon: Lexicon) -> bool:
    """Whether a capitalised word may be the first of a company's name: not a function word and
    not a place or other lexicon name ("Saudi Oil Minister" is the commodity)."""
    lowered = word.lower()
    return lowered not in _NOT_HEADS and (normalize_word(word),) not in lexicon.names


def _name_before(text: str, start: int, surface_text: str, lexicon: Lexicon) -> str | None:
    """The first word of the name a capitalised commodity word is part of, when a capitalised
    word (not the headline's capitals) stands right before it: "Dome Petroleum", "Standard
    Oil", "Williams Natural Gas", "European Sugar" (a place's name too: "Saudi Oil Minister"
    and "Brazilian Coffee Institute" go on with a body's word). In running text such words are
    capitalised only in names."""
    if not text[start + 1 : start + 2].islower():
        return None
    before = _NAME_BEFORE.search(text, max(0, start - 30), start)
    if (
        before is None
        or _at_sentence_start(text, before.start(1))  # "Winter Wheat - fair to good"
        or before.group(1).lower() in _NOT_HEADS
    ):
        return None
    after = _WORD.search(text, start + len(surface_text), start + len(surface_text) + 40)
    if after and after.group().lower() in lexicon.body_words:  # "International Coffee Organization"
        return None
    return before.group(1).lower()


def _company_head(text: str, start: int, lexicon: Lexicon) -> str | None:
    """The word before a commodity word inside a company's name, when it is the name's first
    word ("Houston" of "Houston Oil Trust <HO>"; not "Offshore" of "China National Offshore Oil
    Corp", whose "offshore oil" is elsewhere the commodity)."""
    before = _LAST_WORD.search(text, max(0, start - 40), start)
    if before is None or not before.group(1)[0].isupper():
        return None
    if text.find("\n", before.end(1), start) >= 0 or not _is_head(before.group(1), lexicon):
        return None
    earlier = _NAME_BEFORE.search(text, max(0, before.start(1) - 30), before.start(1))
    if earlier is not None and not _at_sentence_start(text, earlier.start(1)):
        return None  # a capitalised word before it: the name starts earlier
    return before.group(1).lower()


class _Shape(NamedTuple):
    """An article's parts and its commodities, for the relevance of every item it matches."""

    body_start: int
    body_length: int
    lead_end: int
    lists_possible: bool  # enough distinct commodities named to make a list
    log_commodities: float  # log(1 + distinct commodities named)
    most_named: int  # mentions of the most named commodity
    log_length: float  # log(1 + thousands of characters in the body)
    title_positions: frozenset[int]  # where the headline names commodities
    log_title_commodities: float
    text_length: int
    title_only: float  # 1.0 for a headline without a body
    # where commodities of the classes the headline names ("GRAIN": wheat, corn, rice) are named
    class_positions: frozenset[int]


# deleted from a line's bytes to count its digits, and its letters (its other characters)
_DIGITS = b"0123456789"
_FIGURE_MARKS = b"0123456789.,:;/%()-+\t "
TABLE_LINE_LENGTH = 200  # characters; a line of a table of prices is short
SUMMARY_CHARACTERS = 300  # a body this short is a feed's summary, not a story to weigh
LEAD_CHARACTERS = 250  # at most this much of the body's first paragraph is its lead
FIGURE_SHARE = 0.25  # of a line's letters and digits, digits: a line of a table
LIST_REACH = 60  # characters either side where other commodities make a list
LIST_FROM = 2  # other commodities within reach
# The table a company's results open with on the wire ("Shr 1.22 dlrs vs 1.05", "Net 4.5 mln vs
# 3.9 mln", "Revs …", "Qtly div 10 cts vs 10 cts prior"): a report of results, where a commodity
# the headline does not name is a line of business, not news about it.
_RESULTS_LINE = re.compile(
    r"\n[ \t]*(?:Shr|Net|Revs|Qtly div|Oper shr|Oper net|Div)\b"  # a literal first: fast
)
RESULTS_REACH = 400  # characters of the body where a table of results opens a report
# A line of business in a sentence that reports a company's results ("Lead, zinc and silver mining
# and smelting operations incurred a net loss of 66.8 mln dlrs"): the commodity names what the
# company does, not news about the commodity. The words that name a line of business come within
# a clause after the mention; the sentence has a word of results and a figure.
_BUSINESS_WORDS = frozenset(
    (
        *("operation", "operations", "division", "divisions", "segment", "segments"),
        *("unit", "units", "business", "businesses", "interests", "activities"),
        *("subsidiary", "subsidiaries", "sector"),
    )
)
_BUSINESS_AFTER = re.compile(
    rf"[\w ,&-]{{0,40}}?\b(?:{'|'.join(sorted(_BUSINESS_WORDS))})\b", re.IGNORECASE
)
_RESULT_WORDS = re.compile(
    r"\b(?:net (?:loss|profit|earnings|income)|operating (?:profit|loss|earnings)|earnings"
    r"|profits?|loss(?:es)?|lost|earned|revenues?|sales)\b",
    re.IGNORECASE,
)
_FIGURES = re.compile(r"\b(?:mln|billion|dlrs|pct)\b", re.IGNORECASE)
# The words of a sentence describing an ore body (`_Article._in_assays`), and their stems in the
# scannable text: a first check with `in`, once an article and then near a mention, before any
# sentence is read
_ASSAY_WORDS = re.compile(
    r"\b(?:(?:per|a) (?:short )?ton|grading|grades?|assays?|ore (?:body|bodies|reserves?|zone))\b",
    re.IGNORECASE,
)
_ASSAY_STEMS = (" ton ", " grad", " assay", " ore ")
ASSAY_REACH = 200  # characters either side of a mention where a word of assays may be
BUSINESS_REACH = 60  # characters after a mention where its line of business is named
# Words and stems, as the scannable text has them, that the automaton holding the lexicon's names
# finds too, by the kind of check they serve: where they are (`_Article.marked`) tells without
# searching the text that an article has none (most) or none near a mention.
_BUSINESS, _INDUSTRY, _ASSAY = "business", "industry", "assay"


def _marks() -> dict[str, tuple[str, ...]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    for word in sorted(_BUSINESS_WORDS):
        kinds[f" {word} "].append(_BUSINESS)
    for noun in _INDUSTRY_NOUNS:
        kinds[noun].append(_INDUSTRY)
    for stem in _ASSAY_STEMS:
        kinds[stem].append(_ASSAY)
    return {pattern: tuple(marks) for pattern, marks in kinds.items()}


_MARKS = _marks()


@cache
def _context_phrases(lexicon: Lexicon) -> tuple[str, ...]:
    """The market-context words of several words, padded with spaces to be found in a
    sentence's words joined by spaces."""
    return tuple(f" {phrase} " for phrase in lexicon.context_words if " " in phrase)


@cache
def _commodity_ids(lexicon: Lexicon) -> frozenset[str]:
    return frozenset(c.id for c in lexicon.concepts.values() if c.kind == "commodity")


def _is_figure_line(text: str, start: int) -> bool:
    """Whether the line from `start` is mostly figures: a line of a table of prices."""
    end = text.find("\n", start)
    end = end if end >= 0 else len(text)
    if end - start > TABLE_LINE_LENGTH:  # a longer line is prose
        return False
    # bytes: translating them is ten times faster than a str; any other character is one "?"
    line = text[start:end].encode("ascii", "replace")
    digits = len(line) - len(line.translate(None, _DIGITS))
    letters = len(line.translate(None, _FIGURE_MARKS))
    return digits >= FIGURE_SHARE * (digits + letters)


def _in_list(position: int, hits: list[tuple[int, str]]) -> bool:
    """Whether other commodities are named right beside a position ("lead, zinc and silver")."""
    beside = {owner for at, owner in hits if abs(at - position) <= LIST_REACH}
    named_here = {owner for at, owner in hits if at == position}
    return len(beside - named_here) >= LIST_FROM


_HEADLINE_WORD = re.compile(r"<?[^\W_]+")  # a word, or a ticker ("<XON")
_NO_COMMODITIES: frozenset[str] = frozenset()
_NO_POSITIONS: frozenset[int] = frozenset()


def _classes_named(text: str, scanned: str, title_end: int, lexicon: Lexicon) -> frozenset[str]:
    """The commodities of the classes a headline names: "SOVIET GRAIN IMPORTS" names wheat, corn
    and rice; not a class word in a company's name or line of business ("NORTHERN ENERGY CORP",
    "ENERGY FACTORS <EFAC>", "MINING GROUP", "ENERGY UNIT")."""
    class_words = lexicon.class_words
    if class_words.keys().isdisjoint(scanned[1 : title_end + 1].split()):  # most headlines
        return _NO_COMMODITIES
    words = list(_HEADLINE_WORD.finditer(text, 0, title_end))
    named = []
    for word, after in zip(words, [*words[1:], None], strict=True):
        members = class_words.get(word.group().lower())
        if members is None:
            continue
        following = after.group().lower() if after else ""
        if (
            following.startswith("<")
            or following in lexicon.company_words
            or following in lexicon.business_nouns
            or _in_company_name(text, word.start(), 1, lexicon)
        ):
            continue
        named.append(members)
    return frozenset().union(*named) if named else _NO_COMMODITIES


def _named_in(named: list[list[int]], start: int, end: int) -> int:
    """How many terms (each its mentions, sorted) are named within start:end."""
    count = 0
    for positions in named:
        at = bisect.bisect_left(positions, start)
        count += at < len(positions) and positions[at] < end
    return count


_LAST_WORD = re.compile(r"([^\W_]+)[\W_]*$")


def _word_after(scanned: str, start: int) -> str:
    """The word after the one at text index `start`, read from the scannable text (lower case,
    non-word characters as spaces, one leading pad) within 40 characters; "" if none."""
    end = scanned.find(" ", start + 1)
    after = end + 1
    limit = min(len(scanned), end + 41)
    while after < limit and scanned[after] == " ":
        after += 1
    if end < 0 or after >= limit:
        return ""
    return scanned[after : scanned.find(" ", after)]


def _word_before(scanned: str, start: int) -> str:
    """The word before text index `start`, from the scannable text, within 40 characters."""
    end = start + 1  # scanned has one leading pad: text[start] is scanned[start + 1]
    limit = max(0, end - 40)
    while end > limit and scanned[end - 1] == " ":
        end -= 1
    if end <= limit:
        return ""
    return scanned[scanned.rfind(" ", 0, end) + 1 : end]


def _followed_by(scanned: str, start: int, words: frozenset[str]) -> bool:
    """Whether the word after the one at `start` is one of `words` (in normal form)."""
    after = _word_after(scanned, start)
    return bool(after) and normalize_word(after) in words


def _in_other_sense(scanned: str, start: int, other_sense: OtherSense) -> bool:
    """Whether the word at `start` is used in its everyday sense, by the words beside it or
    named with it in a list."""
    if _followed_by(scanned, start, other_sense.after):
        return True
    before = _word_before(scanned, start)
    if before and normalize_word(before) in other_sense.before:
        return True
    among = other_sense.among
    return bool(among) and any(
        word in among for word in scanned[max(0, start - LIST_REACH) : start + LIST_REACH].split()
    )


class Matcher:
    """Matches article text against a fixed set of watch items."""

    def __init__(
        self,
        items: Iterable[WatchItem],
        lexicon: Lexicon,
        *,
        relevance: RelevanceModel | None = None,
    ) -> None:
        self._lexicon = lexicon
        self._model = relevance or default_model()
        self._commodities = _commodity_ids(lexicon)
        needs = _Needs(lexicon)
        # the items filed under a need, that of their first term: the keys of items of just
        # that term; of just that term but for exclusions, with the exclusions' needs; of two
        # terms, by the other term's need; the others
        alone: dict[int, list[str]] = defaultdict(list)
        excluding: dict[int, list[tuple[str, frozenset[int]]]] = defaultdict(list)
        pairs: dict[int, dict[int, list[str]]] = defaultdict(dict)
        several: dict[int, list[_Item]] = defaultdict(list)
        # need → the queries that must find it or another of their triggers
        self._queries: dict[int, list[tuple[str, Plan | Leaf]]] = defaultdict(list)
        latest = {item.key: item for item in items}
        for item in latest.values():
            if item.query is not None:
                self._add_query(item.key, item.query, needs)
                continue
            if not item.terms:
                continue  # an item without terms could never match
            numbers = tuple(needs.of(term) for term in item.terms)
            if len(numbers) == 1 and not item.exclusions:
                alone[numbers[0]].append(item.key)
            elif len(numbers) == 1:
                exclusions = frozenset(needs.of(term) for term in item.exclusions)
                excluding[numbers[0]].append((item.key, exclusions))
            elif len(numbers) == 2 and numbers[0] != numbers[1] and not item.exclusions:
                pairs[numbers[0]].setdefault(numbers[1], []).append(item.key)
            else:
                exclusions = frozenset(needs.of(term) for term in item.exclusions)
                several[numbers[0]].append(_Item(item.key, numbers, frozenset(numbers), exclusions))
        self._alone = {need: tuple(keys) for need, keys in alone.items()}
        self._excluding = {need: tuple(items) for need, items in excluding.items()}
        self._pairs = {
            need: {other: tuple(keys) for other, keys in by_other.items()}
            for need, by_other in pairs.items()
        }
        self._items = dict(several)
        self._strict, self._relaxed = needs.strict, needs.relaxed
        self._size = len(latest)
        self._pattern_hits = PatternHits(needs.patterns) if needs.patterns else None
        plain = [(need, surface) for surface, need in needs.plain.items()]
        if len(plain) >= ONE_AUTOMATON_FROM:
            merged = _automaton(_lexicon_spellings(lexicon), plain, _MARKS)
            self._automata: tuple[_Automaton, ...] = (merged,) if merged else ()
        else:
            own = (_automaton({}, plain),)
            self._automata = tuple(a for a in (_lexicon_automaton(lexicon), *own) if a)

    def _add_query(self, key: str, query: Node, needs: _Needs) -> None:
        """File a query under the needs of which it must find one (`bot.query.triggers`)."""
        steps = query_plan(query, needs.of, needs.pattern)
        for need in triggers(steps):
            self._queries[need].append((key, steps))

    def __len__(self) -> int:
        return self._size

    def match(self, title: str, body: str = "") -> list[Match]:
        """The watch items this article matches, each with where its evidence is and how much
        the article is about it."""
        article = self._scanned(title, body)
        model = self._model
        terms = article.terms(model)
        matched: list[Match] = []
        add = matched.append
        alone, excluding = self._alone, self._excluding
        seen = terms.keys()
        for need, term in terms.items():  # most items have one term: what was scored for it
            if term.alone is None:
                continue
            evidence, relevance, about = term.alone
            for key in alone.get(need, ()):
                add(_new_tuple(Match, (key, evidence, relevance, about)))
            for key, exclusions in excluding.get(need, ()):
                if seen.isdisjoint(exclusions):
                    add(_new_tuple(Match, (key, evidence, relevance, about)))
        for keys, needs in self._matched_others(article):
            scored = terms[needs[0]].alone if len(needs) == 1 else article.scored(needs, model)
            if scored is not None:  # items with the same terms share what was scored
                for key in keys:
                    add(_new_tuple(Match, (key, *scored)))
        matched.sort(key=_key)  # an item's key is in one match at most
        return matched

    def explain(self, title: str, body: str = "") -> list[Explained]:
        """The matches of `match`, each with the features its relevance was scored from (one
        set per distinct term)."""
        article = self._scanned(title, body)
        explained = [
            Explained(
                Match(key, *scored),
                tuple(article.features(need) for need in dict.fromkeys(needs)),
            )
            for keys, needs in self._matched_items(article)
            for scored in (article.scored(needs, self._model),)
            if scored is not None
            for key in keys
        ]
        explained.sort(key=_by_match_key)
        return explained

    def _scanned(self, title: str, body: str) -> _Article:
        """The article with where each need was found and where its commodities are named."""
        text = matched_text(title, body)
        article = _Article(text, _scannable(text), len(title), self._lexicon)
        commodities = self._commodities
        lexicon = self._lexicon
        companies: set[tuple[str, str]] = set()  # (first word, commodity) of companies named
        named: list[_Name] = []  # commodity names that are not (yet known to be) a company's
        scanned = article.scanned
        for hit in self._scan(article):
            entry, start, _ = hit
            if entry.owner not in commodities:
                self._credit(article, hit)
            elif not text[start].isupper():
                named.append(hit)
            elif _in_company_name(text, start, len(entry.surface.words), lexicon):
                head = _company_head(text, start, lexicon)
                if head:
                    companies.add((head, entry.owner))
            elif (head := _name_before(text, start, entry.surface.text, lexicon)) is not None:
                companies.add((head, entry.owner))  # "Dome Petroleum", "Bethlehem Steel"
            else:
                named.append(hit)
        # once an article that names a commodity
        industries = bool(named) and _INDUSTRY in article.marked
        for hit in named:
            entry, start, _ = hit
            # A company named in full once is the same company in the headline's capitals
            # ("DOME PETROLEUM REAFFIRMS …") and on second mention ("Ashland Oil said"); in
            # lower case the words are the commodity ("offshore oil exploration").
            if (
                companies
                and text[start].isupper()
                and (_word_before(article.scanned, start), entry.owner) in companies
            ):
                continue
            if _negated(text, start):
                continue
            words = entry.surface.words
            if (
                industries
                and _among_industries(text, scanned, start, len(words))
                and not article.has_market_word_besides(start, words)
            ):
                continue
            article.commodity_hits.append((start, entry.owner))
            self._credit(article, hit)
        # One sense per story: a word of the headline without a market word there is in the
        # sense the body gives it ("CITY RESOURCES TO SELL GOLD PROPERTY STAKE" above a body
        # on its gold mine), never counting alone.
        found = article.found
        for needs, start in article.headline_words:
            for need in needs:
                if need in found:
                    found[need].append(start)
        if self._pattern_hits is not None:
            for need, positions in self._pattern_hits.found(text):
                article.found[need].extend(positions)
        return article

    def _credit(self, article: _Article, hit: _Name) -> None:
        """Note a lexicon name found in the needs it satisfies, unless its sense is not the
        name's (an everyday sense, a common word starting a sentence, no market context)."""
        entry, start, fit = hit
        text = article.text
        surface = entry.surface
        if fit is _STRICT and not (
            surface.common_word
            and _at_sentence_start(text, start)
            and not _followed_by(article.scanned, start, self._lexicon.name_verbs)
        ):
            needs = self._strict.get(entry.owner)
        else:  # a name whose case was relaxed, or a common word that may start a sentence
            needs = self._relaxed.get(entry.owner)
        if not needs or (
            surface.other_sense and _in_other_sense(article.scanned, start, surface.other_sense)
        ):
            return
        # a headline's first word is its subject ("GOLD RALLIES AS DOLLAR SLIPS")
        if surface.needs_context and start and not article.has_context(start):
            if start < article._title_length:  # decided once the body is read
                article.headline_words.append((needs, start))
            return
        found = article.found
        for need in needs:
            found[need].append(start)

    def _matched_items(
        self, article: _Article
    ) -> Iterator[tuple[tuple[str, ...], tuple[int, ...]]]:
        """The keys and the needs of the watch items the article matches, those with the same
        terms together."""
        alone, excluding = self._alone, self._excluding
        seen = article.found.keys()
        for need in seen:
            keys = alone.get(need)
            if keys is not None:
                yield keys, (need,)
            for key, exclusions in excluding.get(need, ()):
                if seen.isdisjoint(exclusions):
                    yield (key,), (need,)
        yield from self._matched_others(article)

    def _matched_others(
        self, article: _Article
    ) -> Iterator[tuple[tuple[str, ...], tuple[int, ...]]]:
        """Those of `_matched_items` with more than one term, or a query."""
        seen = article.found.keys()
        pairs_of, items_of = self._pairs, self._items
        for need in seen & pairs_of.keys():
            pairs = pairs_of[need]
            for other in pairs.keys() & seen:  # looks up the fewer
                if article.meet((need, other)):
                    yield pairs[other], (need, other)
        for need in seen & items_of.keys():
            for item in items_of[need]:
                if (
                    seen >= item.required
                    and seen.isdisjoint(item.exclusions)
                    and article.meet(item.needs)
                ):
                    yield (item.key,), item.needs
        if self._queries:
            yield from self._matched_queries(article)

    def _matched_queries(
        self, article: _Article
    ) -> Iterator[tuple[tuple[str, ...], tuple[int, ...]]]:
        """The key of every query the article matches, with the needs that make it match."""
        candidates: dict[str, Plan | Leaf] = {}
        for need in article.found.keys() & self._queries.keys():
            for key, steps in self._queries[need]:
                candidates[key] = steps
        hits = Hits(article.found, article._title_length, article._sentence)
        for key, steps in candidates.items():
            witness = evaluate(steps, hits)
            if witness:
                yield (key,), tuple(sorted(witness))

    def _scan(self, article: _Article) -> Iterator[_Name]:
        """One pass of the automata. A plain term that meets its case rules strictly is noted
        in `found` at once, and a word of `_MARKS` in `marked`; the lexicon names whose case
        rules the text meets are yielded (or noted at once if credited on their case alone,
        `_Entry.by_case`), except those inside a longer lexicon name (but for a body's name in
        the headline that holds its commodities there: `Lexicon.headline_bodies`), and of names
        on the same words the exactly spelled ones."""
        text, found, marked = article.text, article.found, article.marked
        strict, relaxed = self._strict, self._relaxed
        title_length = article._title_length
        headline_bodies = self._lexicon.headline_bodies
        holders: list[tuple[int, int]] = []  # where names are that may hold a shorter one
        later: list[tuple[int, list[_Name]]] = []  # names to yield if no holder comes after
        for automaton, patterns, shapes in self._automata:
            found_here: Iterator[tuple[int, int]] = automaton.iter(article.scanned)
            for end, value in found_here:
                if value >= 0:  # a plain spelling of one need
                    length, checks = shapes[value & _SHAPE_MASK]
                    start = end - length + 1
                    if not checks or _fit(text, start, checks) is _STRICT:
                        found[value >> _SHAPE_BITS].append(start)
                    continue
                length, lexicon, plain, rules, marks = patterns[~value]
                start = end - length + 1  # index in text: scanned has one leading pad
                stop = end - 1
                for mark in marks:  # in the scannable text: from start to end
                    marked.setdefault(mark, []).append((start, end))
                for need, checks in plain:
                    if not checks or _fit(text, start, checks) is _STRICT:
                        found[need].append(start)
                if rules is not None:
                    # Of names ending together the longest comes first: holders that end here
                    # are known, holders that go on are not yet.
                    if rules.held and holders and _held(start, stop, holders):
                        continue
                    if rules.spelled or rules.holds or rules.held_after:
                        names = []
                        for entry, checks in lexicon:
                            fit = _fit(text, start, checks) if checks else _STRICT
                            if fit is not _NO_FIT:
                                names.append((entry, start, fit))
                        if not names:
                            continue
                        if rules.spelled:
                            names = _exactly_spelled(names, text[start:stop])
                        if rules.holds and not (
                            start < title_length
                            and headline_bodies
                            and any(name[0].owner in headline_bodies for name in names)
                        ):
                            holders.append((start, stop))
                        if rules.held_after:
                            later.append((stop, names))
                        else:
                            yield from names
                        continue
                for entry, checks in lexicon:
                    fit = _fit(text, start, checks) if checks else _STRICT
                    if fit is _NO_FIT:
                        continue
                    if entry.by_case:  # what `Matcher._credit` would do, without the call
                        for need in (strict if fit is _STRICT else relaxed).get(entry.owner, ()):
                            found[need].append(start)
                    else:
                        yield entry, start, fit
        for stop, names in later:
            if not (holders and _held(names[0][1], stop, holders)):
                yield from names


class _Term(NamedTuple):
    """How one term of the watch items is named in an article."""

    first: int  # where it is first named
    relevance: float
    # A `Match` of an item of just this term, after its key (evidence, relevance, about);
    # None when it does not count
    alone: tuple[int, float, bool] | None


class _Article:
    """What matching learns about one text: where each need was found, and facts about its
    sentences (known by their spans), computed only when asked."""

    def __init__(self, text: str, scanned: str, title_length: int, lexicon: Lexicon) -> None:
        self.found: dict[int, list[int]] = defaultdict(list)  # need → where it was found
        self.text = text
        self.scanned = scanned  # `_scannable(text)`
        self._title_length = title_length
        self._lexicon = lexicon
        # headline words with an everyday sense and no market word there: (needs, where)
        self.headline_words: list[tuple[list[int], int]] = []
        self._spans: list[tuple[int, int]] = []  # the sentences looked up so far
        self._sentence_at: dict[int, tuple[int, int]] = {}
        self._context: dict[tuple[int, int], bool] = {}
        self.commodity_hits: list[tuple[int, str]] = []  # every commodity name: where, which
        # where the words of each kind of `_MARKS` are in the scannable text: first, last index
        self.marked: dict[str, list[tuple[int, int]]] = {}
        self._figure_lines: dict[int, bool] = {}  # a line's start → whether it is of figures
        self._in_lists: dict[int, bool] = {}  # a mention → whether in a list of commodities
        self._shape: _Shape | None = None
        self._terms: dict[int, _Term] | None = None  # need → how it is named
        self._results: bool | None = None  # whether the article is a report of results
        # the commodities the headline names, in an article that may describe an ore body
        self._assay_headline: frozenset[str] | None = None
        # an item's terms → where its best sentence is, and whether it names every term
        self._best: dict[tuple[int, ...], tuple[int, bool]] = {}

    def terms(self, model: RelevanceModel) -> dict[int, _Term]:
        """How every term found is named, once the scan is done: where it is first named, its
        evidence, its relevance, and what a `Match` of an item of just that term says after
        its key. Terms named in the same places are named alike: they share one row of
        features, and the rows are scored together."""
        terms = self._terms
        if terms is not None:
            return terms
        found = self.found
        # most terms are named once: the position stands for them
        wheres = [p[0] if len(p) == 1 else tuple(p) for p in found.values()]
        places = dict(zip(wheres, found.values(), strict=True))
        relevances = model.scores(self._rows(places.values()))
        text = self.text
        title_end = self._title_length
        results = self._is_results()
        business = _BUSINESS in self.marked  # a word of a line of business: in few articles
        assays = bool(self._assay_commodities())
        summary = len(text) - title_end <= SUMMARY_CHARACTERS
        about_from = model.about_from
        named: dict[int | tuple[int, ...], _Term] = {}
        for (where, positions), relevance in zip(places.items(), relevances, strict=True):
            first = min(positions)
            alone = None
            in_title = first < title_end
            if in_title or not (
                results
                or (business and self._line_of_business(positions))
                or (assays and self._in_assays(positions))
            ):
                evidence = first  # the first mention in the body, else in the headline
                if in_title and len(positions) > 1:
                    evidence = min([p for p in positions if p > title_end], default=first)
                about = relevance >= about_from or (in_title and summary)
                alone = (evidence, relevance, about)
            named[where] = _new_tuple(_Term, (first, relevance, alone))
        terms = self._terms = dict(zip(found.keys(), map(named.__getitem__, wheres), strict=True))
        return terms

    def scored(
        self, needs: tuple[int, ...], model: RelevanceModel
    ) -> tuple[int, float, bool] | None:
        """What a `Match` of an item with these terms says after its key: where its evidence
        is, its relevance and whether it is a main story; None when the item is only a line
        of business in a report of a company's results (the headline names none of the item's
        terms, and the body opens with a table of results or names each term only as a line
        of business in sentences of results)."""
        terms = self.terms(model)
        if len(needs) == 1:
            return terms[needs[0]].alone
        title_end = self._title_length
        total = 0.0
        counts = False  # a term counts alone (it is not only a line of business)
        in_title = True  # the headline names every term
        for need in needs:
            term = terms[need]
            total += term.relevance
            counts = counts or term.alone is not None
            in_title = in_title and term.first < title_end
        if not counts:
            return None
        # the mean: a country rarely leads a story about its coffee, so the least of the
        # terms' relevance would miss most such stories
        relevance = total / len(needs)
        # A main story: the relevance says so, or the article is a headline with a summary
        # (a feed's item) and the headline names every term. The model was fitted on wire
        # stories with a body to weigh; a summary leaves it only the headline, which names
        # the story's subject.
        about = relevance >= model.about_from or (
            in_title and len(self.text) - title_end <= SUMMARY_CHARACTERS
        )
        return self._evidence_of(needs), relevance, about

    def _line_of_business(self, positions: list[int]) -> bool:
        """Whether every mention names a company's line of business in a sentence reporting its
        results: a word such as "operations" follows within the clause, and the sentence has a
        word of results and a figure."""
        business = self.marked[_BUSINESS]  # there are some: `terms` looks first
        for position in positions:  # at once for most: no such word after it
            reach = position + 1 + BUSINESS_REACH
            if not any(position + 2 <= first and last <= reach for first, last in business):
                return False
        text = self.text
        for position in positions:
            start, end = self._sentence(position)
            after = _WORD.match(text, position)
            if (
                after is None
                or not _BUSINESS_AFTER.match(text, after.end(), end)
                or not _RESULT_WORDS.search(text, start, end)
                or not _FIGURES.search(text, start, end)
            ):
                return False
        return True

    def _in_assays(self, positions: list[int]) -> bool:
        """Whether every mention is in a sentence describing an ore body or a mine's metals
        (grades, assays, ore reserves, ounces a ton) and the headline names another commodity,
        not this one: a metal the headline does not name is then what the ore of another
        holds, not news about its market."""
        in_title = self._assay_commodities()
        if not in_title:
            return False
        mentioned = set(positions)
        if any(at in mentioned and owner in in_title for at, owner in self.commodity_hits):
            return False  # the headline names this one
        stems = self.marked[_ASSAY]  # there are some: the headline's commodities say so
        for position in positions:  # at once for most: no stem near the mention
            since, until = position - ASSAY_REACH, position + ASSAY_REACH
            if not any(since <= first and last < until for first, last in stems):
                return False
        text = self.text
        for position in positions:
            start, end = self._sentence(position)
            if _ASSAY_WORDS.search(text, start, end) is None:
                return False
        return True

    def _assay_commodities(self) -> frozenset[str]:
        """The commodities the headline names, in an article that may describe an ore body
        (a stem of assays is somewhere in it); once an article."""
        in_title = self._assay_headline
        if in_title is None:
            in_title = _NO_COMMODITIES
            if _ASSAY in self.marked:
                title_end = self._title_length
                in_title = frozenset(owner for at, owner in self.commodity_hits if at < title_end)
            self._assay_headline = in_title
        return in_title

    def _is_results(self) -> bool:
        """Whether the article is a report of results, found from the headline's newline."""
        results = self._results
        if results is None:
            title_end = self._title_length
            reach = title_end + 1 + RESULTS_REACH
            results = self._results = _RESULTS_LINE.search(self.text, title_end, reach) is not None
        return results

    def _sentence(self, position: int) -> tuple[int, int]:
        sentence = self._sentence_at.get(position)
        if sentence is None:
            for span in self._spans:
                if span[0] <= position < span[1]:
                    sentence = span
                    break
            else:  # a hit starts on a word character, never on whitespace
                sentence = sentence_span_at(self.text, position)
                self._spans.append(sentence)
            self._sentence_at[position] = sentence
        return sentence

    def has_context(self, position: int) -> bool:
        """Whether the sentence at a position has a market-context word."""
        sentence = self._sentence(position)
        context = self._context.get(sentence)
        if context is None:
            words = list(map(normalize_word, words_of(self.text[sentence[0] : sentence[1]])))
            context = not self._lexicon.context_words.isdisjoint(words)
            if not context:
                joined = f" {' '.join(words)} "
                context = any(phrase in joined for phrase in _context_phrases(self._lexicon))
            self._context[sentence] = context
        return context

    def has_market_word_besides(self, position: int, own: tuple[str, ...]) -> bool:
        """Whether the sentence at a position has a market-context word other than the words of
        the name there ("oil" is a market word for other commodities, not for itself)."""
        start, end = self._sentence(position)
        known = self._lexicon.context_words
        return any(
            word in known and word not in own
            for word in map(normalize_word, words_of(self.text[start:end]))
        )

    def features(self, need: int) -> Features:
        """Where and how a term appears in the article, for its relevance."""
        [row] = self._rows([self.found[need]])
        return Features(*row)

    def _rows(self, named: Iterable[list[int]]) -> list[tuple[float, ...]]:
        """The values of `Features`, in order, of terms named at these positions (yes and no as
        1.0 and 0.0): built as plain tuples, scored as they are, made a `Features` only when
        explained. One pass over each term's mentions."""
        shape = self._shape or self._shape_of()
        (
            body_start,
            body_length,
            lead_end,
            lists_possible,
            log_commodities,
            most_named,
            log_length,
            title_positions,
            log_title_commodities,
            text_length,
            title_only,
            class_positions,
        ) = shape
        text = self.text
        title_end = self._title_length
        hits = self.commodity_hits
        commodity_mentions = len(hits)
        figure_lines = self._figure_lines
        listed = self._in_lists if lists_possible else None
        log1p = math.log1p
        rows: list[tuple[float, ...]] = []
        for positions in named:
            first = min(positions)
            in_body = 0
            first_in_body = text_length
            tables = lists = 0
            passing = True  # every mention on a line of figures or in a list of commodities
            for position in positions:
                if position >= body_start:
                    in_body += 1
                    if position < first_in_body:
                        first_in_body = position
                line_start = text.rfind("\n", 0, position) + 1
                on_table = figure_lines.get(line_start)
                if on_table is None:
                    on_table = figure_lines[line_start] = _is_figure_line(text, line_start)
                tables += on_table
                if listed is not None:
                    in_list = listed.get(position)
                    if in_list is None:
                        in_list = listed[position] = _in_list(position, hits)
                    lists += in_list
                    if passing and not (on_table or in_list):
                        passing = False
                elif passing and not on_table:
                    passing = False
            mentioned = len(positions)
            in_title = 1.0 if first < title_end else 0.0
            # a commodity in the headline where this term is not
            other_in_title = (
                1.0 if title_positions and not title_positions.issubset(positions) else 0.0
            )
            share = mentioned / commodity_mentions if hits else 1.0
            if share > 1.0:  # a term that is not a commodity, named more often than they are
                share = 1.0
            first_at = (first_in_body - body_start) / body_length if in_body else 1.0
            in_lead = 1.0 if in_body and first_in_body < lead_end else 0.0
            log_mentions = log1p(in_body)
            in_lists = lists / mentioned
            rows.append(
                (
                    in_title,
                    1.0 if first == 0 else 0.0,
                    title_only,
                    in_lead,
                    log_mentions,
                    share,
                    first_at,
                    log_commodities,
                    tables / mentioned,
                    in_lists,
                    1.0 if passing and not in_title else 0.0,
                    1.0 if mentioned >= most_named else 0.0,
                    1000 * mentioned / text_length,
                    log_length,
                    other_in_title,
                    log_title_commodities,
                    share * log_length,
                    first_at * log_length,
                    in_title * share,
                    in_title * in_lead,
                    in_lead * share,
                    in_title * log_mentions,
                    in_title * other_in_title,
                    in_lists * log_mentions,
                    # most headlines name no class
                    1.0
                    if not in_title
                    and class_positions
                    and not class_positions.isdisjoint(positions)
                    else 0.0,
                )
            )
        return rows

    def _shape_of(self) -> _Shape:
        """What relevance needs to know of the whole article, once the scan is done."""
        text = self.text
        body_start = self._title_length + 1
        lead_end = text.find("\n\n", body_start)
        title_end = self._title_length
        named: dict[str, int] = {}  # commodity → mentions
        title_positions: list[int] = []  # where the headline names commodities
        title_commodities: set[str] = set()
        for at, owner in self.commodity_hits:
            named[owner] = named.get(owner, 0) + 1
            if at < title_end:
                title_positions.append(at)
                title_commodities.add(owner)
        body_length = max(len(text) - body_start, 1)
        self._shape = _new_tuple(
            _Shape,
            (
                body_start,
                body_length,
                min(lead_end if lead_end >= 0 else len(text), body_start + LEAD_CHARACTERS),
                len(named) > LIST_FROM,
                math.log1p(len(named)),
                max(named.values(), default=0),
                math.log1p(body_length / 1000),
                frozenset(title_positions),
                math.log1p(len(title_commodities)),
                len(text),
                1.0 if len(text) == title_end else 0.0,
                self._class_positions(),
            ),
        )
        return self._shape

    def _class_positions(self) -> frozenset[int]:
        """Where the article names commodities of the classes its headline names."""
        title_end = self._title_length
        classes = _classes_named(self.text, self.scanned, title_end, self._lexicon)
        if not classes:
            return _NO_POSITIONS
        return frozenset(at for at, owner in self.commodity_hits if owner in classes)

    def meet(self, needs: tuple[int, ...]) -> bool:
        """Whether the terms of an item of several terms are named together: the headline names
        one of them, or one sentence names them all. A co-occurrence ("Brazil-coffee") is news
        about the two together, not a story on one that names the other in passing elsewhere
        (a dollar story with "Japanese investors" in one paragraph and "the U.S. trade deficit"
        in another is not about Japan's trade)."""
        found = self.found
        title_end = self._title_length
        for need in needs:
            if min(found[need]) < title_end:
                return True
        return self._best_sentence(needs)[1]

    def _evidence_of(self, needs: tuple[int, ...]) -> int:
        """A mention inside the sentence naming most of an item's terms: the body's first such
        sentence, else the title's."""
        return self._best_sentence(needs)[0]

    def _best_sentence(self, needs: tuple[int, ...]) -> tuple[int, bool]:
        """A mention inside the sentence naming most of an item's terms, the body's before the
        headline's, else the first; and whether that sentence names every term. Once for an
        item's terms."""
        best_sentence = self._best.get(needs)
        if best_sentence is None:
            named = [sorted(self.found[need]) for need in needs]
            positions = sorted(itertools.chain.from_iterable(named))
            best_sentence = self._best[needs] = self._naming_most(named, positions)
        return best_sentence

    def _naming_most(self, named: list[list[int]], positions: list[int]) -> tuple[int, bool]:
        """`_best_sentence` from the terms' mentions, sorted, and all of them in order. The
        body's sentences come first, then the headline's, each in order, so a later one is
        better only when it names more terms. A sentence never crosses a line: one is read only
        where its line names more terms than the best so far, and not where the line names one
        term (so does the sentence)."""
        text = self.text
        best_count, best = 0, 0
        body_from = bisect.bisect_right(positions, self._title_length)
        for mentions in (positions[body_from:], positions[:body_from]):
            line_end = -1
            on_line = 0  # terms named on the line of the mention
            for position in mentions:
                if position > line_end:
                    line_end = text.find("\n", position)
                    if line_end < 0:
                        line_end = len(text)
                    on_line = _named_in(named, text.rfind("\n", 0, position) + 1, line_end)
                if on_line <= best_count:
                    continue
                if on_line == 1:
                    count = 1
                else:
                    start, end = self._sentence(position)
                    count = _named_in(named, start, end)
                if count > best_count:
                    best_count, best = count, position
        return best, best_count == len(named)


def matched_text(title: str, body: str) -> str:
    """The text an article is matched in, which `Match.evidence_at` points into."""
    # not `body.strip()`, which copies the body: the same test, without a copy
    return f"{title}\n{body}" if body and not body.isspace() else title


def evidence_sentence(title: str, body: str, evidence_at: int) -> str:
    """The sentence a match's evidence is in, spaces collapsed; empty if the position is not
    in a sentence of this article (it was edited since)."""
    text = matched_text(title, body)
    if not 0 <= evidence_at < len(text) or text[evidence_at].isspace():
        return ""
    start, end = sentence_span_at(text, evidence_at)
    return collapse_whitespace(text[start:end])
