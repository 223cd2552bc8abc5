"""Charts of a whole design: sweeps and grids shown at every level that was run, effects of sampled designs.

- a sweep (one parameter, a list of values): deal probability against the parameter, one panel per
  table with its Wilson band (:func:`sweep_chart`); the round of the deal
  (:func:`sweep_rounds_chart`) and the median agreed terms (:func:`sweep_terms_chart`) against it;
- a grid (two parameters, every combination): per table a heatmap of the deal probability beside
  one of its interval's half-width (:func:`grid_chart`), and the difference from the design point
  nearest the scenario's own values (:func:`grid_difference_chart`);
- a sampled design (Latin hypercube, Sobol, random): each parameter's effect on each table from one
  regression over every parameter (:func:`effects_chart`), and partial dependence curves
  (:func:`partial_dependence_chart`), see :mod:`negotiation.stats.effects`.

Every level that was run is drawn; nothing is binned. Tables that the varied parameters cannot
reach by the scenario's structure (:mod:`negotiation.bargaining.reach`) are named in a note and not
drawn: a flat line there is a fact of the structure, not a finding.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from negotiation.charts.batch_charts import COLORS, fmt, wrap_path
from negotiation.scenario.schema import Scenario
from negotiation.stats import designs
from negotiation.stats.digest import Results, as_digest
from negotiation.stats.summary import agreed_terms, deal_probability

MAX_TICK_LABELS = 12
"""More levels than this on a heatmap axis: every level is drawn, every k-th one labelled."""


def reach_note(unreachable: Sequence[str], what: str) -> str:
    """The note naming the tables a change cannot reach ('' when it reaches every table).

    Args:
        unreachable: The tables.
        what: The subject and verb, e.g. "actors.china.resolve cannot reach" or "neither parameter can reach".
    """
    if not unreachable:
        return ""
    return textwrap.fill(
        f"Not drawn: {', '.join(unreachable)}; {what} "
        f"{'this table' if len(unreachable) == 1 else 'these tables'} by the scenario's structure "
        "(no shared actor, no linkage), so every run there plays the same at every level.",
        120,
    )


def sweep_chart(
    results: Results, parameter: str, tables: Sequence[str], unreachable: Sequence[str] = ()
) -> tuple[Figure, np.ndarray]:
    """Deal probability against the swept parameter: one panel per table, a line with its 95% band.

    Args:
        results: The results table or its digest (with the parameter column).
        parameter: The swept parameter path.
        tables: The tables to draw (those the parameter can reach).
        unreachable: Tables it cannot reach, named in a note.
    """
    digest = as_digest(results, parameters=[parameter])
    data = deal_probability(digest, by=("point", "table"))
    data = data.merge(digest.points[["point", parameter]], on="point")
    fig, axes = panels(len(tables), 3.0, 2.3, sharex=True, sharey=True, note=bool(unreachable))
    for i, (ax, table) in enumerate(zip(axes.flat, tables, strict=False)):
        group = data[data["table"] == table].sort_values(parameter)
        _band(ax, i, table, group[parameter], group["p"], group["low"], group["high"], probability=True)
    levels = digest.points[parameter].nunique()
    fig.supxlabel(wrap_path(parameter, 70), fontsize="medium")
    fig.supylabel("probability of a deal, 95% Wilson band", fontsize="medium")
    fig.suptitle(
        f"Deal probability across the sweep\n{levels} values, {digest.runs:,} runs; every value uses "
        "the same run seeds",
        fontweight="bold",
    )
    _note(fig, reach_note(unreachable, f"{parameter} cannot reach"))
    return fig, axes


def sweep_rounds_chart(
    results: Results, parameter: str, tables: Sequence[str], unreachable: Sequence[str] = ()
) -> tuple[Figure, np.ndarray]:
    """The round in which deals are made against the swept parameter: median and quartile band."""
    digest = as_digest(results, parameters=[parameter])
    data = designs.deal_rounds(digest, by=("point", "table")).merge(
        digest.points[["point", parameter]], on="point"
    )
    fig, axes = panels(len(tables), 3.0, 2.3, sharex=True, sharey=True, note=bool(unreachable))
    for i, (ax, table) in enumerate(zip(axes.flat, tables, strict=False)):
        group = data[data["table"] == table].sort_values(parameter)
        _band(ax, i, table, group[parameter], group["q50"], group["q25"], group["q75"], probability=False)
    fig.supxlabel(wrap_path(parameter, 70), fontsize="medium")
    fig.supylabel("round of the deal: median, quartile band", fontsize="medium")
    fig.suptitle(f"Time to deal across the sweep (runs with a deal; {digest.runs:,} runs)", fontweight="bold")
    _note(fig, reach_note(unreachable, f"{parameter} cannot reach"))
    return fig, axes


def sweep_terms_chart(
    results: Results,
    parameter: str,
    scenario: Scenario,
    tables: Sequence[str],
    unreachable: Sequence[str] = (),
) -> tuple[Figure, np.ndarray]:
    """Median agreed value of each issue against the swept parameter, with its quartile band.

    One panel per table and issue that reached a deal somewhere in the sweep, in the issue's unit; the
    dashed line is the status quo.
    """
    digest = as_digest(results, parameters=[parameter])
    data = agreed_terms(digest, by=("point", "table"), quantiles=(0.25, 0.5, 0.75))
    data = data.merge(digest.points[["point", parameter]], on="point")
    pairs = [
        (t, i) for t in tables for i in digest.issues if ((data["table"] == t) & (data["issue"] == i)).any()
    ]
    fig, axes = panels(max(len(pairs), 1), 3.0, 2.2, sharex=True, note=bool(unreachable))
    for ax, (table, issue_id) in zip(axes.flat, pairs, strict=False):
        group = data[(data["table"] == table) & (data["issue"] == issue_id)].sort_values(parameter)
        x = group[parameter].to_numpy(float)
        ax.fill_between(x, group["q25"], group["q75"], color=COLORS[0], alpha=0.2, linewidth=0)
        ax.plot(x, group["q50"], marker="o", color=COLORS[0], ms=3.5)
        ax.axhline(scenario.status_quo(table, issue_id), color="black", linestyle="--", linewidth=0.8)
        issue = scenario.issues[issue_id]
        ax.set_title(textwrap.fill(f"{table}: {issue.name}", 34), fontsize="small")
        ax.set_ylabel(textwrap.fill(issue.unit, 24), fontsize="x-small")
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    if not pairs:
        axes.flat[0].set_visible(True)
        axes.flat[0].text(0.5, 0.5, "no deal at any value", ha="center", va="center")
    fig.supxlabel(wrap_path(parameter, 70), fontsize="medium")
    fig.suptitle(
        "Agreed terms across the sweep: median (line) and quartiles (band) among deals; dashed: status quo",
        fontweight="bold",
    )
    _note(fig, reach_note(unreachable, f"{parameter} cannot reach"))
    return fig, axes


def grid_chart(
    results: Results, parameters: Sequence[str], tables: Sequence[str], unreachable: Sequence[str] = ()
) -> tuple[Figure, np.ndarray]:
    """Per table, a heatmap of the deal probability at every grid cell beside its interval's half-width."""
    px, py = parameters
    digest = as_digest(results, parameters=[px, py])
    data = deal_probability(digest, by=("point", "table")).merge(digest.points[["point", px, py]], on="point")
    xs, ys = np.unique(digest.points[px]), np.unique(digest.points[py])
    fig, axes = panels(2 * len(tables), 2.9, 2.6, note=bool(unreachable), columns=4)
    annotate = len(xs) * len(ys) <= 36
    p_image = width_image = None
    widest = float(((data["high"] - data["low"]) / 2).max()) if len(data) else 0.1
    for t, table in enumerate(tables):
        mine = data[data["table"] == table]
        p = _cells(mine, px, py, "p", xs, ys)
        half = _cells(mine.assign(half=(mine["high"] - mine["low"]) / 2), px, py, "half", xs, ys)
        ax, ax_w = axes.flat[2 * t], axes.flat[2 * t + 1]
        p_image = ax.imshow(p, origin="lower", aspect="auto", vmin=0, vmax=1, cmap=_cmap("viridis"))
        width_image = ax_w.imshow(
            half, origin="lower", aspect="auto", vmin=0, vmax=widest, cmap=_cmap("Greys")
        )
        if annotate:
            _annotate(ax, p, lambda v: f"{v:.0%}", lambda v: "black" if v > 0.6 else "white")
            _annotate(
                ax_w, half, lambda v: f"±{100 * v:.0f}", lambda v: "white" if v > 0.6 * widest else "black"
            )
        ax.set_title(f"{table}: deal probability", fontsize="small")
        ax_w.set_title(f"{table}: ± half-width", fontsize="small")
        for a in (ax, ax_w):
            _level_ticks(a, xs, ys)
    if p_image is not None:
        fig.colorbar(p_image, ax=axes, shrink=0.6, label="probability of a deal", format="{x:.0%}", pad=0.01)
        fig.colorbar(width_image, ax=axes, shrink=0.6, label="half-width of the 95% interval", pad=0.01)
    fig.supxlabel(wrap_path(px, 70), fontsize="medium")
    fig.supylabel(wrap_path(py, 50), fontsize="medium")
    fig.suptitle(
        f"Deal probability over the grid: {len(xs)} x {len(ys)} levels, {digest.runs:,} runs",
        fontweight="bold",
    )
    _note(fig, reach_note(unreachable, "neither varied parameter can reach"))
    return fig, axes


def grid_difference_chart(
    results: Results,
    parameters: Sequence[str],
    tables: Sequence[str],
    baseline: int,
    unreachable: Sequence[str] = (),
) -> tuple[Figure, np.ndarray]:
    """Per table, each grid cell's deal probability minus that of the baseline cell, in points.

    Hatched cells: the difference's 95% interval (Newcombe, conservative for the paired cells)
    contains zero. The baseline cell is outlined.
    """
    px, py = parameters
    digest = as_digest(results, parameters=[px, py])
    data = deal_probability(digest, by=("point", "table")).merge(digest.points[["point", px, py]], on="point")
    xs, ys = np.unique(digest.points[px]), np.unique(digest.points[py])
    base_row = digest.points[digest.points["point"] == baseline].iloc[0]
    fig, axes = panels(len(tables), 2.9, 2.6, note=bool(unreachable))
    image = None
    changes = []
    for table in tables:
        mine = data[data["table"] == table]
        ref = mine[mine["point"] == baseline].iloc[0]
        low, high = designs.difference_interval(ref["deals"], ref["n"], mine["deals"], mine["n"])
        changes.append(mine.assign(change=mine["p"] - ref["p"], flat=(low <= 0) & (high >= 0)))
    limit = max(0.05, max(float(c["change"].abs().max()) for c in changes) if changes else 0.05)
    for ax, table, mine in zip(axes.flat, tables, changes, strict=False):
        grid = _cells(mine, px, py, "change", xs, ys)
        flat = _cells(mine.assign(flat=mine["flat"].astype(float)), px, py, "flat", xs, ys)
        image = ax.imshow(
            grid * 100, origin="lower", aspect="auto", vmin=-100 * limit, vmax=100 * limit, cmap=_cmap("RdBu")
        )
        for (iy, ix), value in np.ndenumerate(flat):
            if value == 1.0:
                ax.add_patch(
                    Rectangle((ix - 0.5, iy - 0.5), 1, 1, fill=False, hatch="///", linewidth=0, color="0.6")
                )
        bx, by_ = int(np.searchsorted(xs, base_row[px])), int(np.searchsorted(ys, base_row[py]))
        ax.add_patch(Rectangle((bx - 0.5, by_ - 0.5), 1, 1, fill=False, linewidth=2, edgecolor="black"))
        ax.set_title(table, fontsize="medium")
        _level_ticks(ax, xs, ys)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="change in deal probability (points)")
    fig.supxlabel(wrap_path(px, 70), fontsize="medium")
    fig.supylabel(wrap_path(py, 50), fontsize="medium")
    fig.suptitle(
        f"Difference from the baseline cell ({fmt(base_row[px])}, {fmt(base_row[py])}: outlined, the "
        "point nearest the scenario's own values)\nhatched: the 95% interval of the difference contains 0",
        fontweight="bold",
        fontsize="medium",
    )
    _note(fig, reach_note(unreachable, "neither varied parameter can reach"))
    return fig, axes


def effects_chart(effects: pd.DataFrame, tables: Sequence[str], runs: int) -> tuple[Figure, np.ndarray]:
    """Each sampled parameter's effect on each table, from one regression over every parameter.

    One panel per parameter (its full path as the title), one row per table: the change in deal
    probability from the parameter's lowest to its highest sampled value with its 95% interval;
    coloured where the interval excludes zero. Tables the parameter cannot reach say so.

    Args:
        effects: :func:`negotiation.stats.effects.parameter_effects`.
        tables: The tables, in order.
        runs: Runs in the batch (for the subtitle).
    """
    parameters = list(dict.fromkeys(effects["parameter"]))
    fig, axes = panels(len(parameters), 3.6, 0.9 + 0.3 * len(tables), sharex=True, sharey=True, columns=3)
    y = np.arange(len(tables))
    finite = effects[["low", "high"]].abs().to_numpy(float)
    limit = max(5.0, 100 * float(np.nanmax(finite)) if np.isfinite(finite).any() else 5.0) * 1.05
    for ax, parameter in zip(axes.flat, parameters, strict=False):
        mine = effects[effects["parameter"] == parameter].set_index("table").reindex(tables)
        ax.axvline(0, color="black", linewidth=0.8)
        for yi, (_, row) in enumerate(mine.iterrows()):
            if not row["reachable"]:
                ax.text(0, yi, " out of reach", va="center", ha="left", fontsize="x-small", color="0.5")
                continue
            if not np.isfinite(row["effect"]):
                continue
            color = COLORS[0] if row["significant"] else "0.55"
            effect, low, high = 100 * row["effect"], 100 * row["low"], 100 * row["high"]
            ax.errorbar(
                effect, yi, xerr=[[effect - low], [high - effect]], fmt="o", color=color, capsize=2, ms=4
            )
        ax.set_title(wrap_path(parameter, 40), fontsize="small")
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(-limit, limit)
    for ax in axes.flat:
        ax.set_yticks(y, tables, fontsize="small")
        ax.set_ylim(len(tables) - 0.5, -0.5)
    fig.supxlabel(
        "change in deal probability (points) from the lowest to the highest sampled value, 95% interval",
        fontsize="small",
    )
    fig.suptitle(
        f"Effect of each sampled parameter, all parameters in one logistic regression ({runs:,} runs)\n"
        "blue: the interval excludes zero; grey: not distinguishable from no effect",
        fontweight="bold",
        fontsize="medium",
    )
    return fig, axes


def partial_dependence_chart(
    curves: pd.DataFrame, parameter: str, unreachable: Sequence[str] = ()
) -> tuple[Figure, np.ndarray]:
    """Partial dependence of each table's deal probability on one parameter, with its 95% band.

    Args:
        curves: :func:`negotiation.stats.effects.partial_dependence` of the parameter.
        parameter: The parameter path.
        unreachable: Tables it cannot reach, named in a note.
    """
    tables = list(dict.fromkeys(curves["table"]))
    fig, axes = panels(max(len(tables), 1), 3.0, 2.3, sharex=True, sharey=True, note=bool(unreachable))
    for i, (ax, table) in enumerate(zip(axes.flat, tables, strict=False)):
        group = curves[curves["table"] == table]
        _band(
            ax,
            i,
            table,
            group["value"],
            group["p"],
            group["low"],
            group["high"],
            probability=True,
            dots=False,
        )
    fig.supxlabel(wrap_path(parameter, 70), fontsize="medium")
    fig.supylabel("mean probability of a deal, 95% band", fontsize="medium")
    fig.suptitle(
        "Partial dependence: the deal probability with this parameter set to each value,\naveraged over "
        "the sampled values of the others (logistic regression over every parameter)",
        fontweight="bold",
        fontsize="medium",
    )
    _note(fig, reach_note(unreachable, f"{parameter} cannot reach"))
    return fig, axes


def panels(
    count: int,
    width: float,
    height: float,
    sharex: bool = False,
    sharey: bool = False,
    note: bool = False,
    columns: int = 4,
) -> tuple[Figure, np.ndarray]:
    """A grid of small multiples (up to ``columns`` across) with the unused panels hidden."""
    ncols = min(columns, max(count, 1))
    nrows = max(1, math.ceil(count / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width * ncols + 1.2, height * nrows + 1.3 + (0.6 if note else 0.0)),
        layout="constrained",
        squeeze=False,
        sharex=sharex,
        sharey=sharey,
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes


def _band(
    ax: Any, i: int, title: str, x: Any, mid: Any, low: Any, high: Any, probability: bool, dots: bool = True
) -> None:
    """One panel: a line (with dots at the levels run) and its band, in the i-th table's colour."""
    color = COLORS[i % len(COLORS)]
    x = np.asarray(x, float)
    ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
    ax.plot(x, mid, marker="o" if dots else None, color=color, ms=3.5)
    ax.set_title(title, fontsize="medium")
    if probability:
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(alpha=0.3)
    ax.tick_params(axis="x", labelrotation=30, labelsize="small")


def _note(fig: Figure, text: str) -> None:
    """Put a note (the tables not drawn) under the chart, as more lines of its x label."""
    if not text:
        return
    label = fig._supxlabel.get_text() if fig._supxlabel is not None else ""
    fig.supxlabel(f"{label}\n\n{text}" if label else text, fontsize="small")


def _cells(frame: pd.DataFrame, px: str, py: str, column: str, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """A (len(ys), len(xs)) array of one column over the grid; NaN where no point ran."""
    return (
        frame.pivot_table(index=py, columns=px, values=column, aggfunc="first")
        .reindex(index=ys, columns=xs)
        .to_numpy(float)
    )


def _annotate(ax: Any, grid: np.ndarray, text: Any, color: Any) -> None:
    for (iy, ix), value in np.ndenumerate(grid):
        if np.isfinite(value):
            ax.text(ix, iy, text(value), ha="center", va="center", fontsize=6.5, color=color(value))


def _level_ticks(ax: Any, xs: np.ndarray, ys: np.ndarray) -> None:
    """One tick per level; labels on every k-th level when there are many (all cells are drawn)."""
    for axis, levels in ((ax.xaxis, xs), (ax.yaxis, ys)):
        step = max(1, math.ceil(len(levels) / MAX_TICK_LABELS))
        axis.set_ticks(range(len(levels)))
        axis.set_ticklabels(
            [fmt(v) if i % step == 0 else "" for i, v in enumerate(levels)], fontsize="x-small"
        )
    ax.tick_params(axis="x", labelrotation=45)


def _cmap(name: str) -> Any:
    return plt.get_cmap(name).with_extremes(bad="0.85")


__all__ = [
    "effects_chart",
    "grid_chart",
    "grid_difference_chart",
    "partial_dependence_chart",
    "reach_note",
    "sweep_chart",
    "sweep_rounds_chart",
    "sweep_terms_chart",
]
