"""Tokens and sentences."""

from __future__ import annotations

from bot.text import content_hash, shorten, split_sentences, tokenize


def test_sentences_keep_abbreviations_inside() -> None:
    text = "China restricted exports after U.S. tariffs rose. Mr. Li said 90% was at risk. Done!"
    assert split_sentences(text) == (
        "China restricted exports after U.S. tariffs rose.",
        "Mr. Li said 90% was at risk.",
        "Done!",
    )


def test_decimals_and_lowercase_continuations_do_not_split() -> None:
    assert split_sentences("Output fell 1.5% to 448,000 tonnes. e.g. copper rose.") == (
        "Output fell 1.5% to 448,000 tonnes. e.g. copper rose.",
    )


def test_tokens_fold_plurals_possessives_and_hyphens() -> None:
    assert [t.norm for t in tokenize("India’s rare-earth Magnets")] == [
        "india",
        "rare",
        "earth",
        "magnet",
    ]
    assert [t.norm for t in tokenize("gas tonnes REEs")] == ["gas", "tonne", "ree"]


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Copper  Rises", "Up 2%.") == content_hash("copper rises", "up  2%.")
    assert content_hash("Copper Rises", "Up 2%.") != content_hash("Copper Rises", "Up 3%.")


def test_shorten_cuts_at_a_word() -> None:
    assert shorten("copper prices rose sharply", 15) == "copper prices…"
    assert shorten("short", 15) == "short"
