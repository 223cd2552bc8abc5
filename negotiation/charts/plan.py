"""Which charts a batch gets, with captions, and rendering them to ``OUTDIR/charts``.

The charts depend on the design (:func:`negotiation.stats.effects.design_kind`):

- one design point (a baseline): deal probabilities, issue moves, time to deal, agreed terms and
  utility space of every table (the last two as small multiples, one panel per table), over all runs;
- a sweep (one parameter, a list of values): deal probability, time to deal and agreed terms against
  the parameter, at every value that was run;
- a grid (two parameters, every combination): per table, heatmaps of the deal probability and of its
  interval's half-width at every cell, and the difference from the cell nearest the scenario's values;
- a sampled design (Latin hypercube, Sobol, random): each parameter's effect on each table from one
  regression over every parameter, partial dependence curves of the parameters with clear effects,
  then the per-table charts over the whole sample pooled (the probability over the sampled
  uncertainty).

Tables that the varied parameters cannot reach by the scenario's structure are named on the charts
rather than drawn. Charts are PNG files; SVG copies only when asked for (``svg`` in the outputs).
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from negotiation.atomic import make_folder, write_atomic
from negotiation.bargaining.reach import tables_reached
from negotiation.charts import batch_charts as plots
from negotiation.charts import bloc_charts, design_charts
from negotiation.model import prepare
from negotiation.scenario.paths import get_value
from negotiation.scenario.schema import Scenario
from negotiation.stats import designs
from negotiation.stats.digest import ResultsDigest
from negotiation.stats.effects import design_kind, parameter_effects, partial_dependence

CHARTS_DIR = "charts"
FORMATS = ("png",)
"""Formats written by default; ``svg`` is added when the outputs ask for it."""
DPI = 110
TOP_PARAMETERS = 4
"""In a sampled study, draw partial dependence for at most this many parameters with clear effects."""
INTERVAL = "95% Wilson score interval"


@dataclass(frozen=True)
class Chart:
    """One chart of a batch: its file name, what it shows, and how to draw it (picklable)."""

    name: str
    """File stem inside ``charts/`` (``<name>.png``)."""
    title: str
    """Heading in the report."""
    caption: str
    """What the chart shows and how to read it, one paragraph."""
    function: Callable[..., tuple[Figure, Any]]
    """A module-level chart function."""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def draw(self) -> tuple[Figure, Any]:
        """Draw the chart and return (figure, axes)."""
        return self.function(*self.args, **self.kwargs)


def slug(text: str) -> str:
    """A file-name-safe form: 'actors.china.resolve' -> 'actors-china-resolve'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def cloud_scope(parameters: list[str]) -> str | None:
    """Which agreements :func:`negotiation.stats.digest.read_digest` samples: every design point's."""
    return None


def reach_of(scenario: Scenario, parameters: list[str]) -> dict[str, list[str]]:
    """Per table, the varied parameters that can reach it (by the scenario's structure)."""
    reach: dict[str, list[str]] = {t: [] for t in scenario.tables}
    for parameter in parameters:
        for table in tables_reached(scenario, parameter):
            reach[table].append(parameter)
    return reach


def plan_charts(
    results: pd.DataFrame | ResultsDigest, metadata: dict[str, Any], scenario: Scenario
) -> list[Chart]:
    """Every chart this batch gets, in report order.

    Args:
        results: The results table, or its digest (with the parameters of the metadata, and the
            utility cloud sampled from every point).
        metadata: The batch metadata (its ``parameters`` decide the design charts).
        scenario: The batch's resolved base scenario.

    Returns:
        The charts, not yet drawn.
    """
    if isinstance(results, pd.DataFrame):
        parameters = [p for p in metadata.get("parameters", []) if p in results.columns]
        results = ResultsDigest.from_frame(results, parameters, scenario)
    else:
        parameters = [p for p in metadata.get("parameters", []) if p in results.parameters]
    kind = design_kind(results.points, parameters)
    if kind == "sweep":
        return _sweep_charts(results, parameters[0], scenario) + _bloc_charts(results, scenario)
    if kind == "grid":
        return _grid_charts(results, parameters, scenario) + _bloc_charts(results, scenario)
    charts = _sampled_charts(results, parameters, scenario) if kind == "sampled" else []
    return (
        charts + _table_charts(results, scenario, pooled=kind == "sampled") + _bloc_charts(results, scenario)
    )


def _bloc_charts(results: ResultsDigest, scenario: Scenario) -> list[Chart]:
    """The bloc chart, when the results hold a table of a bloc's member (every design point pooled)."""
    if not len(results.bloc_members) or not bloc_charts.bloc_tables_present(results, scenario):
        return []
    scope = plots.scope_label(results, None)
    return [
        Chart(
            "bloc",
            "The bloc: defection, membership and common position",
            f"Left: the share of runs in which each member left the bloc ({scope}), by signing a deal with "
            f"a non-member before the bloc's close or by its own drawn propensity, with the {INTERVAL}. "
            "Middle: the share of runs in which each member is still in the bloc at the start of each "
            "round. Right: the distribution of the common position at the end of the runs (over the members "
            "still in the bloc); runs in which no common position holds (consensus out of reach, or every "
            "member gone) are not in it.",
            bloc_charts.bloc_chart,
            (results, None, scope),
        )
    ]


def _split(results: ResultsDigest, scenario: Scenario, parameters: list[str]) -> tuple[list[str], list[str]]:
    reached = set(tables_reached(scenario, parameters))
    tables = [t for t in results.tables if t in reached]
    return tables, [t for t in results.tables if t not in reached]


def _sweep_charts(results: ResultsDigest, parameter: str, scenario: Scenario) -> list[Chart]:
    tables, unreachable = _split(results, scenario, [parameter])
    out = " Tables the parameter cannot reach are named under the chart, not drawn." if unreachable else ""
    return [
        Chart(
            f"sweep-{slug(parameter)}",
            f"Deal probability across the sweep of {parameter}",
            f"Deal probability of each table at every value of {parameter} that was run; the band is "
            f"the {INTERVAL}. Every value uses the same replication seeds, so differences between "
            f"values are paired.{out}",
            design_charts.sweep_chart,
            (results, parameter, tables, unreachable),
        ),
        Chart(
            f"sweep-rounds-{slug(parameter)}",
            "Time to deal across the sweep",
            f"The round in which deals are made at each value of {parameter}: median (line) and "
            f"quartiles (band), among the runs with a deal.{out}",
            design_charts.sweep_rounds_chart,
            (results, parameter, tables, unreachable),
        ),
        Chart(
            f"sweep-terms-{slug(parameter)}",
            "Agreed terms across the sweep",
            f"Median agreed value of each issue (line) and its quartiles (band) among deals, at each "
            f"value of {parameter}, in the issue's unit; the dashed line is the status quo.{out}",
            design_charts.sweep_terms_chart,
            (results, parameter, scenario, tables, unreachable),
        ),
    ]


def _grid_charts(results: ResultsDigest, parameters: list[str], scenario: Scenario) -> list[Chart]:
    tables, unreachable = _split(results, scenario, parameters)
    base = {p: get_value(scenario, p) for p in parameters}
    baseline = designs.baseline_point(results.points, parameters, base)
    px, py = parameters
    out = " Tables neither parameter can reach are named under the chart, not drawn." if unreachable else ""
    return [
        Chart(
            "grid",
            f"Grid over {px} and {py}",
            f"Per table: the deal probability at every combination of {px} (x) and {py} (y) that was "
            f"run, and beside it the half-width of its {INTERVAL} (how sure each cell is); grey cells "
            f"have no runs.{out}",
            design_charts.grid_chart,
            (results, parameters, tables, unreachable),
        ),
        Chart(
            "grid-difference",
            "Difference from the baseline cell",
            "Per table: each cell's deal probability minus that of the outlined cell, the design point "
            "nearest the scenario's own values, in percentage points. Hatched cells: the difference's "
            f"95% interval (Newcombe) contains zero.{out}",
            design_charts.grid_difference_chart,
            (results, parameters, tables, baseline, unreachable),
        ),
    ]


def _sampled_charts(results: ResultsDigest, parameters: list[str], scenario: Scenario) -> list[Chart]:
    reach = reach_of(scenario, parameters)
    effects = parameter_effects(results, parameters, reach)
    charts = [
        Chart(
            "effects",
            "Effect of each sampled parameter",
            "For each parameter (full path) and table: the change in deal probability from the "
            "parameter's lowest to its highest sampled value, averaged over the other parameters, from "
            "one logistic regression of every table's deal counts on every sampled parameter at once "
            "(so chance correlations between sampled columns do not show up as effects), with a 95% "
            "interval robust to the regression's misfit. 'out of reach': the scenario's structure rules "
            "out any effect there.",
            design_charts.effects_chart,
            (effects, results.tables, results.runs),
        )
    ]
    clear = effects[effects["significant"]]
    strongest = clear.assign(size=clear["effect"].abs()).groupby("parameter")["size"].max()
    for parameter in strongest.sort_values(ascending=False, kind="stable").index[:TOP_PARAMETERS]:
        unreachable = [t for t in results.tables if parameter not in reach.get(t, [])]
        curves = partial_dependence(results, parameter, parameters, reach)
        charts.append(
            Chart(
                f"partial-{slug(parameter)}",
                f"Deal probability against {parameter}",
                f"Partial dependence on {parameter}: the regression's mean deal probability with the "
                "parameter set to each value over its sampled range, averaged over the sampled values "
                "of the others; the band is a pointwise 95% interval.",
                design_charts.partial_dependence_chart,
                (curves, parameter, unreachable),
            )
        )
    return charts


def _table_charts(results: ResultsDigest, scenario: Scenario, pooled: bool) -> list[Chart]:
    """The per-table charts over every run (pooled over the design points of a sampled design)."""
    scope = plots.scope_label(results, None)
    if pooled:
        scope += " (the probability over the sampled uncertainty)"
    charts = [
        Chart(
            "deal-probability",
            "Deal probability per table",
            f"The share of runs that ended in a deal at each table ({scope}); whiskers are the {INTERVAL}.",
            plots.deal_probability_chart,
            (results, None, scope),
        ),
        Chart(
            "issue-moves",
            "Issue moves per table",
            f"For each issue on each table, the probability that a run ends in a deal that moves the issue "
            f"off its status quo (e.g. China easing rare-earth controls), with the {INTERVAL} ({scope}). "
            "It is at most the table's deal probability: a run without a deal moves nothing.",
            plots.issue_movement_chart,
            (results, None, scope),
        ),
        Chart(
            "time-to-deal",
            "Time to deal",
            f"Cumulative probability that a table has reached a deal by each round ({scope}). The curve "
            "ends at the table's deal probability; runs that end without a deal never count.",
            plots.time_to_deal_chart,
            (results, None, scope),
        ),
    ]
    charts.append(
        Chart(
            "terms",
            "Agreed terms",
            f"For each table (a row) and each issue on it, the histogram of the value the issue takes in the "
            f"runs that reached a deal ({scope}), in the issue's real unit over its range at the table; the "
            "dashed line is the status quo that holds without a deal.",
            plots.terms_overview_chart,
            (results, scenario, None, scope),
        )
    )
    charts.append(
        Chart(
            "utility",
            "Utility space",
            f"For each table, each dot is one run's agreement in utility space (utility to each party, 0-1; "
            f"{scope}; at most {plots.OVERVIEW_DOTS:,} dots per table). The Pareto frontier (line), Nash "
            "point (diamond) and reservation lines (dotted) are computed at the scenario's base parameters; "
            "uncertain parameters drawn in each run can put single agreements off that frontier. Tables of "
            "more than two parties are not drawn (their utility space has a dimension per party); their deal "
            "probability, terms and time to deal are in the other charts.",
            plots.utility_overview_chart,
            (results, prepare(scenario, {}), None, scope),
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


def _render(chart: Chart, folder: Path | None, formats: tuple[str, ...]) -> bytes:
    """Draw one chart: write its files into ``folder`` (None: none) and return its PNG bytes."""
    if folder is None:
        return render_png(chart)
    paths = write_chart(chart, folder, formats)
    return paths[0].read_bytes() if formats[0] == "png" else render_png(chart)


def render_charts(
    charts: list[Chart], folder: Path | None, formats: tuple[str, ...] = FORMATS, progress: bool = True
) -> Iterator[tuple[Chart, bytes]]:
    """Draw charts one after the other, with a progress line on stderr, and yield them in order.

    In this process: on two cores, worker processes would spend as long importing matplotlib as they
    save (measured, benchmark F in ``benchmarks/bench.py``); a batch gets few, cheap charts instead.

    Args:
        charts: The charts.
        folder: Write each chart's files here (None: draw in memory only, for the report).
        formats: File formats to write (PNG first).
        progress: Show a progress line on stderr while the charts render.

    Yields:
        Each chart with its PNG bytes, in the order given.
    """
    bar = _progress(len(charts), progress)
    try:
        for chart in charts:
            bar.set_postfix_str(chart.name)
            png = _render(chart, folder, formats)
            bar.update(1)
            yield chart, png
    finally:
        bar.close()


def write_charts(outdir: Path, charts: list[Chart], formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write every chart into ``OUTDIR/charts`` (created if missing).

    Returns:
        The files written.
    """
    folder = make_folder(Path(outdir) / CHARTS_DIR)
    return [path for chart in charts for path in write_chart(chart, folder, formats)]


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="charts",
        unit="chart",
        disable=None if enabled else True,
        file=sys.stderr,
        leave=False,
    )


def _file_metadata(fmt: str) -> dict[str, Any]:
    """File metadata without a creation date, so re-rendering identical results gives identical files."""
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}
