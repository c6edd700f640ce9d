"""Story clustering: the same story from several sources is one story."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot
from bot.articles import ArticleIn, parse_text_article
from bot.context import BotApplication
from bot.stories import (
    StoryText,
    pick_cluster,
    same_story,
    story_actors,
    story_signature,
    story_words,
)
from tests.fakes import FakeTelegram
from tests.test_chat_commands import say

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

# Wire copy of different events in one template (issue 13): other producers, other figures,
# other months, a new development. Each pair scores like a rewrite on wording alone.
ACME_CUT = (
    "ACME MINING LOWERS COPPER PRICE 1.50 CTS TO 67 CTS",
    "Acme Mining Corp cut the list price of its copper cathodes by 1.50 cents to 67.0 cents a "
    "pound, with immediate effect, a company spokesman said.",
)
BOREAL_CUT = (
    "BOREAL METALS LOWERS COPPER PRICE 1.25 CTS TO 67 CTS",
    "Boreal Metals Co cut the list price of its copper cathodes by 1.25 cents to 67.0 cents a "
    "pound, with immediate effect, a company spokesman said.",
)
BOREAL_SECOND_CUT = (
    "BOREAL METALS LOWERS COPPER PRICE ONE CT TO 66 CTS",
    "Boreal Metals Co cut the list price of its copper cathodes by one cent to 66.0 cents a "
    "pound, with immediate effect, a company spokesman said.",
)
BOREAL_RAISE = (
    "BOREAL METALS RAISES COPPER PRICE 1.25 CTS TO 67 CTS",
    "Boreal Metals Co raised the list price of its copper cathodes by 1.25 cents to 67.0 cents a "
    "pound, with immediate effect, a company spokesman said.",
)
US_INVENTORIES = (
    "U.S. SMELTER COPPER INVENTORIES DROP IN JANUARY",
    "U.S. smelters held 98,300 short tons of copper at the end of January, down from 120,100 "
    "tons a month earlier, according to the Metal Statistics Bureau.",
)
FOREIGN_INVENTORIES = (
    "COPPER INVENTORIES OUTSIDE U.S. RISE IN DECEMBER",
    "Smelters outside the U.S. held 250,400 short tons of copper at the end of December, up "
    "from 244,000 tons a month earlier, according to the Metal Statistics Bureau.",
)
HALDEN_LEAD = (
    "HALDEN SMELTING UPS U.S. LEAD PRICE",
    "Halden Smelting Co said it raised its U.S. producer price for corroding grade lead by one "
    "cent to 28 cents a pound, effective today.",
)
KESTREL_LEAD = (
    "KESTREL RAISES LEAD PRICE",
    "Kestrel Resources Inc said it raised its producer price for corroding grade lead by one "
    "cent to 28 cents a pound, effective today.",
)
MINE_FIRE = (
    "NORTHFIELD COPPER MINE BLAZE KILLS ONE",
    "One worker died and 17 were missing after fire broke out underground at Northfield "
    "Resources' Quebec copper mine, the company said. Rescue crews were trying to reach the "
    "missing men.",
)
MINERS_FOUND = (
    "17 MISSING NORTHFIELD MINERS FOUND ALIVE",
    "All 17 workers missing since fire broke out underground at Northfield Resources' Quebec "
    "copper mine were found alive, the company said. Rescue crews were bringing the men to the "
    "surface.",
)
# Second reports of those events: another wording, the same actors and figures.
BOREAL_CUT_REWRITE = (
    "Boreal Metals cuts copper cathode price by 1.25 cents to 67 cents",
    "Boreal Metals lowered its copper cathode list price by 1.25 cents to 67 cents a pound, "
    "effective at once, the company said on Wednesday.",
)
MINE_FIRE_REWRITE = (
    "Fire at Northfield copper mine in Quebec kills one miner",
    "A fire underground at Northfield Resources' copper mine in Quebec killed one worker and "
    "left 17 missing, the company said. Rescuers were searching for them.",
)
US_INVENTORIES_FLASH = ("U.S. SMELTER COPPER INVENTORIES FELL TO 98,300 TONS IN JANUARY", "")


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


@pytest.mark.parametrize(
    ("first", "second", "days"),
    [
        (ACME_CUT, BOREAL_CUT, 0.1),  # another producer, another cut
        (BOREAL_CUT, BOREAL_SECOND_CUT, 2),  # the same producer cuts again
        (BOREAL_CUT, BOREAL_RAISE, 1),  # the same figures, the other way
        (US_INVENTORIES, FOREIGN_INVENTORIES, 0),  # another month, another way
        (HALDEN_LEAD, KESTREL_LEAD, 0.2),  # the same rise by another producer
        (MINE_FIRE, MINERS_FOUND, 1),  # a new development
    ],
)
def test_wire_copy_of_different_events_is_different_stories(
    first: tuple[str, str], second: tuple[str, str], days: float
) -> None:
    assert not same_story(story(first), story(second, days=days))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (BOREAL_CUT, BOREAL_CUT_REWRITE),
        (MINE_FIRE, MINE_FIRE_REWRITE),
        (US_INVENTORIES, US_INVENTORIES_FLASH),
    ],
)
def test_a_second_report_of_a_wire_event_is_the_same_story(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    assert same_story(story(first), story(second, days=0.2))


def test_signatures_stored_without_actors_still_group() -> None:
    older = story(CODELCO_WIRE)
    title, lead, _actors = older.signature.split("\n")
    assert same_story(StoryText(f"{title}\n{lead}", MONDAY), story(CODELCO_REWRITE, days=0.5))
    assert not same_story(StoryText(f"{title}\n{lead}", MONDAY), story(CODELCO_CHAIRMAN))


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


def test_signature_keeps_title_lead_and_actors_apart_and_drops_the_rest() -> None:
    signature = story_signature("Codelco output rises", "One. Two at Codelco. Three is not in.")
    assert signature.split("\n") == ["codelco output rise", "one two codelco", "codelco"]


@pytest.mark.parametrize(
    ("title", "body", "actors"),
    [
        # an all-caps wire headline: names are how its lead writes them, or bracketed
        ("HALDEN SMELTING UPS U.S. LEAD PRICE", HALDEN_LEAD[1], {"halden", "smelting", "u", "s"}),
        ("<KESTREL RESOURCES> 4TH QTR NET", "Shr 12 cts vs 10 cts.", {"kestrel", "resource"}),
        # a headline in sentence case names its actors itself; months and numbers are figures
        ("Output at Codelco rises in March", "", {"codelco"}),
        ("One Northfield miner dies in June fire", "One miner died on Monday.", {"northfield"}),
        # in title case, every word is capitalised: only the body tells names
        ("Copper Price Rises At Codelco", "Output fell at Codelco, lifting prices.", {"codelco"}),
    ],
)
def test_the_actors_of_a_story_are_the_names_in_its_title(
    title: str, body: str, actors: set[str]
) -> None:
    assert story_actors(title, body, story_signature(title, "").split("\n")[0].split()) == actors


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


async def test_a_new_development_alerts_a_watcher_again(
    bot: BotApplication, telegram: FakeTelegram, ingest: Callable[..., Any]
) -> None:
    chat = 713
    await say(telegram, "/subscribe copper", chat)
    for (title, body), source in ((MINE_FIRE, "Wire A"), (MINERS_FOUND, "Wire B")):
        await ingest(
            ArticleIn(
                title=title, body=body, url=f"https://{source[-1]}.example/mine", source=source
            )
        )
    sent = await telegram.wait_for_sent(3, chat_id=chat)  # subscribe answer and two alerts
    assert "FOUND ALIVE" in (sent[-1].plain_text or "").upper()


def test_story_words_are_the_title_and_lead_words_of_four_letters_or_more() -> None:
    body = (
        "Codelco said on Monday it halted the smelter. Repairs take a week. "
        "Analysts expect tighter copper concentrate markets."
    )
    words = story_words("Codelco halts Chuquicamata smelter", body)
    assert words[:4] == ("codelco", "halt", "chuquicamata", "smelter")
    assert "repair" in words and "week" in words  # the lead's second sentence
    assert "said" in words and "the" not in words and "on" not in words
    assert "analyst" not in words and "concentrate" not in words  # after the lead
