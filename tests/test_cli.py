"""The `tradebot` command line: settings errors, run and signals, ingest, match, CSV."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.cli import main
from storage import queries
from storage.db import SessionFactory, create_engine
from storage.models import Chat
from storage.schema import MIGRATIONS
from tests.conftest import DATA
from tests.fakes import FakeTelegram, postgres


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
    assert set(records[0]) == {"url", "title", "matched", "about", "relevance", "evidence"}
    assert [r["about"] for r in records] == [False, False, False, False]
    assert [r["relevance"] for r in records] == [0.0, 0.0, 0.0, 0.0]

    assert main(["match", "India-Chile", str(DATA / "india-chile-copper.txt"), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 5  # the article and its four headlines
    assert records[0]["matched"] is True
    assert records[0]["evidence"].startswith("India is negotiating with Chile and Peru")
    assert records[0]["about"] is True
    assert 0.0 < records[0]["relevance"] <= 1.0
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
    assert "imported: 3, moved to another topic: 0, already present: 1, rejected: 2" in out
    assert main(["subscriptions", "export"]) == 0
    assert [",".join(line.split(",")[:3]) for line in capsys.readouterr().out.splitlines()] == [
        "chat_id,topic,level",
        "11,copper,split",
        "11,rare earths,split",
        "12,copper -Copperfield,split",
    ]


def wire_file(path: Path, count: int) -> Path:
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "title": f"Copper story {n}",
                    "url": f"https://x.example/{n}",
                    "body": "Copper prices rose 3% as mines in Chile cut output. " * 20,
                }
            )
            for n in range(count)
        ),
        encoding="utf-8",
    )
    return path


def test_bad_records_beside_good_ones_are_rejected_alone(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"title": "Copper climbs", "url": "https://x.example/1"}),
                json.dumps({"title": "Year one", "published": "0001-01-01T00:00:00+05:00"}),
                '{"title": "Deep", "body": ' + "[" * 5000 + "]" * 5000 + "}",
                json.dumps({"title": "Far future", "published": "9999-12-31T23:00:00-05:00"}),
                json.dumps({"title": "Tin steady", "url": "https://x.example/2"}),
            ]
        ),
        encoding="utf-8",
    )
    result = tradebot("ingest", str(path), env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        "new: 3 articles (+0 headlines), duplicates: 0, rejected: 2, on watch-lists: 0",
        "  rejected mixed.jsonl:2: published is before 1900: '0001-01-01T00:00:00+05:00'",
        "  rejected mixed.jsonl:3: invalid JSON: nested too deeply",
    ]


def _read_only_database(database_url: str, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """A database URL on which every write fails, and what to do before the run that fails."""
    if database_url.startswith("postgresql"):
        return database_url, lambda: asyncio.run(postgres.make_read_only(database_url))
    file = database_url.removeprefix("sqlite+aiosqlite:///")
    return f"sqlite+aiosqlite:///file:{file}?mode=ro&uri=true", lambda: None


def test_a_storage_failure_stops_ingest_with_one_line_and_exit_1(
    tmp_path: Path, database_url: str
) -> None:
    wire = wire_file(tmp_path / "wire.jsonl", 300)
    assert tradebot("db", "upgrade", env={"DATABASE_URL": database_url}).returncode == 0
    read_only_url, make_read_only = _read_only_database(database_url, tmp_path)
    make_read_only()
    result = tradebot("ingest", str(wire), env={"DATABASE_URL": read_only_url})
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("tradebot: storing articles failed: ")
    assert "read-only" in line or "readonly" in line
    assert result.stdout.startswith("new: 0 articles")


def test_a_full_disk_stops_ingest_with_one_line_and_keeps_what_was_stored(
    tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the file size limit applies to the SQLite file this process writes")
    wire = wire_file(tmp_path / "wire.jsonl", 2000)
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True)
    database = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    room = database.stat().st_size + 3 * 1024 * 1024

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    result = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(wire)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_disk,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("tradebot: storing articles failed: ")
    stored = int(result.stdout.split("new: ")[1].split()[0])
    assert 0 < stored < 2000
    again = tradebot("ingest", str(wire), env={"DATABASE_URL": database_url})
    assert again.returncode == 0, again.stderr
    assert f"new: {2000 - stored} articles" in again.stdout
    assert f"duplicates: {stored}" in again.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:////nonexistent/dir/t.db", "unable to open database file"),
        ("postgresql+asyncpg://u:secret@127.0.0.1:1/x", "Connect call failed"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line(url: str, expected: str) -> None:
    for command in (["stats"], ["run"]):
        result = tradebot(*command, env={"DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": "1:x"})
        assert result.returncode == 1
        [line] = result.stderr.splitlines() or [""]
        assert line.startswith("tradebot: database ") and expected in line, result.stderr
        assert "secret" not in line


def test_a_database_of_a_newer_tradebot_is_one_line(database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": "1:x"}
    assert tradebot("db", "upgrade", env=env).returncode == 0
    asyncio.run(_set_revision(database_url, "0099"))
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    for command in (["stats"], ["run"], ["db", "upgrade"]):
        result = tradebot(*command, env=env)
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            "tradebot: the database is at schema revision 0099, newer than this tradebot "
            f"knows ({head}): run a newer tradebot"
        ]


async def _set_revision(database_url: str, revision: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision}
        )
    await engine.dispose()


def test_a_settings_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=INFO\nNOTE=caf\xe9\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "stats"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tradebot: settings file .env: not UTF-8 text (byte 23); save it as UTF-8"
    ]


async def test_an_import_keeps_the_first_row_of_a_topic_and_makes_chats_in_the_default_zone(
    tmp_path: Path,
    database_url: str,
    db: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Tokyo")
    rows = tmp_path / "subs.csv"
    rows.write_text(
        "31,copper,main,2026-03-04T08:00:00Z,yes,large,forever\n"
        "31,Copper,all,2026-05-06T08:00:00Z,no,off,\n"
        "-1001234567890,zinc\n",
        encoding="utf-8",
    )
    assert await asyncio.to_thread(main, ["subscriptions", "import", str(rows)]) == 0
    assert (
        "imported: 2, moved to another topic: 0, already present: 1, rejected: 0"
        in capsys.readouterr().out
    )
    assert await asyncio.to_thread(main, ["subscriptions", "export"]) == 0
    exported = capsys.readouterr().out.splitlines()[1:]
    assert exported[0] == "-1001234567890,zinc,split," + exported[0].split(",")[3] + ",no,off,,,"
    assert exported[1] == "31,copper,main,2026-03-04T08:00:00Z,yes,large,forever,,"
    async with db() as session:
        chats = [await session.get(Chat, chat_id) for chat_id in (31, -1001234567890)]
        assert [(chat.timezone, chat.active) for chat in chats if chat] == [
            ("Asia/Tokyo", True),
            ("Asia/Tokyo", True),
        ]


async def test_an_import_reactivates_a_chat_and_counts_what_it_already_had(
    tmp_path: Path,
    database_url: str,
    db: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with db() as session:
        await queries.ensure_chat(session=session, chat_id=21)
        await queries.add_subscription(session=session, chat_id=21, topic="copper")
        await queries.deactivate_chat(session=session, chat_id=21, reason="blocked")
        await session.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    rows = tmp_path / "subs.csv"
    rows.write_text("21,Copper\n21,zinc\n22,U.S.\n22,United States\n", encoding="utf-8")
    assert await asyncio.to_thread(main, ["subscriptions", "import", str(rows)]) == 0
    assert (
        "imported: 2, moved to another topic: 0, already present: 2, rejected: 0"
        in capsys.readouterr().out
    )
    assert await asyncio.to_thread(main, ["subscriptions", "export"]) == 0
    exported = capsys.readouterr().out.splitlines()[1:]
    assert [line.split(",")[:2] for line in exported] == [
        ["21", "copper"],
        ["21", "zinc"],
        ["22", "US"],
    ]
    async with db() as session:
        chat = await session.get(Chat, 21)
        assert chat is not None and chat.active
