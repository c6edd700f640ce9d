"""The query language of watch items: one tokenizer and recursive-descent parser that turns what
a user types into a tree of named nodes, a printer that writes the tree back as its canonical
key (`parse(print(q)) == q`), and the evaluation of a tree on the hits of one matcher scan.

Grammar (NEAR binds tighter than AND, AND tighter than OR):

    group    := (exclusion | or)…          exclusions apply to the whole group they are in
    or       := and ("OR" and)…
    and      := near ("AND" near)…
    near     := unit ("NEAR" unit)…         every operand in one sentence
    unit     := words | primary
    primary  := "(" group ")" | "title:" (words | primary) | '"exact phrase"' | "/regex/"
    words    := WORD…                       today's form: a word or phrase, `A-B` co-occurrence
    exclusion:= "-" (WORD | '"phrase"')     `-Copperfield`, `-"copper wire"`

Words keep today's meaning: names resolve to lexicon concepts with their aliases, demonyms and
members, and `India-Chile` needs both anywhere in the article. A typed text without OR, AND or
NEAR reads parentheses as characters of its words, as before the language had them, so every
stored key still reads as the item it was. A plain item (words and exclusions) prints exactly
as its key always did.

Regular expressions are RE2 (linear time, no backreferences), matched without regard to case,
with a memory cap per pattern; the matcher runs them through RE2's own prefilter
(`re2.Filter`: one pass over the article for the literals every pattern needs), so a pattern
costs an article only when its literals are there. A pattern without such a literal runs on
every article (a few at a time, in one `re2.Set` pass): `MAX_UNFILTERED_PER_CHAT` bounds those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import re2

from bot.i18n import _, ngettext
from bot.lexicon import Lexicon, Surface
from bot.text import tokenize
from bot.topics import (
    MAX_EXCLUSIONS,
    MAX_TERMS,
    Term,
    TopicError,
    split_cooccurrence,
    term_of,
    validate_topic_text,
)

MAX_LEAVES = 10  # words, phrases and patterns in one query
MAX_DEPTH = 4  # nested parentheses
REGEX_MAX_MEM = 1 << 20  # bytes of compiled program per pattern (RE2's default is 8 MiB)
MAX_REGEX_ITEMS_PER_CHAT = 5
MAX_UNFILTERED_PER_CHAT = 1  # patterns without a literal: run on every article
MAX_REGEX_HITS = 20  # positions of one pattern in one article, for evidence and relevance
MIN_LITERAL = 3  # characters of a literal worth prefiltering on
SET_SIZE = 16  # patterns without a literal, run together in one pass
SET_MAX_MEM = 8 << 20  # bytes for the automaton of SET_SIZE of them

OPERATORS = ("OR", "AND", "NEAR")


@dataclass(frozen=True, slots=True)
class Words:
    """Today's form: a word or phrase, or several joined by `-` that are named together: in one
    sentence, or one of them in the headline and the others anywhere (`bot.matching`)."""

    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Exact:
    """A quoted phrase: these words in this order, no aliases, members or other forms."""

    term: Term


@dataclass(frozen=True, slots=True)
class Pattern:
    """A regular expression, as typed between the slashes."""

    source: str


@dataclass(frozen=True, slots=True)
class Title:
    """The operand in the headline."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Near:
    """Every operand in one sentence."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every operand in the article."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one operand in the article."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Without:
    """The base, in an article that names none of the exclusions."""

    base: Node
    exclusions: tuple[Term, ...]


Node = Words | Exact | Pattern | Title | Near | AllOf | AnyOf | Without


# --- printing -------------------------------------------------------------------------------

_PRECEDENCE = {AnyOf: 1, AllOf: 2, Near: 3}
_JOINER = {AnyOf: " OR ", AllOf: " AND ", Near: " NEAR "}


def to_text(node: Node) -> str:
    """The canonical text of a query: what is stored and shown."""
    if isinstance(node, Words):
        return "-".join(term.display for term in node.terms)
    if isinstance(node, Exact):
        return f'"{node.term.display}"'
    if isinstance(node, Pattern):
        return f"/{node.source}/"
    if isinstance(node, Title):
        return "title:" + _operand_text(node.operand, 4)
    if isinstance(node, Without):  # an operator's operands in parentheses, for the reader
        text = _operand_text(node.base, 4)
        for term in node.exclusions:
            text += f' -"{term.display}"' if " " in term.display else f" -{term.display}"
        return text
    level = _PRECEDENCE[type(node)]
    return _JOINER[type(node)].join(_operand_text(op, level + 1) for op in node.operands)


def _operand_text(node: Node, level: int) -> str:
    """An operand, in parentheses unless it binds at least as tightly as `level`."""
    own = _PRECEDENCE.get(type(node), 0 if isinstance(node, Without) else 5)
    text = to_text(node)
    return text if own >= level else f"({text})"


def leaves(node: Node) -> Iterator[Words | Exact | Pattern]:
    if isinstance(node, Words | Exact | Pattern):
        yield node
    elif isinstance(node, Title):
        yield from leaves(node.operand)
    elif isinstance(node, Without):
        yield from leaves(node.base)
    else:
        for operand in node.operands:
            yield from leaves(operand)


def patterns(node: Node) -> list[str]:
    return [leaf.source for leaf in leaves(node) if isinstance(leaf, Pattern)]


def positive_terms(node: Node) -> tuple[Term, ...]:
    """The words and phrases a query looks for, each once, in order."""
    terms: dict[Term, None] = {}
    for leaf in leaves(node):
        if isinstance(leaf, Words):
            terms.update(dict.fromkeys(leaf.terms))
        elif isinstance(leaf, Exact):
            terms[leaf.term] = None
    return tuple(terms)


def all_exclusions(node: Node) -> Iterator[Term]:
    if isinstance(node, Without):
        yield from node.exclusions
        yield from all_exclusions(node.base)
    elif isinstance(node, Title):
        yield from all_exclusions(node.operand)
    elif isinstance(node, Near | AllOf | AnyOf):
        for operand in node.operands:
            yield from all_exclusions(operand)


# --- full-text search ----------------------------------------------------------------------

Phrases = list[tuple[str, ...]]  # normalized words of each phrase, any of which will do


def term_phrases(term: Term, lexicon: Lexicon) -> Phrases:
    """The phrases that can spell a term: a concept's names, aliases and members."""
    if term.concept is None:
        assert term.surface is not None
        return [term.surface.words]
    phrases = {
        surface.words
        for concept_id in lexicon.expand(term.concept.id)
        for surface in lexicon.concepts[concept_id].surfaces
    }
    return sorted(phrases)


def search_groups(node: Node, lexicon: Lexicon) -> list[Phrases]:
    """Groups of phrases every article the query matches contains (each group: any of its
    phrases), for a full-text search; empty when the query names no searchable word (a
    pattern's literals are not whole words)."""
    return _groups(node, lexicon) or []


def _groups(node: Node, lexicon: Lexicon) -> list[Phrases] | None:
    if isinstance(node, Words):
        return [term_phrases(term, lexicon) for term in node.terms]
    if isinstance(node, Exact):
        return [term_phrases(node.term, lexicon)]
    if isinstance(node, Pattern):
        return None
    if isinstance(node, Title):
        return _groups(node.operand, lexicon)
    if isinstance(node, Without):
        return _groups(node.base, lexicon)
    found = [_groups(operand, lexicon) for operand in node.operands]
    if isinstance(node, AnyOf):  # each operand needs its first group: one of those
        if any(not groups for groups in found):
            return None
        return [[phrase for groups in found if groups for phrase in groups[0]]]
    groups = [group for operand in found if operand for group in operand]
    return groups or None


# --- tokens ---------------------------------------------------------------------------------


class _Token(NamedTuple):
    kind: str  # "word", "(", ")", "-", "quoted", "regex", "title", "OR", "AND", "NEAR"
    text: str


def _tokens(text: str) -> list[_Token]:
    """The tokens of a validated text (single spaces). Parentheses are tokens only when the
    text has an operator; a `-` is an exclusion when it starts a word."""
    grouping = any(word in OPERATORS for word in text.split(" "))
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
        elif ch == "(" and grouping:
            tokens.append(_Token("(", "("))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise TopicError(
                    _("This quote is never closed: {quote}.").format(quote=_shown(text[i:]))
                )
            tokens.append(_Token("quoted", text[i + 1 : end]))
            i = end + 1
        elif ch == "/":
            end = _regex_end(text, i)
            tokens.append(_Token("regex", text[i + 1 : end]))
            i = end + 1
        elif ch == "-" and i + 1 < n and text[i + 1] != " " and (not tokens or text[i - 1] in " ("):
            tokens.append(_Token("-", "-"))
            i += 1
        elif text.startswith("title:", i) and (i == 0 or text[i - 1] in " ("):
            tokens.append(_Token("title", "title:"))
            i += len("title:")
        else:
            end = text.find(" ", i)
            end = n if end < 0 else end
            word = text[i:end]
            closing = 0
            if grouping:
                while word.endswith(")"):
                    word, closing = word[:-1], closing + 1
            if word:
                tokens.append(_Token(word if word in OPERATORS else "word", word))
            tokens.extend(_Token(")", ")") for _ in range(closing))
            i = end
    return tokens


def _regex_end(text: str, start: int) -> int:
    """Where the regular expression opened at `start` closes: a `/` that is not escaped and
    ends a word (a space, a closing parenthesis or the end follows)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "/" and (i + 1 == len(text) or text[i + 1] in " )"):
            return i
        i += 1
    raise TopicError(
        _("This regular expression is never closed with a /: {pattern}.").format(
            pattern=_shown(text[start:])
        )
    )


def _shown(text: str, limit: int = 30) -> str:
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}…'"


# --- parsing --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, lexicon: Lexicon) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.lexicon = lexicon
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def after(self, read: int | None = None) -> str:
        """Where the parser is, for an error: after the last token read (or `read` tokens)."""
        read = self.at if read is None else read
        if read == 0:
            return _("at the start")
        previous = self.tokens[read - 1]
        shown = {"quoted": f'"{previous.text}"', "regex": f"/{previous.text}/"}
        return _("after {token}").format(token=_shown(shown.get(previous.kind, previous.text)))

    def query(self) -> Node:
        node = self.group()
        token = self.peek()
        if token is not None:
            assert token.kind == ")"
            raise TopicError(
                _("Unbalanced parenthesis {where}: nothing opened it.").format(where=self.after())
            )
        return node

    def group(self) -> Node:
        exclusions: list[Term] = []
        base = self.or_(exclusions) if self.starts_unit(exclusions) else None
        if base is None:
            if exclusions:
                raise TopicError(
                    _("A topic needs at least one word to look for, not only exclusions.")
                )
            raise TopicError(
                _("Expected a word, phrase or (…) {where}.").format(where=self.after())
            )
        if not exclusions:
            return base
        return Without(base, tuple(sorted(exclusions, key=lambda t: t.display.casefold())))

    def starts_unit(self, exclusions: list[Term]) -> bool:
        """Read exclusions; whether a unit comes next."""
        while (token := self.peek()) is not None and token.kind == "-":
            self.take()
            excluded = self.peek()
            if excluded is None or excluded.kind not in ("word", "quoted"):
                raise TopicError(
                    _("Expected a word or quoted phrase to leave out {where}.").format(
                        where=self.after()
                    )
                )
            self.take()
            if tokenize(excluded.text):
                exclusions.append(term_of(excluded.text, self.lexicon))
        token = self.peek()
        return token is not None and token.kind in ("word", "quoted", "regex", "title", "(")

    def binary(
        self, operator: str, operand: Callable[[list[Term]], Node], exclusions: list[Term]
    ) -> list[Node]:
        operands = [operand(exclusions)]
        while (token := self.peek()) is not None and token.kind == operator:
            self.take()
            if not self.starts_unit(exclusions):
                raise TopicError(
                    _("Expected a word, phrase or (…) {where}.").format(where=self.after())
                )
            operands.append(operand(exclusions))
        return operands

    def or_(self, exclusions: list[Term]) -> Node:
        operands = self.binary("OR", self.and_, exclusions)
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def and_(self, exclusions: list[Term]) -> Node:
        operands = self.binary("AND", self.near, exclusions)
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def near(self, exclusions: list[Term]) -> Node:
        operands = self.binary("NEAR", self.unit, exclusions)
        if len(operands) == 1:
            return operands[0]
        for operand in operands:
            if not _in_one_sentence(operand):
                raise TopicError(
                    _(
                        "NEAR joins words, phrases, /patterns/ and (… OR …) of them, not {operand}."
                    ).format(operand=_shown(to_text(operand)))
                )
        return Near(tuple(operands))

    def unit(self, exclusions: list[Term]) -> Node:
        """Words side by side, or one primary; exclusions among them go to the group."""
        node: Node | None = None
        words: list[str] = []
        while True:
            token = self.peek()
            if token is None or token.kind in (*OPERATORS, ")"):
                break
            if token.kind == "-":
                self.starts_unit(exclusions)
                continue
            if node is not None or (words and token.kind != "word"):
                following = {"quoted": f'"{token.text}"', "regex": f"/{token.text}/"}
                raise TopicError(
                    _("Put OR, AND or NEAR between {first} and {second}.").format(
                        first=_shown(self.written(node, words)),
                        second=_shown(following.get(token.kind, token.text)),
                    )
                )
            if token.kind == "word":
                words.append(self.take().text)
            else:
                node = self.primary()
        if words:
            return self.words(words)
        assert node is not None  # `starts_unit` said one comes
        return node

    def written(self, node: Node | None, words: list[str]) -> str:
        return to_text(node) if node is not None else " ".join(words)

    def words(self, words: list[str]) -> Words:
        text = " ".join(words)
        if not tokenize(text):
            raise TopicError(_("{text} needs a letter or digit.").format(text=_shown(text)))
        parts = split_cooccurrence(text, self.lexicon)
        if len(parts) > MAX_TERMS:
            raise TopicError(
                _("A topic can combine at most {limit} terms.").format(limit=MAX_TERMS)
            )
        return Words(tuple(term_of(part, self.lexicon) for part in parts))

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "quoted":
            if not tokenize(token.text):
                raise TopicError(
                    _('The phrase "{phrase}" needs a letter or digit.').format(phrase=token.text)
                )
            return Exact(
                Term(token.text, None, Surface.of(token.text, proper=True, singular_only=True))
            )
        if token.kind == "regex":
            check_pattern(token.text)
            return Pattern(token.text)
        if token.kind == "title":
            following = self.peek()
            if following is None or following.kind not in ("word", "quoted", "regex", "("):
                raise TopicError(_("Expected a word, phrase or (…) after 'title:'."))
            if following.kind != "word":
                return Title(self.primary())
            words = []
            while (following := self.peek()) is not None and following.kind == "word":
                words.append(self.take().text)
            return Title(self.words(words))
        assert token.kind == "("
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TopicError(
                _("A query can nest at most {limit} parentheses.").format(limit=MAX_DEPTH)
            )
        opened = self.after(self.at - 1)
        inner = self.group()
        closing = self.peek()
        if closing is None or closing.kind != ")":
            raise TopicError(
                _(
                    "Unbalanced parenthesis {where}: the one opened {opened} is never closed."
                ).format(where=self.after(), opened=opened)
            )
        self.take()
        self.depth -= 1
        return inner


def _in_one_sentence(node: Node) -> bool:
    """Whether a node can be found within one sentence: a term, an exact phrase, a pattern, a
    headline operand of those, or an OR of them."""
    if isinstance(node, Words):
        return len(node.terms) == 1
    if isinstance(node, Exact | Pattern):
        return True
    if isinstance(node, Title):
        return _in_one_sentence(node.operand)
    if isinstance(node, AnyOf):
        return all(_in_one_sentence(operand) for operand in node.operands)
    return False


def parse(text: str, lexicon: Lexicon) -> Node:
    """The query a typed text says, or TopicError with a message that points at the problem."""
    node = _Parser(validate_topic_text(text), lexicon).query()
    if sum(1 for _ in leaves(node)) > MAX_LEAVES:
        raise TopicError(
            _("A query can look for at most {limit} words, phrases and patterns.").format(
                limit=MAX_LEAVES
            )
        )
    if sum(1 for _ in all_exclusions(node)) > MAX_EXCLUSIONS:
        raise TopicError(
            _("A topic can have at most {limit} exclusions.").format(limit=MAX_EXCLUSIONS)
        )
    return node


# --- regular expressions --------------------------------------------------------------------


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = REGEX_MAX_MEM
    options.log_errors = False
    return options


_PROBES = ("", "a", " ", "a a", "\n", "0")  # a pattern that matches none of these empty is
# not one that matches everywhere (`a*`, `\b`, `(?:)`)


def check_pattern(source: str) -> None:
    """TopicError unless RE2 compiles the pattern within its memory cap and it cannot match an
    empty text (it would match every article)."""
    if not source:
        raise TopicError(_("A regular expression between the slashes can't be empty."))
    try:
        compiled = re2.compile(source, _options())
    except re2.error as error:
        reason = error.args[0] if error.args else b""
        reason = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise TopicError(
            _("The regular expression /{pattern}/ can't be used: {reason}.").format(
                pattern=source, reason=reason or _("RE2 cannot read it")
            )
        ) from None
    if any(
        (found := compiled.search(probe)) is not None and not found.group() for probe in _PROBES
    ):
        raise TopicError(
            _("The regular expression /{pattern}/ matches an empty text: every article.").format(
                pattern=source
            )
        )


def pattern_sources(key: str) -> list[str]:
    """The regular expressions of a stored key, read without the lexicon."""
    try:
        return [token.text for token in _tokens(key) if token.kind == "regex"]
    except TopicError:
        return []


def check_pattern_room(stored: list[str], key: str) -> None:
    """TopicError when a chat watching the `stored` keys may not add `key`: at most
    MAX_REGEX_ITEMS_PER_CHAT items with regular expressions, and at most
    MAX_UNFILTERED_PER_CHAT patterns without a literal (those run on every article)."""
    sources = pattern_sources(key)
    if not sources or key in stored:
        return
    with_patterns = [pattern_sources(topic) for topic in stored]
    if sum(1 for found in with_patterns if found) >= MAX_REGEX_ITEMS_PER_CHAT:
        raise TopicError(
            _(
                "A watch-list can hold at most {limit} topics with regular expressions. "
                "Remove one first (see /list)."
            ).format(limit=MAX_REGEX_ITEMS_PER_CHAT)
        )
    unfiltered = [s for found in [*with_patterns, sources] for s in found if not has_literal(s)]
    if len(unfiltered) > MAX_UNFILTERED_PER_CHAT:
        raise TopicError(
            ngettext(
                "A watch-list can hold {limit} regular expression without a word of plain "
                "letters in it, as it is tried on every article: write a literal part, e.g. "
                "/cop+er/ rather than /[a-z]+er/.",
                "A watch-list can hold {limit} regular expressions without a word of plain "
                "letters in them, as they are tried on every article: write a literal part, "
                "e.g. /cop+er/ rather than /[a-z]+er/.",
                MAX_UNFILTERED_PER_CHAT,
            ).format(limit=MAX_UNFILTERED_PER_CHAT)
        )


def has_literal(source: str) -> bool:
    """Whether the pattern has a literal to prefilter on (else it runs on every article)."""
    return _prefilter(source) is not None


def _prefilter(source: str) -> str | None:
    """What stands for a pattern in the prefilter: the pattern itself when RE2 finds the
    literals it needs, else the literal every match starts with (RE2 finds none in `cop+er`,
    whose matches all start with "cop"), else None."""
    if not _unfiltered(source):
        return source
    found, low, high = re2.compile(source, _options())._regexp.PossibleMatchRange(MIN_LITERAL + 20)
    if not found:
        return None
    prefix = bytearray()
    for a, b in zip(low.lower(), high.lower(), strict=False):
        if a != b:
            break
        prefix.append(a)
    literal = bytes(prefix).decode("utf-8", errors="ignore").strip()
    escaped: str = re2.escape(literal)
    return None if len(literal) < MIN_LITERAL or _unfiltered(escaped) else escaped


def _unfiltered(source: str) -> bool:
    """Whether RE2's prefilter would run the pattern on every text (no literal atoms)."""
    bank = re2.Filter()
    bank.Add(source, _options())
    bank.Compile()
    return bank.Match("", potential=True) is not None


class PatternHits:
    """Every pattern of a matcher, found in an article encoded once (RE2 reads UTF-8): the
    patterns with a literal through RE2's prefilter (`re2.Filter`: one pass finds the
    literals, and only the patterns whose literals are there run), the few without one
    through `re2.Set`s of at most SET_SIZE patterns (one pass each tells which of them match
    at all; a small set keeps its automaton well within SET_MAX_MEM)."""

    def __init__(self, sources: Mapping[str, int]) -> None:  # pattern → its need
        options = _options()
        options.never_capture = True  # only where a match is
        self._filtered: list[tuple[int, Any]] = []  # need, re2's compiled RE2
        self._unfiltered: list[tuple[int, Any]] = []
        self._filter = re2.Filter()
        unfiltered: list[str] = []
        for source, need in sources.items():
            compiled = (need, re2.compile(source, options)._regexp)
            literal = _prefilter(source)
            if literal is None:
                unfiltered.append(source)
                self._unfiltered.append(compiled)
            else:
                self._filter.Add(literal, _options())
                self._filtered.append(compiled)
        if self._filtered:
            self._filter.Compile()
        set_options = _options()
        set_options.max_mem = SET_MAX_MEM
        self._sets: list[tuple[int, Any]] = []  # the index of its first pattern, the set
        for first in range(0, len(unfiltered), SET_SIZE):
            patterns = re2.Set.SearchSet(set_options)
            for source in unfiltered[first : first + SET_SIZE]:
                patterns.Add(source)
            patterns.Compile()
            self._sets.append((first, patterns))

    def _candidates(self, encoded: bytes) -> Iterator[tuple[int, Any]]:
        if self._filtered:
            for index in self._filter.Match(encoded, potential=True) or ():
                yield self._filtered[index]
        for first, patterns in self._sets:
            for index in patterns.Match(encoded) or ():
                yield self._unfiltered[first + index]

    def found(self, text: str) -> Iterator[tuple[int, list[int]]]:
        """The need of each pattern the text matches, with where (at most MAX_REGEX_HITS)."""
        encoded = text.encode()
        end = len(encoded)
        ascii_only = end == len(text)
        for need, pattern in self._candidates(encoded):
            positions: list[int] = []
            at = 0
            while at <= end and len(positions) < MAX_REGEX_HITS:
                [(start, stop)] = pattern.Match(_UNANCHORED, encoded, at, end)
                if start < 0:
                    break
                positions.append(start if ascii_only else len(encoded[:start].decode()))
                at = stop if stop > start else stop + 1
            if positions:
                yield need, positions


_UNANCHORED = re2._Anchor.UNANCHORED


# --- evaluation on a scan's hits ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    need: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A query with its words, phrases and patterns as the matcher's needs."""

    kind: type[Node]
    operands: tuple[Plan | Leaf, ...]
    exclusions: frozenset[int] = frozenset()


Found = Mapping[int, list[int]]  # need → where it was found
Witness = dict[int, list[int]]  # the needs that make a query match, with their positions


class Hits(NamedTuple):
    """What evaluation reads of a scanned article."""

    found: Found
    title_end: int
    sentence: Callable[[int], tuple[int, int]]


def plan(
    node: Node, need_of: Callable[[Term], int], pattern_need: Callable[[str], int]
) -> Plan | Leaf:
    if isinstance(node, Words):
        if len(node.terms) == 1:
            return Leaf(need_of(node.terms[0]))
        return Plan(Words, tuple(Leaf(need_of(term)) for term in node.terms))
    if isinstance(node, Exact):
        return Leaf(need_of(node.term))
    if isinstance(node, Pattern):
        return Leaf(pattern_need(node.source))
    if isinstance(node, Title):
        return Plan(Title, (plan(node.operand, need_of, pattern_need),))
    if isinstance(node, Without):
        excluded = frozenset(need_of(term) for term in node.exclusions)
        return Plan(Without, (plan(node.base, need_of, pattern_need),), excluded)
    return Plan(type(node), tuple(plan(op, need_of, pattern_need) for op in node.operands))


def triggers(step: Plan | Leaf) -> frozenset[int]:
    """Needs of which at least one must be found for the query to match: an index that
    spares evaluating queries none of whose words an article names."""
    if isinstance(step, Leaf):
        return frozenset({step.need})
    if step.kind is AnyOf:
        return frozenset().union(*(triggers(op) for op in step.operands))
    return triggers(step.operands[0])


def evaluate(step: Plan | Leaf, hits: Hits, *, in_title: bool = False) -> Witness | None:
    """The needs (with positions) that make the query match, or None when it does not."""
    if isinstance(step, Leaf):
        positions = hits.found.get(step.need)
        if positions and in_title:
            positions = [p for p in positions if p < hits.title_end]
        return {step.need: positions} if positions else None
    kind = step.kind
    if kind is Title:
        return evaluate(step.operands[0], hits, in_title=True)
    if kind is Without:
        if any(hits.found.get(need) for need in step.exclusions):
            return None
        return evaluate(step.operands[0], hits, in_title=in_title)
    if kind is Words:  # a co-occurrence: one of them in the headline, or all in one sentence
        together = evaluate(Plan(AllOf, step.operands), hits, in_title=in_title)
        if together is None or any(p < hits.title_end for ps in together.values() for p in ps):
            return together
        return evaluate(Plan(Near, step.operands), hits, in_title=in_title)
    if kind is AllOf:
        witness: Witness = {}
        for operand in step.operands:
            found = evaluate(operand, hits, in_title=in_title)
            if found is None:
                return None
            _merge(witness, found)
        return witness
    if kind is AnyOf:
        witness = {}
        for operand in step.operands:
            found = evaluate(operand, hits, in_title=in_title)
            if found is not None:
                _merge(witness, found)
        return witness or None
    assert kind is Near
    witnesses = []
    for operand in step.operands:
        found = evaluate(operand, hits, in_title=in_title)
        if found is None:
            return None
        witnesses.append(found)
    shared = set.intersection(
        *({hits.sentence(p) for positions in w.values() for p in positions} for w in witnesses)
    )
    if not shared:
        return None
    witness = {}
    for found in witnesses:
        for need, positions in found.items():
            inside = [p for p in positions if hits.sentence(p) in shared]
            if inside:
                witness.setdefault(need, []).extend(inside)
    return witness


def _merge(into: Witness, found: Witness) -> None:
    for need, positions in found.items():
        into.setdefault(need, []).extend(positions)
