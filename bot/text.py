"""Text primitives shared by matching, ingest and rendering: tokens, sentences, normal forms."""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache


def _mark_ranges(first: int, last: int) -> str:
    """The combining marks from `first` to `last` as ranges of a regex character class."""
    marks = [
        c for c in range(first, last + 1) if unicodedata.category(chr(c)) in {"Mn", "Mc", "Me"}
    ]
    ranges = []
    for _, run in itertools.groupby(enumerate(marks), lambda pair: pair[1] - pair[0]):
        codes = [code for _, code in run]
        ranges.append(f"{chr(codes[0])}-{chr(codes[-1])}")
    return "".join(ranges)


# Combining marks are part of the word they are on: Devanagari writes most vowels as marks
# ("तांबा"), and an accent may come as a mark of its own. Python's \w does not count them, so
# they are added to the letters, with the zero-width (non-)joiners Indic scripts use in words.
MARKS = _mark_ranges(0x0300, 0x1FFF) + "\u200c\u200d"
# A word's letters: runs of letters/digits, each maybe followed by marks.
LETTERS = rf"[^\W_]+(?:[{MARKS}]+[^\W_]*)*"
NON_LETTER = re.compile(rf"[^\w{MARKS}]|_")
# A word is a run of letters; an apostrophe inside a word keeps it whole ("India's").
_WORD = re.compile(rf"{LETTERS}(?:['’]{LETTERS})*")
# Accents folded: the marks of Latin, Greek and Cyrillic letters, not those of Indic scripts
# ("कच्चा" without its virama would be another word).
_FOLDED_MARKS = re.compile(r"[\u0300-\u036f]")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# C0 and C1 controls but tab and newline, and the marks that reorder text (bidi overrides).
_CONTROL_CHARACTERS: dict[int, str | None] = {
    **{code: None for code in [*range(0x20), *range(0x7F, 0xA0)] if chr(code) not in "\t\n"},
    **{ord(mark): None for mark in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff"},
    **{code: None for code in range(0x2066, 0x206A)},
    0x0D: "\n",
    0x2028: "\n",
    0x2029: "\n",
}

# Words a sentence may end in with a period that does not end the sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "inc",
        "corp",
        "co",
        "ltd",
        "jr",
        "sr",
        "vs",
        "no",
        "gov",
        "sen",
        "rep",
        "gen",
        "jan",
        "feb",
        "mar",
        "apr",
        "aug",
        "sept",
        "sep",
        "oct",
        "nov",
        "dec",
        "approx",
        "est",
        "fig",
        "e.g",
        "i.e",
        "etc",
    }
)
_LINE = re.compile(r"[^\n]*\S[^\n]*")
# "[.!?][.!?]*" rather than "[.!?]+": a pattern starting with a plain character class lets the
# regex engine skip ahead to candidates fast.
# "।" and "॥" (danda, double danda) end Hindi sentences.
_SENTENCE_END = re.compile(r"[.!?।॥][.!?।॥]*[\"'”’)\]]*\s+")
_CLOSING = ".!?।॥\"'”’)]"  # what may follow the last word of a sentence
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its surface form, its normal form and where it starts."""

    surface: str
    norm: str
    start: int

    @property
    def literal(self) -> str:
        """The word in lower case, not singularized: tells "Americas" from "America"."""
        return _POSSESSIVE.sub("", self.surface).lower()

    @property
    def is_capitalised(self) -> bool:
        return self.surface[:1].isupper()

    @property
    def is_upper(self) -> bool:
        """True for an all-caps word, allowing a plural 's' ("REEs")."""
        core = (
            self.surface[:-1]
            if len(self.surface) > 2 and self.surface.endswith("s")
            else self.surface
        )
        return core.isupper()


def singular(word: str) -> str:
    """A conservative singular of a lower-case word: earths → earth, tonnes → tonne."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


@lru_cache(maxsize=1 << 16)  # news prose repeats its words: most calls are hits
def normalize_word(word: str) -> str:
    """The form words are compared in: accents folded, lower case, no possessive, singular."""
    folded = _FOLDED_MARKS.sub("", unicodedata.normalize("NFKD", word))
    return singular(_POSSESSIVE.sub("", folded).lower().replace("’", "'"))


def tokenize(text: str) -> list[Token]:
    """Split a text into word tokens; punctuation and hyphens separate words."""
    return [Token(m.group(), normalize_word(m.group()), m.start()) for m in _WORD.finditer(text)]


def words_of(text: str) -> list[str]:
    """The words of a text as written, as `tokenize` splits them."""
    return _WORD.findall(text)


def norm_phrase(text: str) -> tuple[str, ...]:
    """The normal form of a phrase, as a tuple of normalized words."""
    return tuple(token.norm for token in tokenize(text))


def search_words(title: str, body: str) -> str:
    """An article's words in normal form, space-separated: what full-text search indexes."""
    return " ".join(map(normalize_word, words_of(f"{title}\n{body}")))


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


# Ingest splits each article for its facts, its story's lead and its names: a small cache keeps
# that to once per article.
@lru_cache(maxsize=8)
def split_sentences(text: str) -> tuple[str, ...]:
    """Split prose into sentences, keeping abbreviations such as "U.S." inside a sentence."""
    return tuple(collapse_whitespace(text[start:end]) for start, end in sentence_spans(text))


@lru_cache(maxsize=8)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where each sentence of a text starts and ends; a line break always ends a sentence."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start, line_end = line.span()
        for end in _sentence_ends(text, start, line_end):
            spans.append(_trimmed(text, start, end))
            start = end
        if text[start:line_end].strip():
            spans.append(_trimmed(text, start, line_end))
    return tuple(spans)


def sentence_span_at(text: str, position: int) -> tuple[int, int]:
    """The span `sentence_spans(text)` gives the sentence holding the character at `position`,
    which must not be whitespace; only that character's line is read, up to the sentence's end.
    """
    start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    if line_end < 0:
        line_end = len(text)
    for end in _sentence_ends(text, start, line_end):
        if end > position:
            return _trimmed(text, start, end)
        start = end
    return _trimmed(text, start, line_end)


def _sentence_ends(text: str, line_start: int, line_end: int) -> Iterator[int]:
    """Where sentences of one line end: after . ! ? or a danda (and closing quotes), before a
    capital, a letter without case, a digit or an opening quote, unless the word before is an
    abbreviation ("U.S.", "Mr.")."""
    start = line_start
    for end_match in _SENTENCE_END.finditer(text, line_start, line_end):
        end = end_match.end()
        if end < line_end:
            following = text[end]
            # a capital, or a letter of a script without case (Devanagari)
            capital = following.isalpha() and not following.islower()
            if not (capital or following.isdigit() or following in "\"“'‘(¿¡"):
                continue
        if _ends_in_abbreviation(text, start, end_match.start() + 1):
            continue
        yield end
        start = end


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace at either end."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def _ends_in_abbreviation(text: str, start: int, end: int) -> bool:
    """Whether the sentence so far, text[start:end], ends in an abbreviation ("U.S.", "Mr.");
    only its last word is read."""
    while end > start and text[end - 1] in _CLOSING:
        end -= 1
    space = text.rfind(" ", start, end)
    last_word = text[space + 1 if space >= 0 else start : end]
    if "." not in last_word:  # most words: a single letter is an initial, else look it up
        if len(last_word) == 1:
            return last_word.isascii() and last_word.isalpha()
        return last_word.lower() in _ABBREVIATIONS
    if _INITIALS.fullmatch(last_word + "."):
        return True  # initials and dotted abbreviations: U.S., U.K., e.g.
    return last_word.lower().rstrip(".") in _ABBREVIATIONS


def content_hash(title: str, body: str) -> str:
    """A key that is equal for articles whose title and body differ only in case and spacing."""
    normal = collapse_whitespace(f"{title}\n{body}").casefold()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def strip_control_characters(text: str) -> str:
    """The text without control characters (tabs and newlines stay; a carriage return or a
    Unicode line separator becomes a newline) and without bidirectional overrides: they mean
    nothing in an article and would reach the database and Telegram's messages."""
    return text.replace("\r\n", "\n").translate(_CONTROL_CHARACTERS)


def printable(text: str) -> str:
    """Text safe to print: control characters (terminal escapes) shown as \\x.. escapes."""
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode() for c in text
    )


def utf16_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """Cut text at a word boundary to at most `limit` UTF-16 code units (as Telegram counts
    lengths), marking the cut with '…'."""
    text = collapse_whitespace(text)
    if len(text) * 2 <= limit or utf16_length(text) <= limit:
        return text
    head = text.encode("utf-16-le")[: 2 * (limit - 1)].decode("utf-16-le", errors="ignore")
    cut = head.rsplit(" ", 1)[0].rstrip(",;:–-")
    return cut + "…"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun in agreement: "1 article", "2 articles", "0 entries" (pass the
    plural when adding an s would not make it)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
