"""What every benchmark shares: scale, figures and their report, temporary databases, the
fake Bot API, child processes and timing helpers.

Databases are SQLite files in a temporary directory; a benchmark that opens its database with
`bench_database` gets instead, when `TEST_DATABASE_URL` names a PostgreSQL server (as
`scripts/with-postgres` exports it), a throwaway database on that server, dropped after it:

    scripts/with-postgres make bench
    TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres make bench
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests.fakes` and the project's packages, from any directory
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True, slots=True)
class Scale:
    """The size of every workload; `quick` is one tenth of the issue's numbers."""

    quick: bool = False

    def n(self, full: int, *, minimum: int = 1) -> int:
        return max(minimum, full // 10) if self.quick else full


@dataclass(slots=True)
class Figure:
    """One measured figure and its target. `ok` is None for figures without a target."""

    name: str
    measured: float
    unit: str
    target: str = ""
    ok: bool | None = None
    note: str = ""

    def shown(self) -> str:
        value = self.measured
        if math.isnan(value):
            text = "n/a"
        elif value != 0 and abs(value) < 0.1:
            text = f"{value:.3f}"
        elif abs(value) < 100:
            text = f"{value:.2f}"
        else:
            text = f"{value:,.0f}"
        return f"{text} {self.unit}".strip()

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("ok" if self.ok else "NOT MET")


@dataclass(slots=True)
class Report:
    """The figures of one benchmark script, with how long it took."""

    bench: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    path: Path | None = None  # where the figures so far are saved after each one

    def save(self) -> None:
        if self.path is not None:
            self.path.write_text(self.to_json(), encoding="utf-8")

    def add(
        self,
        name: str,
        measured: float,
        unit: str,
        *,
        target: str = "",
        ok: bool | None = None,
        note: str = "",
    ) -> Figure:
        figure = Figure(name, float(measured), unit, target, ok, note)
        self.figures.append(figure)
        print(
            f"  {name}: {figure.shown()}  {target}  {figure.verdict}  {note}".rstrip(), flush=True
        )
        self.save()
        return figure

    def to_json(self) -> str:
        return json.dumps(
            {
                "bench": self.bench,
                "figures": [asdict(figure) for figure in self.figures],
                "seconds": self.seconds,
                "error": self.error,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        raw = json.loads(text)
        return cls(
            raw["bench"],
            [Figure(**figure) for figure in raw["figures"]],
            raw["seconds"],
            raw.get("error", ""),
        )


def table(reports: Sequence[Report]) -> str:
    """Figure, measured, target, verdict: one line per figure, grouped by benchmark."""
    rows = [("figure", "measured", "target", "")]
    for report in reports:
        rows.append((f"[{report.bench}, {report.seconds:.0f} s]", "", "", ""))
        if report.error:
            rows.append(("  error", report.error[:60], "", "NOT MET"))
        for figure in report.figures:
            rows.append((f"  {figure.name}", figure.shown(), figure.target, figure.verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction 0.95 → p95); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _terminated(_signal: int, _frame: object) -> None:
    raise SystemExit(143)  # unwinds: temporary directories and child processes are cleaned up


def arguments(
    description: str, more: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The options every benchmark takes (and `more` of its own); also makes SIGTERM
    (run_all's timeout) clean up."""
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one tenth of every workload")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON here")
    if more is not None:
        more(parser)
    return parser.parse_args()


def finish(report: Report, started: float, json_out: Path | None) -> None:
    report.seconds = time.monotonic() - started
    print(f"  ({report.bench}: {report.seconds:.1f} s)", flush=True)
    report.path = json_out or report.path
    report.save()


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"tradebot-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'tradebot.db'}"


def backend() -> str:
    """Which database the benchmarks run on: "postgresql" when `TEST_DATABASE_URL` is set."""
    return "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


@contextlib.asynccontextmanager
async def bench_database(directory: Path) -> AsyncIterator[str]:
    """The URL of an empty database for one benchmark: a SQLite file in `directory`, or a
    database made on the `TEST_DATABASE_URL` server and dropped afterwards."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield sqlite_url(directory)
        return
    from tests.fakes import postgres

    name = f"bench_{uuid.uuid4().hex[:12]}"
    await postgres.create_database(server, name)
    try:
        yield postgres.database_url(server, name)
    finally:
        await postgres.drop_database(server, name)


async def database_megabytes(engine: AsyncEngine) -> float:
    """How big the database is (SQLite: its pages; PostgreSQL: `pg_database_size`)."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = "SELECT pg_database_size(current_database())"
        else:
            query = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
        size = (await connection.execute(text(query))).scalar_one()
    return float(size) / 2**20


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `tradebot` child process: this project, this database, nothing
    from a developer's `.env` (children run in a temporary directory)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def stop_process(process: asyncio.subprocess.Process, *, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds: a child never outlives its benchmark."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout=grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def tradebot_process(
    *args: str, env: dict[str, str], cwd: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot ARGS…` as a child process (stderr to `log`), stopped on exit."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            yield process
        finally:
            await stop_process(process)


async def run_tradebot(
    *args: str, env: dict[str, str], cwd: Path, timeout: float
) -> tuple[int, str, str]:
    """Run `python -m bot ARGS…` to completion (killed after `timeout` s): (code, out, err)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        await stop_process(process, grace=2.0)
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


BenchPart = Callable[[Scale, "Report"], Coroutine[Any, Any, None]]


async def run_parts(scale: Scale, report: Report, parts: Sequence[BenchPart]) -> None:
    """Run the parts of a benchmark one after another; a failing part is reported, and the
    others still run."""
    for part in parts:
        started = time.monotonic()
        try:
            await part(scale, report)
        except Exception as error:
            report.add(
                f"{part.__name__} failed: {type(error).__name__}", float("nan"), "", ok=False
            )
            print(f"  ERROR in {part.__name__}: {error!r}"[:3000])
        print(f"  ({part.__name__}: {time.monotonic() - started:.1f} s)")


def main_for(title: str, bench: BenchPart, description: str | None) -> None:
    """A benchmark script's `main`: parse the options, run it, print and save its report."""
    args = arguments(description or "")
    report = Report(f"{title}, {backend()}", path=args.json_out)
    started = time.monotonic()
    try:
        asyncio.run(bench(Scale(args.quick), report))
    except Exception as error:
        report.error = f"{type(error).__name__}: {error}"
        print(f"  ERROR {report.error}")
    finish(report, started, args.json_out)
