"""`tradebot demo` runs the real bot offline and shows a whole conversation."""

from __future__ import annotations

import io
import logging

import pytest

from bot.demo import run_demo


async def test_the_demo_subscribes_alerts_and_answers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # what `tradebot demo` logs by default
    out = io.StringIO()
    assert await run_demo(out) == 0
    text = out.getvalue()
    assert "Subscribed to rare earths" in text
    assert "Did you mean lithium?" in text
    assert "Matched: India-Chile, copper — main subject; rare earths — mentioned" in text
    assert "Matched: lithium" in text
    # the article, one headline and two wire stories, and the group's two copper stories (edits
    # in place and the forum topics' alerts are counted below)
    assert text.count("says:\n   🔔") + text.count("says in Metals desk:\n   🔔") == 6
    assert text.count("🤖 bot says in Metals desk:\n   🔔") == 2
    assert "duplicates: 5, on watch-lists: 0" in text
    assert "I don't know that command" in text

    assert not [r for r in caplog.records if r.levelno < logging.WARNING]  # no log lines
    assert "Trade Policy Wire · " in text and "india-copper-talks ·" not in text
    assert "🤖 bot sends a chart:" in text and "copper: 2 articles in the last 30 days" in text
    assert "set to Asia/Kolkata" in text and "at 07:30" in text
    assert "Andes Mining Wire · 1 article" in text  # /sources
    assert "🤖 bot says in Procurement › Zinc desk:\n   🔔 Zinc smelter restarts" in text
    assert "(a new topic opens in Procurement: nickel)" in text
    assert "🤖 bot says in Procurement › nickel:\n   🔔 Indonesia nickel exports" in text
    # a second source of the Codelco story edits both its alerts in place: no new ping
    edited = "edits its message:\n   🔔 Codelco lifts copper output forecast"
    assert text.count(edited) == 1 and text.count(edited.replace(":", " in Metals desk:")) == 1
    assert text.count("📰 Also reported by Mining Weekly") == 2
    lines = [line for line in text.splitlines() if line.strip()]
    turns = [i for i, line in enumerate(lines) if line.startswith("🧑")]
    assert all(not lines[i + 1].startswith("🧑") for i in turns)  # each answered before the next
