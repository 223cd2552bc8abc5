"""Timing helpers of the benchmark suite: best-of timings, a Mesa run split into its parts, and the
CPU that other work takes from the machine while a benchmark runs."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from negotiation.model import NegotiationModel


def paired_ratios(numerator: Any, denominator: Any, pairs: int) -> list[float]:
    """Process-time ratios of ``numerator()`` to ``denominator()``, the latter timed before and after.

    Each pair keeps the cheaper of the two denominator timings: the two sides of a ratio are timed
    within a second of each other, so a change of load between them moves it far less than it moves
    best-of timings taken apart. Both functions return the number of runs they played.
    """

    def per_run(func: Any) -> float:
        start = time.process_time()
        runs = func()
        return (time.process_time() - start) / runs

    ratios = []
    for _ in range(pairs):
        before = per_run(denominator)
        measured = per_run(numerator)
        ratios.append(measured / min(before, per_run(denominator)))
    return ratios


def best_of(repeats: int, func: Any) -> float:
    """Smallest wall time of ``repeats`` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


@dataclass(frozen=True)
class RunSplit:
    """Where the time of one ``NegotiationModel(...).run()`` goes (the best of three passes)."""

    setup_ms: float
    """``NegotiationModel(...)``: Mesa model, agents, the run's draws and derived quantities."""
    round_us: float
    """One ``step()``: a round at every open table (and the trace, when tracing)."""
    outcomes_ms: float
    """``outcomes()``: agreements measured (Pareto frontier, Nash point) and made readable."""
    rounds: float
    """Rounds per run, on average."""

    def budget_us(self, total_ms: float) -> float:
        """Time per round left for a run to take ``total_ms`` with today's setup and outcomes."""
        return (total_ms - self.setup_ms - self.outcomes_ms) / self.rounds * 1e3


def split_run(compiled: Any, seeds: range, trace: bool = False) -> RunSplit:
    """Time the parts of Mesa-model runs of a compiled scenario, one per seed."""
    passes = []
    for _ in range(3):
        setup = rounds_s = outcomes = 0.0
        rounds = 0
        for seed in seeds:
            start = time.perf_counter()
            model = NegotiationModel(compiled, seed=seed, trace=trace)
            built = time.perf_counter()
            while model.running:
                model.step()
            played = time.perf_counter()
            model.outcomes()
            setup += built - start
            rounds_s += played - built
            outcomes += time.perf_counter() - played
            rounds += model.round
        n = len(seeds)
        passes.append(RunSplit(setup / n * 1e3, rounds_s / rounds * 1e6, outcomes / n * 1e3, rounds / n))
    return min(passes, key=lambda s: s.setup_ms + s.outcomes_ms + s.round_us * s.rounds / 1e3)


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_by_process() -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of every process, split into this session's and the others'."""
    mine: dict[int, float] = {}
    others: dict[int, float] = {}
    session = os.getsid(0)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        (mine if int(fields[3]) == session else others)[int(entry)] = seconds
    return mine, others


class OtherWork:
    """Measures, as a context manager, how many cores processes outside this session used.

    Linux groups processes by session when it shares the cores out (autogroup), so another
    session's busy process takes a whole core from a two-worker batch, whatever the nice values: a
    parallel efficiency is only meaningful when this is about 0. Samples /proc every quarter second.
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.cores = 0.0
        self._seconds = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> OtherWork:
        self._start = time.perf_counter()
        self._last = _cpu_by_process()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        now = _cpu_by_process()[1]
        self._seconds += sum(max(0.0, cpu - self._last.get(pid, 0.0)) for pid, cpu in now.items())
        self._last = now

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.cores = self._seconds / max(time.perf_counter() - self._start, 1e-9)


def wait_for_quiet(threshold: float = 0.15, window: float = 3.0, patience: float = 300.0) -> float:
    """Wait (at most ``patience`` seconds) until other work uses under ``threshold`` cores.

    Returns:
        The cores other work used in the last window looked at.
    """
    deadline = time.monotonic() + patience
    while True:
        with OtherWork() as other:
            time.sleep(window)
        if other.cores < threshold or time.monotonic() > deadline:
            return other.cores
