"""Watch items: what a user types after /subscribe, parsed into terms to match.

Grammar: `TERM[-TERM…] [-EXCLUDED | -"EXCLUDED PHRASE"]…`
- a term is a word or phrase (`copper`, `rare earths`); known names resolve to lexicon concepts
  with their aliases (`U.S.` → US) and group members (`rare earths` → neodymium, …);
- `India-Chile` is a co-occurrence: every term must appear in the same article, unless the
  hyphenated whole is itself a known name (`rare-earth`);
- `-word` after a space excludes articles containing that word or quoted phrase.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.lexicon import Concept, Lexicon, Surface
from bot.text import collapse_whitespace, tokenize

MAX_TOPIC_LENGTH = 100
MAX_TERMS = 5
MAX_EXCLUSIONS = 5

_PIECE = re.compile(r'(?:(?<=\s)|^)(-?)(?:"([^"]*)"|(\S+))')


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
    terms: tuple[Term, ...]
    exclusions: tuple[Term, ...] = ()


def validate_topic_text(text: str) -> str:
    """Return the topic with whitespace collapsed, or raise TopicError with a short reason."""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n" for ch in text):
        raise TopicError("A topic can't contain control characters.")
    text = collapse_whitespace(text)
    if not text:
        raise TopicError("Please name a topic.")
    if len(text) > MAX_TOPIC_LENGTH:
        raise TopicError(f"A topic can be at most {MAX_TOPIC_LENGTH} characters long.")
    if not tokenize(text):
        raise TopicError("A topic needs at least one letter or digit.")
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
            f"Written out in full this topic is {len(item.key)} characters long, and a topic "
            f"can be at most {MAX_TOPIC_LENGTH}. Try fewer exclusions or shorter names."
        )
    try:
        stored = _parse(item.key, lexicon)
    except TopicError:
        stored = None
    if stored is None or stored.key != item.key:
        raise TopicError("I can't store this topic so that it matches again. Try rephrasing it.")
    return item


def _parse(text: str, lexicon: Lexicon) -> WatchItem:
    text = validate_topic_text(text)
    includes: list[str] = []
    exclusions: list[str] = []
    for match in _PIECE.finditer(text):
        negated, quoted, word = match.groups()
        piece = quoted if quoted is not None else word
        if negated and (quoted is not None or word):
            exclusions.append(piece)
        else:
            includes.append(piece)
    include_text = " ".join(includes)
    if not tokenize(include_text):
        raise TopicError("A topic needs at least one word to look for, not only exclusions.")
    terms = tuple(_term(part, lexicon) for part in _split_cooccurrence(include_text, lexicon))
    excluded = tuple(_term(part, lexicon) for part in exclusions if tokenize(part))
    if len(terms) > MAX_TERMS:
        raise TopicError(f"A topic can combine at most {MAX_TERMS} terms.")
    if len(excluded) > MAX_EXCLUSIONS:
        raise TopicError(f"A topic can have at most {MAX_EXCLUSIONS} exclusions.")
    key = "-".join(term.display for term in terms)
    for term in sorted(excluded, key=lambda t: t.display.casefold()):
        key += f' -"{term.display}"' if " " in term.display else f" -{term.display}"
    return WatchItem(key, terms, excluded)


def _split_cooccurrence(text: str, lexicon: Lexicon) -> list[str]:
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


def _term(text: str, lexicon: Lexicon) -> Term:
    concept = lexicon.lookup(text)
    if concept is None:
        return Term(text, None, Surface.of(text, proper=True))
    typed_lower = text == text.lower()
    if concept.proper and typed_lower:
        return Term(concept.name.lower(), concept, None, relaxed=True)
    return Term(concept.name, concept, None)
