"""Watch items: what a user types after /subscribe, parsed into terms to match.

Grammar: `TERM[-TERM…] [-EXCLUDED | -"EXCLUDED PHRASE"]…`
- a term is a word or phrase (`copper`, `rare earths`); known names resolve to lexicon concepts
  with their aliases (`U.S.` → US) and group members (`rare earths` → neodymium, …);
- `India-Chile` is a co-occurrence: every term must appear in the same article, unless the
  hyphenated whole is itself a known name (`rare-earth`);
- `-word` after a space excludes articles containing that word or quoted phrase.

Beyond these, a topic may be a query (`bot.query`, which parses every topic): `OR`, `AND`,
`NEAR`, parentheses, `title:`, quoted exact phrases and `/regular expressions/`.

Before an input is parsed, `split_topics` cuts `copper, gold` into two topics, and `ambiguity`
catches several topics typed as one (`India Chile`, `copper or gold`), which would be read as
a phrase no article contains: the user is asked whether they are meant together or apart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.i18n import _
from bot.lexicon import Concept, Lexicon, Surface
from bot.text import collapse_whitespace, tokenize

if TYPE_CHECKING:
    from bot.query import Node

MAX_TOPIC_LENGTH = 100
MAX_TERMS = 5
MAX_EXCLUSIONS = 5

_PIECE = re.compile(r'(?:(?<=\s)|^)(-?)(?:"([^"]*)"|(\S+))')
# A comma outside quotes separates topics, except inside a number (`1,000`).
_TOPIC_SEPARATOR = re.compile(r',(?!(?<=\d,)\d)(?=(?:[^"]*"[^"]*")*[^"]*$)')
_CONNECTOR = re.compile(r"\s+(and|or|&|\+)\s+", re.IGNORECASE)
_QUERY_WORD = re.compile(r"(?:^|\s)(?:(?:OR|AND|NEAR)(?=\s|$)|title:|/)")  # `bot.query` syntax
_MESSAGE_WORD = re.compile(r"[^\s\-–—,;:!?()\"“”]+")
_LONGEST_NAME = 4  # words


class TopicError(ValueError):
    """A watch item that cannot be accepted; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class Term:
    """One thing that must (or, as an exclusion, must not) appear in an article."""

    display: str
    concept: Concept | None  # None for a plain word or phrase the lexicon does not know
    surface: Surface | None  # the typed form, for a plain term
    relaxed: bool = False  # a proper-noun concept typed in lower case matches any case


@dataclass(frozen=True, slots=True)
class WatchItem:
    key: str  # canonical text: what is stored and shown
    terms: tuple[Term, ...]  # of a query: the words and phrases it names
    exclusions: tuple[Term, ...] = ()
    query: Node | None = None  # a query beyond today's form (`bot.query`), matched as written


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """Several topics typed as one: meant in the same article (`together`) or each on its own
    (`each`)? Exclusions typed with them go with every reading."""

    typed: str
    together: str  # `India-Chile`
    each: tuple[str, ...]  # `India`, `Chile`
    phrase: bool  # joined by a lower-case word (`oil and gas`), so also a phrase to offer


def split_topics(text: str) -> list[str]:
    """The topics of an input, separated by commas: `copper, gold` → `copper`, `gold`."""
    return [part.strip() for part in _TOPIC_SEPARATOR.split(text) if part.strip()]


def ambiguity(text: str, lexicon: Lexicon) -> Ambiguous | None:
    """Whether `text` is several topics typed side by side: known names with spaces between
    them (`India Chile`), or known names joined by a lower-case and/or, & or + (`copper or
    gold`, `oil and gas`: also a phrase to offer). A known
    name (`Saudi Arabia`, `Trinidad and Tobago`), a phrase with an unknown word (`copper price`),
    a quoted phrase, a co-occurrence (`India-Chile`) and a query are not ambiguous."""
    if _QUERY_WORD.search(text):
        return None
    includes: list[str] = []
    suffix = ""
    for match in _PIECE.finditer(collapse_whitespace(text)):
        negated, quoted, word = match.groups()
        if negated and (quoted is not None or word):
            suffix += f" {match.group()}"
        elif quoted is not None or "-" in word:
            return None
        else:
            includes.append(word)
    words = " ".join(includes)
    if len(includes) < 2 or lexicon.lookup(words) is not None:
        return None
    connectors = _CONNECTOR.findall(words)
    if connectors:
        parts = [part for part in _CONNECTOR.split(words)[::2] if tokenize(part)]
        if len(parts) < 2 or not all(lexicon.lookup(p) for p in parts):
            return None
        phrase = True
    else:
        parts = _known_names(includes, lexicon)
        phrase = False
        if len(parts) < 2:
            return None
    return Ambiguous(
        typed=text,
        together="-".join(parts) + suffix,
        each=tuple(part + suffix for part in parts),
        phrase=phrase,
    )


def topic_in_text(text: str, lexicon: Lexicon) -> str | None:
    """The topic a plain message is about, from the known names in it: `copper price?` →
    `copper`, `India and Chile news` → `India-Chile`; None when it names nothing known."""
    words = [word.strip(".'’") for word in _MESSAGE_WORD.findall(text)]
    words = [word for word in words if word]
    names: list[str] = []
    i = 0
    while i < len(words) and len(names) < MAX_TERMS:
        for j in range(min(len(words), i + _LONGEST_NAME), i, -1):
            name = " ".join(words[i:j])
            concept = lexicon.lookup(name)
            if concept is None or (name.islower() and concept.name.isupper()):
                continue  # `us` in a sentence is not the US
            if not any(lexicon.lookup(n) == concept for n in names):
                names.append(name)
            i = j
            break
        else:
            i += 1
    if not names:
        return None
    try:
        return parse_watch_item("-".join(names), lexicon).key
    except TopicError:
        return None


def _known_names(words: list[str], lexicon: Lexicon) -> list[str]:
    """`words` cut into known names, longest first (`United States China` → `United States`,
    `China`); empty unless every word belongs to one."""
    names: list[str] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            if lexicon.lookup(" ".join(words[i:j])) is not None:
                names.append(" ".join(words[i:j]))
                i = j
                break
        else:
            return []
    return names


def validate_topic_text(text: str) -> str:
    """Return the topic with whitespace collapsed, or raise TopicError with a short reason."""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n" for ch in text):
        raise TopicError(_("A topic can't contain control characters."))
    text = collapse_whitespace(text)
    if not text:
        raise TopicError(_("Please name a topic."))
    if len(text) > MAX_TOPIC_LENGTH:
        raise TopicError(
            _("A topic can be at most {limit} characters long.").format(limit=MAX_TOPIC_LENGTH)
        )
    if not tokenize(text):
        raise TopicError(_("A topic needs at least one letter or digit."))
    return text


def parse_watch_item(text: str, lexicon: Lexicon) -> WatchItem:
    """Parse a typed topic into a watch item, or raise TopicError. The item's key is what is
    stored and read back at every ingest, so it must itself be a valid topic that reads as
    the same item: names written out in full may make it longer than what was typed."""
    item = _parse(text, lexicon)
    if item.key == text:
        return item
    if len(item.key) > MAX_TOPIC_LENGTH:
        raise TopicError(
            _(
                "Written out in full this topic is {length} characters long, and a topic "
                "can be at most {limit}. Try fewer exclusions or shorter names."
            ).format(length=len(item.key), limit=MAX_TOPIC_LENGTH)
        )
    try:
        stored = _parse(item.key, lexicon)
    except TopicError:
        stored = None
    if stored is None or stored.key != item.key:
        raise TopicError(_("I can't store this topic so that it matches again. Try rephrasing it."))
    return item


def _parse(text: str, lexicon: Lexicon) -> WatchItem:
    from bot import query  # the query language is built on the terms of this module

    node = query.parse(text, lexicon)
    key = query.to_text(node)
    if isinstance(node, query.Without) and isinstance(node.base, query.Words):
        return WatchItem(key, node.base.terms, node.exclusions)
    if isinstance(node, query.Words):
        return WatchItem(key, node.terms)
    return WatchItem(key, query.positive_terms(node), (), node)


def split_cooccurrence(text: str, lexicon: Lexicon) -> list[str]:
    """Split `A-B-C` into terms, keeping hyphenated known names (and short affixes) whole."""
    segments = [collapse_whitespace(s) for s in text.split("-")]
    segments = [s for s in segments if tokenize(s)]
    parts: list[str] = []
    i = 0
    while i < len(segments):
        for j in range(len(segments), i, -1):
            candidate = " ".join(segments[i:j])
            if j - i == 1 or lexicon.lookup(candidate) is not None:
                parts.append(candidate)
                i = j
                break
    merged: list[str] = []
    for part in parts:  # `e-commerce`, `co-op`: a short piece is an affix, not a term of its own
        if merged and (len(part) < 3 or len(merged[-1]) < 3) and lexicon.lookup(part) is None:
            merged[-1] = f"{merged[-1]}-{part}"
        else:
            merged.append(part)
    return merged


def term_of(text: str, lexicon: Lexicon) -> Term:
    concept = lexicon.lookup(text)
    if concept is None:
        return Term(text, None, Surface.of(text, proper=True))
    typed_lower = text == text.lower() != text.upper()  # a name in Devanagari has no case
    if concept.proper and typed_lower:
        return Term(concept.name.lower(), concept, None, relaxed=True)
    return Term(concept.name, concept, None)
