"""Parsing what users type after /subscribe."""

from __future__ import annotations

import pytest

from bot.lexicon import default_lexicon
from bot.topics import TopicError, parse_watch_item


def key(text: str) -> str:
    return parse_watch_item(text, default_lexicon()).key


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("copper", "copper"),
        ("  rare-earth ", "rare earths"),
        ("rare earth", "rare earths"),
        ("India-Chile", "India-Chile"),
        ("India - Chile", "India-Chile"),
        ("U.S.", "US"),
        ("united states", "us"),
        ('copper -"copper wire" -Copperfield', 'copper -"copper wire" -Copperfield'),
        ('copper -Copperfield -"copper wire"', 'copper -"copper wire" -Copperfield'),
        ("e-commerce", "e-commerce"),
        ("Robert'); DROP TABLE subscriptions;--", "Robert'); DROP TABLE subscriptions;"),
    ],
)
def test_typed_topics_get_a_canonical_key(typed: str, expected: str) -> None:
    assert key(typed) == expected


@pytest.mark.parametrize(
    "typed", ["copper", "rare earths", "India-Chile", 'copper -"copper wire" -Copperfield', "us"]
)
def test_a_key_parses_back_to_itself(typed: str) -> None:
    assert key(key(typed)) == key(typed)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "name a topic"),
        ("   ", "name a topic"),
        ("x" * 101, "at most 100"),
        ("copper\x00", "control characters"),
        ("cop\u200bper", "control characters"),
        ("?!...", "letter or digit"),
        ("-copper", "not only exclusions"),
    ],
)
def test_bad_topics_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(TopicError, match=reason):
        parse_watch_item(typed, default_lexicon())
