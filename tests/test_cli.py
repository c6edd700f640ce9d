"""The `tradebot` command line: settings errors, run and signals, ingest, match, CSV."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import DATA
from tests.fakes import FakeTelegram


def tradebot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALERT_POLL_SECONDS", "soon"),
        ("ADMIN_IDS", "12,abc"),
        ("DATABASE_URL", "mysql://x"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_a_malformed_setting_stops_with_one_line_naming_it(name: str, value: str) -> None:
    result = tradebot("subscriptions", "export", env={name: value})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"tradebot: setting {name}:")


def test_run_needs_a_token() -> None:
    result = tradebot("run", env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == "tradebot: setting TELEGRAM_BOT_TOKEN: required to run the bot"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_run_answers_and_stops_cleanly_on_a_signal(
    telegram: FakeTelegram, database_url: str, stop_signal: signal.Signals
) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "DATABASE_URL": database_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=subprocess.PIPE
    )
    try:
        telegram.add_message(7, "/start")
        [reply] = await telegram.wait_for_sent(chat_id=7, timeout=20)
        assert "/subscribe" in (reply.plain_text or "")
        stopping = time.monotonic()
        process.send_signal(stop_signal)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()
    assert time.monotonic() - stopping < 5
    assert "Traceback" not in stderr.decode()


def test_ingest_counts_new_duplicates_and_rejected_lines(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    feed = tmp_path / "batch.jsonl"
    feed.write_text(
        "\n".join(
            [
                json.dumps(
                    {"title": "Copper climbs", "url": "https://x.example/1", "body": "Up 2%."}
                ),
                "{not json",
                json.dumps({"url": "https://x.example/2"}),
                json.dumps({"title": "Dated", "published": "yesterday"}),
                json.dumps({"title": "Copper climbs", "url": "https://x.example/1"}),
                json.dumps({"title": "Bad link", "url": "javascript:alert(1)"}),
            ]
        ),
        encoding="utf-8",
    )
    assert main(["ingest", str(feed), str(DATA / "india-chile-copper.txt")]) == 0
    out = capsys.readouterr().out
    assert "new: 2 articles (+4 headlines), duplicates: 1, rejected: 4" in out
    assert "rejected batch.jsonl:2: invalid JSON" in out
    assert "rejected batch.jsonl:3: missing title" in out
    assert "rejected batch.jsonl:4: published is not an ISO 8601 date" in out
    assert "rejected batch.jsonl:6: url must start with http:// or https://" in out

    assert main(["ingest", str(feed)]) == 0
    assert "new: 0 articles (+0 headlines), duplicates: 2" in capsys.readouterr().out


def test_ingest_fails_only_when_nothing_could_be_read(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["ingest", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_match_is_a_dry_run_with_json_evidence(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["match", "copper", str(DATA / "near-misses.jsonl"), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["matched"] for r in records] == [False, False, False, False]
    assert set(records[0]) == {"url", "title", "matched", "evidence"}

    assert main(["match", "India-Chile", str(DATA / "india-chile-copper.txt"), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 5  # the article and its four headlines
    assert records[0]["matched"] is True
    assert records[0]["evidence"].startswith("India is negotiating with Chile and Peru")
    assert not any(r["matched"] for r in records[1:])
    assert not Path(database_url.removeprefix("sqlite+aiosqlite:///")).exists()


def test_subscriptions_import_and_export_round_trip(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    rows = tmp_path / "subs.csv"
    rows.write_text(
        'chat_id,topic\n11,copper\n11,rare-earth\n12,"copper -Copperfield"\n'
        "abc,copper\n13,\n11,copper\n",
        encoding="utf-8",
    )
    assert main(["subscriptions", "import", str(rows)]) == 0
    out = capsys.readouterr().out
    assert "imported: 3, already present: 1, rejected: 2" in out
    assert main(["subscriptions", "export"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "chat_id,topic",
        "11,copper",
        "11,rare earths",
        "12,copper -Copperfield",
    ]
