"""Which charts a batch gets, with captions, and writing them to ``OUTDIR/charts`` as PNG and SVG.

The charts depend on the design (the number of varied parameters in the metadata):

- none (a baseline): every chart over all runs;
- one (a sweep): deal probability against the parameter, and the per-table charts at design point 0;
- two (a grid): a heatmap per table, and the per-table charts at design point 0;
- three or more (a sampled study such as a Latin hypercube): a sensitivity heatmap, deal probability
  against the most influential parameters, and the per-table charts over the whole sample pooled.

The per-table charts are the deal probabilities, the time to deal, the agreed terms of each table
and the utility space of each table.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from negotiation.atomic import make_folder, write_atomic
from negotiation.charts import batch_charts as plots
from negotiation.model import prepare
from negotiation.scenario.schema import Scenario
from negotiation.stats import summary as stats
from negotiation.stats.digest import ResultsDigest

CHARTS_DIR = "charts"
FORMATS = ("png", "svg")
DPI = 110
TOP_PARAMETERS = 4
"""In a sampled study, draw deal probability against this many of the most influential parameters."""


@dataclass(frozen=True)
class Chart:
    """One chart of a batch: its file name, what it shows, and how to draw it."""

    name: str
    """File stem inside ``charts/`` (``<name>.png`` and ``<name>.svg``)."""
    title: str
    """Heading in the report."""
    caption: str
    """What the chart shows and how to read it, one paragraph."""
    draw: Callable[[], tuple[Figure, Any]]
    """Draws the chart and returns (figure, axes)."""


def slug(text: str) -> str:
    """A file-name-safe form: 'actors.china.resolve' -> 'actors-china-resolve'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def focus_point(points: pd.Series, parameters: list[str]) -> int | None:
    """The design point the per-table charts show: the first of a sweep or grid, else None (pool).

    Args:
        points: The design-point indices present (a column of results, or of a digest's points).
        parameters: The varied parameter paths.
    """
    if len(parameters) in (1, 2):
        return int(points.min())
    return None


def cloud_scope(parameters: list[str]) -> str | None:
    """Which agreements :func:`negotiation.stats.digest.read_digest` samples for these charts."""
    return "first" if len(parameters) in (1, 2) else None


def point_parameters(metadata: dict[str, Any], results: ResultsDigest, point: int) -> dict[str, Any]:
    """The varied parameter values of one design point (from the metadata, else the results)."""
    for entry in metadata.get("points", []):
        if entry.get("point") == point and isinstance(entry.get("parameters"), dict):
            return dict(entry["parameters"])
    rows = results.points[results.points["point"] == point]
    return {p: rows[p].iloc[0] for p in results.parameters if len(rows)}


def plan_charts(
    results: pd.DataFrame | ResultsDigest, metadata: dict[str, Any], scenario: Scenario
) -> list[Chart]:
    """Every chart this batch gets, in report order.

    Args:
        results: The results table, or its digest (with the parameters of the metadata, and the
            utility cloud sampled as :func:`cloud_scope` says).
        metadata: The batch metadata (its ``parameters`` decide the design charts).
        scenario: The batch's resolved base scenario.

    Returns:
        The charts, not yet drawn.
    """
    if isinstance(results, pd.DataFrame):
        parameters = [p for p in metadata.get("parameters", []) if p in results.columns]
        point = focus_point(results["point"], parameters)
        results = ResultsDigest.from_frame(results, parameters, scenario, cloud_point=point)
    else:
        parameters = [p for p in metadata.get("parameters", []) if p in results.parameters]
        point = focus_point(results.points["point"], parameters)
    values = point_parameters(metadata, results, point) if point is not None else {}
    scope = plots.scope_label(results, point, values)
    pooled = " pooled over every design point" if point is None and len(results.points) > 1 else ""
    interval = "95% Wilson score interval"
    charts = [
        Chart(
            "deal-probability",
            "Deal probability per table",
            f"The share of runs that ended in a deal at each table ({scope}); whiskers are the {interval}.",
            lambda: plots.deal_probability_chart(results, point, scope),
        )
    ]
    charts += _design_charts(results, parameters)
    charts.append(
        Chart(
            "issue-moves",
            "Issue moves per table",
            f"For each issue on each table, the probability that a run ends in a deal that moves the issue "
            f"off its status quo (e.g. China easing rare-earth controls), with the {interval} ({scope}). "
            "It is at most the table's deal probability: a run without a deal moves nothing.",
            lambda: plots.issue_movement_chart(results, point, scope),
        )
    )
    charts.append(
        Chart(
            "time-to-deal",
            "Time to deal",
            f"Cumulative probability that a table has reached a deal by each round ({scope}). The curve "
            "ends at the table's deal probability; runs that end without a deal never count.",
            lambda: plots.time_to_deal_chart(results, point, scope),
        )
    )
    compiled = prepare(scenario, values) if values else prepare(scenario, {})
    for table in results.tables:
        charts.append(
            Chart(
                f"terms-{slug(table)}",
                f"Agreed terms: {table}",
                f"Histograms of the value each issue takes in the runs that reached a deal at {table} "
                f"({scope}), in the issue's real unit over its range at the table; the dashed line "
                "is the status quo that holds without a deal.",
                lambda table=table: plots.agreed_terms_chart(results, scenario, table, point, scope),
            )
        )
    for table in results.tables:
        frontier_at = "design point's" if values else "scenario's base"
        charts.append(
            Chart(
                f"utility-{slug(table)}",
                f"Utility space: {table}",
                f"Each dot is one run's agreement at {table} in utility space (utility to each party, "
                f"0-1; {scope}{pooled}). The Pareto frontier, Nash point and reservation lines are "
                f"computed at the {frontier_at} parameters; uncertain parameters drawn in each run can "
                "put single agreements off that frontier.",
                lambda table=table: plots.utility_space_chart(results, compiled, table, point, scope),
            )
        )
    return charts


def _design_charts(results: ResultsDigest, parameters: list[str]) -> list[Chart]:
    """The charts of the varied parameters: sweep lines, heatmaps, or sensitivity for a sample."""
    interval = "95% Wilson score interval"
    if len(parameters) == 1:
        (parameter,) = parameters
        return [
            Chart(
                f"sweep-{slug(parameter)}",
                f"Sweep over {parameter}",
                f"Deal probability of each table at each value of {parameter}; the band is the {interval}. "
                "Every value uses the same replication seeds, so differences between values are paired.",
                lambda: plots.parameter_effect_chart(results, parameter),
            )
        ]
    if len(parameters) == 2:
        return [
            Chart(
                "heatmap",
                f"Grid over {parameters[0]} and {parameters[1]}",
                f"Deal probability of each table at each combination of {parameters[0]} (x) and "
                f"{parameters[1]} (y); grey cells have no runs.",
                lambda: plots.heatmap_chart(results, parameters),
            )
        ]
    if not parameters:
        return []
    effect = stats.sensitivity(results, parameters)
    strongest = effect.abs().max(axis=0).fillna(0).sort_values(ascending=False, kind="stable")
    charts = [
        Chart(
            "sensitivity",
            "Sensitivity to each sampled parameter",
            "For each table and parameter, the deal probability among runs in the top third of the "
            "parameter's sampled values minus that in the bottom third, in percentage points (a main "
            "effect, averaged over the other parameters). Blue: a higher value makes a deal likelier.",
            lambda: plots.sensitivity_chart(results, parameters),
        )
    ]
    for parameter in list(strongest.index[:TOP_PARAMETERS]):
        charts.append(
            Chart(
                f"effect-{slug(parameter)}",
                f"Deal probability against {parameter}",
                f"Runs grouped by the sampled value of {parameter} (one of the {TOP_PARAMETERS} most "
                f"influential parameters), averaged over the others; the band is the {interval}.",
                lambda parameter=parameter: plots.parameter_effect_chart(results, parameter),
            )
        )
    return charts


def write_chart(chart: Chart, folder: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Draw one chart and write it atomically in every format.

    Args:
        chart: The chart.
        folder: The charts folder (must exist).
        formats: File formats (matplotlib names).

    Returns:
        The files written, in ``formats`` order.
    """
    fig, _ = chart.draw()

    def save(tmp: Path, fmt: str) -> None:
        with plt.rc_context({"svg.hashsalt": chart.name}):  # stable ids: same results, same file
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_file_metadata(fmt))
        # the first format laid the figure out; the others keep that layout instead of redoing it
        fig.set_layout_engine("none")

    try:
        return [
            write_atomic(folder / f"{chart.name}.{fmt}", lambda tmp, fmt=fmt: save(tmp, fmt))
            for fmt in formats
        ]
    finally:
        plt.close(fig)


def render_png(chart: Chart) -> bytes:
    """Draw one chart and return it as PNG bytes, writing no file."""
    fig, _ = chart.draw()
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata=_file_metadata("png"))
        return buffer.getvalue()
    finally:
        plt.close(fig)


def write_charts(outdir: Path, charts: list[Chart], formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write every chart into ``OUTDIR/charts`` (created if missing).

    Returns:
        The files written.
    """
    folder = make_folder(Path(outdir) / CHARTS_DIR)
    return [path for chart in charts for path in write_chart(chart, folder, formats)]


def _file_metadata(fmt: str) -> dict[str, Any]:
    """File metadata without a creation date, so re-rendering identical results gives identical files."""
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}
