"""Charts of a results table: a results DataFrame in, a matplotlib (figure, axes) out.

Every function here is pure drawing: it computes what it shows with :mod:`negotiation.stats.summary`
from a :class:`~negotiation.stats.digest.ResultsDigest` (a results DataFrame is digested first), never
runs the model and never calls ``show()``. The Agg backend is selected on import, so charts render
headless. ``point`` arguments pick one design point; ``None`` pools every point in the table (and
says so in the title). Which charts a batch gets, and their files, is :mod:`negotiation.charts.plan`'s
job.
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
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from negotiation.bargaining.analysis import nash_point, pareto_frontier
from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.protocol import derive
from negotiation.charts.run_charts import draw_bargaining_set
from negotiation.scenario.schema import Scenario
from negotiation.stats import digest as digests
from negotiation.stats import summary as stats
from negotiation.stats.digest import Results, ResultsDigest, as_digest

COLORS = plt.get_cmap("tab10").colors
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
MAX_DOTS = digests.MAX_DOTS
"""Most agreements drawn in a utility-space cloud (those with the smallest replication indices)."""
OVERVIEW_DOTS = 600
"""Most agreements drawn per table in the small multiples of every table's utility space."""


def scope_label(results: Results, point: int | None, parameters: dict[str, Any] | None = None) -> str:
    """Say which runs a chart shows, e.g. 'design point 0: china.resolve = 0.2; 500 runs'."""
    results = as_digest(results, point)
    runs = results.select(point).runs
    if point is None:
        points = len(results.points)
        if points == 1:
            return f"{runs:,} runs"
        where = f"all {points} design points pooled"
    else:
        where = f"design point {point}"
        if parameters:
            where += ": " + ", ".join(f"{short_path(p)} = {fmt(v)}" for p, v in parameters.items())
    return f"{where}; {runs:,} runs"


def deal_probability_chart(
    results: Results, point: int | None = None, scope: str = ""
) -> tuple[Figure, Axes]:
    """Deal probability of each table with its 95% Wilson interval as whiskers.

    Args:
        results: The results table, or its digest.
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its axes.
    """
    results = as_digest(results, point)
    data = stats.deal_probability(results.select(point), by=("table",))
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.42 * len(data)), layout="constrained")
    draw_deal_probabilities(ax, [("", data)])
    ax.set_xlabel("probability of a deal (dot) with 95% Wilson interval (whiskers)")
    _title(ax, "Deal probability per table", scope or scope_label(results, point))
    return fig, ax


def draw_deal_probabilities(ax: Axes, estimates: Sequence[tuple[str, pd.DataFrame]]) -> Axes:
    """Draw one or more estimates of each table's deal probability, with their intervals.

    One estimate is labelled with its numbers beside each whisker; several (e.g. before and after a
    parameter change, in the dashboard) are drawn side by side in grey then colour, with a legend.

    Args:
        ax: The axes to draw on.
        estimates: ``(label, frame)`` pairs, oldest first; each frame has columns ``table, p, low,
            high`` (as :func:`negotiation.stats.deal_probability` gives). The last one's tables
            set the rows.

    Returns:
        ``ax``.
    """
    if not estimates:
        ax.text(0.5, 0.5, "no estimate yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
        return ax
    tables = list(estimates[-1][1]["table"])
    y = np.arange(len(tables))
    offsets = np.linspace(0.18, -0.18, len(estimates)) if len(estimates) > 1 else [0.0]
    styles = [("s", "0.55")] * (len(estimates) - 1) + [("o", COLORS[0])]
    for (label, data), offset, (marker, color) in zip(estimates, offsets, styles, strict=True):
        data = data.set_index("table").reindex(tables)
        p, low, high = (data[c].to_numpy(dtype=float) for c in ("p", "low", "high"))
        errors = np.clip(np.vstack([p - low, high - p]), 0.0, None)
        ax.errorbar(
            p, y - offset, xerr=errors, fmt=marker, color=color, ecolor="0.35", capsize=4, label=label
        )
    if len(estimates) == 1:
        for yi, (pi, lo, hi) in enumerate(zip(p, low, high, strict=True)):
            ax.annotate(
                f"{percent(pi)} ({percent(lo)}-{percent(hi)})",
                (hi, yi),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
            )
        ax.set_xlim(0, 1.25)
    else:
        ax.set_xlim(-0.02, 1.02)
        ax.legend(fontsize="small", loc="lower left")
    ax.set_yticks(y, tables)
    ax.set_ylim(len(tables) - 0.3, -0.7)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
    ax.grid(axis="x", alpha=0.3)
    return ax


def agreed_terms_chart(
    results: Results, scenario: Scenario, table: str, point: int | None = None, scope: str = ""
) -> tuple[Figure, np.ndarray]:
    """Histograms of the agreed value of each issue at one table, among the runs with a deal.

    The x axis spans the issue's range at the table, in its real unit; a dashed line marks the
    status quo, so the histogram shows how far deals move it.

    Args:
        results: The results table, or its digest.
        scenario: The batch's scenario (issue names, units, ranges, status quo).
        table: The table id.
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its array of axes (one per issue on the table).
    """
    results = as_digest(results, point, scenario=scenario)
    rows = results.select(point)
    deals = int(rows.counts.loc[rows.counts["table"] == table, "deals"].sum())
    mine = (rows.moves["table"] == table).to_numpy()
    on_table = set(rows.moves.loc[mine, "issue"])
    issues = [i for i in rows.issues if i in on_table]
    ncols = 2 if len(issues) > 2 else max(1, len(issues))
    nrows = max(1, math.ceil(len(issues) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.6 * ncols, 2.6 * nrows + 1.0), layout="constrained", squeeze=False
    )
    for ax, issue_id in zip(axes.flat, issues, strict=False):
        draw_issue_histogram(ax, rows, scenario, table, issue_id)
        ax.legend(fontsize="x-small", loc="upper right")
    for ax in axes.flat[len(issues) :]:
        ax.set_visible(False)
    if deals == 0:
        axes.flat[0].set_visible(True)
        axes.flat[0].text(
            0.5, 0.5, "no deal in any run", ha="center", va="center", transform=axes.flat[0].transAxes
        )
    name = scenario.tables[table].name if table in scenario.tables else table
    subtitle = f"{deals:,} deals; " + (scope or scope_label(results, point))
    fig.suptitle(textwrap.fill(f"Agreed terms: {name}", 80) + "\n" + subtitle, fontsize="medium")
    return fig, axes


def draw_issue_histogram(
    ax: Axes, rows: ResultsDigest, scenario: Scenario, table: str, issue_id: str, wrap: int = 55
) -> Axes:
    """Draw the histogram of one issue's agreed values at one table, and its status quo (dashed)."""
    mine = (rows.moves["table"] == table).to_numpy()
    issue = scenario.issues[issue_id]
    low, high = scenario.issue_range(table, issue_id)
    cells = mine & (rows.moves["issue"] == issue_id).to_numpy()
    if issue.kind == "binary":
        counts = rows.binary[cells].sum(axis=0)
        ax.bar([0, 1], counts, width=0.5, color=COLORS[0])
        ax.set_xticks([0, 1], ["no (0)", "yes (1)"])
        ax.set_xlim(-0.6, 1.6)
    else:
        edges = np.linspace(low, high, digests.CHART_BINS + 1)
        counts = rows.chart_bins[cells].sum(axis=0)  # numpy.histogram's counts of the agreed values
        ax.stairs(counts, edges, fill=True, color=COLORS[0])  # one patch, not one per bin: fast
        pad = 0.02 * (high - low)
        ax.set_xlim(low - pad, high + pad)
    ax.axvline(
        scenario.status_quo(table, issue_id), color="black", linestyle="--", linewidth=1, label="status quo"
    )
    ax.set_xlabel(textwrap.fill(f"{issue.name} ({issue.unit})", wrap), fontsize="small")
    ax.set_ylabel("deals")
    return ax


def terms_overview_chart(
    results: Results, scenario: Scenario, point: int | None = None, scope: str = ""
) -> tuple[Figure, Axes]:
    """The agreed terms of every table at once: where deals put each issue within its range.

    One row per table and issue: among the runs with a deal, the 5-95% range of the agreed value (thin
    line), its quartiles (thick bar) and median (dot), on a scale from the low to the high end of the
    issue's range at the table; the status quo is a black tick; the median and the status quo are
    written beside each row in the issue's own unit. The full histograms of one table are
    :func:`agreed_terms_chart`.

    Args:
        results: The results table, or its digest.
        scenario: The batch's scenario (issue names, units, ranges, status quo).
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its axes.
    """
    results = as_digest(results, point, scenario=scenario)
    rows = results.select(point)
    data = stats.agreed_terms(rows, by=("table",))
    moves = rows.moves[["table", "issue"]].drop_duplicates()
    data = moves.merge(data, on=["table", "issue"], how="left")
    y = np.arange(len(data))[::-1]
    fig, ax = plt.subplots(figsize=(9.0, 1.4 + 0.3 * len(data)), layout="constrained")
    group = data["table"].ne(data["table"].shift()).cumsum().to_numpy()
    for g in np.unique(group)[1::2]:  # shade every other table's rows
        rows_g = y[group == g]
        ax.axhspan(rows_g.min() - 0.5, rows_g.max() + 0.5, color="0.93", zorder=0)
    labels = []
    for yi, row in zip(y, data.itertuples(index=False), strict=True):
        issue = scenario.issues[row.issue]
        low, high = scenario.issue_range(row.table, row.issue)
        span = (high - low) or 1.0
        status_quo = scenario.status_quo(row.table, row.issue)
        ax.plot([(status_quo - low) / span] * 2, [yi - 0.35, yi + 0.35], color="black", linewidth=1.5)
        labels.append(f"{row.table}: {issue.name}")
        if not row.deals or not np.isfinite(row.q50):
            ax.annotate("no deal", (1.02, yi), va="center", fontsize="x-small", color="0.4")
            continue
        scale = [(getattr(row, q) - low) / span for q in ("q05", "q25", "q50", "q75", "q95")]
        ax.plot([scale[0], scale[4]], [yi, yi], color=COLORS[0], linewidth=1)
        ax.plot([scale[1], scale[3]], [yi, yi], color=COLORS[0], linewidth=5, solid_capstyle="butt")
        ax.plot(scale[2], yi, "o", color="white", markeredgecolor=COLORS[0], ms=5)
        unit = issue.unit.split(" (")[0]
        ax.annotate(
            f"{fmt(row.q50)} {unit} (status quo {fmt(status_quo)})",
            (1.02, yi),
            va="center",
            fontsize="x-small",
            annotation_clip=False,
        )
    ax.set_yticks(y, [textwrap.shorten(label, 60) for label in labels], fontsize="x-small")
    ax.set_ylim(-0.6, len(data) - 0.4)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.5, 1], ["low end of the range", "middle", "high end"], fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(
        "agreed value among deals: median (dot), quartiles (bar), 5-95% (line); status quo (black tick);"
        "\nright: the median and the status quo in the issue's unit",
        fontsize="small",
    )
    _title(ax, "Agreed terms of every table", scope or scope_label(results, point))
    return fig, ax


def utility_overview_chart(
    results: Results, compiled: CompiledScenario, point: int | None = None, scope: str = ""
) -> tuple[Figure, np.ndarray]:
    """Every table's utility space at once (small multiples): frontier, Nash point, the agreements.

    Args:
        results: The results table, or its digest (with its sample of agreements).
        compiled: The compiled scenario the frontiers are computed for (its base parameters).
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its array of axes.
    """
    results = as_digest(results, point)
    frontiers, nash, reservation = base_frontier(compiled)
    rows = results.select(point)
    n_parties = dict(zip(compiled.table_ids, compiled.n_parties.tolist(), strict=True))
    tables = [table for table in rows.tables if n_parties.get(table, 2) == 2]
    wide = [table for table in rows.tables if n_parties.get(table, 2) > 2]
    ncols = min(4, max(len(tables), 1))
    nrows = max(1, math.ceil(len(tables) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols + 0.4, 3.1 * nrows + 1.0), squeeze=False)
    for ax in axes.flat[len(tables) :]:
        ax.set_visible(False)
    for ax, table in zip(axes.flat, tables, strict=False):
        t = compiled.table_ids.index(table)
        parties = tuple(compiled.actor_ids[a] for a in compiled.parties[t])
        draw_cloud(ax, cloud_sample(rows, table, OVERVIEW_DOTS), size=6)
        draw_bargaining_set(ax, frontiers[t], reservation[t], nash[t], (parties[0], parties[1]))
        counts = rows.counts[rows.counts["table"] == table]
        ax.set_title(f"{table}: {int(counts['deals'].sum()):,} deals", fontsize="small")
        ax.xaxis.label.set_fontsize("x-small")
        ax.yaxis.label.set_fontsize("x-small")
        ax.tick_params(labelsize="x-small")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    skipped = f" (not shown, more than two parties: {', '.join(wide)})" if wide else ""
    fig.suptitle(
        f"Utility space of every table of two{skipped}: agreements (dots), Pareto frontier, Nash point and "
        "reservation lines\n" + (scope or scope_label(results, point)),
        fontsize="medium",
    )
    fig.subplots_adjust(
        left=0.06, right=0.99, top=1 - 0.8 / fig.get_figheight(), bottom=0.06, hspace=0.45, wspace=0.3
    )
    return fig, axes


def issue_movement_chart(results: Results, point: int | None = None, scope: str = "") -> tuple[Figure, Axes]:
    """Probability that each issue moves off its status quo, per table, with 95% Wilson whiskers.

    Args:
        results: The results table, or its digest.
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its axes.
    """
    results = as_digest(results, point)
    data = stats.issue_movement(results.select(point), by=("table",))
    y = np.arange(len(data))[::-1]
    fig, ax = plt.subplots(figsize=(8.0, 1.6 + 0.3 * len(data)), layout="constrained")
    group = data["table"].ne(data["table"].shift()).cumsum().to_numpy()
    for g in np.unique(group)[1::2]:  # shade every other table's rows
        rows = y[group == g]
        ax.axhspan(rows.min() - 0.5, rows.max() + 0.5, color="0.93", zorder=0)
    errors = np.clip(np.vstack([data["p"] - data["low"], data["high"] - data["p"]]), 0.0, None)
    ax.errorbar(data["p"], y, xerr=errors, fmt="o", color=COLORS[1], ecolor="0.35", capsize=3, ms=5)
    for yi, row in zip(y, data.itertuples(), strict=True):
        ax.annotate(
            percent(row.p),
            (row.high, yi),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize="x-small",
        )
    ax.set_yticks(y, [f"{row.table}: {row.issue}" for row in data.itertuples()], fontsize="small")
    ax.set_xlim(0, 1.15)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
    ax.set_ylim(-0.6, len(data) - 0.4)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(
        "probability that a deal moves the issue off its status quo\n"
        "(dot) with 95% Wilson interval (whiskers)"
    )
    _title(ax, "Issue moves per table", scope or scope_label(results, point))
    return fig, ax


def time_to_deal_chart(results: Results, point: int | None = None, scope: str = "") -> tuple[Figure, Axes]:
    """Cumulative probability of a deal by round, one step line per table.

    Args:
        results: The results table, or its digest.
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its axes.
    """
    results = as_digest(results, point)
    data = stats.time_to_deal(results.select(point), by=("table",))
    fig, ax = plt.subplots(figsize=(9.0, 5.0), layout="constrained")
    for i, (table, group) in enumerate(data.groupby("table", sort=False)):
        color, style, _ = _style(i)
        ax.step(group["round"], group["p"], where="post", color=color, linestyle=style, label=table)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round")
    ax.set_ylabel("probability of a deal by this round")
    ax.grid(alpha=0.3)
    ax.legend(title="table", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _title(
        ax, "Time to deal: cumulative probability of a deal by round", scope or scope_label(results, point)
    )
    return fig, ax


def base_frontier(compiled: CompiledScenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pareto frontier, Nash point and reservation values of every table at the base parameters.

    Args:
        compiled: The compiled scenario (or design point).

    Returns:
        The (T, m, 2) frontier vertices, the (T, 2) Nash points (NaN where no point beats both
        reservations) and the (T, 2) reservation utilities, in table order.
    """
    one_run = {name: np.asarray(array)[None] for name, array in compiled.base.items()}
    derived, reservation = derive(compiled, one_run)
    frontiers = pareto_frontier(derived.weights, derived.ideal, derived.curvature[..., 0])
    return frontiers, nash_point(frontiers, reservation), reservation


def utility_space_chart(
    results: Results, compiled: CompiledScenario, table: str, point: int | None = None, scope: str = ""
) -> tuple[Figure, Axes]:
    """One table's utility space: Pareto frontier, Nash point and the cloud of agreements.

    The frontier, Nash point and reservation lines are those of ``compiled`` at its base parameters
    (for a design point, compile it with the point's overrides); each dot is one run's agreement.

    Args:
        results: The results table, or its digest.
        compiled: The compiled scenario the frontier is computed for.
        table: The table id.
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown (default: :func:`scope_label`).

    Returns:
        The figure and its axes.
    """
    t = compiled.table_ids.index(table)
    if compiled.n_parties[t] > 2:
        raise ValueError(
            f"{table} has {compiled.n_parties[t]} parties: a two-sided utility space cannot show it"
        )
    parties = [compiled.actor_ids[a] for a in compiled.parties[t]]
    frontiers, nash, reservation = base_frontier(compiled)
    results = as_digest(results, point)
    if table not in results.cloud:
        raise ValueError("the digest has no sample of agreements (read_digest(..., sample_cloud=False))")
    if results.cloud_point is not None and results.cloud_point != point:
        raise ValueError(f"the digest sampled agreements at design point {results.cloud_point}, not {point}")
    counts = results.select(point).counts
    counts = counts[counts["table"] == table]
    runs, deals = int(counts["n"].sum()), int(counts["deals"].sum())
    fig, ax = plt.subplots(figsize=(6.2, 6.0), layout="constrained")
    shown = cloud_sample(results.select(point), table, MAX_DOTS)
    label = f"agreements ({deals:,} of {runs:,} runs"
    label += f"; {len(shown):,} shown)" if len(shown) < deals else ")"
    draw_cloud(ax, shown, size=10, label=label)
    draw_bargaining_set(ax, frontiers[t], reservation[t], nash[t], (parties[0], parties[1]))
    if deals:
        mean = counts[["deal_utility_0_sum", "deal_utility_1_sum"]].sum().to_numpy() / deals
        ax.plot(*mean, "*", color=COLORS[3], markersize=14, markeredgecolor="black", label="mean agreement")
    ax.grid(alpha=0.25)
    ax.legend(fontsize="small", loc="lower left")
    _title(ax, f"Utility space: {table}", scope or scope_label(results, point))
    return fig, ax


def draw_cloud(ax: Axes, shown: pd.DataFrame, size: float, label: str | None = None) -> Axes:
    """Draw agreements as dots in utility space, fainter the more there are (rasterised in SVG)."""
    alpha = float(np.clip(40.0 / max(len(shown), 1), 0.04, 0.7))
    ax.scatter(
        shown["utility_0"],
        shown["utility_1"],
        s=size,
        alpha=alpha,
        color=COLORS[0],
        linewidths=0,
        rasterized=True,
        label=label,
    )
    return ax


def cloud_sample(results: ResultsDigest, table: str, count: int) -> pd.DataFrame:
    """The ``count`` sampled agreements of a table with the smallest (replication, point), in point order."""
    cloud = results.cloud.get(table)
    if cloud is None or not len(cloud):
        return pd.DataFrame({"point": [], "replication": [], "utility_0": [], "utility_1": []})
    first = np.lexsort((cloud["point"].to_numpy(), cloud["replication"].to_numpy()))[:count]
    return cloud.iloc[np.sort(first)]


def short_path(path: str, parts: int = 2) -> str:
    """The last parts of a parameter path: 'actors.china.resolve' -> 'china.resolve'."""
    return ".".join(path.split(".")[-parts:])


def wrap_path(path: str, width: int = 50) -> str:
    """Wrap a long dotted parameter path at dots so that no line is wider than ``width``."""
    lines, line = [], ""
    for part in path.split("."):
        piece = part if not line else "." + part
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = part
        else:
            line += piece
    lines.append(line)
    return "\n.".join(lines)


def percent(p: float) -> str:
    """A probability as a percentage: whole percent, one decimal near 0 and 1 (99.5%, not 100%)."""
    return f"{p:.1%}" if 0 < p < 0.01 or 0.99 < p < 1 else f"{p:.0%}"


def fmt(value: Any) -> str:
    """A parameter value, short: 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, int | float | np.number) else str(value)


def _style(i: int) -> tuple[Any, str, str]:
    """Colour, line style and marker of the i-th table: distinct for up to 40 tables."""
    return (
        COLORS[i % len(COLORS)],
        LINESTYLES[(i // len(COLORS)) % len(LINESTYLES)],
        MARKERS[i % len(MARKERS)],
    )


def _title(ax: Axes, title: str, subtitle: str) -> None:
    """A bold title with a smaller subtitle line under it."""
    ax.figure.suptitle(title, fontweight="bold")
    ax.set_title(textwrap.fill(subtitle, 90), fontsize="small")
