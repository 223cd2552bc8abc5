"""A tournament of negotiators across the scenario's tables, in both roles, reported as ANAC reports do.

Every ordered pair of distinct entrants ``(X, Y)`` plays ``runs`` seeded runs of the scenario with X
in the opener's seat and Y in the responder's at each of the chosen tables (every table by default;
seats elsewhere keep their scenario strategy), so each pair meets in both roles. Every match uses the
same run seeds (common random numbers: the same draws, events and walk-out numbers), so entrants are
compared on the same worlds.

Each entrant's standing: its mean utility, its agreement rate, and the mean distance of its
agreements to the Pareto frontier and to the Nash point (in utility space, at the table's
preferences when the deal was made). The 95% intervals are t-intervals over runs: per match and run
the entrant's mean over its table seats is one observation (its seats in one run share draws, so
they are not counted as independent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.bargaining.compiled import compile_scenario
from negotiation.bargaining.protocol import STATUS_NAMES
from negotiation.batch.seeding import run_seeds
from negotiation.errors import ExperimentError
from negotiation.model import run_once
from negotiation.negotiators.registry import Factory, load_kind
from negotiation.scenario.schema import Scenario

STANDING_COLUMNS = (
    "negotiator",
    "seats",
    "mean_utility",
    "utility_low",
    "utility_high",
    "agreement_rate",
    "agreement_low",
    "agreement_high",
    "pareto_distance",
    "pareto_low",
    "pareto_high",
    "nash_distance",
    "nash_low",
    "nash_high",
)
"""Columns of the standings table."""


@dataclass(frozen=True)
class Entrant:
    """A negotiator in the tournament: its label and how to make one."""

    label: str
    factory: Factory


def entrant(text: str, source: str = "--negotiators") -> Entrant:
    """An entrant from its name: a registered kind, or ``negmas:<Class>`` for a NegMAS negotiator.

    Raises:
        InputError: The kind is not registered (the registered kinds are listed).
    """
    kind, _, detail = text.partition(":")
    if kind == "negmas" and detail:
        factory = load_kind("negmas", source, "")

        def make() -> Any:
            return factory(negotiator=detail)

        return Entrant(text, make)
    if detail:
        raise ExperimentError(source, "", text, "a registered kind, or negmas:<NegMAS class name>")
    return Entrant(text, load_kind(kind, source, ""))


def play_tournament(
    scenario: Scenario,
    entrants: Sequence[Entrant],
    runs: int,
    master_seed: int,
    tables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Play every ordered pair of distinct entrants for ``runs`` seeded runs.

    Args:
        scenario: The scenario.
        entrants: At least two entrants with distinct labels.
        runs: Runs per ordered pair.
        master_seed: The master seed (run ``r`` of every match uses the same seed).
        tables: The tables where the entrants sit (default: every table).

    Returns:
        One row per match, run and chosen table: ``negotiator_0`` (opener), ``negotiator_1``,
        ``replication``, ``seed``, ``table``, ``status``, ``deal``, ``round``, ``utility_0``,
        ``utility_1``, ``reservation_0``, ``reservation_1``, ``pareto_distance``, ``nash_distance``.
    """
    labels = [e.label for e in entrants]
    if len(set(labels)) < 2 or len(set(labels)) != len(labels):
        raise ExperimentError("--negotiators", "", ",".join(labels), "at least two different negotiators")
    chosen = list(tables) if tables else list(scenario.tables)
    unknown = [t for t in chosen if t not in scenario.tables]
    if unknown:
        raise ExperimentError(
            "--tables", "", unknown[0], f"a table of the scenario: {', '.join(scenario.tables)}"
        )
    compiled = compile_scenario(scenario)
    seeds = run_seeds(master_seed, np.arange(runs))
    index = [compiled.table_ids.index(t) for t in chosen]
    frames = []
    for first in entrants:
        for second in entrants:
            if first is second:
                continue
            seats = {}
            for table_id in chosen:
                opener, responder = scenario.tables[table_id].parties
                seats[opener, table_id], seats[responder, table_id] = first.factory, second.factory
            for replication, seed in enumerate(seeds.tolist()):
                arrays = run_once(compiled, int(seed), negotiators=seats)
                frames.append(
                    pd.DataFrame(
                        {
                            "negotiator_0": first.label,
                            "negotiator_1": second.label,
                            "replication": replication,
                            "seed": seed,
                            "table": chosen,
                            "status": [STATUS_NAMES[int(s)] for s in arrays.status[index]],
                            "round": arrays.end_round[index],
                            "utility_0": arrays.utilities[index, 0],
                            "utility_1": arrays.utilities[index, 1],
                            "reservation_0": arrays.reservation[index, 0],
                            "reservation_1": arrays.reservation[index, 1],
                            "pareto_distance": arrays.pareto_distance[index],
                            "nash_distance": arrays.nash_distance[index],
                        }
                    )
                )
    rows = pd.concat(frames, ignore_index=True)
    rows.insert(rows.columns.get_loc("round"), "deal", rows["status"] == "deal")
    return rows


def standings(rows: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Each entrant's mean utility, agreement rate and distances, with t-intervals over runs.

    Args:
        rows: Output of :func:`play_tournament`.
        confidence: Two-sided confidence level.

    Returns:
        One row per entrant (:data:`STANDING_COLUMNS`), best mean utility first.
    """
    keep = ["negotiator", "negotiator_0", "negotiator_1", "replication", "utility", "deal"]
    keep += ["pareto_distance", "nash_distance"]
    seats = pd.concat(
        [
            rows.assign(negotiator=rows[f"negotiator_{side}"], utility=rows[f"utility_{side}"])[keep]
            for side in (0, 1)
        ],
        ignore_index=True,
    )
    out = []
    for name, group in seats.groupby("negotiator", sort=False):
        per_run = group.groupby(["negotiator_0", "negotiator_1", "replication"])
        utility = _mean_interval(per_run["utility"].mean(), confidence)
        agreement = _mean_interval(per_run["deal"].mean(), confidence)
        pareto = _mean_interval(per_run["pareto_distance"].mean().dropna(), confidence)
        nash = _mean_interval(per_run["nash_distance"].mean().dropna(), confidence)
        out.append((name, len(group), *utility, *agreement, *pareto, *nash))
    frame = pd.DataFrame(out, columns=list(STANDING_COLUMNS))
    return frame.sort_values("mean_utility", ascending=False, ignore_index=True)


def _mean_interval(values: pd.Series, confidence: float) -> tuple[float, float, float]:
    """Mean and t-interval (NaN without values; the mean itself for one value)."""
    from scipy.stats import t

    data = np.asarray(values, float)
    if data.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(data.mean())
    if data.size == 1:
        return (mean, mean, mean)
    half = float(t.ppf(0.5 + confidence / 2, data.size - 1) * data.std(ddof=1) / np.sqrt(data.size))
    return (mean, mean - half, mean + half)


def format_standings(frame: pd.DataFrame) -> str:
    """The standings as a plain-text table."""
    lines = [
        f"{'negotiator':<28} {'seats':>6}  {'utility (95% CI)':<22} {'agreement (95% CI)':<22} "
        f"{'to Pareto':>9} {'to Nash':>8}"
    ]
    for row in frame.itertuples(index=False):
        lines.append(
            f"{row.negotiator:<28} {row.seats:>6}  "
            f"{row.mean_utility:.3f} [{row.utility_low:.3f}, {row.utility_high:.3f}]   "
            f"{row.agreement_rate:.3f} [{row.agreement_low:.3f}, {row.agreement_high:.3f}]   "
            f"{row.pareto_distance:>9.3f} {row.nash_distance:>8.3f}"
        )
    return "\n".join(lines)


def plot_standings(frame: pd.DataFrame) -> tuple[Any, Any]:
    """Bars with 95% intervals: mean utility, agreement rate, distances to Pareto frontier and Nash point."""
    import matplotlib.pyplot as plt

    panels = [
        ("mean_utility", "utility", "mean utility"),
        ("agreement_rate", "agreement", "agreement rate"),
        ("pareto_distance", "pareto", "distance to Pareto frontier"),
        ("nash_distance", "nash", "distance to Nash point"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 0.5 * len(frame) + 1.6), sharey=True)
    positions = np.arange(len(frame))[::-1]
    for ax, (column, stem, title) in zip(axes, panels, strict=True):
        value = frame[column].to_numpy(float)
        error = np.vstack([value - frame[f"{stem}_low"], frame[f"{stem}_high"] - value])
        ax.barh(positions, value, xerr=np.nan_to_num(error), color="#4c72b0", capsize=3)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(positions, frame["negotiator"])
    fig.suptitle("Tournament: every pair in both roles (95% intervals over runs)", fontsize=11)
    fig.tight_layout()
    return fig, axes


def write_tournament(rows: pd.DataFrame, frame: pd.DataFrame, outdir: str | Path) -> list[Path]:
    """Write ``tournament.csv`` (every match, run and table), ``standings.csv``/``.md`` and the chart."""
    from negotiation.atomic import write_text_atomic
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    written = [
        write_text_atomic(folder / "tournament.csv", rows.to_csv(index=False)),
        write_text_atomic(folder / "standings.csv", frame.to_csv(index=False)),
        write_text_atomic(folder / "standings.md", "```\n" + format_standings(frame) + "\n```\n"),
    ]
    fig, _ = plot_standings(frame)
    return written + save_figure(fig, folder, "tournament")
