"""Reading articles from plain text and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.articles import (
    MAX_RECORD_BYTES,
    ArticleIn,
    ParsedFile,
    article_from_record,
    parse_json_articles,
    parse_text_article,
    parse_timestamp,
    read_articles,
)
from tests.conftest import DATA


def test_a_plain_article_gets_a_derived_title_and_its_headline_block() -> None:
    [article] = ParsedFile.of(read_articles(DATA / "india-chile-copper.txt")).articles
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
    assert article.source is None  # a file's name says nothing of where the news came from


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


def test_dates_off_the_calendar_reject_only_their_record(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    lines = [
        '{"title": "Copper is steady", "published": "2026-11-24T08:30:00+02:00"}',
        '{"title": "Year one", "published": "0001-01-01T00:00:00+05:00"}',
        '{"title": "Year 9999", "published": "9999-12-31T23:00:00-05:00"}',
        f'{{"title": "Deep", "body": {deep}}}',
        '{"title": "Tin rallies"}',
    ]
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    parsed = ParsedFile.of(read_articles(path))
    titles = [article.title for article in parsed.articles]
    assert titles == ["Copper is steady", "Year 9999", "Tin rallies"]
    far_future = parsed.articles[1].published
    assert far_future is not None and far_future <= datetime.now(UTC)
    assert [(r.where, r.reason) for r in parsed.rejected] == [
        ("wire.jsonl:2", "published is before 1900: '0001-01-01T00:00:00+05:00'"),
        ("wire.jsonl:4", "invalid JSON: nested too deeply"),
    ]


def test_a_date_in_the_future_becomes_the_time_it_was_read() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert parse_timestamp("2027-01-01T00:00:00+00:00", now=now) == now
    assert parse_timestamp("1987-03-02T10:00:00-05:00", now=now) == datetime(
        1987, 3, 2, 15, 0, tzinfo=UTC
    )


def test_a_json_list_is_read_record_by_record(tmp_path: Path) -> None:
    records = [{"title": f"Story {n}", "body": "x" * 1000} for n in range(3000)]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    stream = read_articles(path)
    first = next(stream)
    assert isinstance(first, ArticleIn) and first.title == "Story 0"
    assert sum(1 for _ in stream) == 2999


def test_json_lines_are_read_as_they_are_consumed(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = json.dumps({"title": "Copper", "body": "y" * 10_000})
    path.write_text("\n".join([line] * 2000), encoding="utf-8")
    opened = _open_files_of_this_process()
    stream = read_articles(path)
    next(stream)
    [handle] = [fd for fd in _open_files_of_this_process() - opened]
    position = int((Path("/proc/self/fdinfo") / handle).read_text().split()[1])
    assert position < path.stat().st_size // 10  # not read whole
    stream.close()
    assert _open_files_of_this_process() == opened


def _open_files_of_this_process() -> set[str]:
    return {
        fd.name
        for fd in Path("/proc/self/fd").iterdir()
        if fd.exists() and fd.resolve().suffix == ".jsonl"
    }


def test_a_record_too_large_is_skipped_and_the_next_one_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    huge = json.dumps({"title": "Huge", "body": "z" * (MAX_RECORD_BYTES + 10)})
    path.write_text(f'{huge}\n{{"title": "Small"}}\n', encoding="utf-8")
    parsed = ParsedFile.of(read_articles(path))
    assert [a.title for a in parsed.articles] == ["Small"]
    assert [(r.where, r.reason) for r in parsed.rejected] == [
        ("huge.jsonl:1", "record larger than 4 MB")
    ]


def test_a_broken_list_keeps_the_records_before_the_break() -> None:
    parsed = parse_json_articles('[{"title": "A"}, {"title": "B"}, {"tit', name="cut.json")
    assert [a.title for a in parsed.articles] == ["A", "B"]
    [rejected] = parsed.rejected
    assert rejected.where == "cut.json#3"
    assert rejected.reason.startswith("invalid JSON:")
    assert rejected.reason.endswith("the rest of the file was not read")


def test_control_and_bidi_characters_are_removed_from_article_text() -> None:
    article = article_from_record(
        {
            "title": "Copper\u202e rises\x00",
            "body": "Line one.\r\nLine\ttwo\x07.\u2066",
            "source": "Wire\u200f",
        }
    )
    assert (article.title, article.body, article.source) == (
        "Copper rises",
        "Line one.\nLine\ttwo.",
        "Wire",
    )
    with pytest.raises(ValueError, match="missing title"):
        article_from_record({"title": "\x00\x01"})
    with pytest.raises(ValueError, match="control characters"):
        article_from_record({"title": "T", "url": "https://x.example/a\x00b"})


def test_ticker_brackets_are_stripped_from_headlines() -> None:
    parsed = parse_json_articles(
        "\n".join(
            json.dumps({"title": title, "body": "Drilling went on."})
            for title in (
                "<HALVORSEN PLATINUM CORP> IN METALS FIND",
                "BRANDT <BRM> TO BUY STAKE FROM NORDSTEIN <NSM> UNIT",
                "Lithium <b>prices</b> & a < b",
            )
        ),
        name="wire.jsonl",
    )
    assert [article.title for article in parsed.articles] == [
        "HALVORSEN PLATINUM CORP IN METALS FIND",
        "BRANDT TO BUY STAKE FROM NORDSTEIN UNIT",
        "Lithium <b>prices</b> & a < b",
    ]
