"""Parsing what users type after /subscribe."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lexicon import default_lexicon
from bot.topics import (
    MAX_TOPIC_LENGTH,
    TopicError,
    ambiguity,
    parse_watch_item,
    split_topics,
    topic_in_text,
)


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


def ambiguous(text: str) -> tuple[str, tuple[str, ...], bool] | None:
    found = ambiguity(text, default_lexicon())
    return None if found is None else (found.together, found.each, found.phrase)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("India Chile", ("India-Chile", ("India", "Chile"), False)),
        ("india chile", ("india-chile", ("india", "chile"), False)),
        ("United States China", ("United States-China", ("United States", "China"), False)),
        ("copper or gold", ("copper-gold", ("copper", "gold"), True)),
        ("copper OR gold", None),  # a query: it says what it means
        ("India NEAR Chile", None),
        ("title:India Chile", None),
        ("oil and gas", ("oil-gas", ("oil", "gas"), True)),
        (
            "India Chile -cricket",
            ("India-Chile -cricket", ("India -cricket", "Chile -cricket"), False),
        ),
        ("rare earths", None),
        ("palm oil", None),
        ("free trade agreement", None),
        ("Saudi Arabia", None),
        ("Trinidad and Tobago", None),
        ("research and development", None),
        ("copper price", None),
        ("India-Chile", None),
        ('"India Chile"', None),
        ("copper", None),
    ],
)
def test_several_topics_typed_as_one_are_caught_and_phrases_are_not(
    typed: str, expected: tuple[str, tuple[str, ...], bool] | None
) -> None:
    assert ambiguous(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("copper, gold", ["copper", "gold"]),
        ("copper,gold , ,tin", ["copper", "gold", "tin"]),
        ("1,000 tonnes", ["1,000 tonnes"]),
        ('copper -"wire, cable", zinc', ['copper -"wire, cable"', "zinc"]),
        ("", []),
    ],
)
def test_commas_separate_topics(typed: str, expected: list[str]) -> None:
    assert split_topics(typed) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("copper price?", "copper"),
        ("What about India and Chile?", "India-Chile"),
        ("rare earth exports from China", "rare earths-China"),
        ("US copper, U.S. copper", "US-copper"),
        ("what do you offer us", None),
        ("hello there", None),
        ("", None),
    ],
)
def test_a_plain_message_names_its_topic(message: str, expected: str | None) -> None:
    assert topic_in_text(message, default_lexicon()) == expected
