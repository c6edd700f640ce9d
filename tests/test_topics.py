"""Parsing what users type after /subscribe."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lexicon import default_lexicon
from bot.topics import MAX_TOPIC_LENGTH, TopicError, parse_watch_item


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


_NAMES = sorted(default_lexicon().vocabulary())
_WORDS = st.one_of(
    st.sampled_from(_NAMES),
    st.sampled_from(_NAMES).map(str.lower),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-'", max_size=12),
)


@st.composite
def typed_topics(draw: st.DrawFn) -> str:
    terms = draw(st.lists(_WORDS, min_size=1, max_size=3))
    exclusions = draw(st.lists(_WORDS, max_size=6))
    quoted = [f'-"{word}"' if " " in word else f"-{word}" for word in exclusions]
    return " ".join(["-".join(terms), *quoted])


@settings(max_examples=400, deadline=None)
@given(typed_topics())
def test_an_accepted_topic_is_stored_in_a_form_that_reads_back_as_itself(typed: str) -> None:
    lexicon = default_lexicon()
    try:
        item = parse_watch_item(typed, lexicon)
    except TopicError:
        return
    assert len(item.key) <= MAX_TOPIC_LENGTH
    assert parse_watch_item(item.key, lexicon).key == item.key


def test_exclusions_written_out_in_full_may_not_pass_the_length_limit() -> None:
    with pytest.raises(TopicError, match="Written out in full this topic is 137 characters"):
        key("copper -Vincentian -Bosnian -Santomean -PNG -FTA")
    assert key("copper -Vincentian") == 'copper -"Saint Vincent and the Grenadines"'
