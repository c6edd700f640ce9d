"""Matching precision: whole words, aliases, case, context, groups, exclusions, co-occurrence."""

from __future__ import annotations

import pytest

from bot.lexicon import default_lexicon
from bot.matching import ONE_AUTOMATON_FROM, Matcher, evidence_sentence
from bot.topics import parse_watch_item


def matches(topic: str, title: str, body: str = "") -> bool:
    lexicon = default_lexicon()
    return bool(Matcher([parse_watch_item(topic, lexicon)], lexicon).match(title, body))


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("copper", "Copper prices hit a record on the LME."),
        ("copper", "Miners shipped more copper to smelters."),
        ("rare earths", "Export curbs on rare-earth magnets tightened."),
        ("rare earths", "A new rare earth refinery opened."),
        ("rare-earth", "Rare earths exports fell."),
        ("rare earths", "Neodymium prices jumped 12% this week."),
        ("rare earths", "Output of REEs rose in Myanmar."),
        ("US", "The U.S. raised tariffs on steel."),
        ("US", "The United States raised tariffs on steel."),
        ("US", "America raised tariffs on steel."),
        ("US", "Tariffs imposed by the US rose."),
        ("EU", "The European Union agreed a deal."),
        ("Chile", "Chilean copper exports rose."),
        ("China", "China produces most magnets."),
        ("china", "Collectors love fine china."),
        ("lead", "Lead prices rose on the LME as smelter output fell."),
        ("tin", "Tin output from Indonesian mines slowed."),
        ("gas", "Natural gas futures slipped."),
        ("lithium", "Spodumene shipments from Australia rose."),
    ],
)
def test_matches_what_the_topic_means(topic: str, text: str) -> None:
    assert matches(topic, text)


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("copper", "A new staging of David Copperfield opened."),
        ("India", "Indiana farmers planted corn."),
        ("chile", "The chili cook-off drew crowds."),
        ("US", "Let us know about USB and USD prices."),
        ("US", "Sales rose across South American nations."),
        ("China", "Collectors love fine china."),
        ("Turkey", "Farmers expect to sell more turkey this year."),
        ("lead", "She will lead the negotiating team."),
        ("tin", "Open the tin and serve the soup."),
        ("gas", "Passengers ran out of gas on the highway."),
        ("oil", "Palm oil exports from Malaysia rose."),
        ("America", "Latin America grew faster than expected."),
        ("Korea", "North Korea fired a missile."),
        ("Guinea", "Guinea-Bissau raised cashew exports."),
    ],
)
def test_ignores_near_misses(topic: str, text: str) -> None:
    assert not matches(topic, text)


def test_cooccurrence_needs_every_term_in_the_article() -> None:
    assert matches("India-Chile", "Trade talks", "India and Chile agreed to talk.")
    assert not matches("India-Chile", "Trade talks", "India met officials from Peru.")


def test_cooccurrence_needs_its_terms_together_in_a_sentence_or_one_in_the_headline() -> None:
    assert not matches("India-Chile", "Trade talks", "India met officials. Chile agreed to talk.")
    assert matches("India-Chile", "India trade talks", "Officials met. Chile agreed to talk.")
    assert matches("India-Chile", "Trade talks", "Officials met.\n\nIndia asked Chile to talk.")


def test_exclusions_silence_an_otherwise_matching_article() -> None:
    topic = 'copper -Copperfield -"copper wire"'
    assert matches(topic, "Copper prices rose.")
    assert not matches(topic, "Copper prices rose.", "Copperfield fans were unmoved.")
    assert not matches(topic, "Copper wire thefts rise.", "Copper theft is costly.")


def test_evidence_is_the_sentence_with_most_terms() -> None:
    lexicon = default_lexicon()
    matcher = Matcher([parse_watch_item("India-Chile", lexicon)], lexicon)
    body = "India wants copper. Chile and India met on Monday. Peru was absent."
    [match] = matcher.match("Talks", body)
    assert evidence_sentence("Talks", body, match.evidence_at) == "Chile and India met on Monday."


def test_only_items_whose_terms_appear_are_reported() -> None:
    lexicon = default_lexicon()
    items = [parse_watch_item(t, lexicon) for t in ("copper", "lithium", "rare earths", "Peru")]
    found = Matcher(items, lexicon).match("Copper and rare earth supply", "Prices rose.")
    assert sorted(m.key for m in found) == ["copper", "rare earths"]


def test_plain_terms_keep_their_case_rules() -> None:
    assert matches("Acme", "Acme Mining raised output.")
    assert not matches("Acme", "The acme of mining.")
    assert matches("acme", "The acme of mining.")


def test_a_name_that_is_also_a_word_needs_more_than_a_capital_at_a_sentence_start() -> None:
    assert not matches("Turkey", "Turkey farmers brace for holiday demand")
    assert matches("Turkey", "Exports rose", "Shipments from Turkey rose. Turkish mills paid more.")
    assert matches("turkey", "Turkey farmers brace for holiday demand")


def test_the_americas_are_not_america() -> None:
    assert not matches("US", "Growth across the Americas slowed.")
    assert matches("Americas", "Growth across the Americas slowed.")


def test_evidence_is_the_whole_sentence_of_the_first_mention() -> None:
    lexicon = default_lexicon()
    items = [parse_watch_item(t, lexicon) for t in ("copper", "China", "rare earths", "Acme")]
    matcher = Matcher(items, lexicon)
    body = "Mr. Li sold copper in the U.S. on Monday. Copper rose."
    [match] = matcher.match("Markets", body)
    assert evidence_sentence("Markets", body, match.evidence_at) == (
        "Mr. Li sold copper in the U.S. on Monday."
    )
    title, body = "China’s “rare earth” exports — up 5%", "“Copper, too,” he added."
    found = matcher.match(title, body)
    assert [(m.key, evidence_sentence(title, body, m.evidence_at)) for m in found] == [
        ("China", "China’s “rare earth” exports — up 5%"),
        ("copper", "“Copper, too,” he added."),
        ("rare earths", "China’s “rare earth” exports — up 5%"),
    ]


def test_evidence_is_read_only_from_a_sentence_of_the_article() -> None:
    body = "Copper   rose  on Monday.\nTin fell."
    assert evidence_sentence("Metals", body, len("Metals\nCop")) == "Copper rose on Monday."
    assert evidence_sentence("Metals", body, len("Metals\nCopper")) == ""  # a space
    assert evidence_sentence("Metals", body, 500) == ""  # the article was shortened since
    assert evidence_sentence("Metals", "", 0) == "Metals"


def test_a_matcher_of_many_typed_terms_matches_as_small_ones_do() -> None:
    lexicon = default_lexicon()
    topics = ["copper", "Guinea", "Korea", "Acme Mining", "India-Chile", "Turkey"]
    topics += ['lead -"lead time"', *(f"Zorbex{n}" for n in range(ONE_AUTOMATON_FROM))]
    items = [parse_watch_item(topic, lexicon) for topic in topics]
    large = Matcher(items, lexicon)
    texts = [
        ("Acme Mining and Zorbex7 ship copper", "North Korea and Guinea-Bissau buy it. Chile too."),
        ("India talks", "India met Chile. Turkey farmers. Lead prices rose on the LME; lead time."),
        ("Guinea bauxite", "Exports from Turkey rose. ZORBEX3 and Zorbex12 and zorbex5 said so."),
    ]
    for title, body in texts:
        one_by_one = [m for item in items for m in Matcher([item], lexicon).match(title, body)]
        assert large.match(title, body) == sorted(one_by_one, key=lambda m: m.key)


@pytest.mark.parametrize(
    "text",
    [
        "Higher freight costs could lead to dearer imports, the ministry said.",
        "Two banks will co-lead the offering of notes to the market.",
        "The bonds are priced for the market and the lead manager is a London bank.",
        "Talks on tariffs may lead the market higher, a trader said.",
        "The exporter wants to take a lead in the pricing talks.",
        "Chips could speed the move to one megabit chips, where Japan now leads in the market.",
    ],
)
def test_lead_as_a_verb_or_a_rank_is_not_the_metal(text: str) -> None:
    assert not matches("lead", text)


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        ("lead", "Miners report on output", "Lead output at the smelter rose 4 pct."),
        ("lead", "Study group meets", "The Lead and Zinc Study Group meets in Geneva next week."),
        ("tin", "TIN PACT EXTENSION LIKELY - DELEGATES", ""),
        ("tin", "Council talks", "Delegates of the International Tin Council met on Monday."),
        (
            "rubber",
            "DROUGHT HITS GROWERS",
            "The dry spell damaged rubber plantations in the north.",
        ),
        ("gold", "CABINET APPROVES BILL ON GOLD COIN ISSUES", ""),
    ],
)
def test_names_that_hold_the_commodity_count_without_market_words(
    topic: str, title: str, body: str
) -> None:
    assert matches(topic, title, body)


def test_an_abbreviation_is_not_widened_into_a_broader_concept() -> None:
    lexicon = default_lexicon()
    assert parse_watch_item("CEPA", lexicon).key == "comprehensive economic partnership agreement"
    assert matches("CEPA", "India and the UAE sign their CEPA")
    assert not matches("CEPA", "India and Peru sign a free trade agreement")
    assert not matches("CEPA", "Canada and the US agree a free-trade pact")


def test_a_company_name_is_not_a_country() -> None:
    assert not matches("US", "Anglo American halts Peru copper shipments")
    assert matches("US", "American smelters halt copper shipments")


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        (
            "crude oil",
            "Hotel group sees higher payout",
            "It owns 40 pct of Husky Oil Ltd of Canada.",
        ),
        ("crude oil", "WAINOCO OIL <WOL> RECAPITALIZING COMPANY", ""),
        ("gold", "Miner reduces debt", "Pegasus Gold Inc said it repaid loans on its mine."),
        ("steel", "Bonds issued", "Kawasaki Steel Corp issued 30 mln dlrs of bonds."),
    ],
)
def test_a_company_name_is_not_its_commodity(topic: str, title: str, body: str) -> None:
    assert not matches(topic, title, body)


@pytest.mark.parametrize(
    ("topic", "title"),
    [
        ("gold", "SOUTH AFRICAN GOLD MINES EXPECT A STRIKE"),
        ("crude oil", "Crude oil prices rise as output falls"),
        ("steel", "Steel Exports Rise In March"),
    ],
)
def test_capitals_in_a_headline_are_not_a_company_name(topic: str, title: str) -> None:
    assert matches(topic, title)


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        ("Turkey", "TURKEY TO RAISE COTTON IMPORTS", "", True),
        ("Turkey", "Envoys meet", "Turkey said it would buy more wheat.", True),
        (
            "Turkey",
            "TURKEY PRICES SOAR BEFORE THE HOLIDAY",
            "Turkey farmers sold more birds.",
            False,
        ),
        ("Turkey", "Holiday menus", "Turkey is a popular dish in November.", False),
        ("US", "LET US HELP, SAYS MINISTER", "", False),
        ("US", "JAPAN TALKS WITH US OFFICIALS ON CHIPS", "", True),
        ("Chile", "CHILE NAMES NEW MINING MINISTER", "", True),
    ],
)
def test_what_a_capitalised_first_word_is_doing_decides_whether_it_is_the_name(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        ("crude oil", "EDIBLE OILS/FATS STOCKS SEEN FALLING", ""),
        ("crude oil", "Egypt buys sunflowerseed oil", "Egypt bought 46,000 tonnes at tender."),
        ("crude oil", "NON-OIL EXPORTS DECLINE", "Exports other than energy fell 3 pct."),
        ("crude oil", "U.K. VEG OIL OUTPUT ROSE", "Vegetable oils and soyabean oil prices rose."),
        ("crude oil", "Dutch imports of oils rose", "Imports of oils for the market rose 5 pct."),
        ("crude oil", "Fats stocks to fall", "Oil World said oil-bearing seed prices rose."),
        ("natural gas", "VALERO NATURAL GAS <VLP> OFFERING UNDERWAY", ""),
    ],
)
def test_what_is_not_oil_or_gas(topic: str, title: str, body: str) -> None:
    assert not matches(topic, title, body)


def test_a_name_that_holds_a_company_word_still_names_its_commodity() -> None:
    assert matches("lead", "Talks", "The Lead and Zinc Study Group meets in Geneva next week.")


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        ("palm oil", "INDIA BUYS RBD PALM OLEIN AT TENDER", ""),
        ("wheat", "Export bonus on semolina", "The agency accepted a bid for durum products."),
        ("sugar", "THAILAND EXPECTS SMALLER SUGARCANE OUTPUT", ""),
        ("natural gas", "INTERNATIONAL LPG PRICES MIXED", ""),
        ("natural gas", "Company buys properties", "It bought oil and gas properties in Texas."),
        ("steel", "Mill raises prices", "Hot-rolled coil will cost 20 dlrs a ton more from May."),
        ("steel", "Mill raises prices", "Its cold rolled sheet goes up by 15 dlrs a ton."),
    ],
)
def test_products_and_crops_of_a_commodity_name_it(topic: str, title: str, body: str) -> None:
    assert matches(topic, title, body)


def test_the_pronoun_rule_of_us_leaves_america_alone() -> None:
    assert matches("US", "The plan will help American exporters of soybeans.")
    assert not matches("US", "JOIN US, SAYS THE TRADE MINISTER")


def test_angle_brackets_around_a_company_are_not_any_angle_brackets() -> None:
    assert not matches("copper", "Deal agreed", "<Chile Copper Corp> bought a smelter.")
    assert matches("copper", "Copper & <b>tin</b> <3", "Copper rose 5% on the LME.")
    assert matches("copper", "Markets <3", "Copper rose 5% on the LME.")


RESULTS = "Shr 1.22 dlrs vs 1.05 dlrs\nNet 4.5 mln vs 3.9 mln\nRevs 80.1 mln vs 71.2 mln\n\n"


def test_a_line_of_business_in_a_report_of_results_is_not_news_about_the_commodity() -> None:
    body = RESULTS + "The company mines lead and zinc, and its oil and gas unit sold crude oil."
    assert not matches("lead", "GULF RESOURCES <GRE> 4TH QTR NET", body)
    assert not matches("crude oil", "GULF RESOURCES <GRE> 4TH QTR NET", body)
    assert matches("crude oil", "HIGHER OIL OUTPUT LIFTS 4TH QTR NET", body)  # named in headline
    assert matches("crude oil", "Oil company sees higher output", body[len(RESULTS) :])


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        ("crude oil", "Refiner raises heating oil price", "Barge prices for fuel oil rose.", False),
        ("crude oil", "Gas oil futures firm", "Diesel and gas oil stocks fell.", False),
        ("crude oil", "Heating oil rallies", "Crude oil rose 50 cts a barrel as well.", True),
        ("natural gas", "Gas oil futures firm", "Diesel and gas oil stocks fell.", False),
        ("oil products", "Refiner raises heating oil price", "", True),
        ("natural gas", "Police fire tear gas at farmers", "Farmers blocked the road.", False),
        ("sugar", "CUBA CRUDE SUGAR HARVEST LAGS", "", True),
        ("crude oil", "CUBA CRUDE SUGAR HARVEST LAGS", "", False),
    ],
)
def test_oil_products_are_not_crude_oil(topic: str, title: str, body: str, expected: bool) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    ("topic", "body", "expected"),
    [
        ("natural gas", "The group sold its stake in an oil and gas producer for cash.", False),
        ("natural gas", "Tax breaks would help the oil and natural gas industry, he said.", False),
        ("crude oil", "Profits at its oil and gas operations were lower, the company said.", False),
        ("natural gas", "The company sold its oil and gas properties in Texas.", True),
        ("natural gas", "Oil and gas prices fell sharply in the quarter.", True),
        ("natural gas", "Gas producers cut output as prices fell.", True),
        ("oil and gas industry", "Banks lent less to oil and gas companies this year.", True),
    ],
)
def test_oil_and_gas_as_a_line_of_business_is_neither(
    topic: str, body: str, expected: bool
) -> None:
    assert matches(topic, "Company news", body) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Japan's trade surplus with the United States widened.", True),
        ("Japan and the EU signed a trade deal on cars.", True),
        ("Japan joined the free trade agreement talks.", True),
        ("Japan bought 5,000 tonnes of rapeseed, trade sources said.", False),
        ("The yen rose against the dollar on a trade-weighted basis, Japan said.", False),
        ("Japan's Fair Trade Commission approved the merger.", False),
        ("A Japanese bank joined the Chicago Board of Trade.", False),
        ("Japanese trade unions called a strike.", False),
        ("Japanese shares trades at a discount, brokers said.", False),
    ],
)
def test_trade_between_countries_is_not_the_trade_as_an_industry(text: str, expected: bool) -> None:
    assert matches("Japan-trade", "Markets", text) is expected


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        ("gold", "Reserves rise", "The bank's gold and currency reserves rose 1.2 billion.", False),
        ("gold", "Reserves rise", "Gold reserves were unchanged at 218 billion francs.", False),
        ("gold", "Reserves rise", "The gold and foreign exchange reserves rose.", False),
        ("gold", "Mine sale", "The mine produces 50,000 ounces of gold a year.", True),
        ("gold", "GOLD RALLIES AS DOLLAR SLIPS", "", True),
        ("official reserves", "Reserves rise", "Gold and currency reserves rose.", True),
    ],
)
def test_gold_in_a_central_banks_reserves_is_money(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        ("crude oil", "Rating cut", "Moody's may cut the debt of Dome Petroleum, it said.", False),
        (
            "steel",
            "Liquidity adequate",
            "The banks lent money to Bethlehem Steel last year.",
            False,
        ),
        (
            "crude oil",
            "DOME PETROLEUM REAFFIRMS STAKE SALE",
            "Dome Petroleum Ltd said its stake is for sale.",
            False,
        ),
        (
            "crude oil",
            "ASHLAND OIL SEES LOSS",
            "Ashland Oil Inc said losses widened. Ashland Oil said crude oil prices fell.",
            True,
        ),
        ("coffee", "Talks resume", "Members of the International Coffee Organization met.", True),
        ("cotton", "Farm groups", "The National Cotton Council opposed the plan.", True),
        ("crude oil", "Minister speaks", "The Saudi Oil Minister spoke on Monday.", True),
        ("sugar", "Unit float", "Shares in European Sugar, the group's unit, will be sold.", False),
        ("coffee", "Quotas", "The Brazilian Coffee Institute set export quotas.", True),
        ("crude oil", "Growers", "Malaysian oil palm growers rejected the charges.", False),
        ("wheat", "Crop report", "Condition of crops.\nWinter Wheat - fair to good.", True),
        (
            "aluminium",
            "NORANDA RAISES PRIMARY ALUMINUM PRICES",
            "Noranda Aluminum Inc. said so.",
            True,
        ),
    ],
)
def test_a_capitalised_commodity_word_after_a_name_is_a_companys_name(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


def test_the_cocoa_organisation_by_its_abbreviation_is_cocoa_news() -> None:
    assert matches("cocoa", "ICCO delegates meet", "Delegates debated the buffer stock rules.")
    assert not matches("cocoa", "Icco delegates meet", "Delegates debated the rules.")


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        ("aluminium", "SURALCO BAUXITE REFINERY REOPENED", "", True),
        ("aluminium", "Greek alumina deal", "The plant will ship alumina to Moscow.", True),
        ("steel", "India to discuss iron ore prices", "", True),
        ("steel", "Talks", "Negotiators sought to iron out differences over prices.", False),
        ("crude oil", "OPEC DEFENDING 18 DLR PRICE", "", True),
    ],
)
def test_a_concept_counts_what_it_includes(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        # a market's session, trading companies, a bank's name and the verb are not trade
        ("trade", "Bonds ease", "Prices slipped in early trade as dealers waited."),
        ("trade", "Dollar sales", "The ministry asked trade houses to sell fewer dollars."),
        ("trade", "Loan signed", "The Foreign Trade Bank signed a loan with ten lenders."),
        ("trade", "Banks win approval", "Banks may underwrite and trade equities there."),
        (
            "trade",
            "Output up",
            "Output rose, the Ministry of International Trade and Industry said.",
        ),
        # machines and industrial gases are not the fuel
        ("natural gas", "Engine deal", "It will supply gas turbine engines at a fixed price."),
        (
            "natural gas",
            "Plant expands",
            "The plant uses process gas systems, its market share grew.",
        ),
        # crude before an edible oil is that oil's grade
        ("crude oil", "Egypt tender", "Egypt bought crude sunflowerseed oil at 344 dlrs."),
        # gold beside special drawing rights is a central bank's reserves
        ("gold", "Reserves fall", "Reserves of gold, special drawing rights and currencies fell."),
        # cottonseed oil is not the fibre
        ("cotton", "Argentine shipments", "Shipments of cotton oil rose to 4,000 tonnes."),
        # the EC's coal and steel body issuing bonds is not steel news
        ("steel", "Eurobond issued", "The European Coal and Steel Community is issuing a bond."),
    ],
)
def test_words_in_another_sense_or_inside_a_body_name_do_not_count(
    topic: str, title: str, body: str
) -> None:
    assert not matches(topic, title, body)


@pytest.mark.parametrize(
    ("topic", "title", "body"),
    [
        ("trade", "Surplus widens", "The trade surplus widened in May."),
        ("natural gas", "Gas output up", "Natural gas output rose 3 pct last year."),
        ("crude oil", "Crude rises", "Crude oil rose to 18 dlrs a barrel."),
        ("gold", "Bullion firm", "Gold rose to 405 dlrs an ounce."),
        ("cotton", "Crop forecast", "The cotton crop is seen at two mln bales."),
        ("steel", "Quotas cut", "The EC cut steel output quotas."),
        # paddy is rice in the husk; "Opec" is how the wire often writes OPEC
        ("rice", "Burma crop", "Burmese paddy production fell to 14 mln tonnes."),
        ("crude oil", "Opec output", "Opec kept output under its ceiling."),
    ],
)
def test_the_commodity_sense_still_counts(topic: str, title: str, body: str) -> None:
    assert matches(topic, title, body)


def test_a_long_name_matches_as_written_on_every_run() -> None:
    # A name of many words has more singular/plural spellings than are kept; the one as written
    # must be among those kept, whatever order a run would put a set of spellings in.
    lexicon = default_lexicon()
    long_names = {
        surface.text: parse_watch_item(concept.name, lexicon)
        for concept in lexicon.concepts.values()
        for surface in concept.surfaces
        if len(surface.words) >= 5 and "'" not in surface.text and "," not in surface.text
    }
    assert len(long_names) >= 10
    matcher = Matcher(long_names.values(), lexicon)
    for text, item in long_names.items():
        assert item.key in {match.key for match in matcher.match(f"{text} met")}, text


def test_a_body_named_after_commodities_is_their_news_only_in_a_headline() -> None:
    body = "July cocoa rose 20 dlrs a tonne on the Coffee, Sugar and Cocoa Exchange."
    assert not matches("sugar", "Cocoa futures firm", body)
    assert matches("cocoa", "Cocoa futures firm", body)
    assert matches(
        "sugar", "COFFEE, SUGAR AND COCOA EXCHANGE NAMES CHAIRMAN", "He takes over in May."
    )


def test_a_company_named_once_does_not_take_the_commodity_in_lower_case() -> None:
    body = "China National Offshore Oil Corp signed eight contracts for offshore oil exploration."
    assert matches("crude oil", "China signs contracts", body)


def test_a_company_is_known_by_its_first_word_not_by_a_word_inside_its_name() -> None:
    body = "China National Offshore Oil Corp said output rose in March."
    assert matches("crude oil", "CHINA OFFSHORE OIL OUTPUT RISES", body)
    assert not matches(
        "crude oil", "DOME PETROLEUM SELLS ASSETS", "Dome Petroleum Ltd sold assets."
    )


def test_a_line_of_business_in_a_sentence_of_results_is_no_news_about_the_commodity() -> None:
    title = "MINER EXPECTS HIGHER DIVIDEND"
    line = "Its copper and zinc mining operations lost 12 mln dlrs last year, the company said."
    assert not matches("zinc", title, line)
    assert not matches("copper", title, line)
    assert matches("zinc", title, "Its profit rose 20 pct on higher zinc prices, it said.")
    assert matches("zinc", title, "Its zinc mining operations will close in May.")
    assert matches("zinc", "ZINC MINING OPERATIONS LOSE MONEY", line)


def test_words_the_checks_look_for_are_found_as_typed_terms_too() -> None:
    lexicon = default_lexicon()
    # words that also tell a line of business, a list of industries and an ore body
    topics = ["operations", "industries", "ore", "zinc"]
    topics += [f"Zorbex{n}" for n in range(ONE_AUTOMATON_FROM)]
    items = [parse_watch_item(topic, lexicon) for topic in topics]
    title = "MINER REPORTS"
    body = (
        "Its zinc mining operations lost 12 mln dlrs last year. "
        "The ore grades 2 pct copper. Auto and steel industries grew."
    )
    one_by_one = [m.key for item in items for m in Matcher([item], lexicon).match(title, body)]
    assert one_by_one == [item.key for item in items[:3]]  # zinc: only a line of business
    assert [m.key for m in Matcher(items, lexicon).match(title, body)] == sorted(one_by_one)


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        (
            "steel",
            "Jobless rate rises",
            "Layoffs hit the steel and shipbuilding industries.",
            False,
        ),
        (
            "crude oil",
            "Pump maker sold",
            "It makes seals for the chemical, paper and oil industries.",
            False,
        ),
        (
            "aluminium",
            "Unit sold",
            "Its powders serve the glass, aluminum or rubber sectors.",
            False,
        ),
        # a market word in the sentence: the industries' goods are the news
        (
            "rubber",
            "Exports",
            "Officials want more exports from the rubber and palm oil industries.",
            True,
        ),
        (
            "steel",
            "Outlook",
            "The steel industry expects a hard year.",
            True,
        ),  # one industry: steel's
    ],
)
def test_a_commodity_named_as_one_of_several_industries_is_not_the_commodity(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        ("crude oil", "MINISTER BACKS OIL AND FATS TAX", "", False),
        ("crude oil", "Levy", "Brussels wants a tax on oils and fats.", False),
        ("natural gas", "Output", "Natural gas liquids output fell 11 pct last month.", False),
        ("natural gas", "Output", "Natural gas output fell 11 pct last month.", True),
        ("crude oil", "Stocks", "Crude rubber stocks fell to 41,536 tonnes.", False),
        ("crude oil", "Prices", "The index of crude materials rose 1.8 pct.", False),
        ("coffee", "Exports", "Non-coffee exports rose 12 pct.", False),
        ("coffee", "Exports", "Coffee exports rose 12 pct.", True),
    ],
)
def test_another_product_or_a_negation_is_not_the_commodity(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    "body",
    [
        "Gold Fields of South Africa Ltd said the gold price helped its shares.",
        "It signed with Gold Sierra Financial Advisors, which cut its price target.",
    ],
)
def test_a_company_name_joined_by_of_or_ending_in_advisors_is_not_gold(body: str) -> None:
    assert not matches("gold", "Shares rise", body.replace("the gold price", "its results"))


@pytest.mark.parametrize(
    ("topic", "title", "body", "expected"),
    [
        # the ore of a gold find holds silver: not silver news
        (
            "silver",
            "MINER REPORTS GOLD FIND",
            "Holes averaged 0.2 ounce gold and 1.8 ounces silver a ton.",
            False,
        ),
        (
            "gold",
            "MINER REPORTS GOLD FIND",
            "Holes averaged 0.2 ounce gold and 1.8 ounces silver a ton.",
            True,
        ),
        # the headline names silver, or silver is named beyond the ore: silver news
        (
            "silver",
            "MINER REPORTS GOLD AND SILVER FIND",
            "Ore grades 1.8 ounces silver a ton.",
            True,
        ),
        (
            "silver",
            "MINER REPORTS GOLD FIND",
            "Ore grades 1.8 ounces silver a ton.\n\nSilver output will rise.",
            True,
        ),
        # no other commodity in the headline: the ore is the story
        ("silver", "MINER DETAILS ASSAYS", "Holes averaged 1.8 ounces of silver per ton.", True),
    ],
)
def test_a_metal_named_only_in_the_ore_of_another_is_not_its_news(
    topic: str, title: str, body: str, expected: bool
) -> None:
    assert matches(topic, title, body) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("The survey covers soy, cotton, groundnut, sesame and olive oils.", False),
        ("Shipments: cotton 4,000 tonnes, sunflower 929,847, linseed 113,827.", False),
        ("Farmers planted more cotton, soybeans and corn this spring.", True),
    ],
)
def test_cotton_in_a_list_of_oilseeds_is_the_oilseed(body: str, expected: bool) -> None:
    assert matches("cotton", "Crop report", body) is expected


@pytest.mark.parametrize(
    ("topic", "body", "expected"),
    [
        ("silver", "Its deposits moved to the First Bank of Silver Lake, Minn., on Friday.", False),
        ("nickel", "Drilling on its Nickel Plate Mountain property found more ore.", False),
        ("silver", "Silver output at the mine rose 10 pct.", True),
    ],
)
def test_a_capitalised_commodity_word_in_a_places_name_is_not_the_commodity(
    topic: str, body: str, expected: bool
) -> None:
    assert matches(topic, "Mine news", body) is expected


def test_gold_beside_special_drawing_rights_is_a_central_banks_reserves() -> None:
    body = "Reserves: gold 4.71 billion dlrs, SDRs 503 mln, foreign currency 3.2 billion."
    assert not matches("gold", "Reserves fall", body)
    assert matches("gold", "Prices", "Gold rose 3 dlrs an ounce.")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Banks froze 15 billion dlrs of short-term trade lines to Brazil.", False),
        ("Creditors cut trade credit to the importer.", False),
        ("Brazil's trade with Japan grew 12 pct last year.", True),
    ],
)
def test_a_banks_trade_lines_are_lending_not_trade(body: str, expected: bool) -> None:
    assert matches("trade", "Debt talks", body) is expected
