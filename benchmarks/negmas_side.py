"""The NegMAS side of benchmark H: one negotiation on NegMAS's SAOMechanism, timed.

Runs in its own virtual environment (``.venv-peers``, made by ``benchmarks/peers.py``), where NegMAS
is installed and this project is not: it reads the problem as JSON on stdin, as the project's side
derived it from the shipped scenario, and prints what NegMAS did and how long it took as JSON.

The problem: issues normalised to [0, 1], each offered on a grid of ``levels`` values (NegMAS
negotiates over a discrete outcome space; the project's issues are continuous); per negotiator, in
the order they open, its issue weights, its ideal point per issue, its reservation value and its
aspiration exponent (NegMAS's ``PolyAspiration``: ``1 - t ** exponent``, so Faratin's ``e`` is
``1 / exponent``); and the number of mechanism steps (each step holds one offer of each negotiator).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import negmas
from negmas import AspirationNegotiator, SAOMechanism, make_issue
from negmas.preferences import LinearAdditiveUtilityFunction
from negmas.preferences.value_fun import TableFun


def gain(value: float, ideal: float) -> float:
    """The project's linear gain: 1 at the ideal point, 0 at the far end of the range on that side."""
    if value < ideal:
        return 1.0 - (ideal - value) / ideal
    if value > ideal:
        return 1.0 - (value - ideal) / (1.0 - ideal)
    return 1.0


def build(problem: dict[str, Any], levels: int) -> tuple[list[Any], list[Any]]:
    """The issues and each negotiator's utility function, on a grid of ``levels`` values per issue."""
    grid = [round(i / (levels - 1), 12) for i in range(levels)]
    issues = [make_issue(grid, name) for name in problem["issues"]]
    ufuns = []
    for party in problem["negotiators"]:
        values = {
            name: TableFun({v: gain(v, ideal) for v in grid})
            for name, ideal in zip(problem["issues"], party["ideal"], strict=True)
        }
        weights = dict(zip(problem["issues"], party["weights"], strict=True))
        ufuns.append(
            LinearAdditiveUtilityFunction(
                values=values, weights=weights, issues=issues, reserved_value=party["reserved_value"]
            )
        )
    return issues, ufuns


def negotiate(problem: dict[str, Any], issues: list[Any], ufuns: list[Any]) -> SAOMechanism:
    """One negotiation: a fresh mechanism and negotiators (the utility functions are reused)."""
    mechanism = SAOMechanism(issues=issues, n_steps=problem["n_steps"], time_limit=float("inf"))
    for party, ufun in zip(problem["negotiators"], ufuns, strict=True):
        mechanism.add(AspirationNegotiator(name=party["name"], aspiration_type=party["exponent"]), ufun=ufun)
    mechanism.run()
    return mechanism


def measure(problem: dict[str, Any], levels: int) -> dict[str, Any]:
    """The agreement of one negotiation and the best of ``repeats`` timings of ``runs`` negotiations."""
    issues, ufuns = build(problem, levels)
    first = negotiate(problem, issues, ufuns)
    state = first.state
    agreement = state.agreement
    agreements = set()
    times = []
    for _ in range(problem["repeats"]):
        start = time.perf_counter()
        for _ in range(problem["runs"]):
            agreements.add(negotiate(problem, issues, ufuns).state.agreement)
        times.append((time.perf_counter() - start) / problem["runs"])
    return {
        "levels": levels,
        "outcomes": levels ** len(issues),
        "agreement": None if agreement is None else dict(zip(problem["issues"], agreement, strict=True)),
        "utilities": None if agreement is None else [float(u(agreement)) for u in ufuns],
        "step": int(state.step),
        "offers": len(first.extended_trace),
        "timed_out": bool(state.timedout),
        "deterministic": agreements == {agreement},
        "ms": min(times) * 1e3,
    }


def main() -> None:
    problem = json.load(sys.stdin)
    results = [measure(problem, levels) for levels in problem["levels"]]
    versions = {"negmas": negmas.__version__, "python": sys.version.split()[0]}
    json.dump({**versions, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
