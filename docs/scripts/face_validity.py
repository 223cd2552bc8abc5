"""Face-validity check of the default scenario: per-table outcomes over many seeded runs.

Runs the shipped Asia-tour scenario ``RUNS`` times (seeds from ``MASTER_SEED`` via SeedSequence) and
prints Markdown tables for docs/face-validity.md: per table the deal probability with its Wilson 95%
interval, the walk-out and deadline shares, the mean round of agreement and the share of partial
deals; then, over deals only, the mean agreed value and the share of deals that moved each issue.

Usage (from the repository root)::

    .venv/bin/python docs/scripts/face_validity.py [RUNS] [MASTER_SEED]
"""

from __future__ import annotations

import sys
import time

import pandas as pd
from scipy.stats import binomtest

from negotiation.model import prepare
from negotiation.results import simulate

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


def main(runs: int = RUNS, master_seed: int = MASTER_SEED) -> None:
    """Run the default scenario and print the face-validity tables."""
    compiled = prepare(None, {})
    started = time.perf_counter()
    frame = simulate(compiled, runs, master_seed).to_pandas()
    elapsed = time.perf_counter() - started
    issues = dict(zip(compiled.table_ids, compiled.table_issues, strict=True))
    moved = [f"moved_{issue}" for issue in compiled.scenario.issues]
    # a deal is partial when an issue on its table stayed at the status quo (nulls: not on the table)
    frame["partial"] = frame["deal"] & frame[moved].eq(False).any(axis=1)
    order = list(compiled.table_ids)
    print(f"{runs} runs of the default scenario, master seed {master_seed} ({elapsed:.0f} s)\n")
    print(table_summary(frame, order))
    print()
    print(value_summary(frame, order, issues))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
