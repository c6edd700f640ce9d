"""Reading articles from plain text and JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.articles import article_from_record, parse_json_articles, parse_text_article, read_articles
from tests.conftest import DATA


def test_a_plain_article_gets_a_derived_title_and_its_headline_block() -> None:
    [article] = read_articles(DATA / "india-chile-copper.txt").articles
    assert (
        article.title
        == "India is negotiating with Chile and Peru for secure, long-term supplies of critical…"
    )
    assert len(article.title) <= 90
    assert article.body.startswith("India is negotiating")
    assert article.body.endswith("follow the negotiations closely.")
    assert article.headlines == (
        "U.S. and India Agree Trade Deal That Cuts Tariffs",
        "Gold Price Forecast Lifted to $6,300 by End-2026 as Central Banks Buy",
        "Starmer’s China Trip Tests Britain’s Balancing Act",
        "Japan’s Finance Minister Defends Comments on the Weak Yen",
    )
    assert article.source == "india-chile-copper"


def test_a_title_line_is_used_when_there_is_one() -> None:
    article = parse_text_article(
        "Copper hits a record\n\nPrices rose 4% on Monday. Traders cheered."
    )
    assert article.title == "Copper hits a record"
    assert article.body == "Prices rose 4% on Monday. Traders cheered."
    assert article.headlines == ()


def test_a_closing_paragraph_is_not_mistaken_for_headlines() -> None:
    article = parse_text_article("Copper rose.\n\nIt was a good day. Traders said so.\nThey left.")
    assert article.headlines == ()
    assert "They left." in article.body


def test_json_records_are_validated_one_by_one() -> None:
    text = (
        '[{"title": "A"}, {"title": ""}, 7,'
        ' {"title": "B", "published": "2026-11-24T08:30:00+02:00"}]'
    )
    parsed = parse_json_articles(text, name="x.json")
    assert [a.title for a in parsed.articles] == ["A", "B"]
    assert parsed.articles[1].published == datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
    assert [(r.where, r.reason) for r in parsed.rejected] == [
        ("x.json#2", "missing title"),
        ("x.json#3", "not a JSON object"),
    ]


def test_a_single_object_and_an_articles_list_are_both_read() -> None:
    assert len(parse_json_articles('{"title": "One"}', name="a.json").articles) == 1
    wrapped = '{"articles": [{"title": "One"}, {"title": "Two"}]}'
    assert len(parse_json_articles(wrapped, name="b.json").articles) == 2


def test_limits_reject_oversized_fields() -> None:
    for record, reason in [
        ({"title": "x" * 301}, "title longer than 300"),
        ({"title": "t", "body": "x" * 200_001}, "body longer than"),
        ({"title": "t", "url": "ftp://x"}, "url must start with"),
        ({"title": "t", "source": 5}, "source must be a string"),
    ]:
        try:
            article_from_record(record)
        except ValueError as error:
            assert reason in str(error)
        else:
            raise AssertionError(f"{record} was accepted")
