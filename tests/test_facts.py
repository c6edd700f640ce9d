"""Key facts: figures in sentences, fact sentences, facts about a topic, ranking."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot
from bot import facts
from bot.articles import ArticleIn, parse_text_article
from bot.facts import (
    Actors,
    FactCandidate,
    FigureKind,
    RankedInput,
    article_is_about,
    extract_facts,
    fact_key,
    facts_about,
    find_figures,
    is_fact,
    is_near_duplicate,
    is_table_row,
    main_actors,
    rank_facts,
    with_subject,
)
from bot.lexicon import default_lexicon
from bot.text import split_sentences
from bot.topics import parse_watch_item

DATA = Path(__file__).parent / "data"
K = FigureKind


def figures(sentence: str) -> list[tuple[FigureKind, str]]:
    return [(figure.kind, figure.text) for figure in find_figures(sentence)]


def article(path: Path) -> ArticleIn:
    return parse_text_article(path.read_text(encoding="utf-8"))


def topic_facts(topic: str, title: str, body: str) -> list[tuple[str, bool]]:
    lexicon = default_lexicon()
    item = parse_watch_item(topic, lexicon)
    found = facts_about(item, title, body, extract_facts(title, body), lexicon)
    return [(fact.fact.sentence, fact.names_topic) for fact in found]


INDIA_CHILE = article(DATA / "india-chile-copper.txt")
INDIA_COPPER = article(Path(bot.__file__).parent / "samples" / "india-copper-talks.txt")
CHILE_OUTPUT = article(DATA / "facts-chile-copper-output.txt")
SAMPLES = [INDIA_CHILE, INDIA_COPPER]


# --- find_figures -----------------------------------------------------------------------------

FIGURE_EXAMPLES = [
    ("Copper rose 90% this year.", [(K.PERCENT, "90%")]),
    ("India imports over 90% of its concentrate.", [(K.PERCENT, "over 90%")]),
    ("China makes roughly 90% of magnets.", [(K.PERCENT, "roughly 90%")]),
    ("Inflation hit 4.5 per cent.", [(K.PERCENT, "4.5 per cent")]),
    ("Inflation hit 4.5 percent.", [(K.PERCENT, "4.5 percent")]),
    ("Growth slowed to five per cent.", [(K.PERCENT, "five per cent")]),
    ("Yields rose 25 basis points.", [(K.PERCENT, "25 basis points")]),
    ("Its share rose 1.5 percentage points.", [(K.PERCENT, "1.5 percentage points")]),
    ("Gold could reach $6,300.", [(K.MONEY, "$6,300")]),
    ("Gold could reach $6,300 an ounce.", [(K.MONEY, "$6,300 an ounce")]),
    ("Copper traded at $9,000/t.", [(K.MONEY, "$9,000/t")]),
    ("The deal is worth US$1.2bn.", [(K.MONEY, "US$1.2bn")]),
    ("Brussels pledged €40 million.", [(K.MONEY, "€40 million")]),
    ("The plan costs Rs 500 crore.", [(K.MONEY, "Rs 500 crore")]),
    ("Miners lost £5m.", [(K.MONEY, "£5m")]),
    ("It raised 40 million euros.", [(K.MONEY, "40 million euros")]),
    ("Beijing set aside 5 billion yuan.", [(K.MONEY, "5 billion yuan")]),
    ("Funding reached USD 5 billion.", [(K.MONEY, "USD 5 billion")]),
    ("Output may reach 1.3 million tonnes.", [(K.QUANTITY, "1.3 million tonnes")]),
    ("Output fell to 448,000 tonnes.", [(K.QUANTITY, "448,000 tonnes")]),
    ("The field pumps 100,000 barrels a day.", [(K.QUANTITY, "100,000 barrels a day")]),
    ("The vault holds 2 million ounces.", [(K.QUANTITY, "2 million ounces")]),
    ("The plant will add 500 MW.", [(K.QUANTITY, "500 MW")]),
    ("The smelter makes 450 kt.", [(K.QUANTITY, "450 kt")]),
    ("Farmers sold 3 million bushels.", [(K.QUANTITY, "3 million bushels")]),
    ("The share could reach 97% by 2047.", [(K.PERCENT, "97%"), (K.YEAR, "by 2047")]),
    ("Exports will double in 2026.", [(K.YEAR, "in 2026")]),
    ("The forecast runs to end-2026.", [(K.YEAR, "end-2026")]),
    ("Stocks should recover by the end of 2027.", [(K.YEAR, "by the end of 2027")]),
    ("The 2025/26 season was dry.", [(K.YEAR, "2025/26")]),
    ("Its FY26 guidance held.", [(K.YEAR, "FY26")]),
    ("Talks resume on 24 November 2026.", [(K.DATE, "on 24 November 2026")]),
    ("Talks resume Nov. 24 in Lima.", [(K.DATE, "Nov. 24")]),
    ("Talks resume November 24, 2026.", [(K.DATE, "November 24, 2026")]),
    ("Output peaked in March 2026.", [(K.DATE, "in March 2026")]),
    ("The quota expires 2026-11-24.", [(K.DATE, "2026-11-24")]),
    ("Profit rose in Q3.", [(K.QUARTER, "in Q3")]),
    ("Profit rose in Q3 2026.", [(K.QUARTER, "in Q3 2026")]),
    ("Output grew in the third quarter.", [(K.QUARTER, "in the third quarter")]),
    ("First-quarter profit fell.", [(K.QUARTER, "First-quarter")]),
    ("Sales rose in H1 2026.", [(K.QUARTER, "in H1 2026")]),
    ("Activity hit an 18-month high.", [(K.RECORD, "18-month high")]),
    ("Stocks fell to a record low.", [(K.RECORD, "record low")]),
    ("Prices are the highest since 2019.", [(K.RECORD, "highest since 2019")]),
    ("Imports were the lowest in 18 months.", [(K.RECORD, "lowest in 18 months")]),
    ("Peru is the second-largest producer.", [(K.RANK, "second-largest")]),
    ("Chile is the world's largest producer.", [(K.RANK, "world's largest")]),
    ("Chile is the No. 1 producer.", [(K.RANK, "No. 1")]),
    ("It ranks among the top three exporters.", [(K.RANK, "top three")]),
    ("Demand grew threefold.", [(K.MULTIPLE, "threefold")]),
    ("Demand is three times higher.", [(K.MULTIPLE, "three times")]),
    ("Congo mines about two-thirds of cobalt.", [(K.FRACTION, "about two-thirds")]),
    ("Codelco cut 1,200 jobs.", [(K.COUNT, "1,200 jobs")]),
    ("Protesters blocked 12 mines.", [(K.COUNT, "12 mines")]),
    ("The index closed at 112.5.", [(K.NUMBER, "112.5")]),
    ("It sold 448,000 last year.", [(K.NUMBER, "448,000")]),
    ("Tariffs of 7.8% to 35.3% apply.", [(K.RANGE, "7.8% to 35.3%")]),
    ("Tariffs range from 7.8% to 35.3%.", [(K.RANGE, "from 7.8% to 35.3%")]),
    ("Mines ship between 5 and 10 tonnes.", [(K.RANGE, "between 5 and 10 tonnes")]),
    ("Margins are 5-10%.", [(K.RANGE, "5-10%")]),
    ("The project needs $5-6 billion.", [(K.RANGE, "$5-6 billion")]),
    ("Talks ran from 2019 to 2023.", [(K.YEAR, "from 2019 to 2023")]),
    (
        "National output fell 1.5% to 448,000 tonnes in the third quarter.",
        [
            (K.PERCENT, "1.5%"),
            (K.QUANTITY, "448,000 tonnes"),
            (K.QUARTER, "in the third quarter"),
        ],
    ),
    ("Gold rose $50 to $2,400.", [(K.MONEY, "$50"), (K.MONEY, "$2,400")]),
    (
        "Headline: South Korea Factory Activity Hits 18-Month High",
        [(K.RECORD, "18-Month High")],
    ),
    ("Codelco Cuts 500 Jobs as Output Falls", [(K.COUNT, "500 Jobs")]),
]


@pytest.mark.parametrize(("sentence", "expected"), FIGURE_EXAMPLES)
def test_figures_are_found_with_their_kind_and_qualifier(
    sentence: str, expected: list[tuple[FigureKind, str]]
) -> None:
    assert figures(sentence) == expected


NOT_FIGURES = [
    "Two countries signed the deal.",
    "A three-hour staging opened.",
    "The G7 met in Rome.",
    "The S&P 500 rose as tech stocks rallied.",
    "S&P 500 Rises as AI Stocks and Small Caps Rally",
    "COVID-19 cases fell.",
    "Boeing 737 jets were grounded.",
    "Airlines grounded Boeing 737-800 jets.",
    "Sales of iPhone 15 models slowed.",
    "The U.S. raised tariffs.",
    "The port works 24/7 now.",
    "Section 232 tariffs stay.",
    "The Vision 2030 plan moved on.",
    "Chapter 11 filings rose.",
    "Call +1 212 555 0100 for details.",
    "Call 212-555-0100 for details.",
    "Trading opens at 10:30 GMT.",
    "The meeting starts at 9 a.m. sharp.",
    "The meeting starts at 10 am sharp.",
    "1. Copper prices rose.",
    "Analysts said on Monday they would watch closely.",
    "Prices hit a record on the LME.",
    "The talks are in their second round.",
    "Miners met twice in Lima.",
]


@pytest.mark.parametrize("sentence", NOT_FIGURES)
def test_labels_times_and_prose_numbers_are_not_figures(sentence: str) -> None:
    assert figures(sentence) == []


@pytest.mark.parametrize(
    ("sentence", "unit"),
    [
        ("Output reached 1.3 million tonnes.", "tonne"),
        ("Output reached 1.3 million metric tons.", "tonne"),
        ("Gold could reach $6,300.", "USD"),
        ("Brussels pledged €40 million.", "EUR"),
        ("The plan costs Rs 500 crore.", "INR"),
        ("Beijing set aside RMB 5 billion.", "CNY"),
        ("Growth slowed to five per cent.", "%"),
        ("Yields rose 25 bps.", "bp"),
        ("The plant will add 2 GW.", "gigawatt"),
        ("Mines ship between 5 and 10 tonnes.", "tonne"),
    ],
)
def test_figures_carry_a_canonical_unit(sentence: str, unit: str) -> None:
    [figure] = find_figures(sentence)
    assert figure.unit == unit


def test_figure_spans_point_into_the_sentence() -> None:
    sentence = "India imports over 90% of its copper concentrate, 97% by 2047."
    for figure in find_figures(sentence):
        assert sentence[figure.start : figure.end] == figure.text


def test_a_change_and_a_level_are_not_a_range() -> None:
    assert figures("Its share rose 5% to 35%.") == [(K.PERCENT, "5%"), (K.PERCENT, "35%")]
    assert figures("Its share rose from 5% to 35%.") == [(K.RANGE, "from 5% to 35%")]


# Odd spellings and casings for the hints: each pattern of bot.facts runs only on sentences that
# hold its hints, without the parts (numbers in words, qualifiers) whose words they lack.
HINT_SENTENCES = [
    *(
        f"Output reached {figure} last year."
        for figure in (
            "twenty-five per cent",
            "a few million tonnes",
            "half a million ounces",
            "several million barrels",
            "threefold",
            "tenfold",
            "3x",
            "5-fold",
            "three times more",
            "1H26",
            "2H 2026",
            "H1 FY25",
            "Q4'26",
            "3Q 2025",
            "FY'26",
            "the first half of fiscal 2026",
            "a multi-year high",
            "a 3-week low",
            "a record-high",
            "an all-time high",
            "the country's 3rd-largest",
            "the world’s most-traded",
            "the globe's biggest",
            "No. 2",
            "number one",
            "the top three",
            "up to 5 Mt",
            "at least 2 GW",
            "as much as 3 bcm",
            "well over 4 mb/d",
            "100,000 b/d",
            "5 TEUs",
            "6 lbs",
            "7 pounds of beef",
            "8 MWh",
            "9 TWh",
            "10 km2",
            "3 Mtpa",
            "Rs.500 crore",
            "U.S.$5bn",
            "HK$3m",
            "RMB 5 billion",
            "40 million reais",
            "5ppts",
            "25bps",
            "3 pp",
            "448,000",
            "112.5",
            "one-third of output",
            "three-quarters of exports",
            "the highest since 2019",
            "the lowest in more than two years",
            "on Sept. 24",
            "24th May 2026",
            "2026-11-24",
            "11/24/2026",
            "the 2025/26 season",
            "end-2026",
        )
    ),
    *(
        f"Call {time_or_number} for details."
        for time_or_number in (
            "at 10a.m.",
            "at 9 p.m.",
            "at 10:30 GMT",
            "at 9.45 BST",
            "at 1030 ET",
            "(020) 7946 0958",
            "+44 20 7946 0958",
            "212.555.0100",
            "24/7",
        )
    ),
    "Output roſe by ſeven per cent; exports fell by nıne per cent to 5 Kg.",  # read as s, i, k
    "Exports rose ٥ per cent in ٢٠٢٦.",
]


def test_hints_only_skip_patterns_that_cannot_match() -> None:
    """A pattern left out of a sentence by its hints must find nothing in it, and one run without
    its parts for numbers in words or qualifiers must find what it finds with them (bot.facts,
    "hints"): a unit or pattern added without its marks would lose figures."""
    sentences = [sentence for sentence, _ in FIGURE_EXAMPLES] + NOT_FIGURES + HINT_SENTENCES
    for sample in [*SAMPLES, CHILE_OUTPUT]:
        sentences += [sample.title, *split_sentences(sample.body)]
    for sentence in {v for s in sentences for v in (s, s.upper(), s.lower(), s.title())}:
        runnable = {
            priority: regex for priority, _, regex in facts._runnable(facts._marks(sentence))
        }
        for priority, pattern in enumerate(facts._PATTERNS):
            full = facts._compiled(pattern.source, spelled=True, qualified=True)
            regex = runnable.get(priority)
            found = [(m.span(), m.groups()) for m in regex.finditer(sentence)] if regex else []
            assert found == [(m.span(), m.groups()) for m in full.finditer(sentence)], (
                pattern.kind,
                sentence,
            )


# --- extract_facts ----------------------------------------------------------------------------


def test_facts_of_the_sample_article_are_its_figure_sentences() -> None:
    facts = extract_facts(INDIA_CHILE.title, INDIA_CHILE.body)
    assert [fact.sentence for fact in facts] == [
        "The country buys over 90% of its copper concentrate abroad, and that share is projected "
        "to climb to 97% by 2047 without new domestic production.",
        "China dominates rare earths and magnets, producing roughly 90% of the world's rare earth "
        "magnets, and it recently restricted exports of them after the U.S. raised tariffs.",
    ]
    assert [[f.text for f in fact.figures] for fact in facts] == [
        ["over 90%", "97%", "by 2047"],
        ["roughly 90%"],
    ]


def test_commentary_without_figures_stays_out() -> None:
    for sample in SAMPLES:
        sentences = [fact.sentence for fact in extract_facts(sample.title, sample.body)]
        assert not any("said" in sentence for sentence in sentences)
        assert not any("closely" in sentence for sentence in sentences)


def test_fact_positions_are_sentence_indexes_in_the_body() -> None:
    facts = extract_facts(CHILE_OUTPUT.title, CHILE_OUTPUT.body)
    assert [fact.position for fact in facts] == [0, 1, 2, 3, 4]
    assert facts[0].sentence.startswith("National output fell 1.5%")


def test_a_year_or_date_alone_is_context_not_a_fact() -> None:
    assert extract_facts("Talks", "The talks began in 2019. They resumed on Nov. 24.") == []
    assert not is_fact(find_figures("Analysts said on 24 November 2026 they would watch."))


def test_a_deadline_year_is_a_fact() -> None:
    [fact] = extract_facts("Talks", "India wants a copper chapter by 2027. Talks go on.")
    assert fact.sentence == "India wants a copper chapter by 2027."


def test_a_headline_without_a_body_is_its_own_fact() -> None:
    title = "Gold Forecast Raised to $6,300 an Ounce by End-2026 on Central Bank Buying"
    [fact] = extract_facts(title, "")
    assert fact.sentence == title
    assert fact.position == 0
    assert [f.kind for f in fact.figures] == [K.MONEY, K.YEAR]


# --- de-duplication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Copper output fell 1.5% to 448,000 tonnes.",
            "copper output fell 1.5 per cent to 448000 tonnes",
        ),
        (
            "India imports over 90% of the copper it needs.",
            "India imports over 90% of copper it needs!",
        ),
        ("Chile’s exports rose 12%.", "Chile's export rose 12 percent."),
    ],
)
def test_fact_keys_collide_for_the_same_sentence_written_differently(a: str, b: str) -> None:
    assert fact_key(a) == fact_key(b)


def test_fact_keys_differ_when_a_figure_differs() -> None:
    assert fact_key("India imports over 90% of its copper.") != fact_key(
        "India imports over 80% of its copper."
    )


def test_rewrites_of_one_fact_across_sources_are_near_duplicates() -> None:
    [first, *_] = extract_facts(INDIA_CHILE.title, INDIA_CHILE.body)
    [second, *_] = extract_facts(INDIA_COPPER.title, INDIA_COPPER.body)
    assert first.key != second.key
    assert is_near_duplicate(first.sentence, second.sentence)


def test_near_identical_single_figure_sentences_are_near_duplicates() -> None:
    assert is_near_duplicate(
        "China remains dominant in rare earths and magnets: it makes roughly 90% of the world's "
        "rare earth magnets and recently restricted their export after U.S. tariffs were raised.",
        "China dominates rare earths and magnets, producing roughly 90% of the world's rare earth "
        "magnets, and it recently restricted exports of them after the U.S. raised tariffs.",
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "India imports over 90% of its copper concentrate.",
            "India imports over 80% of its copper concentrate.",
        ),
        (
            "China produces roughly 90% of the world's rare earth magnets.",
            "China refines roughly 90% of the world's rare earths, the IEA said.",
        ),
        ("Copper output rose 5% in October.", "Lithium prices fell 5% this month."),
    ],
)
def test_different_facts_are_not_near_duplicates(a: str, b: str) -> None:
    assert not is_near_duplicate(a, b)


# --- facts about a topic ----------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=["tests-data", "bot-samples"])
def test_copper_facts_of_the_sample_are_the_import_share_and_the_2047_projection(
    sample: ArticleIn,
) -> None:
    [(sentence, names)] = topic_facts("copper", sample.title, sample.body)
    assert "over 90%" in sentence and "97% by 2047" in sentence
    assert names


@pytest.mark.parametrize("sample", SAMPLES, ids=["tests-data", "bot-samples"])
def test_rare_earth_facts_of_the_sample_are_chinas_share_of_magnets(sample: ArticleIn) -> None:
    [(sentence, names)] = topic_facts("rare earths", sample.title, sample.body)
    assert "roughly 90% of the world's rare earth magnets" in sentence
    assert names


def test_a_figure_sentence_in_a_copper_story_counts_for_copper_without_naming_it() -> None:
    found = dict(topic_facts("copper", CHILE_OUTPUT.title, CHILE_OUTPUT.body))
    output = next(s for s in found if s.startswith("National output fell 1.5% to 448,000 tonnes"))
    assert found[output] is False
    assert found["The state miner still expects to produce 1.4 million tonnes of copper in 2026."]


def test_a_figure_sentence_about_another_commodity_does_not_count_for_the_topic() -> None:
    sentences = [s for s, _ in topic_facts("copper", CHILE_OUTPUT.title, CHILE_OUTPUT.body)]
    assert not any(s.startswith("Lithium exports") for s in sentences)
    assert topic_facts("lithium", CHILE_OUTPUT.title, CHILE_OUTPUT.body) == [
        ("Lithium exports from the Atacama salt flats rose 12% over the same period.", True)
    ]


def test_naming_sentences_come_with_names_topic_and_others_without() -> None:
    assert topic_facts("copper", CHILE_OUTPUT.title, CHILE_OUTPUT.body) == [
        (
            "National output fell 1.5% to 448,000 tonnes in the third quarter, the mining ministry "
            "said on Monday.",
            False,
        ),
        (
            "Codelco, the world's largest copper producer, blamed delays at its El Teniente and "
            "Chuquicamata mines.",
            True,
        ),
        ("The state miner still expects to produce 1.4 million tonnes of copper in 2026.", True),
        (
            "Output at Escondida, the biggest mine in the country, was steady at 290,000 tonnes.",
            False,
        ),
    ]


def test_in_an_article_not_about_the_topic_only_naming_sentences_count() -> None:
    body = (
        "Lithium output rose 12% to 50,000 tonnes. Prices fell 8% in October. "
        "Smelters also bought 2,000 tonnes of copper."
    )
    assert topic_facts("copper", "Lithium output jumps", body) == [
        ("Smelters also bought 2,000 tonnes of copper.", True)
    ]


def test_an_excluded_word_silences_every_fact_of_the_article() -> None:
    assert topic_facts("copper -Codelco", CHILE_OUTPUT.title, CHILE_OUTPUT.body) == []


def test_cooccurrence_facts_name_some_term_or_no_rival() -> None:
    found = topic_facts("India-Chile", INDIA_COPPER.title, INDIA_COPPER.body)
    assert found == [
        (
            "India currently imports over 90% of the copper concentrate it needs, and that share "
            "could reach 97% by 2047 unless domestic mine output grows.",
            False,
        )
    ]
    assert not any(
        "China" in s for s, _ in topic_facts("India-Chile", INDIA_CHILE.title, INDIA_CHILE.body)
    )


def test_a_sentence_naming_every_cooccurrence_term_names_the_topic() -> None:
    body = "India and Chile agreed to cut tariffs by 5%. India also buys 90% of its copper abroad."
    assert topic_facts("India-Chile", "India and Chile agree trade deal", body) == [
        ("India and Chile agreed to cut tariffs by 5%.", True),
        ("India also buys 90% of its copper abroad.", False),
    ]


@pytest.mark.parametrize(
    ("title", "body", "about"),
    [
        ("Copper rallies", "Prices rose. Stocks fell. Miners cheered.", True),
        ("Markets", "Copper rallied. Stocks fell. Miners cheered.", True),
        ("Markets", "Stocks fell. Bonds rose. Copper rallied. Copper miners cheered.", True),
        ("Markets", "Stocks fell. Bonds rose. Copper rallied. Miners cheered.", False),
        ("Markets", "Stocks fell. Bonds rose. Miners cheered.", False),
    ],
)
def test_an_article_is_about_a_topic_in_its_title_lead_or_repeated_mentions(
    title: str, body: str, about: bool
) -> None:
    lexicon = default_lexicon()
    assert article_is_about(parse_watch_item("copper", lexicon), title, body, lexicon) is about


# --- ranking ----------------------------------------------------------------------------------


def ranked(
    sentence: str, *, names: bool = True, day: int | None = 24, position: int = 0, source: str = ""
) -> RankedInput[str]:
    published = datetime(2026, 11, day, tzinfo=UTC) if day is not None else None
    return RankedInput(sentence, fact_key(sentence), names, published, position, source)


def test_facts_rank_newest_first_then_naming_then_earlier_sentences() -> None:
    facts = [
        ranked("Zinc stocks rose 3%.", names=False, day=24),
        ranked("Copper output fell 2%.", day=20),
        ranked("Copper imports rose 4%.", day=24, position=3),
        ranked("Copper prices rose 1%.", day=24, position=1),
        ranked("Copper demand rose 9%.", day=None),
    ]
    order = [fact.best.sentence for fact in rank_facts(facts)]
    assert order == [
        "Copper prices rose 1%.",
        "Copper imports rose 4%.",
        "Zinc stocks rose 3%.",
        "Copper output fell 2%.",
        "Copper demand rose 9%.",
    ]


def test_ranking_folds_duplicates_into_the_best_ranked_report() -> None:
    sentences = [fact.sentence for fact in extract_facts(INDIA_CHILE.title, INDIA_CHILE.body)]
    other = [fact.sentence for fact in extract_facts(INDIA_COPPER.title, INDIA_COPPER.body)]
    facts = [
        ranked(sentences[0], day=20, source="mint"),
        ranked(other[0], day=24, source="reuters"),
        ranked(other[0].upper(), day=22, source="wire"),
        ranked(other[1], day=24, position=5, source="reuters"),
    ]
    result = rank_facts(facts)
    assert [fact.best.article for fact in result] == ["reuters", "reuters"]
    assert [d.article for d in result[0].duplicates] == ["wire", "mint"]
    assert result[1].duplicates == ()


def test_rank_facts_accepts_any_article_reference() -> None:
    fact = FactCandidate("Copper rose 2%.", tuple(find_figures("Copper rose 2%.")), 0, "k")
    [only] = rank_facts([RankedInput(fact.sentence, fact.key, True, None, 0, 42)])
    assert only.best.article == 42


# --- wire copy --------------------------------------------------------------------------------

WIRE_FIGURES = [
    (
        "Net profit rose 5.3 pct to 12.5 mln dlrs.",
        [(K.PERCENT, "5.3 pct"), (K.MONEY, "12.5 mln dlrs")],
    ),
    ("The smelter lifted cathodes to 67.50 cts a lb.", [(K.MONEY, "67.50 cts a lb")]),
    ("The bank arranged a loan of 300 mln Canadian dlrs.", [(K.MONEY, "300 mln Canadian dlrs")]),
    ("Takings reached 40 mln stg.", [(K.MONEY, "40 mln stg")]),
    ("The mine shipped 38.2 mln lbs of concentrate.", [(K.QUANTITY, "38.2 mln lbs")]),
]


@pytest.mark.parametrize(("sentence", "expected"), WIRE_FIGURES)
def test_wire_abbreviations_are_money_and_units(
    sentence: str, expected: list[tuple[FigureKind, str]]
) -> None:
    assert figures(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "unit"),
    [
        ("The bank arranged a loan of 300 mln Canadian dlrs.", "CAD"),
        ("Net profit was 12.5 mln dlrs.", "USD"),
        ("The smelter lifted cathodes to 67.50 cts a lb.", "USD cent"),
        ("Takings reached 40 mln stg.", "GBP"),
    ],
)
def test_wire_money_carries_its_currency(sentence: str, unit: str) -> None:
    [figure] = find_figures(sentence)
    assert figure.unit == unit


def test_a_fact_in_wire_abbreviations_is_a_near_duplicate_of_it_written_out() -> None:
    wire = "Zambian copper exports rose 4.2 pct to 310 mln dlrs in the first quarter."
    written = "Zambian copper exports rose 4.2% to 310 million dollars in the first quarter."
    assert fact_key(wire) == fact_key(written)


TABLE_ROWS = [
    "Net 2,114,000 vs 1,873,000",
    "Shr loss 37 cts vs profit 29 cts",
    "Zinc special high grade nil (4,125,300), Standard zinc nil (9,150), Grade B 1,204,550 "
    "(nil), Lead 310,400 (298,750), Tin 12,050 (nil).",
    "COPPER GRADE A - Steady 125 tonnes cash 874.50 3months 880.00 STANDARD - Quiet 75 tonnes "
    "cash 861.00 3months nil LEAD - Steady 250 tonnes cash 301.50 3months 299.00",
    "91-120 days 5.85 pct 5.80 pct 91-120 days",
]


@pytest.mark.parametrize("sentence", TABLE_ROWS)
def test_table_rows_are_not_facts(sentence: str) -> None:
    assert is_table_row(sentence, find_figures(sentence))
    assert extract_facts("Metal stocks", f"Stocks were as follows.\n\n{sentence}") == []


@pytest.mark.parametrize(
    "sentence",
    [
        "National output fell 1.5% to 448,000 tonnes in the third quarter.",
        "Zinc stocks fell 4,500 tonnes to 160,000 from 164,500 in January, compared with "
        "126,700 a year earlier.",
        "THE PESO HAS FALLEN 2.1 PCT AGAINST THE DOLLAR THIS YEAR, AFTER LOSING 3.4 PCT IN 1986.",
    ],
)
def test_prose_with_many_figures_is_not_a_table(sentence: str) -> None:
    assert not is_table_row(sentence, find_figures(sentence))


# --- whose fact -------------------------------------------------------------------------------


def test_the_government_is_named_after_the_article_s_country() -> None:
    body = (
        "India wants to double its refined copper capacity within a decade.\n\n"
        "The government targets 3 million tonnes a year by 2031."
    )
    actors = main_actors("Copper push", body, default_lexicon())
    assert actors.country == "India"
    assert (
        with_subject("The government targets 3 million tonnes a year by 2031.", actors)
        == "The government of India targets 3 million tonnes a year by 2031."
    )


@pytest.mark.parametrize(
    ("lead", "organisation"),
    [
        ("Halvorsen Platinum Corp said drilling found 1.2 pct copper.", "Halvorsen Platinum Corp"),
        ("Codelco, the state copper miner, said output fell 5 pct.", "Codelco"),
        ("Shares rose after Brandt Mining Ltd found more ore.", "Brandt Mining Ltd"),
    ],
)
def test_the_company_and_it_are_the_article_s_organisation(lead: str, organisation: str) -> None:
    actors = main_actors("Drilling results", lead, default_lexicon())
    assert actors.organisation == organisation
    assert with_subject("It expects 40,000 tonnes in 2027.", actors) == (
        f"{organisation} expects 40,000 tonnes in 2027."
    )
    assert with_subject("The company expects 40,000 tonnes.", actors) == (
        f"{organisation} expects 40,000 tonnes."
    )


def test_a_country_is_not_taken_for_the_company() -> None:
    actors = main_actors(
        "Talks", "India is negotiating copper supplies with Chile.", default_lexicon()
    )
    assert actors == Actors(None, "India")
    assert with_subject("It buys over 90% of its concentrate.", actors) == (
        "It buys over 90% of its concentrate."
    )
    assert (
        with_subject("The country buys 90% abroad.", Actors(None, "US"))
        == "The US buys 90% abroad."
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "It is situated 14 kilometres from the first well, which yields 500,000 cubic metres.",
        "The government of President Ortiz has laid off about 20,000 miners.",
        "The government's target is 3 million tonnes by 2031.",
    ],
)
def test_a_subject_that_is_not_the_actor_or_says_whose_stays(sentence: str) -> None:
    assert with_subject(sentence, Actors("Halvorsen Platinum Corp", "Bolivia")) == sentence
