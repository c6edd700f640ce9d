"""Run every benchmark, each in its own process, and print one table: figure, measured,
target, ok / NOT MET.

    python -m bench.run_all            # every workload (about 14 minutes on 2 cores)
    python -m bench.run_all --quick    # a tenth of each, for a fast check
    python -m bench.run_all --only ingest,queries

`make bench` runs the full set. Each benchmark also runs alone: `python -m bench.bench_ingest`.
With TEST_DATABASE_URL naming a PostgreSQL server, every benchmark that uses a database makes
it on that server instead of a SQLite file (`bench.common.bench_database`):
`scripts/with-postgres make bench`, or `make bench-postgres`. The fan-out benchmark reads real
wire text when given a corpus: `--corpus PATH` is passed on to it.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Report, backend, table

BENCHES = {
    "ingest": ("bench.bench_ingest", 3600),
    "delivery": ("bench.bench_delivery", 900),
    "latency": ("bench.bench_latency", 600),
    "queries": ("bench.bench_queries", 3600),
    "memory": ("bench.bench_memory", 1200),
    "file-memory": ("bench.bench_file_memory", 900),
    "import": ("bench.bench_import", 600),
    "query": ("bench.bench_query", 1800),
    "fanout": ("bench.bench_fanout", 3600),
}


def run_one(
    name: str, module: str, timeout: float, quick: bool, directory: Path, extra: list[str]
) -> Report:
    out = directory / f"{name}.json"
    command = [sys.executable, "-m", module, "--json-out", str(out), *extra]
    if quick:
        command.append("--quick")
    print(f"== {name}: {' '.join(command[1:3])}{' --quick' if quick else ''}", flush=True)
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        process.wait(timeout=timeout)
    except BaseException as error:  # a timeout, Ctrl-C or SIGTERM: the child stops too
        if not isinstance(error, subprocess.TimeoutExpired):
            process.terminate()
            process.wait(timeout=30)
            raise  # SIGTERM lets it clean up; the figures so far are kept
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        partial = Report.from_json(out.read_text(encoding="utf-8")) if out.exists() else None
        report = partial or Report(name)
        report.seconds = time.monotonic() - started
        report.error = f"timed out after {timeout} s"
        return report
    if not out.exists():
        return Report(name, seconds=time.monotonic() - started, error="no figures (crashed)")
    return Report.from_json(out.read_text(encoding="utf-8"))


def _terminated(_signal: int, _frame: object) -> None:
    raise SystemExit(143)


def main() -> int:
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of every workload")
    parser.add_argument("--only", default="", help=f"comma-separated, of {', '.join(BENCHES)}")
    parser.add_argument("--corpus", type=Path, help="Reuters-21578 JSONL.gz for the fan-out")
    args = parser.parse_args()
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tradebot-bench-") as directory:
        reports = [
            run_one(
                name,
                *BENCHES[name],
                args.quick,
                Path(directory),
                ["--corpus", str(args.corpus)] if args.corpus and name == "fanout" else [],
            )
            for name in chosen
        ]
    total = time.monotonic() - started
    print()
    print(
        f"tradebot benchmarks{' (--quick: a tenth of each workload)' if args.quick else ''}: "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {backend()}, {total / 60:.1f} min"
    )
    print(table(reports))
    missed = sum(1 for r in reports for f in r.figures if f.ok is False) + sum(
        1 for r in reports if r.error
    )
    print(f"\n{missed} target(s) NOT MET" if missed else "\nevery target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
