"""The knowledge the matcher uses: concepts (countries, blocs, commodities, trade terms), their
aliases, demonyms, group members and case rules. The facts live in `data/lexicon.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cache
from importlib import resources

from bot.text import norm_phrase, normalize_word, tokenize

PROPER_KINDS = frozenset({"country", "bloc", "region", "organisation"})


class Case(Enum):
    """How a word of a surface form must be written in an article to count."""

    ANY = "any"
    CAPITALISED = "capitalised"
    UPPER = "upper"


class CaseFit(Enum):
    """How well a run of article words fits a surface's case rules."""

    NONE = 0
    RELAXED = 1  # fits once capitalisation rules are relaxed (a topic typed in lower case)
    STRICT = 2


def case_rules(text: str, *, proper: bool) -> tuple[Case, ...]:
    """Derive per-word case rules from how a surface is written.

    An all-caps word of two or more letters (US, EU, REE) must be upper case in text; in a proper
    noun a capitalised word must be capitalised; everything else matches any case.
    """
    rules = []
    for token in tokenize(text):
        if len(token.surface) >= 2 and token.surface.isupper():
            rules.append(Case.UPPER)
        elif proper and token.is_capitalised:
            rules.append(Case.CAPITALISED)
        else:
            rules.append(Case.ANY)
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class Surface:
    """One way of writing a concept in text, in normal form with its case rules."""

    text: str
    words: tuple[str, ...]
    literal: tuple[str, ...]  # lower case, not singularized
    case: tuple[Case, ...]
    needs_context: bool = False
    common_word: bool = False  # also an everyday word: a capital at a sentence start proves nothing
    other_sense: OtherSense | None = None
    singular_only: bool = False  # a mass noun whose plural is another word ("leads", "oils")

    @classmethod
    def of(
        cls,
        text: str,
        *,
        proper: bool,
        needs_context: bool = False,
        common_word: bool = False,
        other_sense: OtherSense | None = None,
        singular_only: bool = False,
    ) -> Surface:
        tokens = tokenize(text)
        return cls(
            text,
            tuple(t.norm for t in tokens),
            tuple(t.literal for t in tokens),
            case_rules(text, proper=proper),
            needs_context,
            common_word,
            other_sense,
            singular_only,
        )


@dataclass(frozen=True, slots=True)
class OtherSense:
    """The words that, right before or right after a word, show it used in its everyday sense:
    "could lead", "co-lead", "lead to", "lead manager". Normal forms (lower case, singular)."""

    before: frozenset[str]
    after: frozenset[str]
    # words that, named beside it in a list, show its other sense: cotton among sunflower and
    # linseed is the oilseed ("cotton 4,000, sunflower 929,847" in a vegetable oils table);
    # lower case as written, not normal forms (read as they are from the text beside it)
    among: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Concept:
    id: str
    kind: str
    name: str
    surfaces: tuple[Surface, ...]
    members: tuple[str, ...] = ()  # ids of member concepts that count as this concept

    @property
    def proper(self) -> bool:
        return self.kind in PROPER_KINDS


@dataclass(frozen=True, eq=False)  # hashed by identity: one lexicon, cached derived tables
class Lexicon:
    concepts: dict[str, Concept]
    context_words: frozenset[str]
    # normal form of a name, alias or demonym → concept id (what a typed topic resolves to)
    names: dict[tuple[str, ...], str] = field(default_factory=dict)
    # the last words of company names ("Corp", "Ltd"): "Husky Oil Ltd" is a company, not oil
    company_suffixes: frozenset[str] = frozenset()
    company_words: frozenset[str] = frozenset()  # … also, when written capitalised ("Mining")
    # the last words of the name of a body that deals in a commodity ("International Coffee
    # Organization"): a capitalised commodity word in it is the commodity, not a company's
    body_words: frozenset[str] = frozenset()
    # words that, right after a name that is also an everyday word, show it is the name even at
    # the start of a sentence ("Turkey said", "TURKEY TO RAISE")
    name_verbs: frozenset[str] = frozenset()
    # bodies whose names hold commodities that count only in a headline, where the body's own
    # news is theirs ("COFFEE, SUGAR AND COCOA EXCHANGE NAMES CHAIRMAN")
    headline_bodies: frozenset[str] = frozenset()
    # a word naming a class of commodities ("grain", "metals") → the ids of the commodities in it
    class_words: dict[str, frozenset[str]] = field(default_factory=dict)
    # after a class word, nouns of a company's line of business ("MINING GROUP", "ENERGY UNIT")
    business_nouns: frozenset[str] = frozenset()

    def lookup(self, text: str) -> Concept | None:
        """The concept a typed name, alias or demonym refers to, if any."""
        concept_id = self.names.get(norm_phrase(text))
        return self.concepts[concept_id] if concept_id else None

    def expand(self, concept_id: str) -> frozenset[str]:
        """A concept and, for groups, all its members (recursively)."""
        seen = {concept_id}
        stack = [concept_id]
        while stack:
            for member in self.concepts[stack.pop()].members:
                if member not in seen:
                    seen.add(member)
                    stack.append(member)
        return frozenset(seen)

    def vocabulary(self) -> Iterator[str]:
        """Every name and alias, for typo suggestions."""
        for concept in self.concepts.values():
            for surface in concept.surfaces:
                yield surface.text


def parse_lexicon(data: dict[str, object]) -> Lexicon:
    concepts: dict[str, Concept] = {}
    names: dict[tuple[str, ...], str] = {}
    raw_concepts = data.get("concept", [])
    assert isinstance(raw_concepts, list)
    for raw in raw_concepts:
        kind = raw["kind"]
        proper = kind in PROPER_KINDS
        needs_context = bool(raw.get("needs_context", False))
        context_free = set(raw.get("context_free", []))
        common_words = set(raw.get("common_words", []))
        singular_only = bool(raw.get("singular_only", False))
        before = frozenset(normalize_word(w) for w in raw.get("other_sense_before", []))
        after = frozenset(normalize_word(w) for w in raw.get("other_sense_after", []))
        among = frozenset(w.lower() for w in raw.get("other_sense_among", []))  # as written
        other_sense = OtherSense(before, after, among) if before or after or among else None
        written = [raw["name"], *raw.get("aliases", []), *raw.get("demonyms", []), *context_free]
        sense_surfaces = set(raw.get("other_sense_of", written)) - context_free
        surfaces = tuple(
            Surface.of(
                text,
                proper=proper,
                needs_context=needs_context and text not in context_free,
                common_word=text in common_words,
                other_sense=other_sense if text in sense_surfaces else None,
                singular_only=singular_only,
            )
            for text in dict.fromkeys(written)
        )
        member_ids = []
        for member in raw.get("members", []):
            member_id = f"{raw['id']}/{member}"
            member_ids.append(member_id)
            concepts[member_id] = Concept(
                member_id, kind, member, (Surface.of(member, proper=proper),)
            )
            names.setdefault(norm_phrase(member), member_id)
        member_ids.extend(raw.get("includes", []))  # other concepts that count as this one
        concepts[raw["id"]] = Concept(raw["id"], kind, raw["name"], surfaces, tuple(member_ids))
        for surface in surfaces:
            names[surface.words] = raw["id"]
    context = data.get("context", {})
    assert isinstance(context, dict)
    context_phrases = list(context.get("words", []))
    languages = data.get("languages", {})
    assert isinstance(languages, dict)
    for language in languages.values():
        _add_translations(concepts, names, language)
        context_phrases.extend(language.get("context", []))
    context_words = frozenset(" ".join(norm_phrase(word)) for word in context_phrases)
    company = data.get("company", {})
    assert isinstance(company, dict)
    suffixes = frozenset(word.lower() for word in company.get("suffixes", []))
    name_words = frozenset(word.lower() for word in company.get("name_words", []))
    business_nouns = frozenset(word.lower() for word in company.get("business_nouns", []))
    body_words = frozenset(word.lower() for word in company.get("body_words", []))
    name_table = data.get("names", {})
    assert isinstance(name_table, dict)
    verbs = frozenset(normalize_word(word) for word in name_table.get("verbs_after", []))
    headline_bodies = frozenset(
        raw["id"] for raw in raw_concepts if raw.get("holds_in_headline_only", False)
    )
    return Lexicon(
        concepts,
        context_words,
        names,
        suffixes,
        name_words,
        body_words,
        verbs,
        headline_bodies,
        _class_words(data, concepts),
        business_nouns,
    )


def _class_words(
    data: dict[str, object], concepts: dict[str, Concept]
) -> dict[str, frozenset[str]]:
    """Each word naming a class of commodities, with the ids of the commodities in its classes."""
    classes = data.get("classes", {})
    assert isinstance(classes, dict)
    members: dict[str, set[str]] = {}
    for name, raw in classes.items():
        unknown = set(raw["members"]) - concepts.keys()
        if unknown:
            raise ValueError(f"class {name}: unknown concepts {sorted(unknown)}")
        for word in raw["words"]:
            members.setdefault(word.lower(), set()).update(raw["members"])
    return {word: frozenset(ids) for word, ids in members.items()}


def _add_translations(
    concepts: dict[str, Concept], names: dict[tuple[str, ...], str], language: dict[str, object]
) -> None:
    """Add a language's names of concepts to them, as more surfaces. A name in the language's
    `needs_context` list counts only with a market-context word in its sentence; no English
    word-sense rule applies to another language's names."""
    needs_context = set(language.get("needs_context", []))  # type: ignore[call-overload]
    translated = language.get("names", {})
    assert isinstance(translated, dict)
    for concept_id, written in translated.items():
        concept = concepts[concept_id]
        known = {surface.text for surface in concept.surfaces}
        added = tuple(
            Surface.of(text, proper=concept.proper, needs_context=text in needs_context)
            for text in dict.fromkeys(written)
            if text not in known
        )
        concepts[concept_id] = replace(concept, surfaces=concept.surfaces + added)
        for surface in added:
            names.setdefault(surface.words, concept_id)


@cache
def default_lexicon() -> Lexicon:
    """The lexicon bundled with the project."""
    raw = resources.files("bot").joinpath("data/lexicon.toml").read_bytes()
    return parse_lexicon(tomllib.loads(raw.decode("utf-8")))
