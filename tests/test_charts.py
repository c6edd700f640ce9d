"""Trend charts: a small PNG of matching articles per day, and its caption."""

from __future__ import annotations

import struct
from datetime import date, timedelta

import pytest

from bot.charts import (
    daily_series,
    day_label,
    has_activity,
    trend_caption,
    trend_chart,
    trend_title,
)
from bot.i18n import speaking

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LAST_DAY = date(2026, 11, 24)


def last_days(values: list[int]) -> list[tuple[date, int]]:
    """Counts ending on LAST_DAY, oldest first."""
    first = LAST_DAY - timedelta(days=len(values) - 1)
    return [(first + timedelta(days=i), value) for i, value in enumerate(values)]


def png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # IHDR follows the signature
    return width, height


@pytest.fixture(scope="module")
def month_chart() -> bytes:
    return trend_chart(last_days([0, 2, 5, 0, 0, 1] * 5), title="copper: articles per day")


def test_a_trend_chart_is_a_small_png(month_chart: bytes) -> None:
    assert month_chart.startswith(PNG_SIGNATURE)
    assert png_size(month_chart) == (800, 400)
    assert len(month_chart) < 100_000


def test_the_same_counts_render_the_same_bytes(month_chart: bytes) -> None:
    again = trend_chart(last_days([0, 2, 5, 0, 0, 1] * 5), title="copper: articles per day")
    assert again == month_chart


def test_an_all_zero_history_still_renders() -> None:
    assert trend_chart(last_days([0] * 30), title="copper").startswith(PNG_SIGNATURE)


def test_a_title_with_dollar_signs_is_text_not_math() -> None:
    assert trend_chart(last_days([1, 2]), title="gold $6,300 $x$").startswith(PNG_SIGNATURE)


def test_counts_may_come_in_any_order_with_missing_days() -> None:
    counts = [(date(2026, 11, 5), 2), (date(2026, 11, 1), 1)]
    assert daily_series(counts) == [
        (date(2026, 11, 1), 1),
        (date(2026, 11, 2), 0),
        (date(2026, 11, 3), 0),
        (date(2026, 11, 4), 0),
        (date(2026, 11, 5), 2),
    ]
    assert trend_chart(counts, title="copper").startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    "counts",
    [
        [],
        [(LAST_DAY, -1)],
        [(LAST_DAY, 1), (LAST_DAY, 2)],
    ],
    ids=["empty", "negative", "twice"],
)
def test_empty_or_invalid_counts_are_the_callers_business(counts: list[tuple[date, int]]) -> None:
    with pytest.raises(ValueError):
        trend_chart(counts, title="copper")


def test_has_activity_tells_a_chart_from_a_sentence() -> None:
    assert has_activity(last_days([0, 0, 1]))
    assert not has_activity(last_days([0] * 30))
    assert not has_activity([])


def test_the_caption_sums_up_the_period_in_one_line() -> None:
    caption = trend_caption("copper", last_days([1] * 20 + [0, 2, 5, 0, 0, 1, 0, 0, 3, 0]))
    assert caption == (
        "copper: 31 articles in the last 30 days, 4 in the last 7; busiest day 17 Nov 2026 (5)."
    )
    assert "\n" not in caption


def test_the_caption_counts_one_article_in_the_singular() -> None:
    assert trend_caption("rare earths", last_days([0, 0, 1])) == (
        "rare earths: 1 article in the last 3 days; busiest day 24 Nov 2026 (1)."
    )


def test_without_activity_the_caption_is_the_sentence_to_send() -> None:
    assert trend_caption("copper", last_days([0] * 30)) == (
        "No stored articles matched copper in the last 30 days."
    )
    assert trend_caption("copper", []) == "No stored articles matched copper."


def test_a_spanish_readers_chart_is_labelled_in_spanish_and_a_hindi_readers_in_figures() -> None:
    day = date(2026, 11, 24)
    with speaking("es"):
        assert trend_title("cobre") == "cobre: artículos por día"
        assert day_label(day) == "24 nov"
    with speaking("hi"):  # matplotlib draws no Devanagari: figures and English
        assert trend_title("copper") == "copper: articles per day"
        assert day_label(day) == "24/11"
    assert day_label(day) == "24 Nov"
