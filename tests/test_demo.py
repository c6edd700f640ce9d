"""`tradebot demo` runs the real bot offline and shows a whole conversation."""

from __future__ import annotations

import io

from bot.demo import run_demo


async def test_the_demo_subscribes_alerts_and_answers() -> None:
    out = io.StringIO()
    assert await run_demo(out) == 0
    text = out.getvalue()
    assert "Subscribed to rare earths" in text
    assert "Did you mean lithium?" in text
    assert "Matched: India-Chile, copper — main subject; rare earths — mentioned" in text
    assert "Matched: lithium" in text
    assert text.count("🔔") == 4  # the article, one headline and two wire stories; no near miss
    assert "duplicates: 5, alerts queued: 0" in text
    assert "I don't know that command" in text
