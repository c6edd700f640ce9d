"""Typo suggestions ("Did you mean copper?") and the vocabulary they draw on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from bot.lexicon import Lexicon
from bot.text import sentence_spans, words_of
from bot.topics import WatchItem

SUGGESTION_CUTOFF = 80.0
MAX_SUGGESTIONS = 3
MIN_NAME_LENGTH = 4


def names_in(title: str, body: str) -> Counter[str]:
    """Capitalised words inside sentences (names such as Codelco or Antofagasta) of an article."""
    names: Counter[str] = Counter()
    for sentence in [title, *(body[start:end] for start, end in sentence_spans(body))]:
        names.update(
            word
            for word in words_of(sentence)[1:]
            if len(word) >= MIN_NAME_LENGTH and word.isalpha() and word[0].isupper()
        )
    return names


class Suggester:
    """Knows the words a topic may be made of, and proposes the closest known ones."""

    def __init__(self, lexicon: Lexicon, seen_terms: Iterable[str] = ()) -> None:
        self._lexicon = lexicon
        self._choices: dict[str, str] = {}  # casefolded → as written
        for term in [*lexicon.vocabulary(), *seen_terms]:
            self._choices.setdefault(term.casefold(), term)

    def add(self, terms: Iterable[str]) -> None:
        for term in terms:
            self._choices.setdefault(term.casefold(), term)

    def is_known(self, text: str) -> bool:
        return self._lexicon.lookup(text) is not None or text.casefold() in self._choices

    def close_matches(self, text: str) -> list[str]:
        """Known words within typo distance of an unknown one, best first."""
        found = process.extract(
            text.casefold(),
            self._choices.keys(),
            scorer=fuzz.ratio,
            score_cutoff=SUGGESTION_CUTOFF,
            limit=MAX_SUGGESTIONS,
        )
        return [self._choices[choice] for choice, _score, _index in found]

    def suggest(self, item: WatchItem) -> list[str]:
        """Corrected versions of a watch item whose plain terms look like typos of known words.

        Empty when every term is known or no unknown term has a close match, and for a query
        (`copper OR nickel`), which is taken as written.
        """
        if item.query is not None:
            return []
        unknown = [
            i
            for i, term in enumerate(item.terms)
            if term.concept is None and not self.is_known(term.display)
        ]
        if not unknown:
            return []
        exclusions = item.key[len("-".join(term.display for term in item.terms)) :]
        suggestions: list[str] = []
        for rank in range(MAX_SUGGESTIONS):
            parts = [term.display for term in item.terms]
            changed = False
            for i in unknown:
                matches = self.close_matches(parts[i])
                if matches:
                    parts[i] = matches[min(rank, len(matches) - 1)]
                    changed = True
            candidate = "-".join(parts) + exclusions
            if changed and candidate not in suggestions:
                suggestions.append(candidate)
        return suggestions
