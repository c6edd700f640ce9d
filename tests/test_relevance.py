"""Relevance: how much an article is about an item it mentions, and the "about" level."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.train_relevance import Example, Examples, best_threshold
from bot.lexicon import default_lexicon, parse_lexicon
from bot.matching import Explained, Matcher
from bot.relevance import Features, RelevanceModel, default_model
from bot.topics import parse_watch_item

MAIN_STORY = (
    "COPPER OUTPUT AT CHILEAN MINES FALLS",
    "Copper output at the country's big mines fell 6 pct in March, the mining ministry said.\n\n"
    "Copper shipments were held up by strikes at two ports, and copper stocks at the mines rose."
    "\n\nThe ministry expects copper production to recover by June.",
)
EARNINGS_LIST = (
    "MINING GROUP EXPECTS TO PAY FINAL DIVIDEND",
    "The group expects to pay a final dividend of 10 cents a share, its chairman said.\n\n"
    "Profits from banking and property rose, while its lead, zinc, copper and silver mining "
    "units made a smaller loss than a year earlier.",
)
PRICE_TABLE = (
    "LONDON METAL PRICES AT CLOSE",
    "Closing prices in dollars a tonne:\n\n"
    "Aluminium 1,210.50 1,208.00\n\nCopper 1,402.00 1,399.50\n\nNickel 3,870 3,855",
)


def explain(topic: str, title: str, body: str) -> list[Explained]:
    lexicon = default_lexicon()
    return Matcher([parse_watch_item(topic, lexicon)], lexicon).explain(title, body)


def test_a_main_story_is_about_its_item_and_a_passing_mention_is_not() -> None:
    [main] = explain("copper", *MAIN_STORY)
    [passing] = explain("copper", *EARNINGS_LIST)
    [table] = explain("copper", *PRICE_TABLE)
    assert main.match.about
    assert not passing.match.about
    assert main.match.relevance > max(passing.match.relevance, table.match.relevance)
    for explained in (main, passing, table):
        assert 0.0 <= explained.match.relevance <= 1.0


def test_features_say_where_and_how_the_item_appears() -> None:
    [[main]] = [e.features for e in explain("copper", *MAIN_STORY)]
    assert main.in_title == 1.0 and main.in_lead == 1.0 and main.first_at == 0.0
    assert main.share == 1.0 and main.in_lists == 0.0 and main.passing == 0.0
    [[listed]] = [e.features for e in explain("copper", *EARNINGS_LIST)]
    assert listed.in_title == 0.0 and listed.in_lead == 0.0
    assert listed.in_lists == 1.0 and listed.passing == 1.0
    [[tabled]] = [e.features for e in explain("copper", *PRICE_TABLE)]
    assert tabled.in_tables == 1.0 and tabled.passing == 1.0


def test_a_headline_alone_can_be_a_main_story() -> None:
    [headline] = explain("gold", "GOLD RALLIES AS THE DOLLAR SLIPS", "")
    assert not explain("gold", "BANKERS SEE GOLD AS THE DOLLAR SLIPS", "")  # not its subject
    assert headline.features[0].title_only == 1.0
    assert headline.match.about


def test_an_item_of_two_terms_has_the_mean_relevance_of_its_terms() -> None:
    [pair] = explain("Chile-copper", *MAIN_STORY)
    [copper] = explain("copper", *MAIN_STORY)
    [chile] = explain("Chile", *MAIN_STORY)
    model = default_model()
    assert len(pair.features) == 2
    assert pair.match.relevance == pytest.approx(
        (model.score(pair.features[0]) + model.score(pair.features[1])) / 2
    )
    low, high = sorted((copper.match.relevance, chile.match.relevance))
    assert low <= pair.match.relevance <= high


def test_the_model_reads_back_what_it_writes() -> None:
    weights = tuple(float(i) / 10 for i in range(len(Features._fields)))
    model = RelevanceModel(weights, -1.5, 0.4)
    assert RelevanceModel.from_json(model.to_json()) == model
    neutral = Features(*(0.0 for _ in Features._fields))
    assert model.score(neutral) < 0.5 < RelevanceModel(weights, 1.5, 0.4).score(neutral)


def test_a_feed_summary_is_about_what_its_headline_names() -> None:
    [summary] = explain(
        "copper", "Zambia copper exports hit a record", "Shipments climbed to 80,000 tonnes."
    )
    assert summary.match.about
    [mentioned] = explain("copper", "Wheat harvest record", "Farmers also grow some copper.")
    assert not mentioned.match.about


def test_the_interactions_are_the_products_of_their_features() -> None:
    for story in (MAIN_STORY, EARNINGS_LIST, PRICE_TABLE):
        [[f]] = [e.features for e in explain("copper", *story)]
        assert f.title_by_share == f.in_title * f.share
        assert f.title_by_lead == f.in_title * f.in_lead
        assert f.lead_by_share == f.in_lead * f.share
        assert f.title_by_mentions == f.in_title * f.mentions
        assert f.title_by_other_in_title == f.in_title * f.other_in_title
        assert f.lists_by_mentions == f.in_lists * f.mentions


def test_a_headline_word_takes_the_sense_the_body_gives_it() -> None:
    title = "MINER TO SELL GOLD PROPERTY STAKE"
    body = "The miner will sell half of its stake in a mine that produced 30,000 ounces of gold."
    [sold] = explain("gold", title, body)
    assert sold.features[0].in_title == 1.0
    # the body names no gold: the headline's word alone does not count
    assert explain("gold", "TEAM WINS GOLD AT WORLD CUP", "The team won in the final.") == []


def test_the_trainer_scores_an_example_as_the_matcher_does() -> None:
    found = [
        Example(e.features, True, story)
        for story, (topic, article) in enumerate(
            [("copper", MAIN_STORY), ("copper", EARNINGS_LIST), ("Chile-copper", MAIN_STORY)]
        )
        for e in explain(topic, *article)
    ]
    model = default_model()
    columns = range(len(Features._fields))
    scores = Examples(found, [0, 1, 2]).scores(model, columns)
    expected = [sum(map(model.score, e.features)) / len(e.features) for e in found]
    assert list(scores) == pytest.approx(expected)


def test_the_trainer_alerts_from_the_score_with_the_best_f1() -> None:
    scores = np.array([0.9, 0.8, 0.6, 0.3])
    labels = np.array([True, True, False, False])
    # three stories on topic, one of them never matched: alerting the first two gives 0.8
    assert best_threshold(scores, labels, 3) == 0.8


GRAIN_STORY = (
    "Traders expect the Soviet Union to buy more foreign feed this year.\n\n"
    "Purchases of wheat from Canada and Argentina could reach nine mln tonnes, they said, with "
    "maize from the United States making up most of the rest."
)


def class_in_title(topic: str, title: str, body: str = GRAIN_STORY) -> float:
    [[features]] = [e.features for e in explain(topic, title, body)]
    return features.class_in_title


def test_a_headline_naming_a_commodity_class_counts_for_the_commodities_of_the_class() -> None:
    assert class_in_title("wheat", "SOVIET GRAIN IMPORTS SEEN RISING") == 1.0
    assert class_in_title("wheat", "Soviet cereal imports seen rising") == 1.0
    assert class_in_title("wheat", "SOVIET CAR IMPORTS SEEN RISING") == 0.0
    # the class of another commodity
    assert class_in_title("wheat", "SOVIET METALS IMPORTS SEEN RISING") == 0.0
    # a headline that names the commodity itself says more than its class
    assert class_in_title("wheat", "SOVIET WHEAT AND OTHER GRAIN IMPORTS RISE") == 0.0
    body = "Union leaders said the strike would stop work at the country's tin mines."
    assert class_in_title("tin", "BOLIVIAN MINERS CALL A GENERAL STRIKE", body) == 1.0
    body = "Gunboats hit a vessel loaded with crude oil bound for Japan, shipping sources said."
    assert class_in_title("crude oil", "TANKER HIT IN THE GULF", body) == 1.0


def test_a_class_headline_raises_the_relevance_of_the_same_body() -> None:
    [grain] = explain("wheat", "SOVIET GRAIN IMPORTS SEEN RISING", GRAIN_STORY)
    [cars] = explain("wheat", "SOVIET CAR IMPORTS SEEN RISING", GRAIN_STORY)
    assert grain.match.relevance > cars.match.relevance


@pytest.mark.parametrize(
    "title",
    [
        "NORTHERN ENERGY CORP SELLS PROPERTY STAKE",  # a company suffix
        "EASTERN ENERGY FACTORS <EEF> BUYS TWO UNITS",  # capitalised words up to a ticker
        "ENERGY <NRG> SEES LOWER PROFIT",  # a ticker right after it
        "SOUTHERN ENERGY UNIT TO BE SOLD",  # a company's line of business
        "MINING GROUP EXPECTS TO PAY FINAL DIVIDEND",
    ],
)
def test_a_class_word_in_a_companys_name_or_line_of_business_is_not_the_class(title: str) -> None:
    body = "The company also said oil output at its fields rose 4 pct last year."
    assert class_in_title("crude oil", title, body) == 0.0
    assert class_in_title("copper", title, "Its copper output rose 4 pct.") == 0.0


def test_a_class_of_commodities_names_known_commodities() -> None:
    data = {
        "concept": [{"id": "wheat", "kind": "commodity", "name": "wheat"}],
        "classes": {"grains": {"words": ["Grain"], "members": ["wheat", "barley"]}},
    }
    with pytest.raises(ValueError, match="barley"):
        parse_lexicon(data)
    data["classes"] = {"grains": {"words": ["Grain", "grains"], "members": ["wheat"]}}
    assert parse_lexicon(data).class_words == {
        "grain": frozenset({"wheat"}),
        "grains": frozenset({"wheat"}),
    }


def test_the_lead_of_a_body_without_paragraphs_is_its_opening() -> None:
    opening = "Copper rose 2 pct on the LME on Tuesday as stocks fell. "
    filler = "Dealers said the market was quiet before the holiday and volumes were thin. " * 4
    [early] = explain("copper", "Metal markets", opening + filler)
    [late] = explain("copper", "Metal markets", filler + opening)
    assert early.features[0].in_lead == 1.0
    assert late.features[0].in_lead == 0.0  # the fifth sentence of one long paragraph


def test_rows_scored_together_get_each_its_own_logistic_score() -> None:
    model = default_model()
    rows = [
        features
        for story in (MAIN_STORY, EARNINGS_LIST, PRICE_TABLE)
        for explained in explain("copper", *story)
        for features in explained.features
    ]
    sums = [sum(w * f for w, f in zip(model.weights, row, strict=True)) for row in rows]
    expected = [1 / (1 + math.exp(-(model.intercept + total))) for total in sums]
    assert model.scores(rows) == pytest.approx(expected, abs=1e-12)
    assert [model.score(row) for row in rows] == model.scores(rows)


def test_a_line_of_figures_counts_a_letter_of_any_script_once() -> None:
    # 4 digits and 11 letters (2 of them not ASCII): a line of figures at a quarter of digits;
    # counted as UTF-8 bytes, 13 letters would make it prose
    [[f]] = [
        e.features for e in explain("copper", "NUNOA PRICES", "At the close:\n\nCopper Ñuñoa 1234")
    ]
    assert f.in_tables == 1.0
