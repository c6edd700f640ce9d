"""Trend charts: how many stored articles matched a topic per day, as a small PNG.

Pure domain code (no Telegram, no database). Rendering uses matplotlib's Agg canvas on a
`matplotlib.figure.Figure` of its own, never pyplot: no global state, no GUI backend, safe in
threads. An empty history is the caller's business: when `has_activity` is False, send the
sentence `trend_caption` returns instead of a chart.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

from babel.dates import format_date

from bot.i18n import _, current_language, ngettext

# Languages whose text the chart image draws; the others get figures and English there.
LATIN_SCRIPT_LANGUAGES = frozenset({"en", "es"})

CHART_SIZE_PX = (800, 400)
MAX_DATE_LABELS = 8
_DPI = 100
_BAR_COLOUR = "#2f6db5"

DailyCounts = Sequence[tuple[date, int]]


def has_activity(counts: DailyCounts) -> bool:
    """Whether any day has a matching article; without any, send a sentence, not a chart."""
    return any(count > 0 for _, count in counts)


def daily_series(counts: DailyCounts) -> list[tuple[date, int]]:
    """Every day from the first to the last given, in order, missing days as zero.

    Raises ValueError for an empty sequence, a negative count or a day given twice.
    """
    if not counts:
        raise ValueError("no days to chart")
    by_day: dict[date, int] = {}
    for day, count in counts:
        if count < 0:
            raise ValueError(f"negative count for {day.isoformat()}")
        if day in by_day:
            raise ValueError(f"{day.isoformat()} given twice")
        by_day[day] = count
    first, last = min(by_day), max(by_day)
    return [
        (first + timedelta(days=offset), by_day.get(first + timedelta(days=offset), 0))
        for offset in range((last - first).days + 1)
    ]


def trend_chart(counts: DailyCounts, *, title: str) -> bytes:
    """A PNG bar chart (800 x 400 pixels) of articles per day: every day in the range shown
    (zero days included), dates on the x axis, whole numbers on the y axis.

    `counts` are (day, articles) pairs, in any order; days missing between the first and the
    last count as zero. Raises ValueError for an empty sequence (the caller sends a sentence
    instead), a negative count or a day given twice. An all-zero series still renders.
    """
    # matplotlib takes a third of a second to import: only when a chart is drawn, not in
    # every command-line run
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = daily_series(counts)
    values = [count for _, count in series]
    positions = range(len(series))

    figure = Figure(figsize=(CHART_SIZE_PX[0] / _DPI, CHART_SIZE_PX[1] / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.bar(positions, values, width=0.8, color=_BAR_COLOUR)
    axes.set_title(title, fontsize=13, loc="left", parse_math=False)
    axes.set_ylabel(_chart_text(_("articles per day"), "articles per day"))

    # Day positions rather than matplotlib dates: labels fall on the latest day and every
    # `step` days before it, at most MAX_DATE_LABELS of them.
    step = -(-len(series) // MAX_DATE_LABELS)
    ticks = list(range(len(series) - 1, -1, -step))[::-1]
    axes.set_xticks(ticks, [day_label(series[i][0]) for i in ticks])
    axes.set_xticks(positions, minor=True)  # a mark for every day, so zero days show
    axes.set_xlim(-0.6, len(series) - 0.4)

    axes.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
    axes.set_ylim(0, max(1, max(values)) * 1.1)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def trend_caption(topic_display: str, counts: DailyCounts) -> str:
    """One line of plain text to go with the chart (the caller escapes it), or, when nothing
    matched, the sentence to send instead of a chart; in the language spoken.

    "copper: 12 articles in the last 30 days, 5 in the last 7; busiest day 24 Nov 2026 (4)."
    """
    series = daily_series(counts) if counts else []
    days = len(series)
    period = (
        ngettext("in the last {count} day", "in the last {count} days", days).format(count=days)
        if days
        else ""
    )
    if not has_activity(series):
        if not days:
            return _("No stored articles matched {topic}.").format(topic=topic_display)
        return _("No stored articles matched {topic} {period}.").format(
            topic=topic_display, period=period
        )
    total = sum(count for _, count in series)
    recent = sum(count for _, count in series[-7:])
    busiest_day, busiest = max(series, key=lambda pair: (pair[1], pair[0]))
    parts = [
        ngettext("{topic}: {count} article", "{topic}: {count} articles", total).format(
            topic=topic_display, count=total
        )
        + f" {period}"
    ]
    if days > 7:
        parts.append(_("{count} in the last 7").format(count=recent))
    busiest_text = _("busiest day {day} ({count})").format(
        day=format_date(busiest_day, "d MMM y", locale=current_language()), count=busiest
    )
    return ", ".join(parts) + f"; {busiest_text}."


def day_label(day: date) -> str:
    if current_language() in LATIN_SCRIPT_LANGUAGES:
        return format_date(day, "d MMM", locale=current_language())
    return f"{day.day}/{day.month}"


def trend_title(topic: str) -> str:
    """The title drawn above a topic's trend chart."""
    return f"{topic}: {_chart_text(_('articles per day'), 'articles per day')}"


def _chart_text(translated: str, english: str) -> str:
    """Text drawn in the chart image: in the reader's language where the chart's font and
    matplotlib (which does not shape Devanagari's conjuncts) draw it, else in English."""
    return translated if current_language() in LATIN_SCRIPT_LANGUAGES else english
