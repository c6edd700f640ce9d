"""Peak memory of `tradebot ingest` as the file grows: JSON Lines of 10 MB and of 50 MB of
workload articles (5 and 10 MB with --quick: below 5 MB the database's page cache is still
filling), each ingested by a fresh process into its own database (SQLite, or PostgreSQL with
TEST_DATABASE_URL). The smaller file is
the baseline measured in the same run: a file read as a stream keeps the peak flat in the
file's size (before streaming, 50 MB took 310 MB).

    python -m bench.bench_file_memory [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import Report, Scale, bench_database, child_env, main_for, temp_dir
from bench.workload import ArticleRecord, articles, workload_one, write_jsonl

SMALL_MB, LARGE_MB = 10, 50
QUICK_SMALL_MB, QUICK_LARGE_MB = 5, 10
FLAT_WITHIN = 1.15  # the large file's peak over the small one's


def records_of_size(megabytes: float, *, seed: int) -> Iterator[ArticleRecord]:
    """Workload articles until their JSON Lines reach `megabytes`."""
    topics = workload_one(topics=200, chats_count=10, subscriptions_count=10).topics
    written = 0
    for record in articles(topics, 10**9, seed=seed, prefix=f"size{seed}"):
        yield record
        written += len(record.json_line()) + 1
        if written >= megabytes * 2**20:
            return


async def ingest_peak(path: Path, directory: Path) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, the summary line) of `tradebot ingest PATH` on a new database."""
    database = directory / path.stem
    database.mkdir()
    async with bench_database(database) as url:
        return run_ingest(path, database, url)


def run_ingest(path: Path, database: Path, url: str) -> tuple[float, float, str]:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", str(path)],
        env=child_env(url),
        cwd=database,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    summary = process.stdout.read().decode(errors="replace").splitlines()[:1]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"tradebot ingest {path.name} exited {process.returncode}")
    return usage.ru_maxrss / 1024, time.monotonic() - started, (summary or [""])[0]


async def bench(scale: Scale, report: Report) -> None:
    small_mb, large_mb = (QUICK_SMALL_MB, QUICK_LARGE_MB) if scale.quick else (SMALL_MB, LARGE_MB)
    with temp_dir("file-memory") as directory:
        small, large = directory / "small.jsonl", directory / "large.jsonl"
        write_jsonl(small, records_of_size(small_mb, seed=1))
        write_jsonl(large, records_of_size(large_mb, seed=2))
        small_peak, small_seconds, small_summary = await ingest_peak(small, directory)
        large_peak, large_seconds, large_summary = await ingest_peak(large, directory)
    report.add(
        f"tradebot ingest peak RSS, {small_mb:g} MB JSONL (baseline)",
        small_peak,
        "MB",
        note=f"{small_seconds:.0f} s; {small_summary[:50]}",
    )
    report.add(
        f"tradebot ingest peak RSS, {large_mb:g} MB JSONL",
        large_peak,
        "MB",
        target=f"<= {FLAT_WITHIN:.2f}x the {small_mb:g} MB file",
        ok=large_peak <= FLAT_WITHIN * small_peak,
        note=f"{large_peak / small_peak:.2f}x; {large_seconds:.0f} s; {large_summary[:50]}",
    )


def main() -> None:
    main_for("file ingest memory", bench, __doc__)


if __name__ == "__main__":
    main()
