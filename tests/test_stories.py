"""Story clustering: the same story from several sources is one story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot
from bot.articles import parse_text_article
from bot.stories import StoryText, pick_cluster, same_story, story_signature

DATA = Path(__file__).parent / "data"
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# One wire story as two outlets wrote it.
CODELCO_WIRE = (
    "Codelco lifts copper output forecast as Chilean mines recover",
    "Chile's state miner Codelco raised its copper production forecast for next year to 1.4 "
    "million tonnes on Monday, citing a recovery at its El Teniente and Chuquicamata mines. The "
    "company had cut its outlook twice this year after accidents and delays.",
)
CODELCO_REWRITE = (
    "Chile's Codelco raises copper production forecast as mines recover",
    "Codelco, Chile's state-owned copper miner, on Monday raised its production forecast for next "
    "year to 1.4 million tonnes as its El Teniente and Chuquicamata mines recovered. The miner cut "
    "its guidance twice earlier this year following accidents.",
)
# Other copper stories of the same day.
COPPER_HIGH = (
    "Copper hits 18-month high on China stimulus hopes",
    "Copper prices on the London Metal Exchange rose to an 18-month high on Monday as investors "
    "bet on fresh stimulus from Beijing. Benchmark three-month copper gained 2.1% to $10,450 a "
    "tonne.",
)
LAS_BAMBAS = (
    "Peru copper mine protest halts shipments from Las Bambas",
    "Protesters blocked the road to MMG's Las Bambas copper mine in Peru on Monday, halting "
    "shipments of concentrate. The mine produces about 2% of the world's copper.",
)
CODELCO_CHAIRMAN = (
    "Codelco names new chairman as copper output slumps",
    "Chile's state miner Codelco appointed a new chairman on Monday after its copper output fell "
    "to a 25-year low. The government said the new chairman would review the company's "
    "expansion projects.",
)
STRIKE = (
    "Copper prices rise as Chile mine strike drags on",
    "Copper prices rose on Monday as a strike at a Chilean mine entered its second week. Workers "
    "at the mine want a bigger bonus.",
)


def story(text: tuple[str, str], *, days: float = 0) -> StoryText:
    title, body = text
    return StoryText.of(title, body, MONDAY + timedelta(days=days))


def sample(path: Path, *, days: float = 0) -> StoryText:
    parsed = parse_text_article(path.read_text(encoding="utf-8"))
    return StoryText.of(parsed.title, parsed.body, MONDAY + timedelta(days=days))


def test_two_outlets_rewriting_one_wire_story_are_the_same_story() -> None:
    assert same_story(story(CODELCO_WIRE), story(CODELCO_REWRITE, days=0.5))


def test_the_sample_article_in_two_versions_is_one_story() -> None:
    ours = sample(DATA / "india-chile-copper.txt")
    theirs = sample(Path(bot.__file__).parent / "samples" / "india-copper-talks.txt", days=1)
    assert same_story(ours, theirs)


@pytest.mark.parametrize("other", [COPPER_HIGH, LAS_BAMBAS, CODELCO_CHAIRMAN, STRIKE])
def test_different_copper_stories_on_the_same_day_are_different(other: tuple[str, str]) -> None:
    assert not same_story(story(CODELCO_WIRE), story(other))


def test_different_stories_about_the_same_miner_are_different() -> None:
    assert not same_story(story(CODELCO_REWRITE), story(CODELCO_CHAIRMAN))


def test_the_same_title_ten_days_apart_is_a_different_story() -> None:
    assert not same_story(story(CODELCO_WIRE), story(CODELCO_WIRE, days=10))
    assert same_story(story(CODELCO_WIRE), story(CODELCO_WIRE, days=2.5))


def test_the_time_window_is_a_parameter() -> None:
    assert same_story(story(CODELCO_WIRE), story(CODELCO_REWRITE, days=6), max_days=7)
    assert not same_story(story(CODELCO_WIRE), story(CODELCO_REWRITE, days=1.5), max_days=1)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "South Korea Factory Activity Reaches 18-Month High on Export Orders",
            "South Korea Factory Activity Hits 18-Month High as Export Demand Surges",
        ),
        (
            "Gold Price Forecast Lifted to $6,300 by End-2026 as Central Banks Buy",
            "JPMorgan Lifts Gold Price Forecast to $6,300 by End-2026 on Strong Central Bank "
            "and Investor Demand",
        ),
    ],
)
def test_near_identical_headlines_without_bodies_are_one_story(a: str, b: str) -> None:
    assert same_story(StoryText.of(a, "", MONDAY), StoryText.of(b, "", MONDAY))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Copper prices rise", "Copper prices rise as Chile mine strike drags on"),
        (
            "U.S.–India Trade Deal Cuts Tariffs and Lifts Energy Ties",
            "Trump Says U.S.–Iran Talks Continue as Military Tensions Remain High",
        ),
        (
            "China Home Prices Rise in January as Government Signals Stronger Support",
            "China Factory Prices Rise in January as Demand Recovers",
        ),
    ],
)
def test_headlines_sharing_some_words_are_different_stories(a: str, b: str) -> None:
    assert not same_story(StoryText.of(a, "", MONDAY), StoryText.of(b, "", MONDAY))


def test_signature_ignores_case_spacing_and_punctuation() -> None:
    assert story_signature("Copper  RISES 2%!", "Prices rose.  Miners cheered.") == story_signature(
        "copper rises 2 per cent", "prices rose. miners cheered"
    )


def test_signature_keeps_title_and_lead_apart_and_drops_the_rest() -> None:
    signature = story_signature("Copper rises", "One. Two. Three is not in the lead.")
    title, lead = signature.split("\n")
    assert title == "copper rise"
    assert lead == "one two"


def test_pick_cluster_returns_the_best_matching_earlier_story() -> None:
    recent = [
        story(COPPER_HIGH, days=-0.2),
        story(CODELCO_REWRITE, days=-0.5),
        story(CODELCO_WIRE, days=-0.1),
        story(LAS_BAMBAS, days=-0.3),
    ]
    assert pick_cluster(story(CODELCO_WIRE), recent) == 2


def test_pick_cluster_returns_none_for_a_new_story() -> None:
    recent = [story(COPPER_HIGH), story(LAS_BAMBAS), story(CODELCO_WIRE, days=-5)]
    assert pick_cluster(story(CODELCO_WIRE), recent) is None
    assert pick_cluster(story(CODELCO_WIRE), []) is None


def test_pick_cluster_prefers_the_closest_in_time_among_equals() -> None:
    recent = [story(CODELCO_WIRE, days=-2), story(CODELCO_WIRE, days=-1)]
    assert pick_cluster(story(CODELCO_WIRE), recent) == 1
