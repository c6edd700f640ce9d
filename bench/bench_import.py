"""Bulk import: `tradebot subscriptions import` of the workload's subscriptions (20,000 chats,
100,000 rows over 3,500 topics; a tenth with --quick) into a new database (SQLite, or PostgreSQL
with TEST_DATABASE_URL), then the same file again (every row already present). The baseline of
the same run is the command on a file of one row, run twice first (the first run makes the
schema): process start and opening an up-to-date database, which every import pays once.

    python -m bench.bench_import [--quick]
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from bench.common import (
    Report,
    Scale,
    bench_database,
    child_env,
    main_for,
    run_tradebot,
    temp_dir,
)
from bench.workload import workload_one

TARGET_ROWS_PER_SECOND = 20_000


async def import_twice(
    subscriptions: list[tuple[int, str]], directory: Path, url: str
) -> list[tuple[float, str]]:
    """Seconds and summary of importing one row twice, then the rows twice (into `url`)."""
    rows, one = directory / "subscriptions.csv", directory / "one.csv"
    with rows.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["chat_id", "topic"])
        writer.writerows(subscriptions)
    one.write_text("chat_id,topic\n1,copper\n", encoding="utf-8")
    env = child_env(url)
    timings = []
    for path in (one, one, rows, rows):
        started = time.monotonic()
        code, out, err = await run_tradebot(
            "subscriptions", "import", str(path), env=env, cwd=directory, timeout=600
        )
        if code != 0:
            raise RuntimeError(f"tradebot subscriptions import failed: {err[-500:]}")
        timings.append((time.monotonic() - started, out.strip()))
    return timings


async def bench(scale: Scale, report: Report) -> None:
    work = workload_one(
        topics=scale.n(3_500), chats_count=scale.n(20_000), subscriptions_count=scale.n(100_000)
    )
    with temp_dir("import") as directory:
        async with bench_database(directory) as url:
            timings = await import_twice(work.subscriptions, directory, url)
    _, (fixed, _), (first, first_out), (again, again_out) = timings
    count = len(work.subscriptions)
    report.add("process start and opening the database (baseline)", fixed, "s")
    for name, seconds, out in (
        ("import into a new database", first, first_out),
        ("the same file again (all present)", again, again_out),
    ):
        rate = count / seconds
        report.add(
            f"tradebot subscriptions import, {name}",
            rate,
            "rows/s",
            target=f">= {TARGET_ROWS_PER_SECOND:,} rows/s",
            ok=rate >= TARGET_ROWS_PER_SECOND,
            note=f"{count:,} rows in {seconds:.1f} s ({count / (seconds - fixed):,.0f} rows/s "
            f"after the baseline); {out[:60]}",
        )


def main() -> None:
    main_for("subscriptions import", bench, __doc__)


if __name__ == "__main__":
    main()
