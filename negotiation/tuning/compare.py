"""Counterfactuals: run two scenarios on common random numbers and estimate the change per table.

Both sides use the same run seeds (``negotiation.batch.seeding.run_seed(master_seed, r)``), so run ``r``
of the base and run ``r`` of the variant see the same random numbers wherever the two scenarios
consume them alike (uncertain-parameter draws, event draws, breakdown hazards). The per-run deal
indicators are therefore paired, and the change in deal probability is estimated from the paired
2x2 table of each table's outcomes: ``both`` (a deal on both sides), ``base_only``,
``variant_only`` and ``neither``.

The change is ``(variant_only - base_only) / n``. Its 95% interval is Newcombe's hybrid score
interval for paired proportions (Newcombe 1998, Statistics in Medicine 17:2635, method 10): it
combines the Wilson intervals of both margins with their (continuity-corrected) correlation. Unlike
the Wald interval ``mean +/- 1.96 sd / sqrt(n)`` of the paired differences, which collapses to a
single point when no run changes outcome and undercovers when changes are rare, it keeps sensible
coverage near 0 and 1. The Wald interval is reported alongside for reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from negotiation.errors import ExperimentError
from negotiation.intervals import wilson_interval
from negotiation.scenario.loading import load_scenario, read_toml
from negotiation.scenario.schema import Scenario

DEFAULT_KEYWORD = "default"
"""Command-line word for the shipped default scenario (when no file of that name exists)."""

COMPARISON_COLUMNS = (
    "table",
    "runs",
    "base_p",
    "variant_p",
    "change",
    "low",
    "high",
    "wald_low",
    "wald_high",
    "both",
    "base_only",
    "variant_only",
    "neither",
)
"""Columns of the comparison table (one row per table)."""


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a label and its validated scenario."""

    label: str
    """What to call it in tables and charts (the file name, or 'default')."""
    scenario: Scenario
    """The scenario to run."""


def load_side(path: str | Path) -> Side:
    """Load a scenario file, an overlay file (applied to the default scenario) or ``default``.

    A TOML file with a top-level ``[set]`` table is an overlay (see :mod:`negotiation.scenario.overlay`);
    anything else is read as a whole scenario.

    Args:
        path: The file, or the word ``default``.

    Returns:
        The side's label and scenario.

    Raises:
        ScenarioError, OverrideError: The file is missing, not TOML, or does not validate.
    """
    path = Path(path)
    if str(path) == DEFAULT_KEYWORD and not path.exists():
        return Side(DEFAULT_KEYWORD, load_scenario(None))
    data = read_toml(path)
    if "set" in data:  # an overlay (read_overlay names any other top-level key as the problem)
        from negotiation.scenario.overlay import read_overlay

        return Side(path.stem, load_scenario(None, read_overlay(path)))
    return Side(path.stem, load_scenario(path))


def paired_difference_interval(
    both: np.ndarray | int,
    first_only: np.ndarray | int,
    second_only: np.ndarray | int,
    neither: np.ndarray | int,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for the difference of two paired proportions.

    The difference is ``p_second - p_first`` with ``p_first = (both + first_only) / n`` and
    ``p_second = (both + second_only) / n``. Vectorised over arrays of counts.

    Args:
        both: Pairs where both outcomes are successes.
        first_only: Pairs where only the first is a success.
        second_only: Pairs where only the second is a success.
        neither: Pairs where neither is.
        confidence: Two-sided confidence level.

    Returns:
        ``(low, high)`` arrays; where there are no pairs, the whole of [-1, 1].

    >>> low, high = paired_difference_interval(59, 16, 6, 80)
    >>> round(float(low), 4), round(float(high), 4)
    (-0.1186, -0.0046)
    """
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = (a + b) / n, (a + c) / n
        l1, u1 = (np.asarray(v) for v in wilson_interval(a + b, n, confidence))
        l2, u2 = (np.asarray(v) for v in wilson_interval(a + c, n, confidence))
        margins = (a + b) * (c + d) * (a + c) * (b + d)
        cross = a * d - b * c
        corrected = np.where(cross > n / 2, cross - n / 2, np.where(cross < 0, cross, 0.0))
        phi = np.where(margins > 0, corrected / np.sqrt(np.where(margins > 0, margins, 1.0)), 0.0)
        change = p2 - p1
        down = np.sqrt(np.maximum((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2, 0))
        up = np.sqrt(np.maximum((u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2, 0))
        low = np.where(n > 0, np.clip(change - down, -1.0, 1.0), -1.0)
        high = np.where(n > 0, np.clip(change + up, -1.0, 1.0), 1.0)
    return low, high


def paired_deal_changes(base: pd.DataFrame, variant: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per table, the change in deal probability from base to variant, from paired runs.

    Runs are paired by ``replication``; only tables and replications present on both sides count.

    Args:
        base: Results rows of the base (columns ``replication``, ``table``, ``deal``).
        variant: Results rows of the variant, same columns.
        confidence: Two-sided confidence level of the intervals.

    Returns:
        One row per table (in the base's order) with the columns of ``COMPARISON_COLUMNS``.

    Raises:
        ExperimentError: The two sides share no table.
    """
    return paired_changes(base, variant, "deal", confidence)


def paired_issue_changes(base: pd.DataFrame, variant: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per table and issue, the change in the probability that the issue moves off its status quo.

    Args:
        base: Results rows of the base (``replication``, ``table`` and ``moved_<issue>`` columns).
        variant: Results rows of the variant, same columns.
        confidence: Two-sided confidence level of the intervals.

    Returns:
        The columns of ``COMPARISON_COLUMNS`` with ``issue`` after ``table``; one row per issue on a
        table, tables in the base's order, issues in column order.
    """
    frames = []
    for column in [c for c in base.columns if c.startswith("moved_") and c in variant.columns]:
        sides = [side.loc[side[column].notna(), ["replication", "table", column]] for side in (base, variant)]
        if sides[0].empty or sides[1].empty:
            continue
        frame = paired_changes(*sides, column, confidence)
        frame.insert(1, "issue", column.removeprefix("moved_"))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["table", "issue", *COMPARISON_COLUMNS[1:]])
    rank = {t: i for i, t in enumerate(pd.unique(base["table"]))}
    both = pd.concat(frames, ignore_index=True)
    return both.sort_values("table", key=lambda t: t.map(rank), kind="stable", ignore_index=True)


def paired_changes(
    base: pd.DataFrame, variant: pd.DataFrame, column: str = "deal", confidence: float = 0.95
) -> pd.DataFrame:
    """Per table, the change in the frequency of a 0/1 outcome column, from runs paired by replication.

    Args:
        base: Results rows of the base (``replication``, ``table`` and ``column``).
        variant: Results rows of the variant, same columns.
        column: The outcome: ``deal`` or ``moved_<issue>`` (no missing values).
        confidence: Two-sided confidence level of the intervals.

    Returns:
        One row per table (in the base's order) with the columns of ``COMPARISON_COLUMNS``.

    Raises:
        ExperimentError: The two sides share no table.
    """
    keys = ["replication", "table"]
    pairs = base[[*keys, column]].merge(variant[[*keys, column]], on=keys, suffixes=("_base", "_variant"))
    if pairs.empty:
        raise ExperimentError(
            "compare",
            "tables",
            sorted(map(str, set(variant["table"]))),
            f"a table of the base: {sorted(map(str, set(base['table'])))}",
        )
    first, second = pairs[f"{column}_base"].astype(bool), pairs[f"{column}_variant"].astype(bool)
    pairs = pairs.assign(
        table=pairs["table"].astype(str),
        both=first & second,
        base_only=first & ~second,
        variant_only=~first & second,
        neither=~first & ~second,
        diff=second.astype(float) - first.astype(float),
    )
    paired_tables = set(pairs["table"].unique())
    order = [str(t) for t in pd.unique(base["table"]) if str(t) in paired_tables]
    grouped = pairs.groupby("table", sort=False)
    counts = grouped[["both", "base_only", "variant_only", "neither"]].sum().loc[order].astype(int)
    runs = counts.sum(axis=1)
    frame = pd.DataFrame({"table": order, "runs": runs.to_numpy()})
    frame["base_p"] = ((counts["both"] + counts["base_only"]) / runs).to_numpy()
    frame["variant_p"] = ((counts["both"] + counts["variant_only"]) / runs).to_numpy()
    frame["change"] = frame["variant_p"] - frame["base_p"]
    low, high = paired_difference_interval(
        counts["both"], counts["base_only"], counts["variant_only"], counts["neither"], confidence
    )
    frame["low"], frame["high"] = low, high
    sd = grouped["diff"].std(ddof=1).loc[order].fillna(0.0).to_numpy()
    z = _z(confidence)
    half = z * sd / np.sqrt(runs.to_numpy())
    frame["wald_low"] = np.clip(frame["change"] - half, -1.0, 1.0)
    frame["wald_high"] = np.clip(frame["change"] + half, -1.0, 1.0)
    for name in ("both", "base_only", "variant_only", "neither"):
        frame[name] = counts[name].to_numpy()
    return frame[list(COMPARISON_COLUMNS)]


def simulate_pair(
    base: Scenario, variant: Scenario, runs: int, master_seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run both scenarios on the same run seeds and return their results rows.

    Args:
        base: The reference scenario.
        variant: The counterfactual scenario (e.g. with an event made certain).
        runs: Replications per side.
        master_seed: Master seed; run ``r`` of both sides uses ``run_seed(master_seed, r)``.

    Returns:
        The base's and the variant's results (schema of ``negotiation.batch.rows``).
    """
    from negotiation.bargaining.compiled import compile_scenario
    from negotiation.batch.rows import simulate

    first, second = (simulate(compile_scenario(s), runs, master_seed).to_pandas() for s in (base, variant))
    return first, second


def compare_scenarios(base: Scenario, variant: Scenario, runs: int, master_seed: int) -> pd.DataFrame:
    """Run both scenarios on the same run seeds and return the per-table changes in deal probability.

    Args:
        base: The reference scenario.
        variant: The counterfactual scenario.
        runs: Replications per side.
        master_seed: Master seed.

    Returns:
        See :func:`paired_deal_changes`, with :func:`mark_reach`'s ``reachable`` column.
    """
    return mark_reach(paired_deal_changes(*simulate_pair(base, variant, runs, master_seed)), base, variant)


def mark_reach(frame: pd.DataFrame, base: Scenario, variant: Scenario) -> pd.DataFrame:
    """Add a ``reachable`` column: whether the differences between the scenarios can reach each table.

    Run ``r`` of both sides draws every random number from the same keyed streams, so a table that no
    difference can reach (see :mod:`negotiation.bargaining.reach`) plays identically in every pair:
    its change is exactly zero by construction, not an estimate.
    """
    from negotiation.bargaining.reach import tables_reached_by_change

    reached = set(tables_reached_by_change(base, variant))
    out = frame.copy()
    out["reachable"] = out["table"].isin(reached)
    return out


def format_comparison(frame: pd.DataFrame, base_label: str, variant_label: str) -> str:
    """A readable text table of a comparison (deals, or issue moves if ``frame`` has ``issue``).

    Tables that ``frame["reachable"]`` (see :func:`mark_reach`) marks False are said to be out of
    the change's reach.
    """
    issues = "issue" in frame.columns
    what = "probability that each issue moves" if issues else "deal probability"
    names = [f"{t}/{i}" for t, i in zip(frame["table"], frame["issue"], strict=True)] if issues else []
    width = max([20, *(len(n) + 1 for n in names)])
    lines = [
        f"change in {what}: {variant_label} vs {base_label} "
        f"({int(frame['runs'].max()) if len(frame) else 0} paired runs, 95% Newcombe interval)",
        "",
        f"{'table/issue' if issues else 'table':<{width}} {'base':>7} {'variant':>8} {'change':>8}   "
        f"{'95% interval':<18} {'runs changed':>12}",
    ]
    for row in frame.itertuples(index=False):
        name = f"{row.table}/{row.issue}" if issues else row.table
        interval = f"[{100 * row.low:+.1f}, {100 * row.high:+.1f}]"
        changed = f"+{row.variant_only} / -{row.base_only}"
        reach = "   (out of reach: unchanged by construction)" if not getattr(row, "reachable", True) else ""
        lines.append(
            f"{name:<{width}} {100 * row.base_p:>6.1f}% {100 * row.variant_p:>7.1f}% "
            f"{100 * row.change:>+7.1f}pp  {interval:<18} {changed:>12}{reach}"
        )
    if "reachable" in frame.columns and not frame["reachable"].all():
        lines += [
            "",
            "out of reach: no parameter that differs between the two sides is read at that table or at a "
            "table linked to it, so every paired run plays exactly as before there",
        ]
    return "\n".join(lines)


def plot_comparison(frame: pd.DataFrame, base_label: str, variant_label: str):
    """Forest plot: per table, the change in deal probability with its interval.

    Args:
        frame: Output of :func:`paired_deal_changes`.
        base_label: Name of the base, for the title.
        variant_label: Name of the variant, for the title.

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = np.arange(len(frame))[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(frame) + 1.6))
    change = 100 * frame["change"].to_numpy()
    errors = np.vstack([change - 100 * frame["low"].to_numpy(), 100 * frame["high"].to_numpy() - change])
    significant = (frame["low"].to_numpy() > 0) | (frame["high"].to_numpy() < 0)
    colours = np.where(significant, "tab:red", "tab:gray")
    ax.axvline(0.0, color="black", linewidth=0.8)
    reachable = frame["reachable"].to_numpy() if "reachable" in frame.columns else np.ones(len(frame), bool)
    for i in range(len(frame)):
        if not reachable[i]:  # no effect is possible there: say so instead of drawing a zero
            ax.annotate(
                "out of reach",
                (0.0, y[i]),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
                color="0.45",
            )
            continue
        ax.errorbar(change[i], y[i], xerr=errors[:, i : i + 1], fmt="o", color=colours[i], capsize=3)
    ax.set_yticks(y, frame["table"].tolist())
    ax.set_xlabel("change in deal probability (percentage points), 95% paired interval")
    ax.set_title(f"{variant_label} vs {base_label}\n(red: interval excludes zero)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig, ax


def write_comparison(
    frame: pd.DataFrame,
    outdir: str | Path,
    base_label: str,
    variant_label: str,
    issues: pd.DataFrame | None = None,
    members: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``compare.csv``, ``compare.md`` and the chart (``compare.png``, ``compare.svg``).

    Args:
        frame: Output of :func:`paired_deal_changes`.
        outdir: Folder to write into (created if missing).
        base_label: Name of the base.
        variant_label: Name of the variant.
        issues: Output of :func:`paired_issue_changes`, written as ``compare-issues.csv`` if given.
        members: Output of :func:`paired_member_utilities`, written as ``compare-members.csv`` if it
            has rows.

    Returns:
        The files written.

    Raises:
        ExperimentError: ``outdir`` exists and is not a folder, or cannot be created.
    """
    from negotiation.atomic import write_text_atomic
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    written = [
        write_text_atomic(folder / "compare.csv", frame.to_csv(index=False)),
        write_text_atomic(
            folder / "compare.md", "```\n" + format_comparison(frame, base_label, variant_label) + "\n```\n"
        ),
    ]
    if issues is not None:
        written.append(write_text_atomic(folder / "compare-issues.csv", issues.to_csv(index=False)))
    if members is not None and len(members):
        written.append(write_text_atomic(folder / "compare-members.csv", members.to_csv(index=False)))
    fig, _ = plot_comparison(frame, base_label, variant_label)
    return written + save_figure(fig, folder, "compare")


MEMBER_COLUMNS = (
    "bloc",
    "member",
    "table",
    "runs",
    "base_utility",
    "variant_utility",
    "change",
    "low",
    "high",
)
"""Columns of :func:`paired_member_utilities` (one row per bloc member and table with a non-member)."""


def paired_member_utilities(
    base: pd.DataFrame, variant: pd.DataFrame, scenarios: Sequence[Scenario], confidence: float = 0.95
) -> pd.DataFrame:
    """What a bloc is worth to each member: the paired change in its utility at its tables with outsiders.

    For every member of a bloc declared on either side and every table where it faces a non-member,
    the mean utility of the table's outcome (the agreed terms, or the no-deal outcome without a
    deal) to the member *by its own preferences as declared at the table*, before any pull of the
    bloc (which moves the ideal the member bargains with, not what the outcome is worth to it), on
    each side; and the mean paired difference (variant minus base) with a normal interval
    ``z * sd / sqrt(n)`` of the per-run differences.

    Args:
        base: Results rows of the base (``replication``, ``table`` and the issue columns).
        variant: Results rows of the variant, same columns.
        scenarios: The base's and the variant's scenarios: the first says the tables' ranges and
            the members' preferences; either's blocs say who the members are.
        confidence: Two-sided confidence level of the intervals.

    Returns:
        The columns of ``MEMBER_COLUMNS``; empty when neither side has a bloc.
    """
    from negotiation.bargaining.compiled import compile_scenario
    from negotiation.bargaining.preferences import utility

    reference = scenarios[0]
    compiled = compile_scenario(reference)
    rows = []
    z = _z(confidence)
    members = {m: b for scenario in scenarios for b, bloc in scenario.blocs.items() for m in bloc.members}
    for member, bloc_id in members.items():
        bloc = next(s.blocs[bloc_id] for s in scenarios if bloc_id in s.blocs)
        for t, table_id in enumerate(compiled.table_ids):
            table = reference.tables[table_id]
            if member not in table.parties or all(p in bloc.members for p in table.parties):
                continue
            side = table.parties.index(member)
            issues = list(table.issues)
            sides = [
                frame.loc[frame["table"] == table_id, ["replication", *issues]] for frame in (base, variant)
            ]
            pairs = sides[0].merge(sides[1], on="replication", suffixes=("_base", "_variant"))
            if pairs.empty:
                continue
            k = len(issues)
            low, high = compiled.low[t, :k], compiled.high[t, :k]
            weights = compiled.base["weights"][t, side, :k] / compiled.base["weights"][t, side, :k].sum()
            ideal, curvature = compiled.base["ideal"][t, side, :k], compiled.base["curvature"][t, side]

            first, second = (
                utility(
                    (pairs[[f"{i}_{suffix}" for i in issues]].to_numpy(float) - low) / (high - low),
                    weights,
                    ideal,
                    curvature,
                )
                for suffix in ("base", "variant")
            )
            diff = second - first
            half = z * (diff.std(ddof=1) if diff.size > 1 else 0.0) / np.sqrt(diff.size)
            rows.append(
                (
                    bloc_id,
                    member,
                    table_id,
                    diff.size,
                    first.mean(),
                    second.mean(),
                    diff.mean(),
                    diff.mean() - half,
                    diff.mean() + half,
                )
            )
    return pd.DataFrame(rows, columns=list(MEMBER_COLUMNS))


def format_member_utilities(frame: pd.DataFrame, base_label: str, variant_label: str) -> str:
    """A readable text table of :func:`paired_member_utilities`."""
    lines = [
        f"change in what the outcome at each bloc member's tables with non-members is worth to it (its own "
        f"declared preferences): {variant_label} vs {base_label} "
        f"({int(frame['runs'].max()) if len(frame) else 0} paired runs, 95% interval)",
        "",
        f"{'member':<14} {'table':<18} {'base':>7} {'variant':>8} {'change':>8}   95% interval",
    ]
    for row in frame.itertuples(index=False):
        lines.append(
            f"{row.member:<14} {row.table:<18} {row.base_utility:>7.3f} {row.variant_utility:>8.3f} "
            f"{row.change:>+8.3f}   [{row.low:+.3f}, {row.high:+.3f}]"
        )
    return "\n".join(lines)


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


__all__ = [
    "COMPARISON_COLUMNS",
    "Side",
    "compare_scenarios",
    "format_comparison",
    "load_side",
    "mark_reach",
    "paired_changes",
    "paired_deal_changes",
    "paired_difference_interval",
    "paired_issue_changes",
    "plot_comparison",
    "simulate_pair",
    "write_comparison",
]
