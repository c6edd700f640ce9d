"""The query language: parsing every operator, every error, printing back, and matching."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import query
from bot.lexicon import default_lexicon
from bot.matching import Matcher, evidence_sentence
from bot.topics import MAX_TOPIC_LENGTH, TopicError, parse_watch_item


def key(text: str) -> str:
    return parse_watch_item(text, default_lexicon()).key


def parsed(text: str) -> query.Node:
    return query.parse(text, default_lexicon())


def matches(topic: str, title: str, body: str = "") -> bool:
    lexicon = default_lexicon()
    return bool(Matcher([parse_watch_item(topic, lexicon)], lexicon).match(title, body))


@pytest.mark.parametrize(
    ("typed", "expected", "kind"),
    [
        ("copper OR nickel", "copper OR nickel", query.AnyOf),
        ("(copper OR nickel) -Copperfield", "(copper OR nickel) -Copperfield", query.Without),
        ("copper OR nickel -Copperfield", "(copper OR nickel) -Copperfield", query.Without),
        ("India AND copper", "India AND copper", query.AllOf),
        ("India NEAR Chile", "India NEAR Chile", query.Near),
        ("indian NEAR Chilean", "india NEAR Chile", query.Near),
        ("title:copper", "title:copper", query.Title),
        ("title: (copper OR tin)", "title:(copper OR tin)", query.Title),
        ('"copper wire"', '"copper wire"', query.Exact),
        ("/cop+er/", "/cop+er/", query.Pattern),
        ("/a\\/b/", "/a\\/b/", query.Pattern),
        ("title:rare-earth AND U.S.", "title:rare earths AND US", query.AllOf),
        ("copper OR (tin AND Chile)", "copper OR tin AND Chile", query.AnyOf),
        ("(copper OR tin) AND Chile", "(copper OR tin) AND Chile", query.AllOf),
        ("copper OR (nickel OR tin)", "copper OR (nickel OR tin)", query.AnyOf),
        ("(copper -wire) OR tin", "(copper -wire) OR tin", query.AnyOf),
        ("India-Chile AND copper", "India-Chile AND copper", query.AllOf),
        ("/x/ OR India NEAR (Chile OR Peru)", "/x/ OR India NEAR (Chile OR Peru)", query.AnyOf),
    ],
)
def test_every_operator_parses_to_a_canonical_key(
    typed: str, expected: str, kind: type[query.Node]
) -> None:
    assert key(typed) == expected
    assert isinstance(parsed(typed), kind)
    assert parsed(expected) == parsed(typed)


@pytest.mark.parametrize(
    "typed",
    ["copper", "rare-earth", "India-Chile", 'copper -"copper wire" -Copperfield', "us", "a-b-c"],
)
def test_todays_forms_are_plain_items_with_the_keys_they_always_had(typed: str) -> None:
    item = parse_watch_item(typed, default_lexicon())
    assert item.query is None and item.key == key(item.key)


def test_parentheses_are_word_characters_where_there_is_no_operator() -> None:
    assert key("Acme (UK)") == "Acme (UK)"
    assert parse_watch_item("Acme (UK)", default_lexicon()).query is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("(copper OR nickel", "Unbalanced parenthesis after 'nickel': the one opened at the start"),
        ("tin AND (copper OR nickel", "the one opened after 'AND' is never closed"),
        ("copper OR nickel)", "Unbalanced parenthesis after 'nickel': nothing opened it."),
        ('copper "wire', "This quote is never closed: '\"wire'."),
        ("/cop+er", "This regular expression is never closed with a /: '/cop+er'."),
        ("OR copper", "Expected a word, phrase or (…) at the start."),
        ("copper OR", "Expected a word, phrase or (…) after 'OR'."),
        ("copper AND OR tin", "Expected a word, phrase or (…) after 'AND'."),
        ("copper OR ()", "Expected a word, phrase or (…) after '('."),
        ("copper OR -(tin)", "Expected a word or quoted phrase to leave out after '-'."),
        ("title: OR tin", "Expected a word, phrase or (…) after 'title:'."),
        ('copper "wire" OR tin', "Put OR, AND or NEAR between 'copper' and '\"wire\"'."),
        ("(tin OR zinc) copper", "Put OR, AND or NEAR between 'tin OR zinc' and 'copper'."),
        ("India-Chile NEAR copper", "NEAR joins words, phrases, /patterns/ and (… OR …)"),
        ("(India AND Chile) NEAR copper", "not 'India AND Chile'"),
        ('"?!" OR tin', 'The phrase "?!" needs a letter or digit.'),
        ("?! OR tin", "'?!' needs a letter or digit."),
        ("-copper OR -tin", "not only exclusions"),
        ("tin-zinc-lead-gold-iron-salt OR tin", "at most 5 terms"),
        ("((((((tin OR zinc))))))", "nest at most 4 parentheses"),
        (" OR ".join("abcdefghijk"), "at most 10 words, phrases and patterns"),
        ("tin OR zinc -a -b -c -d -e -f", "at most 5 exclusions"),
        ("// OR tin", "can't be empty"),
        ("/a*/", "/a*/ matches an empty text: every article."),
        ("/\\b/", "matches an empty text"),
        ("/(a)\\1/", "can't be used: invalid escape sequence: \\1."),
        ("/(?=a)b/", "can't be used: invalid perl operator: (?=."),
        ("/\\pL{1000}/", "can't be used: pattern too large - compile failed."),
        ("copper OR " + "x" * 100, "at most 100 characters"),
    ],
)
def test_every_error_points_at_the_problem(typed: str, message: str) -> None:
    with pytest.raises(TopicError) as raised:
        parse_watch_item(typed, default_lexicon())
    assert message in str(raised.value)


# --- matching -------------------------------------------------------------------------------


def test_or_matches_either_and_exclusions_apply_to_their_group() -> None:
    topic = "(copper OR nickel) -Copperfield"
    assert matches(topic, "Nickel output rose", "Mines in Indonesia sold more nickel.")
    assert matches(topic, "Copper output rose")
    assert not matches(topic, "Nickel output rose", "David Copperfield was unmoved.")
    assert not matches(topic, "Zinc output rose")
    inner = "(copper -Copperfield) OR nickel"
    assert matches(inner, "Nickel output rose", "David Copperfield was unmoved.")
    assert not matches(inner, "Copper output rose", "David Copperfield was unmoved.")


def test_near_needs_one_sentence_where_and_needs_one_article() -> None:
    apart = ("Trade talks", "India met officials. Chile agreed to talk.")
    together = ("Trade talks", "India and Chile agreed to talk. Peru did not.")
    assert matches("India AND Chile", *apart) and matches("India AND Chile", *together)
    # a hyphen: one sentence, or one of them in the headline
    assert not matches("India-Chile", *apart) and matches("India-Chile", *together)
    assert not matches("India NEAR Chile", *apart)
    assert matches("India NEAR Chile", *together)
    lexicon = default_lexicon()
    [found] = Matcher([parse_watch_item("India NEAR Chile", lexicon)], lexicon).match(*together)
    assert evidence_sentence(*together, found.evidence_at) == "India and Chile agreed to talk."


def test_a_cooccurrence_in_a_query_needs_its_terms_together_as_a_plain_topic_does() -> None:
    apart = ("Trade talks", "India met officials. Chile agreed to talk.")
    headed = ("India trade talks", "Officials met. Chile agreed to talk.")
    assert not matches("(India-Chile) OR nickel", *apart)
    assert matches("(India-Chile) OR nickel", *headed)
    assert matches("title:India-Chile", "India and Chile talk", "Officials met.")


def test_title_looks_only_at_the_headline() -> None:
    assert matches("title:copper", "Copper rallies", "Traders bought.")
    assert not matches("title:copper", "Metals rally", "Copper rose.")
    assert matches("title:copper AND Chile", "Copper rallies", "Chile cut output.")


def test_a_quoted_phrase_is_exact_where_a_typed_phrase_knows_aliases_and_forms() -> None:
    assert matches('"copper wire"', "Copper wire thefts rise")
    assert not matches('"copper wire"', "Copper wires stolen")
    assert matches("US OR tin", "The United States raised tariffs")
    assert not matches('"US" OR tin', "The United States raised tariffs")


def test_aliases_members_and_word_sense_apply_inside_queries() -> None:
    assert matches("(rare earths OR cobalt) AND China", "Neodymium output", "China mines it.")
    assert matches("U.S. NEAR tariff", "Trade", "America raised tariffs on steel.")
    assert not matches("lead OR zinc", "Talks", "She will lead the negotiating team.")
    assert not matches("China OR Peru", "Collectors love fine china.")


def test_a_regex_matches_without_regard_to_case_and_through_the_prefilter() -> None:
    assert matches("/cop+er/", "COPPPER prices")
    assert matches("/nick(el|le)/ AND Indonesia", "Nickle output", "Indonesia sold it.")
    assert not matches("/cop+er/", "Zinc prices")
    assert matches("title:/\\d+ tonnes/", "Mine ships 300 tonnes")
    assert not matches("title:/\\d+ tonnes/", "Mine ships", "It shipped 300 tonnes.")


def test_a_regex_finds_its_place_in_text_beyond_ascii() -> None:
    lexicon = default_lexicon()
    matcher = Matcher([parse_watch_item("/ní?quel/ NEAR Peru", lexicon)], lexicon)
    title, body = "Minería", "El cobre subió. Peru vendió más níquel en São Paulo. Fin."
    [found] = matcher.match(title, body)
    assert (
        evidence_sentence(title, body, found.evidence_at) == "Peru vendió más níquel en São Paulo."
    )


def test_a_regex_exponential_in_pythons_re_answers_at_once() -> None:
    lexicon = default_lexicon()
    matcher = Matcher([parse_watch_item("/(a+)+$/ OR /(x|xx)+y/", lexicon)], lexicon)
    body = "a" * 50_000 + "b " + "x" * 50_000
    started = time.perf_counter()
    assert matcher.match("Headline", body) == []
    assert time.perf_counter() - started < 1.0  # Python's re would not finish in a lifetime


def test_queries_and_plain_items_share_one_matcher() -> None:
    lexicon = default_lexicon()
    topics = ["copper", "copper OR nickel", "/nick(el|le)/", "India NEAR Chile", "tin -Tin Council"]
    matcher = Matcher([parse_watch_item(t, lexicon) for t in topics], lexicon)
    found = matcher.match("Nickel and copper rise", "India and Chile signed a pact.")
    assert [m.key for m in found] == [
        "/nick(el|le)/",
        "India NEAR Chile",
        "copper",
        "copper OR nickel",
    ]


# --- limits per chat ------------------------------------------------------------------------


def test_a_chat_holds_five_items_with_regexes_and_one_without_a_literal() -> None:
    assert query.has_literal("cop+er") and not query.has_literal("[a-z]+er")
    stored = [f"/cop{n}er/" for n in range(4)] + ["copper"]
    query.check_pattern_room(stored, "/tin+/")
    with pytest.raises(TopicError, match="at most 5 topics with regular expressions"):
        query.check_pattern_room([*stored, "/zinc/ OR tin"], "/tin+/")
    query.check_pattern_room([*stored, "/tin+/"], "/tin+/")  # already there: not a new one
    query.check_pattern_room(["/[a-z]+er/"], "/tin+/")
    with pytest.raises(TopicError, match="tried on every article"):
        query.check_pattern_room(["/[a-z]+er/"], "/[0-9]+t/")


# --- properties -----------------------------------------------------------------------------

_ATOMS = st.sampled_from(
    [
        "copper",
        "nickel",
        "rare earths",
        "India-Chile",
        "U.S.",
        "chilean",
        "Acme",
        '"copper wire"',
        "/nick(el|le)/",
        "/\\d+ tonnes/",
        "title:copper",
        "title:/cop+er/",
    ]
)


def _queries() -> st.SearchStrategy[str]:
    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from([" OR ", " AND "]), children).map(
                lambda t: f"({t[0]}){t[1]}({t[2]})"
            ),
            st.tuples(children, st.sampled_from(["Copperfield", '"copper wire"'])).map(
                lambda t: f"({t[0]}) -{t[1]}"
            ),
        )

    near = st.tuples(_ATOMS, _ATOMS).map(lambda t: f"{t[0]} NEAR {t[1]}")
    return st.recursive(st.one_of(_ATOMS, near), combine, max_leaves=5)


@settings(max_examples=300, deadline=None)
@given(_queries())
def test_parsing_a_printed_query_gives_the_same_query(typed: str) -> None:
    lexicon = default_lexicon()
    try:
        node = query.parse(typed, lexicon)
    except TopicError:
        return
    printed = query.to_text(node)
    assert query.parse(printed, lexicon) == node
    if len(printed) <= MAX_TOPIC_LENGTH:
        assert parse_watch_item(printed, lexicon).key == printed


_SENTENCES = [
    "Copper prices rose.",
    "Nickle output fell 300 tonnes.",
    "India and Chile signed a pact.",
    "Chilean mines shipped copper wire.",
    "David Copperfield was unmoved.",
    "The U.S. raised tariffs.",
    "Neodymium magnets sold well.",
    "Acme Mining cut jobs.",
    "India met officials.",
    "Fine china sold well.",
]
_SIMPLE = [
    "copper",
    "nickel",
    "rare earths",
    "India-Chile",
    "India NEAR Chile",
    "title:copper",
    '"copper wire"',
    "/nick(el|le)/",
    "copper -Copperfield",
    "US",
    "China",
]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_SIMPLE),
    st.sampled_from(_SIMPLE),
    st.sampled_from(_SENTENCES),
    st.lists(st.sampled_from(_SENTENCES), max_size=4),
)
def test_a_or_b_matches_exactly_when_a_or_b_does(
    a: str, b: str, title: str, body: list[str]
) -> None:
    text = " ".join(body)
    either = matches(a, title, text) or matches(b, title, text)
    assert matches(f"({a}) OR ({b})", title, text) == either


def test_a_full_text_search_for_a_query_asks_for_what_every_match_contains() -> None:
    lexicon = default_lexicon()

    def groups(text: str) -> list[set[str]]:
        found = query.search_groups(query.parse(text, lexicon), lexicon)
        return [{" ".join(phrase) for phrase in group} for group in found]

    either, chile = groups("(copper OR nickel) AND title:Chile -Copperfield")
    assert {"copper", "nickel"} <= either and "chile" in chile and "chilean" in chile
    assert groups("India NEAR Chile")[0] >= {"india", "indian"}
    assert groups('"copper wires"') == [{"copper wire"}]  # normal forms, as indexed
    assert groups("/nick(el|le)/") == [] and groups("copper OR /nick(el|le)/") == []
    assert "tin" in groups("/nick(el|le)/ AND tin")[0]


def test_many_patterns_without_a_literal_are_all_found() -> None:
    sources = {f"[a-z]+{n:02d}[a-z]+": n for n in range(40)}
    hits = query.PatternHits(sources)
    found = dict(hits.found("codes: ab07cd, xy33zz and qq39rr"))
    assert found == {7: [7], 33: [15], 39: [26]}


def test_a_query_gets_no_typo_suggestion() -> None:
    from bot.suggest import Suggester

    lexicon = default_lexicon()
    suggester = Suggester(lexicon)
    suggester.add(["Varonex"])
    assert suggester.suggest(parse_watch_item("Varonax", lexicon)) == ["Varonex"]
    assert suggester.suggest(parse_watch_item("Varonax OR copper", lexicon)) == []
