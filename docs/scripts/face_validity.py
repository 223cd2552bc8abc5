"""Face-validity check of the default scenario: per-table outcomes over many seeded runs.

Runs the shipped Asia-tour scenario ``RUNS`` times (seeds from ``MASTER_SEED`` via SeedSequence) and
prints Markdown tables for docs/face-validity.md: per table the deal probability with its Wilson 95%
interval, the walk-out and deadline shares, the mean round of agreement and the share of partial
deals; over deals only, the mean agreed value and the share of deals that moved each issue; the
article's patterns; the linkages switched off; the bargaining-theory checks (beside the numbers the
model gave before values of no deal were derived, issue 10); and the heuristic tactics against the
equilibrium benchmark.

Usage (from the repository root)::

    .venv/bin/python docs/scripts/face_validity.py [RUNS] [MASTER_SEED] [--write]

``--write`` replaces the marked blocks of docs/face-validity.md (``<!-- begin NAME -->`` ...
``<!-- end NAME -->``) with the new tables; the prose around them is for a person to revise.
"""

from __future__ import annotations

import copy
import itertools
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from negotiation.bargaining import streams
from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.engine import Runs
from negotiation.bargaining.equilibrium import best_given, package_frontiers
from negotiation.bargaining.preferences import utility
from negotiation.bargaining.protocol import DEAL, Negotiation
from negotiation.batch.rows import simulate
from negotiation.batch.seeding import run_seeds
from negotiation.model import prepare
from negotiation.scenario.validation import scenario_from_dict

PAGE = Path(__file__).resolve().parents[1] / "face-validity.md"

RUNS = 2000
MASTER_SEED = 20251030


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95% interval for a proportion."""
    ci = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def table_summary(frame: pd.DataFrame, order: list[str]) -> str:
    """Markdown table of per-table deal probability, endings, rounds and partial deals."""
    lines = [
        "| table | P(deal) | Wilson 95% | walk-out | deadline | mean round of deal | partial deals |",
        "|---|---|---|---|---|---|---|",
    ]
    for table in order:
        rows = frame[frame["table"] == table]
        n, deals = len(rows), int(rows["deal"].sum())
        low, high = wilson(deals, n)
        walkout = (rows["status"] == "walkout").mean()
        deadline = (rows["status"] == "deadline").mean()
        agreed = rows[rows["deal"]]
        mean_round = f"{agreed['round'].mean():.1f}" if deals else "-"
        partial = f"{agreed['partial'].mean():.1%}" if deals else "-"
        lines.append(
            f"| {table} | {deals / n:.1%} | {low:.1%} - {high:.1%} | {walkout:.1%} | {deadline:.1%} "
            f"| {mean_round} | {partial} |"
        )
    return "\n".join(lines)


def value_summary(frame: pd.DataFrame, order: list[str], issues: dict[str, tuple[str, ...]]) -> str:
    """Markdown table of mean agreed values (deals only) and how often each issue moved."""
    lines = [
        "| table | issue | mean agreed value (deals) | 10th-90th percentile | moved in share of deals |",
        "|---|---|---|---|---|",
    ]
    for table in order:
        agreed = frame[(frame["table"] == table) & frame["deal"]]
        if agreed.empty:
            continue
        for issue in issues[table]:
            values = agreed[issue]
            lines.append(
                f"| {table} | {issue} | {values.mean():.2f} | {values.quantile(0.1):.2f} - "
                f"{values.quantile(0.9):.2f} | {agreed[f'moved_{issue}'].mean():.1%} |"
            )
    return "\n".join(lines)


def pattern_checks(frame: pd.DataFrame) -> tuple[str, float]:
    """Markdown table of the article's patterns (docs/face-validity.md) and whether the runs show them."""
    n_runs = frame["replication"].nunique()

    def interval(table: str) -> tuple[float, float, float]:
        deals = frame.loc[frame["table"] == table, "deal"]
        low, high = wilson(int(deals.sum()), len(deals))
        return deals.mean(), low, high

    def above(better: str, worse: str) -> tuple[str, bool]:
        (p1, lo1, _), (p2, _, hi2) = interval(better), interval(worse)
        return f"{better} {p1:.1%} vs {worse} {p2:.1%}", lo1 > hi2

    summit = frame.loc[frame["table"] == "us-north-korea", "summit"] == 1.0
    s_low, s_high = wilson(int(summit.sum()), n_runs)
    china = frame[frame["table"] == "us-china"]
    early_walkout = ((china["status"] == "walkout") & (china["round"] < 6)).mean()
    rows = [
        ("P1 close-to-deal above stalled", *above("us-japan", "us-korea")),
        ("P1 close-to-deal above stalled", *above("thailand-cambodia", "us-korea")),
        ("P1 close-to-deal above stalled", *above("us-malaysia", "us-korea")),
        ("P1 close-to-deal above stalled", *above("us-cambodia", "us-korea")),
        (
            "P2 speculated summit rare (< 25%)",
            f"summit happens in {summit.mean():.1%} ({s_low:.1%} - {s_high:.1%})",
            s_high < 0.25,
        ),
        (
            "P3 partial deals occur",
            ", ".join(
                f"{t} {frame.loc[(frame['table'] == t) & frame['deal'], 'partial'].mean():.1%}"
                for t in frame["table"].unique()
                if frame.loc[(frame["table"] == t) & frame["deal"], "partial"].any()
            ),
            bool(frame["partial"].any()),
        ),
    ]
    lines = ["| pattern | model | shown? |", "|---|---|---|"]
    lines += [f"| {name} | {text} | {'yes' if ok else 'NO'} |" for name, text, ok in rows]
    return "\n".join(lines), early_walkout


def agreed_values(frame: pd.DataFrame) -> str:
    """Markdown table of the agreed values the article names (P4), deals only."""
    korea = frame[frame["table"] == "us-korea"]
    japan = frame[frame["table"] == "us-japan"]
    deal_values = [
        ("Japan tariff (article: 27.5% -> 15%)", japan, "tariff", 15.0),
        ("Korea tariff (article: 25% -> 15%)", korea, "tariff", 15.0),
        ("Japan investment (article: $550bn)", japan, "investment", 550.0),
        ("Korea investment (article: $350bn upfront)", korea, "investment", 350.0),
        ("Korea share paid upfront (article: upfront)", korea, "upfront", 1.0),
    ]
    lines = ["| P4 agreed value, deals only | article | model mean | 10th-90th percentile |"]
    lines += ["|---|---|---|---|"]
    for name, rows_, issue, article in deal_values:
        values = rows_.loc[rows_["deal"], issue]
        lines.append(
            f"| {name} | {article:g} | {values.mean():.2f} | "
            f"{values.quantile(0.1):.2f} - {values.quantile(0.9):.2f} |"
        )
    return "\n".join(lines)


def linkage_effects(frame: pd.DataFrame, runs: int, master_seed: int) -> str:
    """Markdown table: deal probabilities with each linkage switched off, on the same seeds."""
    lines = [
        "| variant | table | P(deal) | Wilson 95% | mean agreed tariff (deals) |",
        "|---|---|---|---|---|",
    ]
    variants = [
        ("default", frame, ("us-korea", "us-malaysia", "us-vietnam")),
        ("precedent off (linkages.0.strength=0)", None, ("us-korea",)),
        ("escalation off (linkages.1.strength=0)", None, ("us-malaysia", "us-vietnam")),
    ]
    for name, data, tables in variants:
        if data is None:
            path = "linkages.0.strength" if "precedent" in name else "linkages.1.strength"
            data = simulate(prepare(None, {path: 0.0}), runs, master_seed).to_pandas()
        for table in tables:
            rows = data[data["table"] == table]
            deals = int(rows["deal"].sum())
            low, high = wilson(deals, len(rows))
            tariff = rows.loc[rows["deal"], "tariff"].mean()
            lines.append(
                f"| {name} | {table} | {deals / len(rows):.1%} | {low:.1%} - {high:.1%} | {tariff:.2f} |"
            )
    return "\n".join(lines)


# --- bargaining theory: the numbers issue 10 measured before values of no deal were derived ----------

BEFORE = {
    # table: (deals below the status quo's utility, opener / responder; last-round deals where the last
    # proposer kept no surplus; offers Pareto-dominated with the scenario's rapport; with full rapport)
    "us-china": (0.831, 0.0, 0.422, 0.849, 0.854),
    "us-japan": (0.0, 0.027, 0.0, 0.521, 0.514),
    "us-korea": (0.0, 0.201, 0.346, 0.528, 0.542),
    "us-north-korea": (0.0, 0.0, 0.357, None, None),
    "thailand-cambodia": (0.0, 0.080, 0.016, 0.527, 0.530),
    "us-malaysia": (0.0, 0.981, 0.0, 0.721, 0.724),
    "us-thailand": (0.0, 1.0, 0.0, 0.763, 0.769),
    "us-cambodia": (0.0, 1.0, 0.0, 0.0, 0.0),
    "us-vietnam": (0.0, 1.0, 0.0, 0.755, 0.762),
    "us-indonesia": (0.0, 1.0, 0.0, 0.792, 0.800),
    "us-singapore": (0.0, 1.0, 0.0, 0.0, 0.0),
}
"""Measured at commit 5db09f6 (before issue 10) with the same definitions, 2000 runs, seed 20251030.
Then the value of no deal was a hand-set reservation, so "below the value of no deal" was 0 by
construction while deals fell below the status quo; North Korea's offers were not measured (binary)."""
BEFORE_RANDOM = (0.412, 0.039, 0.202)
"""Two-issue tables with known weights, before: share of offers dominated, mean and max distance."""
BEFORE_MONOTONE = (0.042, 0.022)
"""Raising one's own reservation, before: share of pairs of deals where one's utility fell, max fall."""


def _play(compiled: CompiledScenario, seeds: np.ndarray, on_round: Any = None) -> Negotiation:
    """Play runs through the engine (as the fast path does), calling ``on_round(runs, trace)``."""
    runs = Runs(compiled, streams.run_keys(seeds))
    negotiation = runs.negotiation
    for round_ in range(runs.horizon):
        trace, ended = runs.play(round_, trace=on_round is not None)
        if on_round is not None and trace is not None:
            on_round(runs, trace)
        if ended.size:
            negotiation.reservation = negotiation.reservation + negotiation.linkage_shifts(ended)
        if negotiation.finished:
            break
    return negotiation


def _dominated(runs: Runs, trace: Any) -> np.ndarray:
    """How much one side of each traced offer could gain on the true frontier without the other losing."""
    d, negotiation = runs.negotiation.derived, runs.negotiation
    rows = trace.tables
    frontiers = package_frontiers(
        d.weights[rows], d.ideal[rows], d.curvature[rows, :, 0], negotiation.binary[rows]
    )
    gaps = [
        best_given(frontiers, trace.utilities[:, 1 - side], side)[0] - trace.utilities[:, side]
        for side in (0, 1)
    ]
    return np.maximum(*gaps)


def _table_measures(compiled: CompiledScenario, seeds: np.ndarray) -> dict[str, np.ndarray]:
    """The bargaining-theory measures of each table.

    Deals below a value of no deal, below the status quo's utility, last-round deals that leave the
    last proposer no surplus, and offers that are Pareto-dominated (by more than 1e-9).
    """
    n_tables = compiled.n_tables
    dominated, offers = np.zeros(n_tables), np.zeros(n_tables)

    def count(runs: Runs, trace: Any) -> None:
        table = trace.tables % n_tables
        np.add.at(dominated, table, _dominated(runs, trace) > 1e-9)
        np.add.at(offers, table, 1)

    negotiation = _play(compiled, seeds, count)
    d, runs = negotiation.derived, len(seeds)
    status_quo = np.tile(compiled.status_quo, (runs, 1))
    sq_utility = np.stack(
        [utility(status_quo, d.weights[:, s], d.ideal[:, s], d.curvature[:, s]) for s in (0, 1)], axis=1
    )
    deal = negotiation.status == DEAL
    measures = {
        name: np.zeros((n_tables, 2) if name == "below_sq" else n_tables)
        for name in ("below_value", "below_sq", "zero")
    }
    for t in range(n_tables):
        rows = np.arange(t, runs * n_tables, n_tables)
        dealt = rows[deal[rows]]
        if dealt.size == 0:
            continue
        utilities, values = negotiation.outcome_utility[dealt], negotiation.closing_reservation[dealt]
        measures["below_value"][t] = np.mean(np.any(utilities < values - 1e-9, axis=1))
        measures["below_sq"][t] = np.mean(utilities < sq_utility[dealt] - 1e-9, axis=0)
        last = dealt[negotiation.end_round[dealt] == d.deadline[dealt]]
        proposer = (d.deadline[last] - compiled.opens[t]) % 2
        surplus = (
            negotiation.outcome_utility[last, proposer] - negotiation.closing_reservation[last, proposer]
        )
        measures["zero"][t] = np.sum(np.abs(surplus) < 1e-9) / dealt.size
    measures["dominated"] = dominated / np.maximum(offers, 1)
    return measures


def full_rapport(compiled: CompiledScenario) -> CompiledScenario:
    """The scenario with every party trusting its counterpart fully (it knows its weights)."""
    overrides = {}
    for table in compiled.scenario.tables.values():
        for a, b in itertools.permutations(table.parties, 2):
            overrides[f"actors.{a}.rapport.{b}"] = 1.0
    return prepare(compiled.scenario, overrides)


def theory_checks(compiled: CompiledScenario, runs: int, master_seed: int) -> str:
    """Markdown table: the numbers bargaining theory checks, per table, before and now."""
    seeds = run_seeds(master_seed, range(runs))
    now, known = _table_measures(compiled, seeds), _table_measures(full_rapport(compiled), seeds)
    lines = [
        "| table | deals below the value of no deal | deals below the status quo's utility "
        "(opener / responder) | last-round deals, last proposer without surplus (full rapport) "
        "| offers dominated | offers dominated, full rapport |",
        "|---|---|---|---|---|---|",
    ]

    def pair(before: float | None, value: float) -> str:
        return f"{value:.1%}" if before is None else f"{before:.1%} → {value:.1%}"

    larger = [t for t in compiled.table_ids if len(compiled.scenario.tables[t].parties) > 2]
    for t, table_id in enumerate(compiled.table_ids):
        if table_id in larger:
            continue
        b = BEFORE[table_id]
        measured = b[3] is not None
        below_sq = now["below_sq"][t]
        lines.append(
            f"| {table_id} | 0.0% → {now['below_value'][t]:.1%} "
            f"| {pair(b[0], below_sq[0])} / {pair(b[1], below_sq[1])} "
            f"| {pair(b[2], now['zero'][t])} ({known['zero'][t]:.1%}) "
            f"| {pair(b[3] if measured else None, now['dominated'][t])} "
            f"| {pair(b[4] if measured else None, known['dominated'][t])} |"
        )
    if larger:
        lines.append(
            f"\nNot in this table: {', '.join(larger)} (more than two parties, stacked alternating "
            "offers); its invariants (no deal below a value of no deal, the two-party reduction, the "
            "decision rule) are tested in tests/test_saop.py."
        )
    return "\n".join(lines)


def _random_pairs(rng: np.random.Generator, n_issues: tuple[int, int], rapport: float | None) -> dict:
    """A random one-table scenario document for the checks of random tables.

    Time-dependent tactics, no walk-outs, values of no deal 0-0.6 (set through the outside options),
    ideals at the ends of the ranges.
    """
    issues = "pqr"[: int(rng.integers(*n_issues))]
    status_quo = {i: float(rng.random()) for i in issues}
    actors, preferences = {}, {}
    for actor, other, sign in (("a", "b", 1), ("b", "a", -1)):
        trust = float(rng.random()) if rapport is None else rapport
        actors[actor] = {
            "name": actor,
            "leverage": 0.5,
            "domestic_pressure": 0.5,
            "resolve": 0.5,
            "rapport": {other: trust},
            "strategy": {"kind": "time_dependent", "e": float(np.exp(rng.uniform(-2, 2)))},
        }
        weights = rng.random(len(issues)) + 0.01
        weights /= weights.sum()
        direction = rng.choice(["increase", "decrease"], len(issues)) if sign > 0 else None
        preferences[actor] = {"weights": dict(zip(issues, map(float, weights), strict=True))}
        preferences[actor]["_direction"] = direction
    ideal_a = preferences["a"].pop("_direction")
    preferences["b"].pop("_direction")
    preferences["a"]["ideal"] = dict(zip(issues, map(str, ideal_a), strict=True))
    preferences["b"]["ideal"] = {
        i: "decrease" if d == "increase" else "increase" for i, d in zip(issues, ideal_a, strict=True)
    }
    for actor in ("a", "b"):
        gains = [
            status_quo[i] if preferences[actor]["ideal"][i] == "increase" else 1.0 - status_quo[i]
            for i in issues
        ]
        at_status_quo = float(np.dot(list(preferences[actor]["weights"].values()), gains))
        preferences[actor]["outside_option"] = float(rng.uniform(0.0, 0.6)) - at_status_quo
    return {
        "name": "random",
        "issues": {
            i: {"name": i, "unit": "u", "low": 0.0, "high": 1.0, "status_quo": status_quo[i]} for i in issues
        },
        "actors": actors,
        "tables": {
            "t": {
                "name": "t",
                "parties": ["a", "b"],
                "issues": list(issues),
                "opens": 0,
                "deadline": int(rng.integers(2, 30)),
                "breakdown_risk": 0.0,
                "preferences": preferences,
            }
        },
    }


def random_table_checks(samples: int = 300, seed: int = 1) -> str:
    """Markdown lines: dominated offers and monotonicity on random tables.

    Offers on random two-issue tables with known weights, and whether a higher own value of no deal
    ever lowers one's own agreed utility (random multi-issue tables).
    """
    rng = np.random.default_rng(seed)
    gaps = []
    for i in range(samples):
        compiled = compile_scenario(scenario_from_dict(_random_pairs(rng, (2, 3), rapport=1.0), "<random>"))
        found: list[np.ndarray] = []
        _play(compiled, np.array([i]), lambda runs, trace, found=found: found.append(_dominated(runs, trace)))
        gaps.append(np.concatenate(found))
    gap = np.concatenate(gaps)
    dominated = gap[gap > 1e-9]
    lines = [
        "| check | before | now |",
        "|---|---|---|",
        f"| two-issue tables, known weights: offers dominated | {BEFORE_RANDOM[0]:.1%} (mean distance "
        f"{BEFORE_RANDOM[1]:.3f}, max {BEFORE_RANDOM[2]:.3f}) | {dominated.size / gap.size:.1%} "
        f"(max {dominated.max() if dominated.size else 0.0:.1e}) |",
    ]
    variants = (
        (None, "ultimatum", "random rapport, learning, ultimatums"),
        (1.0, "ultimatum", "full rapport, ultimatums"),
        (1.0, "concede", "full rapport, conceding in the last round"),
    )
    for rapport, last_offer, label in variants:
        drops = []
        for _ in range(samples * 2):
            data = _random_pairs(rng, (2, 4), rapport=rapport)
            for actor in data["actors"].values():
                actor["strategy"]["last_offer"] = last_offer
            side = "ab"[int(rng.integers(0, 2))]
            raised = copy.deepcopy(data)
            preference = raised["tables"]["t"]["preferences"][side]
            preference["outside_option"] = min(
                1.0, preference["outside_option"] + float(rng.uniform(0.001, 0.3))
            )
            before, after = (
                _play(compile_scenario(scenario_from_dict(doc, "<m>")), np.array([0]))
                for doc in (data, raised)
            )
            if before.status[0] == DEAL and after.status[0] == DEAL:
                s = "ab".index(side)
                drops.append(before.outcome_utility[0, s] - after.outcome_utility[0, s])
        drop = np.array(drops)
        earlier = (
            f"{BEFORE_MONOTONE[0]:.1%} of pairs, by up to {BEFORE_MONOTONE[1]:.3f}"
            if rapport is None
            else "-"
        )
        lines.append(
            f"| higher own value of no deal lowers own agreed utility: efficient offers, time-dependent "
            f"tactics, {label} | {earlier} | {np.mean(drop > 1e-9):.1%} of {drop.size} pairs, "
            f"by up to {max(drop.max(), 0.0):.3f} |"
        )
    return "\n".join(lines)


def equilibrium_comparison(
    frame: pd.DataFrame, compiled: CompiledScenario, runs: int, master_seed: int
) -> str:
    """Markdown table: the heuristic tactics against every actor playing the equilibrium strategy."""
    overrides = {f"actors.{a}.strategy.kind": "equilibrium" for a in compiled.actor_ids}
    benchmark = simulate(prepare(compiled.scenario, overrides), runs, master_seed).to_pandas()
    lines = [
        "| table | P(deal): tactics / equilibrium | mean round of deal | opener's mean utility (deals) "
        "| responder's mean utility (deals) |",
        "|---|---|---|---|---|",
    ]
    for table in compiled.table_ids:
        parts = []
        for data in (frame, benchmark):
            rows = data[data["table"] == table]
            deals = rows[rows["deal"]]
            parts.append(
                (
                    rows["deal"].mean(),
                    deals["round"].mean(),
                    deals["utility_0"].mean(),
                    deals["utility_1"].mean(),
                )
            )
        (p1, r1, a1, b1), (p2, r2, a2, b2) = parts
        lines.append(
            f"| {table} | {p1:.1%} / {p2:.1%} | {r1:.1f} / {r2:.1f} "
            f"| {a1:.3f} / {a2:.3f} | {b1:.3f} / {b2:.3f} |"
        )
    return "\n".join(lines)


def write_blocks(blocks: dict[str, str], page: Path = PAGE) -> None:
    """Replace each ``<!-- begin NAME -->`` ... ``<!-- end NAME -->`` block of the page."""
    text = page.read_text(encoding="utf-8")
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- begin {name} -->\n).*?(\n<!-- end {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{page}: no block named {name}")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    page.write_text(text, encoding="utf-8")


def main(runs: int = RUNS, master_seed: int = MASTER_SEED, write: bool = False) -> None:
    """Run the default scenario and print the face-validity tables (and write them into the page)."""
    compiled = prepare(None, {})
    started = time.perf_counter()
    frame = simulate(compiled, runs, master_seed).to_pandas()
    elapsed = time.perf_counter() - started
    issues = dict(zip(compiled.table_ids, compiled.table_issues, strict=True))
    moved = [f"moved_{issue}" for issue in compiled.scenario.issues]
    # a deal is partial when an issue on its table stayed at the status quo (nulls: not on the table)
    frame["partial"] = frame["deal"] & frame[moved].eq(False).any(axis=1)
    order = list(compiled.table_ids)
    patterns, early_walkout = pattern_checks(frame)
    blocks = {
        "outcomes": table_summary(frame, order),
        "patterns": patterns,
        "p4": agreed_values(frame),
        "values": value_summary(frame, order, issues),
        "linkages": linkage_effects(frame, runs, master_seed),
        "theory": theory_checks(compiled, runs, master_seed),
        "random-tables": random_table_checks(),
        "equilibrium": equilibrium_comparison(frame, compiled, runs, master_seed),
    }
    print(f"{runs} runs of the default scenario, master seed {master_seed} ({elapsed:.0f} s)\n")
    for name, body in blocks.items():
        print(f"<!-- {name} -->\n{body}\n")
    print(
        f"US-China walk-outs before round 6 (when the escalation linkage can reach the ASEAN tables): "
        f"{early_walkout:.1%} of runs"
    )
    if write:
        write_blocks(blocks)
        print(f"\nwrote {PAGE}")


if __name__ == "__main__":
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    main(*numbers[:2], write="--write" in sys.argv[1:])
