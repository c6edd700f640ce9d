"""Workload 6: memory of `tradebot run`, and replies while subscriptions change.

The workload-1 database (20,000 chats, 100,000 watch items over 10,000 topics; a tenth with
--quick; `--items N`: N/5 chats and N/10 topics (or `--topics`), e.g. `--items 1000000` for
the issue's 1M items) is bulk-loaded with one feed, served from this process and polled every
second, then `tradebot run` starts as a child process against the fake Bot API (served from
this process on 127.0.0.1; flood limits off, so that only the bot's own pacing shapes the
traffic) with ALERT_POLL_SECONDS=2. The feed makes the bot build its matcher, and reload it
after watch-list changes, as a deployment with feeds does (each poll round first reloads the
watch items when they changed). Its RSS is sampled every 0.2 s (psutil), with the peak of
each phase, and VmHWM (the kernel's peak) is read before it stops.

While it runs:
1. idle: 10 `/help` from a probe chat → reply latency (from the update being queued to the
   fake recording the reply);
2. churn: 300 `/subscribe` and `/unsubscribe` commands from 100 workload chats (20 per second),
   with a `/help` probe every 0.25 s → reply latency while subscriptions change;
3. ingest: `tradebot ingest` of 500 workload articles (50 with --quick) in another process (the
   bot then sends their alerts), with the same probes → reply latency while another process
   writes to the database (not in the issue's targets; held to the same 1 s);
4. both at once: another 500 articles ingested while the same churn runs.

    python -m bench.bench_memory [--quick] [--items 1000000 [--topics 3500]]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]

from bench.common import (
    Report,
    Scale,
    arguments,
    backend,
    bench_database,
    child_env,
    finish,
    percentile,
    run_tradebot,
    tail,
    temp_dir,
    tradebot_process,
)
from bench.workload import Workload, articles, load_subscriptions, workload_one, write_jsonl
from storage import feeds as feed_store
from storage.db import create_engine, session_factory
from storage.schema import upgrade_schema
from tests.fakes import FakeTelegram
from tests.fakes.web import FakeWeb, rss20

ITEMS = 100_000  # workload 1
TARGET_MB = 300.0  # workload 1 (issue 9)
BIG_TARGET_MB = 500.0  # 1,000,000 watch items (issue 14)
REPLY_TARGET_S = 1.0
# Probes come from several chats in turn: one chat asking every 0.25 s would be a flood (more
# than one update a second), and the bot would rightly drop most of its /help.
PROBES = tuple(range(888_000_001, 888_000_009))


class Sampler:
    """Samples a process's RSS until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.phase_peak = 0  # since `phase` was last called
        self.phases: list[str] = []
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                rss = self.process.memory_info().rss
                self.peak = max(self.peak, rss)
                self.phase_peak = max(self.phase_peak, rss)
                self.samples += 1
            except psutil.Error:
                return
            await asyncio.sleep(0.2)

    def phase(self, name: str) -> None:
        """Note the peak of the phase that just ended as `name`."""
        self.phases.append(f"{name} {self.phase_peak / 2**20:.0f}")
        self.phase_peak = 0

    def high_water_mark(self) -> int:
        """VmHWM from /proc (bytes), 0 when unavailable."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def help_latency(telegram: FakeTelegram, probes_so_far: int) -> float:
    """Send /help from the next probe chat; seconds until the bot's reply is recorded."""
    probe = PROBES[probes_so_far % len(PROBES)]
    replies_so_far = probes_so_far // len(PROBES)
    telegram.add_message(probe, "/help")
    queued = time.monotonic()
    sent = await telegram.wait_for_sent(replies_so_far + 1, chat_id=probe, timeout=60)
    return sent[replies_so_far].at - queued


async def bench(scale: Scale, report: Report, items: int | None, topics: int | None) -> None:
    wanted = items or scale.n(ITEMS)
    started = time.perf_counter()
    work = workload_one(
        topics=topics or max(wanted // 10, 10),
        chats_count=max(wanted // 5, 10),
        subscriptions_count=wanted,
    )
    print(
        f"  workload: {len(work.topics):,} topics, {len(work.chats):,} chats, "
        f"{len(work.subscriptions):,} watch items, made in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with temp_dir("memory") as directory:
        async with bench_database(directory) as url, FakeWeb() as web, FakeTelegram() as telegram:
            web.serve("/wire.xml", rss20([]))
            engine = create_engine(url)
            try:
                started = time.perf_counter()
                await upgrade_schema(engine)
                await load_subscriptions(engine, work.chats, work.subscriptions)
                async with session_factory(engine)() as session:
                    await feed_store.add_feed(session=session, url=web.url("/wire.xml"))
                    await session.commit()
                print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
            finally:
                await engine.dispose()
            await measure(scale, report, work, Run(url, directory, telegram, web))


@dataclass(frozen=True, slots=True)
class Run:
    """Where the bot runs: its database, directory, fake Bot API and feed server."""

    url: str
    directory: Path
    telegram: FakeTelegram
    web: FakeWeb


async def measure(scale: Scale, report: Report, work: Workload, run: Run) -> None:
    """Start `tradebot run` on the loaded database; its memory and reply latency while
    subscriptions change and while `tradebot ingest` writes."""
    rng = random.Random(8)
    url, directory, telegram = run.url, run.directory, run.telegram
    batch, second = directory / "batch.jsonl", directory / "second.jsonl"
    write_jsonl(batch, articles(work.topics, scale.n(500), seed=77, prefix="memory"))
    write_jsonl(second, articles(work.topics, scale.n(500), seed=78, prefix="again"))
    env = child_env(
        url,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        ALERT_POLL_SECONDS="2",
        FEED_POLL_SECONDS="1",
        ALLOW_PRIVATE_FEED_HOSTS="true",
    )
    log = directory / "bot.log"
    async with tradebot_process("run", env=env, cwd=directory, log=log) as bot:
        sampler = Sampler(bot.pid)
        sampler.start()
        started = time.monotonic()
        try:
            await telegram.wait_for_call("setMyCommands", timeout=600)
        except AssertionError:
            raise RuntimeError(f"tradebot run did not start:\n{tail(log)}") from None
        start_seconds = time.monotonic() - started
        sampler.phase("start")
        after_start = sampler.process.memory_info().rss
        replies = 0

        async def probe_while(task: asyncio.Future[Any]) -> list[float]:
            nonlocal replies
            found: list[float] = []
            deadline = time.monotonic() + 900
            while not task.done() and time.monotonic() < deadline:
                found.append(await help_latency(telegram, replies))
                replies += 1
                await asyncio.sleep(0.25)
            await task
            return found

        started = time.monotonic()  # the first poll round builds the matcher, then fetches
        building = await probe_while(
            asyncio.create_task(run.web.wait_for_hits("/wire.xml", 1, 900))
        )
        build_seconds = time.monotonic() - started
        sampler.phase("matcher built")
        idle: list[float] = []
        for _ in range(10):
            idle.append(await help_latency(telegram, replies))
            replies += 1
            await asyncio.sleep(0.1)
        sampler.phase("idle")

        chats = [row.id for row in work.chats if row.id > 0][:100]
        topics = [topic.key for topic in work.topics]

        async def churn() -> None:
            for n in range(300):
                chat = chats[n % len(chats)]
                command = "/unsubscribe" if n % 3 == 2 else "/subscribe"
                telegram.add_message(chat, f"{command} {rng.choice(topics)}")
                await asyncio.sleep(0.05)

        def ingest(path: Path) -> asyncio.Task[tuple[int, str, str]]:
            return asyncio.create_task(
                run_tradebot("ingest", str(path), env=child_env(url), cwd=directory, timeout=900)
            )

        polls_before = len(run.web.hits_to("/wire.xml"))
        churned = await probe_while(asyncio.create_task(churn()))
        polls_churn = len(run.web.hits_to("/wire.xml")) - polls_before
        sampler.phase("churn")
        first = ingest(batch)
        ingesting = await probe_while(first)
        sampler.phase("ingest")
        again = ingest(second)
        both = await probe_while(asyncio.gather(again, asyncio.create_task(churn())))
        sampler.phase("both")
        for task in (first, again):
            code, out, err = task.result()
            if code != 0:
                raise RuntimeError(f"tradebot ingest failed: {err[-500:]}")
        await asyncio.sleep(3.0)  # the bot sends the alerts meanwhile
        sampler.phase("sending")
        if bot.returncode is not None:
            raise RuntimeError(f"tradebot run exited:\n{tail(log)}")
        hwm = sampler.high_water_mark()
        await sampler.stop()
    target_mb = BIG_TARGET_MB if len(work.subscriptions) > ITEMS else TARGET_MB
    peak = max(sampler.peak, hwm) / 2**20
    report.add(
        f"tradebot run peak RSS, {len(work.subscriptions):,} watch items",
        peak,
        "MB",
        target=f"<= {target_mb:.0f} MB",
        ok=peak <= target_mb,
        note=f"after start {after_start / 2**20:.0f} MB (started in {start_seconds:.0f} s); "
        f"VmHWM {hwm / 2**20:.0f} MB; {len(work.topics):,} topics, {len(work.chats):,} chats, "
        f"{sampler.samples} samples; peak MB by phase: {', '.join(sampler.phases)}; "
        f"ingest: {out.strip()[:60]}",
    )
    idle_p95 = percentile(idle, 0.95)
    report.add("/help reply, idle p95", idle_p95 * 1000, "ms")
    for name, latencies, note in (
        (
            "/help reply while the matcher is first built (start-up), p95",
            building,
            f"; built in {build_seconds:.0f} s after start",
        ),
        (
            "/help reply during subscription churn, p95",
            churned,
            f"; {polls_churn} feed polls meanwhile (the matcher reloaded before each)",
        ),
        ("/help reply during tradebot ingest, p95", ingesting, ""),
        ("/help reply during churn and ingest at once, p95", both, ""),
    ):
        p95 = percentile(latencies, 0.95)
        report.add(
            name,
            p95 * 1000,
            "ms",
            target=f"<= {REPLY_TARGET_S * 1000:.0f} ms",
            ok=p95 <= REPLY_TARGET_S,
            note=f"{p95 / idle_p95:.1f}x idle; max {max(latencies) * 1000:.0f} ms over "
            f"{len(latencies)} probes{note}",
        )


def more_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--items",
        type=int,
        help=f"watch items (N/5 chats, N/10 topics); default {ITEMS:,} (a tenth with --quick)",
    )
    parser.add_argument("--topics", type=int, help="distinct topics (default: a tenth of --items)")


def main() -> None:
    args = arguments(__doc__ or "", more_options)
    report = Report(f"memory (workload 6), {backend()}", path=args.json_out)
    started = time.monotonic()
    try:
        asyncio.run(bench(Scale(args.quick), report, args.items, args.topics))
    except Exception as error:
        report.error = f"{type(error).__name__}: {error}"
        print(f"  ERROR {report.error}")
    finish(report, started, args.json_out)


if __name__ == "__main__":
    main()
