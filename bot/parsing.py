"""Parsing untrusted documents (feeds, web pages) in worker processes, each parse within a
deadline and a memory cap, so a hostile document costs at most its deadline of one core and
never the bot's memory.

A few long-lived workers are forked from a forkserver that has the parsers imported already
(never from the bot itself, which runs an event loop and threads). A worker that overruns its
deadline is killed and replaced; one that runs out of memory exits and is replaced. A worker
also caps its own CPU time per parse, so it outlives a killed bot by at most one deadline.
Arguments and results cross the process boundary pickled: bytes in, plain dataclasses out.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import pickle
import resource
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

PARSE_WORKERS = 2
# Imported once by the forkserver, so a worker (and its replacement after a kill) starts warm:
# the modules of the functions workers run, and bot.cli, which the `tradebot` script imports
# (multiprocessing runs a main script again in each worker).
PRELOADED_MODULES = ["bot.cli", "bot.feeds", "bot.pages", "bot.ingest", "trafilatura"]
CPU_SPARE = 1  # seconds: a worker's own CPU cap per parse is its deadline and this much more
MB = 1024 * 1024

_context: ForkServerContext | SpawnContext
if "forkserver" in multiprocessing.get_all_start_methods():
    _context = multiprocessing.get_context("forkserver")
    _context.set_forkserver_preload(PRELOADED_MODULES)
else:
    _context = multiprocessing.get_context("spawn")


class ParseAborted(Exception):
    """A parse was stopped: it overran its deadline or its memory, or its worker died."""


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, shown as its cause."""


class ParseWorkers:
    """Runs parse functions in up to `workers` processes, each call within `seconds` and within
    `memory_bytes` beyond what a fresh worker uses; `close` ends the workers."""

    def __init__(self, *, seconds: float, memory_bytes: int, workers: int = PARSE_WORKERS) -> None:
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self._slots = asyncio.Semaphore(workers)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()

    async def run(self, function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """`function(*args, **kwargs)` in a worker (a module-level function, picklable data);
        its exceptions are raised here as they were, `ParseAborted` when it overruns a limit."""
        async with self._slots:
            worker = self._idle.pop() if self._idle else await asyncio.to_thread(self._start)
            self._busy.add(worker)
            try:
                reply = await asyncio.to_thread(worker.call, (function, args, kwargs), self.seconds)
            except BaseException:
                worker.kill()  # cancelled: the thread still waiting on the pipe sees it end
                raise
            finally:
                self._busy.discard(worker)
            if reply[0] == _DONE:
                self._idle.append(worker)
                result: R = reply[1]
                return result
            if reply[0] == _FAILED:
                self._idle.append(worker)
                error, remote = reply[1]
                raise error from _RemoteTraceback(remote)
            worker.retire()
            if reply[0] == _TOO_LONG:
                raise ParseAborted(f"parsing took longer than {self.seconds:g} s")
            if reply[0] == _OUT_OF_MEMORY:
                raise ParseAborted(f"parsing needed more than {self.memory_bytes // MB} MB")
            raise ParseAborted(f"the parser stopped ({worker.ending()})")

    def _start(self) -> _Worker:
        ours, theirs = _context.Pipe()
        process = _context.Process(
            target=_serve, args=(theirs, self.memory_bytes), name="tradebot-parse", daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def close(self) -> None:
        """End every worker; a parse in progress ends with `ParseAborted`."""
        for worker in self._busy:
            worker.kill()
        while self._idle:
            self._idle.pop().retire()


_DONE, _FAILED, _OUT_OF_MEMORY, _TOO_LONG, _GONE = "done", "failed", "memory", "time", "gone"


class _Worker:
    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self.process = process
        self.connection = connection

    def call(self, job: tuple[Any, ...], seconds: float) -> tuple[str, Any]:
        """Send a job and wait for the reply (blocking, in a thread). Without a reply the pipe
        is closed here, the one place that uses it then."""
        try:
            self.connection.send((*job, seconds))
            if self.connection.poll(seconds):
                reply: tuple[str, Any] = self.connection.recv()
                return reply
            status = _TOO_LONG
        except (EOFError, OSError):
            status = _GONE
        self.connection.close()
        return status, None

    def kill(self) -> None:
        """Kill the process and wait for its end (a few ms); a thread in `call` then returns."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()

    def retire(self) -> None:
        """Kill the process and close the pipe, which no thread may be using."""
        self.kill()
        self.connection.close()

    def ending(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"signal {signal.Signals(-code).name}"
        return f"exit code {code}"


def _serve(connection: Connection, memory_bytes: int) -> None:
    """A worker: run jobs until the bot closes the pipe, within the memory cap."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the bot, which ends us
    in_use = _address_space()
    if in_use:
        _limit(resource.RLIMIT_AS, in_use + memory_bytes)
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        try:
            message = _pickled(_run(*job))
        except MemoryError:
            connection.send((_OUT_OF_MEMORY, None))
            return  # a heap that ran out is not to be trusted with the next document
        connection.send_bytes(message)


def _run(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float
) -> tuple[str, Any]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _limit(resource.RLIMIT_CPU, math.ceil(usage.ru_utime + usage.ru_stime + seconds) + CPU_SPARE)
    try:
        return _DONE, function(*args, **kwargs)
    except MemoryError:
        raise
    except Exception as error:
        return _FAILED, (error, traceback.format_exc())


def _pickled(reply: tuple[str, Any]) -> bytes:
    try:
        return pickle.dumps(reply)
    except MemoryError:
        raise
    except Exception as error:  # an exception or result that does not pickle
        return pickle.dumps((_FAILED, (ParseAborted(f"unusable parse result: {error}"), "")))


def _address_space() -> int:
    """The worker's virtual memory size now; 0 where it is unknown (not Linux: no memory cap)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


def _limit(kind: int, soft: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))
