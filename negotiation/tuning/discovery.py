"""Scenario discovery with PRIM: the box of parameter space where a table's deal (or no deal) concentrates.

Input is a batch output folder whose design varied some parameters (a sweep or, best, a Latin
hypercube). The results are streamed once and aggregated per design point (every run of a point has
the point's parameters), so memory grows with the design, never with the runs.

**PRIM** (the Patient Rule Induction Method, Friedman and Fisher 1999, as in the EMA Workbench):
starting from the box that holds every design point, *peel* repeatedly: of the 2 x P candidate
peels that remove the ``alpha`` share (by runs) of the box at the low or the high end of one
parameter, take the one that leaves the highest density of the outcome; stop when the box holds
less than ``min_mass`` of the runs. Each step is one box of the *peeling trajectory*, described by

- coverage: the share of all runs with the outcome that fall in the box;
- density: the share of the runs in the box that have the outcome (the base rate is the density of
  the whole space);
- mass: the share of all runs in the box.

The box **chosen** from the trajectory maximises ``mass x (density - base rate)`` (the weighted
relative accuracy of subgroup discovery: the runs with the outcome in the box beyond what the base
rate would put there), a balance of coverage and density. For each restricted end of the chosen box,
the **quasi-p-value** of EMA Workbench: the one-sided binomial probability of at least the box's
hits among its runs if they had the density of the box with that restriction dropped; a large one
says the restriction adds little.

**Beyond noise?** Peeling chases noise as eagerly as signal, so the chosen box's advantage is judged
against the same search on the design with the outcomes shuffled between design points (a
permutation test, 199 shuffles seeded from the master seed): the p-value is the share of shuffles
whose chosen box has at least the real one's ``mass x (density - base rate)``. Above 0.05 the
report says plainly that no box beats the base rate beyond noise.

Both directions are searched: a *high-density* box where the outcome is likelier than the base
rate, and a *low-density* box where it is rarer (PRIM on the opposite outcome), each labelled so.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from negotiation.errors import MISSING, ExperimentError, reason

OUTCOMES = ("deal", "no-deal")
DISCOVERY_STREAM = 0xD15C
PERMUTATIONS = 199
"""Shuffles of the permutation test of the chosen box."""
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Box:
    """A box of parameter space with its statistics."""

    limits: dict[str, tuple[float, float]]
    """Parameter path to (lowest, highest) value inside; only the restricted parameters."""
    runs: int
    hits: int
    """Runs in the box with the outcome searched for."""
    coverage: float
    density: float
    mass: float
    quasi_p: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per restricted parameter, the quasi-p-value of its lower and upper limit (NaN: not restricted)."""

    def describe(self) -> str:
        """The box as conditions, e.g. ``0.5 <= actors.china.resolve <= 0.8`` ('anywhere' if none)."""
        parts = [f"{_fmt(low)} <= {path} <= {_fmt(high)}" for path, (low, high) in self.limits.items()]
        return " and ".join(parts) if parts else "anywhere"


@dataclass(frozen=True)
class Search:
    """One PRIM search: its trajectory, the chosen box and the permutation test."""

    direction: str
    """'high-density' (the outcome likelier inside) or 'low-density' (rarer inside)."""
    trajectory: pd.DataFrame
    """One row per peel: step, coverage, density, mass, restricted (number of restricted parameters)."""
    chosen: int
    """Row of the trajectory chosen (largest mass x (density - base rate))."""
    box: Box
    """The chosen box, with coverage and density of the outcome asked for (not of its opposite)."""
    p_value: float
    """Permutation p-value of the chosen box's advantage."""

    @property
    def beats_noise(self) -> bool:
        """Whether the chosen box stands out from the base rate beyond what shuffled outcomes give."""
        return self.p_value <= SIGNIFICANCE


@dataclass(frozen=True)
class Discovery:
    """The result of scenario discovery for one table and outcome."""

    table: str
    outcome: str
    parameters: list[str]
    """Varied parameters used as inputs."""
    base_rate: float
    """Share of all runs with the outcome."""
    runs: int
    total_hits: int
    points: int
    searches: list[Search]
    """The high-density search, then the low-density one."""

    def table_frame(self) -> pd.DataFrame:
        """The chosen boxes as rows: direction, conditions, statistics, p-values, limits."""
        rows = []
        for search in self.searches:
            box = search.box
            row: dict[str, Any] = {
                "direction": search.direction,
                "beats_noise": search.beats_noise,
                "permutation_p": search.p_value,
                "box": box.describe(),
                "runs": box.runs,
                "hits": box.hits,
                "coverage": box.coverage,
                "density": box.density,
                "mass": box.mass,
                "base_rate": self.base_rate,
            }
            for path in self.parameters:
                low, high = box.limits.get(path, (math.nan, math.nan))
                q_low, q_high = box.quasi_p.get(path, (math.nan, math.nan))
                row |= {
                    f"{path} >=": low,
                    f"{path} <=": high,
                    f"{path} qp low": q_low,
                    f"{path} qp high": q_high,
                }
            rows.append(row)
        return pd.DataFrame(rows)


def prim(
    x: np.ndarray, hits: np.ndarray, runs: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05
) -> list[np.ndarray]:
    """The peeling trajectory: the design points inside each successive box.

    Args:
        x: (G, P) design points.
        hits: (G,) runs with the outcome at each point.
        runs: (G,) runs at each point.
        alpha: Share of the box's runs each peel removes (at least one point).
        min_mass: Stop before the box holds less than this share of all runs.

    Returns:
        Boolean masks over the points, from the whole space to the last box.
    """
    total = runs.sum()
    inside = np.ones(len(x), bool)
    steps = [inside.copy()]
    while True:
        best, best_density = None, -1.0
        box_runs = runs[inside].sum()
        for j in range(x.shape[1]):
            values = x[inside, j]
            if np.unique(values).size < 2:
                continue
            order = np.argsort(values, kind="stable")
            weights = runs[inside][order]
            for side in ("low", "high"):
                cut = _peel_cut(
                    values[order] if side == "low" else values[order][::-1],
                    weights if side == "low" else weights[::-1],
                    alpha * box_runs,
                )
                keep = inside & ((x[:, j] > cut) if side == "low" else (x[:, j] < cut))
                kept = runs[keep].sum()
                if kept == 0 or kept < min_mass * total:
                    continue
                density = hits[keep].sum() / kept
                if density > best_density + 1e-12:
                    best, best_density = keep, density
        if best is None:
            return steps
        inside = best
        steps.append(inside.copy())


def _peel_cut(values: np.ndarray, weights: np.ndarray, amount: float) -> float:
    """The value up to which (inclusive) points are peeled from this end: ``amount`` runs, whole ties."""
    reached = np.searchsorted(np.cumsum(weights), amount, side="left")
    return float(values[min(reached, len(values) - 1)])


def _box_stats(mask: np.ndarray, x: np.ndarray, hits: np.ndarray, runs: np.ndarray) -> tuple[int, int]:
    return int(runs[mask].sum()), int(hits[mask].sum())


def _limits(mask: np.ndarray, x: np.ndarray, names: list[str]) -> dict[str, tuple[float, float]]:
    """The restricted parameters of the box holding ``mask``'s points, as (lowest, highest) inside."""
    limits = {}
    for j, name in enumerate(names):
        low, high = float(x[mask, j].min()), float(x[mask, j].max())
        if low > x[:, j].min() or high < x[:, j].max():
            limits[name] = (low, high)
    return limits


def _in_box(x: np.ndarray, limits: dict[str, tuple[float, float]], names: list[str]) -> np.ndarray:
    inside = np.ones(len(x), bool)
    for name, (low, high) in limits.items():
        j = names.index(name)
        inside &= (x[:, j] >= low) & (x[:, j] <= high)
    return inside


def _quasi_p(
    x: np.ndarray,
    hits: np.ndarray,
    runs: np.ndarray,
    limits: dict[str, tuple[float, float]],
    names: list[str],
) -> dict[str, tuple[float, float]]:
    """EMA Workbench's quasi-p-value of each restricted end: the box's hits against the density without it."""
    box_runs, box_hits = _box_stats(_in_box(x, limits, names), x, hits, runs)
    out = {}
    for name, (low, high) in limits.items():
        j = names.index(name)
        values = []
        for end, unlimited in ((low, x[:, j].min()), (high, x[:, j].max())):
            if end == unlimited:
                values.append(math.nan)
                continue
            wider = dict(limits)
            wider[name] = (unlimited, high) if end == low else (low, unlimited)
            n, k = _box_stats(_in_box(x, wider, names), x, hits, runs)
            p = k / n if n else 0.0
            values.append(
                float(scipy_stats.binomtest(box_hits, box_runs, min(max(p, 0.0), 1.0), "greater").pvalue)
            )
        out[name] = (values[0], values[1])
    return out


def _pruned(
    x: np.ndarray,
    hits: np.ndarray,
    runs: np.ndarray,
    limits: dict[str, tuple[float, float]],
    names: list[str],
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Drop, one at a time, the restricted end with the largest quasi-p-value above 0.05.

    Peeling trims a parameter that does not matter whenever that happens to raise the density a
    little; a restriction whose quasi-p-value says it adds nothing beyond chance is dropped, so the box
    names only the limits the data support (as an analyst would with EMA Workbench's inspect).

    Returns:
        The limits kept and their quasi-p-values.
    """
    limits = dict(limits)
    while True:
        quasi = _quasi_p(x, hits, runs, limits, names)
        ends = [
            (q, name, side)
            for name, pair in quasi.items()
            for side, q in enumerate(pair)
            if not math.isnan(q)
        ]
        if not ends:
            return limits, quasi
        worst, name, side = max(ends)
        if worst <= SIGNIFICANCE:
            return limits, quasi
        j = names.index(name)
        low, high = limits[name]
        low, high = (float(x[:, j].min()), high) if side == 0 else (low, float(x[:, j].max()))
        if low <= x[:, j].min() and high >= x[:, j].max():
            del limits[name]
        else:
            limits[name] = (low, high)


def _choose(steps: list[np.ndarray], hits: np.ndarray, runs: np.ndarray) -> tuple[int, float]:
    """The step with the largest mass x (density - base rate), and that value."""
    total, base = runs.sum(), hits.sum() / runs.sum()
    scores = []
    for mask in steps:
        n = runs[mask].sum()
        scores.append((n / total) * (hits[mask].sum() / n - base) if n else -np.inf)
    best = int(np.argmax(scores))
    return best, float(scores[best])


def search(
    x: np.ndarray,
    hits: np.ndarray,
    runs: np.ndarray,
    names: list[str],
    direction: str,
    outcome_hits: np.ndarray,
    alpha: float,
    min_mass: float,
    rng: np.random.Generator,
    permutations: int = PERMUTATIONS,
) -> Search:
    """PRIM on ``hits`` (the outcome, or its opposite for a low-density box), then the permutation test.

    ``outcome_hits`` are the hits of the outcome asked for, which the chosen box reports.
    """
    steps = prim(x, hits, runs, alpha, min_mass)
    chosen, score = _choose(steps, hits, runs)
    exceed = 0
    for _ in range(permutations):
        order = rng.permutation(len(x))
        shuffled = hits[order], runs[order]
        _, null = _choose(prim(x, *shuffled, alpha, min_mass), *shuffled)
        exceed += null >= score - 1e-12
    total_runs, total_hits = runs.sum(), outcome_hits.sum()
    rows = []
    for step, mask in enumerate(steps):
        n, k = int(runs[mask].sum()), int(outcome_hits[mask].sum())
        rows.append(
            {
                "step": step,
                "coverage": k / total_hits if total_hits else math.nan,
                "density": k / n if n else math.nan,
                "mass": n / total_runs,
                "restricted": len(_limits(mask, x, names)),
            }
        )
    limits, quasi_p = _pruned(x, hits, runs, _limits(steps[chosen], x, names), names)
    mask = _in_box(x, limits, names)
    n, k = int(runs[mask].sum()), int(outcome_hits[mask].sum())
    box = Box(limits, n, k, k / total_hits if total_hits else math.nan, k / n, n / total_runs, quasi_p)
    return Search(direction, pd.DataFrame(rows), chosen, box, (1 + exceed) / (1 + permutations))


def discover(
    points: pd.DataFrame,
    parameters: list[str],
    table: str,
    outcome: str = "deal",
    alpha: float = 0.05,
    min_mass: float = 0.05,
    seed: int = 0,
    source: str = "results",
    permutations: int = PERMUTATIONS,
) -> Discovery:
    """PRIM in both directions for one table, from its runs aggregated per design point.

    Args:
        points: One row per design point of the table: the parameter columns, ``runs`` and ``deals``.
        parameters: Varied parameter paths (columns of ``points``).
        table: Table id (for the result).
        outcome: ``deal`` or ``no-deal``.
        alpha: Share of the box's runs each peel removes.
        min_mass: Smallest box, as a share of the runs.
        seed: Master seed of the permutation test.
        source: The folder, for messages.
        permutations: Shuffles of the permutation test.

    Raises:
        ExperimentError: Unknown outcome, no varied parameter, or no run (or every run) with the outcome.
    """
    if outcome not in OUTCOMES:
        raise ExperimentError("--outcome", "", outcome, "deal or no-deal")
    varied = [p for p in parameters if points[p].nunique(dropna=True) > 1]
    if not varied:
        raise ExperimentError(
            source,
            "parameters",
            parameters or MISSING,
            "a batch that varied at least one parameter (a sweep or a sampled design)",
        )
    x = points[varied].to_numpy(float)
    runs = points["runs"].to_numpy(np.int64)
    deals = points["deals"].to_numpy(np.int64)
    wanted = deals if outcome == "deal" else runs - deals
    total = int(wanted.sum())
    if total == 0 or total == runs.sum():
        what = "no" if total == 0 else "every"
        raise ExperimentError(
            "--table",
            "",
            table,
            f"a table where some runs end in {outcome} and some do not ({what} run does)",
        )
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DISCOVERY_STREAM,)))
    searches = [
        search(x, wanted, runs, varied, "high-density", wanted, alpha, min_mass, rng, permutations),
        search(x, runs - wanted, runs, varied, "low-density", wanted, alpha, min_mass, rng, permutations),
    ]
    return Discovery(
        table, outcome, varied, total / runs.sum(), int(runs.sum()), total, len(points), searches
    )


def points_of_table(outdir: str | Path, table: str, parameters: list[str]) -> pd.DataFrame:
    """Stream a batch's results and count, per design point, one table's runs and deals.

    Reads only ``point``, ``table``, ``deal`` and the parameter columns, a record batch at a time.

    Returns:
        One row per design point with rows of the table: ``point``, the parameters, ``runs``, ``deals``.

    Raises:
        ExperimentError: No results, an unreadable file, a missing column, or a table not in the results.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from negotiation.batch.reader import RESULTS_DIR, result_files

    source = str(Path(outdir) / RESULTS_DIR)
    columns = ["point", "table", "deal", *parameters]
    counts: dict[int, list[Any]] = {}
    tables: set[str] = set()
    for path in result_files(outdir):
        try:
            reader = pq.ParquetFile(path)
            missing = [c for c in columns if c not in reader.schema_arrow.names]
            if missing:
                raise ExperimentError(
                    source, f"column {missing[0]}", MISSING, "a results column of the batch"
                )
            for batch in reader.iter_batches(batch_size=65_536, columns=columns, use_threads=False):
                frame = batch.to_pandas()
                tables.update(frame["table"].astype(str).unique())
                mine = frame[frame["table"].astype(str) == table]
                if mine.empty:
                    continue
                grouped = mine.groupby("point", sort=False)
                sums = grouped["deal"].agg(["size", "sum"])
                first = grouped[parameters].first() if parameters else None
                for point, row in sums.iterrows():
                    entry = counts.setdefault(
                        int(point), [0, 0, *(first.loc[point].tolist() if first is not None else [])]
                    )
                    entry[0] += int(row["size"])
                    entry[1] += int(row["sum"])
        except (OSError, pa.ArrowException) as exc:
            raise ExperimentError(str(path), "", reason(exc), "a readable Parquet file") from None
    if table not in tables:
        raise ExperimentError("--table", "", table, f"a table of the results: {', '.join(sorted(tables))}")
    frame = pd.DataFrame(
        [[point, *entry[2:], entry[0], entry[1]] for point, entry in sorted(counts.items())],
        columns=["point", *parameters, "runs", "deals"],
    )
    return frame


def discover_folder(
    outdir: str | Path,
    table: str,
    outcome: str = "deal",
    alpha: float = 0.05,
    min_mass: float = 0.05,
    permutations: int = PERMUTATIONS,
) -> Discovery:
    """Run :func:`discover` on a batch output folder (parameters from its metadata), in bounded memory."""
    from negotiation.batch.reader import load_metadata

    metadata = load_metadata(outdir)
    parameters = list(metadata.get("parameters", []))
    if not parameters:
        raise ExperimentError(
            str(Path(outdir) / "metadata.json"),
            "parameters",
            [],
            "a batch that varied at least one parameter (a sweep or a sampled design)",
        )
    points = points_of_table(outdir, table, parameters)
    seed = int(metadata.get("master_seed", 0) or 0)
    source = str(Path(outdir) / "results")
    return discover(points, parameters, table, outcome, alpha, min_mass, seed, source, permutations)


def format_discovery(found: Discovery) -> str:
    """Readable text: the base rate, then each direction's box, labelled, or a plain 'no box beats noise'."""
    what = f"a {found.table} deal" if found.outcome == "deal" else f"no {found.table} deal"
    lines = [
        f"{what}: base rate {found.base_rate:.1%} ({found.total_hits:,} of {found.runs:,} runs, "
        f"{found.points} design points); PRIM over {', '.join(found.parameters)}",
        "",
    ]
    for search in found.searches:
        box = search.box
        likelier = "likelier" if search.direction == "high-density" else "rarer"
        if not search.beats_noise or not box.limits:
            lines.append(
                f"{search.direction}: no box where {what} is {likelier} than the base rate beyond noise "
                f"(permutation p = {search.p_value:.2f}); the varied parameters do not concentrate it in "
                "any region this design can tell apart from chance."
            )
            lines.append("")
            continue
        lines.append(
            f"{search.direction} box ({what} {likelier} here: {box.density:.1%} against "
            f"{found.base_rate:.1%}; permutation p = {search.p_value:.3f}):"
        )
        lines.append(f"   {box.describe()}")
        lines.append(
            f"   coverage {box.coverage:.1%}, density {box.density:.1%}, mass {box.mass:.1%} "
            f"({box.hits:,} of {box.runs:,} runs)"
        )
        for path, (q_low, q_high) in box.quasi_p.items():
            ends = [
                f"{name} {_p(q)}"
                for name, q in (("lower limit", q_low), ("upper limit", q_high))
                if not math.isnan(q)
            ]
            lines.append(f"   quasi-p {path}: {', '.join(ends)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def plot_trajectory(found: Discovery) -> tuple[Any, Any]:
    """The peeling trajectories (coverage against density) with each chosen box marked.

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained", squeeze=False)
    what = "deal" if found.outcome == "deal" else "no deal"
    for ax, search in zip(axes.flat, found.searches, strict=True):
        curve = search.trajectory
        points = ax.scatter(
            curve["coverage"], curve["density"], c=curve["restricted"], cmap="viridis", s=18, zorder=3
        )
        ax.plot(curve["coverage"], curve["density"], color="0.7", linewidth=0.8, zorder=2)
        verdict = "beats the base rate" if search.beats_noise else "not beyond noise"
        ax.plot(
            search.box.coverage,
            search.box.density,
            "*",
            ms=16,
            color="tab:red",
            markeredgecolor="black",
            zorder=4,
            label=f"chosen box (step {search.chosen}, unsupported limits dropped;\n{verdict}, "
            f"p = {search.p_value:.2f})",
        )
        ax.axhline(
            found.base_rate,
            color="gray",
            linestyle="--",
            linewidth=0.8,
            label=f"base rate {found.base_rate:.0%}",
        )
        ax.set_xlim(-0.02, 1.05)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("coverage (share of the runs with the outcome inside the box)")
        ax.set_ylabel(f"density (share of runs inside with {what})")
        ax.set_title(
            f"{search.direction}: peeling toward {what} "
            + ("likelier" if search.direction == "high-density" else "rarer"),
            fontsize=10,
        )
        # the trajectory falls from the top left (high density) or rises from the bottom left (low
        # density), so the opposite corner on the left is free for the legend
        ax.legend(fontsize=7, loc="lower left" if search.direction == "high-density" else "upper left")
        ax.grid(alpha=0.3)
        fig.colorbar(points, ax=ax, label="restricted parameters", shrink=0.8)
    fig.suptitle(f"PRIM peeling trajectories: {found.table}, {what}", fontweight="bold")
    return fig, axes


def write_discovery(found: Discovery, outdir: str | Path) -> list[Path]:
    """Write the chosen boxes (CSV), the trajectories (CSV) and the trajectory chart."""
    from negotiation.atomic import write_text_atomic
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    stem = "discover-" + re.sub(r"[^A-Za-z0-9_.-]", "_", f"{found.table}-{found.outcome}")
    trajectories = pd.concat(
        [
            s.trajectory.assign(direction=s.direction, chosen=s.trajectory["step"] == s.chosen)
            for s in found.searches
        ],
        ignore_index=True,
    )
    written = [
        write_text_atomic(folder / f"{stem}.csv", found.table_frame().to_csv(index=False)),
        write_text_atomic(folder / f"{stem}-trajectory.csv", trajectories.to_csv(index=False)),
    ]
    fig, _ = plot_trajectory(found)
    return written + save_figure(fig, folder, f"{stem}-trajectory")


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 else "< 0.0001"
