"""Scenario discovery: the boxes of parameter space where a table's deal (or no deal) concentrates.

Input is a batch output folder whose design varied some parameters (a sweep or, best, a Latin
hypercube); each row is one run of one table. For one table, a CART classification tree
(scikit-learn's ``DecisionTreeClassifier``) is fitted to predict the outcome of interest from the
varied parameters. Every leaf of the tree is a *box*: a conjunction of bounds such as
``actors.china.resolve > 0.8 and tables.us-china.preferences.china.reservation > 0.6``. As in PRIM
(Friedman and Fisher 1999), each box is judged by

- coverage: the share of all runs with the outcome that fall in the box, and
- density: the share of the runs in the box that have the outcome (the base rate is the density of
  the whole space).

Sibling leaves that are both richer (or both poorer) in the outcome than the base rate are merged
into their parent's box, recursively, so that one region reads as one box rather than several slices
of it (``merge=False`` keeps one box per leaf). Boxes are listed by density. The trade-off chart
shows the coverage and density of the union of the k densest leaves (unmerged), k = 1, 2, ...: the
analogue of PRIM's peeling trajectory, from a small, dense box to the whole space.

CART rather than PRIM: scikit-learn's tree is maintained, already a dependency of the tuning extra
and deterministic given its seed, whereas the maintained PRIM (ema-workbench) would pull in a large
framework for one function (see docs/tuning.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.errors import MISSING, ExperimentError

OUTCOMES = ("deal", "no-deal")
DISCOVERY_STREAM = 0xD15C


@dataclass(frozen=True)
class Box:
    """One leaf of the tree as a box of parameter space."""

    limits: dict[str, tuple[float, float]]
    """Parameter path to (lower, upper): lower < value <= upper; -inf/inf where unbounded."""
    runs: int
    """Runs (rows of the table) in the box."""
    hits: int
    """Runs in the box with the outcome of interest."""
    coverage: float
    """hits / all runs with the outcome."""
    density: float
    """hits / runs."""

    def describe(self) -> str:
        """The box as conditions, e.g. ``actors.china.resolve > 0.8 and ...`` ('anywhere' if none)."""
        parts = []
        for path, (low, high) in self.limits.items():
            if math.isfinite(low) and math.isfinite(high):
                parts.append(f"{_fmt(low)} < {path} <= {_fmt(high)}")
            elif math.isfinite(low):
                parts.append(f"{path} > {_fmt(low)}")
            elif math.isfinite(high):
                parts.append(f"{path} <= {_fmt(high)}")
        return " and ".join(parts) if parts else "anywhere"


@dataclass(frozen=True)
class Discovery:
    """The result of scenario discovery for one table and outcome."""

    table: str
    outcome: str
    parameters: list[str]
    """Varied parameters used as inputs."""
    base_rate: float
    """Share of all runs with the outcome."""
    total_hits: int
    boxes: list[Box]
    """Every box (a leaf, or merged leaves), by density (then coverage), highest first."""
    tree: Any
    """The fitted DecisionTreeClassifier."""
    leaves: list[Box]
    """One box per leaf of the tree (never merged), by density: the steps of the trade-off curve."""

    def table_frame(self) -> pd.DataFrame:
        """Boxes as rows: rank, conditions, runs, hits, coverage, density, then each parameter's bounds."""
        rows = []
        for rank, box in enumerate(self.boxes, start=1):
            row: dict[str, Any] = {
                "rank": rank,
                "box": box.describe(),
                "runs": box.runs,
                "hits": box.hits,
                "coverage": box.coverage,
                "density": box.density,
            }
            for path in self.parameters:
                low, high = box.limits.get(path, (-math.inf, math.inf))
                row[f"{path} >"], row[f"{path} <="] = low, high
            rows.append(row)
        return pd.DataFrame(rows)

    def tradeoff(self) -> pd.DataFrame:
        """Coverage and density of the union of the k densest leaves, for k = 1..number of leaves."""
        hits = np.cumsum([b.hits for b in self.leaves])
        runs = np.cumsum([b.runs for b in self.leaves])
        return pd.DataFrame(
            {
                "leaves": np.arange(1, len(self.leaves) + 1),
                "coverage": hits / max(self.total_hits, 1),
                "density": hits / np.maximum(runs, 1),
            }
        )


def discover(
    results: pd.DataFrame,
    parameters: list[str],
    table: str,
    outcome: str = "deal",
    max_depth: int = 3,
    min_leaf: float = 0.05,
    seed: int = 0,
    source: str = "results",
    merge: bool = True,
) -> Discovery:
    """Fit the tree for one table and return its boxes.

    Args:
        results: The results rows (with the parameter columns).
        parameters: Varied parameter paths (columns of ``results``).
        table: Table id.
        outcome: ``deal`` or ``no-deal``.
        max_depth: Depth of the tree: at most this many conditions per box.
        min_leaf: Smallest box, as a share of the table's runs.
        seed: Seeds the tree's tie-breaking between equally good splits.
        source: The folder, for messages.
        merge: Merge sibling leaves that lie on the same side of the base rate (both richer in the
            outcome than the whole space, or both poorer) into their parent's box, recursively, so
            that a region is one box rather than several slices of it.

    Raises:
        ExperimentError: Unknown table or outcome, no varied parameter, a missing column, or no run
            (or every run) with the outcome.
    """
    from sklearn.tree import DecisionTreeClassifier

    from negotiation.batch.reader import require_columns

    if outcome not in OUTCOMES:
        raise ExperimentError("--outcome", "", outcome, "deal or no-deal")
    require_columns(results, ["table", "deal", *parameters], source)
    tables = list(pd.unique(results["table"]))
    if table not in tables:
        raise ExperimentError("--table", "", table, f"a table of the results: {', '.join(map(str, tables))}")
    rows = results[results["table"] == table]
    varied = [p for p in parameters if rows[p].nunique(dropna=True) > 1]
    if not varied:
        raise ExperimentError(
            source,
            "parameters",
            parameters or MISSING,
            "a batch that varied at least one parameter (a sweep or a sampled design)",
        )
    x = rows[varied].to_numpy(float)
    deal = rows["deal"].astype(bool).to_numpy()
    y = deal if outcome == "deal" else ~deal
    total = int(y.sum())
    if total == 0 or total == len(y):
        what = "no" if total == 0 else "every"
        raise ExperimentError(
            "--table",
            "",
            table,
            f"a table where some runs end in {outcome} and some do not ({what} run does)",
        )
    leaf_size = max(1, math.ceil(min_leaf * len(y)))
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf_size, random_state=_seed(seed))
    tree.fit(x, y)
    leaves = tree.apply(x)
    rate = total / len(y)
    by_density: dict[bool, list[Box]] = {}
    for merged in {merge, False}:
        found = []
        for leaf_ids, limits in _boxes(tree, varied, leaves, y, rate, merged).items():
            inside = np.isin(leaves, leaf_ids)
            hits = int(y[inside].sum())
            found.append(Box(limits, int(inside.sum()), hits, hits / total, hits / int(inside.sum())))
        by_density[merged] = sorted(found, key=lambda b: (-b.density, -b.coverage))
    return Discovery(table, outcome, varied, rate, total, by_density[merge], tree, by_density[False])


def _boxes(
    tree: Any, names: list[str], leaves: np.ndarray, y: np.ndarray, rate: float, merge: bool
) -> dict[tuple[int, ...], dict[str, tuple[float, float]]]:
    """Boxes as (leaf ids, bounds), walking the tree from the root (sklearn: left is ``x <= cut``).

    With ``merge``, a subtree whose leaves are all richer (or all poorer) in the outcome than the
    base rate is one box: its root's bounds.
    """
    t = tree.tree_
    side: dict[int, bool] = {}
    for leaf in np.unique(leaves):
        side[int(leaf)] = bool(y[leaves == leaf].mean() > rate)

    def subtree_leaves(node: int) -> list[int]:
        if t.children_left[node] == t.children_right[node]:
            return [node]
        return subtree_leaves(t.children_left[node]) + subtree_leaves(t.children_right[node])

    out: dict[tuple[int, ...], dict[str, tuple[float, float]]] = {}
    stack: list[tuple[int, dict[str, tuple[float, float]]]] = [(0, {})]
    while stack:
        node, limits = stack.pop()
        below = [leaf for leaf in subtree_leaves(node) if leaf in side]
        is_leaf = t.children_left[node] == t.children_right[node]
        if is_leaf or (merge and len({side[leaf] for leaf in below}) == 1):
            out[tuple(below)] = {n: limits[n] for n in names if n in limits}
            continue
        name, cut = names[t.feature[node]], float(t.threshold[node])
        low, high = limits.get(name, (-math.inf, math.inf))
        stack.append((t.children_left[node], {**limits, name: (low, min(high, cut))}))
        stack.append((t.children_right[node], {**limits, name: (max(low, cut), high)}))
    return out


def format_discovery(found: Discovery, show: int = 5) -> str:
    """Readable text: the base rate, then the densest boxes with coverage and density."""
    what = f"a {found.table} deal" if found.outcome == "deal" else f"no {found.table} deal"
    lines = [
        f"{what}: {found.total_hits} runs, base rate {found.base_rate:.1%}; "
        f"{len(found.boxes)} boxes from a tree over {', '.join(found.parameters)}",
        "",
    ]
    for rank, box in enumerate(found.boxes[:show], start=1):
        lines.append(
            f"{rank}. {what} when {box.describe()}\n"
            f"   coverage {box.coverage:.1%}, density {box.density:.1%} ({box.hits} of {box.runs} runs)"
        )
    return "\n".join(lines)


def plot_tradeoff(found: Discovery):
    """Coverage against density of the union of the densest k leaves (PRIM's peeling trade-off).

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = found.tradeoff()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(curve["coverage"], curve["density"], "o-")
    for row in curve.itertuples(index=False):
        ax.annotate(f"{row.leaves}", (row.coverage, row.density), textcoords="offset points", xytext=(5, 5))
    ax.axhline(
        found.base_rate, color="gray", linestyle="--", linewidth=0.8, label=f"base rate {found.base_rate:.0%}"
    )
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage (share of all outcome runs inside)")
    ax.set_ylabel("density (share of runs inside with the outcome)")
    what = "deal" if found.outcome == "deal" else "no deal"
    ax.set_title(f"{found.table}: {what}, union of the k densest tree leaves", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, ax


def plot_tree(found: Discovery):
    """The fitted tree (sklearn's plot_tree).

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.tree import plot_tree as sk_plot_tree

    depth = found.tree.get_depth()
    fig, ax = plt.subplots(figsize=(max(7, 3.2 * 2**depth / 2), 1.9 * depth + 2))
    labels = ["other", found.outcome]
    sk_plot_tree(
        found.tree,
        feature_names=found.parameters,
        class_names=labels,
        filled=True,
        impurity=False,
        proportion=True,
        rounded=True,
        fontsize=7,
        ax=ax,
    )
    ax.set_title(
        f"{found.table}: tree for {found.outcome} (values: share other / {found.outcome})", fontsize=10
    )
    fig.tight_layout()
    return fig, ax


def discover_folder(
    outdir: str | Path,
    table: str,
    outcome: str = "deal",
    max_depth: int = 3,
    min_leaf: float = 0.05,
    merge: bool = True,
) -> Discovery:
    """Run :func:`discover` on a batch output folder (parameters from its metadata)."""
    from negotiation.batch.reader import load_metadata, load_results

    metadata = load_metadata(outdir)
    parameters = list(metadata.get("parameters", []))
    if not parameters:
        raise ExperimentError(
            str(Path(outdir) / "metadata.json"),
            "parameters",
            [],
            "a batch that varied at least one parameter (a sweep or a sampled design)",
        )
    results = load_results(outdir, columns=("table", "deal", *parameters))
    seed = int(metadata.get("master_seed", 0) or 0)
    source = str(Path(outdir) / "results")
    return discover(results, parameters, table, outcome, max_depth, min_leaf, seed, source, merge)


def write_discovery(found: Discovery, outdir: str | Path) -> list[Path]:
    """Write the boxes (CSV), the trade-off curve chart and the tree chart."""
    from negotiation.atomic import write_text_atomic
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    stem = "discover-" + re.sub(r"[^A-Za-z0-9_.-]", "_", f"{found.table}-{found.outcome}")
    written = [write_text_atomic(folder / f"{stem}.csv", found.table_frame().to_csv(index=False))]
    fig, _ = plot_tradeoff(found)
    written += save_figure(fig, folder, f"{stem}-tradeoff")
    fig, _ = plot_tree(found)
    return written + save_figure(fig, folder, f"{stem}-tree")


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _seed(master_seed: int) -> int:
    return int(np.random.SeedSequence(master_seed, spawn_key=(DISCOVERY_STREAM,)).generate_state(1)[0])
