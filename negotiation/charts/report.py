"""The outputs of a batch folder: summary.csv, summary.md, charts/ and a self-contained report.html.

:func:`write_outputs` reads only what the batch saved (results, metadata, scenario), so the batch
runner calls it at the end and ``negotiation plot OUTDIR`` calls it again without re-running
anything. It streams the results once into a :class:`~negotiation.stats.digest.ResultsDigest`, so its
memory does not grow with the number of runs, and draws few charts, showing a progress line.
Every file is written atomically: a reader never sees half of one. The folder is locked while the
results are read and the outputs written (a second writer is refused), and temporary files that an
earlier, killed writer left are removed first.

The report page is the Jinja2 template ``templates/report.html.j2`` (its layout in one place): the
headline findings first, then the experiment, the pivot of the design (parameter values by tables,
or each sampled parameter's effect), the summary table and the charts. It embeds every chart, needs
no network, reads on a 390-pixel phone, and opens a chart full size when it is clicked.
"""

from __future__ import annotations

import base64
import html
import math
import struct
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from negotiation.atomic import make_folder, remove_debris, write_atomic, write_text_atomic
from negotiation.batch.reader import load_metadata, load_scenario_json, output_folder
from negotiation.charts.bloc_charts import bloc_tables_present
from negotiation.charts.plan import (
    CHARTS_DIR,
    Chart,
    cloud_scope,
    plan_charts,
    reach_of,
    render_charts,
)
from negotiation.errors import ExperimentError
from negotiation.folders import hold_folder
from negotiation.scenario.paths import get_value
from negotiation.scenario.schema import Scenario
from negotiation.stats import designs
from negotiation.stats.digest import ResultsDigest, read_digest
from negotiation.stats.effects import design_kind, parameter_effects
from negotiation.stats.summary import bloc_table, deal_probability, issue_table, summary_table

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
ISSUES_CSV = "issues.csv"
BLOCS_CSV = "blocs.csv"
"""Defection rates per bloc member (written only for a scenario with a bloc)."""
REPORT_HTML = "report.html"
REPORT_ROWS = 400
"""Most summary rows shown in report.html (summary.csv always has them all)."""

OUTPUTS = ("summary", "charts", "report", "svg")
"""Every output :func:`write_outputs` can write (``svg``: SVG copies of the charts as well)."""

PERCENT_COLUMNS = ("deal_probability", "deal_low", "deal_high", "walkout_share", "deadline_share")
HEADLINE_TABLES = 3
"""Tables named among the most and the least likely to settle, and movers listed."""


def write_outputs(
    outdir: str | Path, outputs: Iterable[str] | None = None, progress: bool = True
) -> list[Path]:
    """Write the summary, the charts and the report of a batch output folder from its saved results.

    Args:
        outdir: The batch output folder (``metadata.json``, ``scenario.json``, ``results/``).
        outputs: Which of "summary" (summary.csv, summary.md, issues.csv), "charts" (charts/*.png),
            "svg" (charts/*.svg too) and "report" (report.html) to write; default: the metadata's
            ``outputs``, else summary, charts and report. A report without "charts" still embeds
            every chart, drawn in memory.
        progress: Show a progress line on stderr while the charts render.

    Returns:
        The files written, in this order: summary.csv, summary.md, issues.csv, every chart (PNG
        then SVG), report.html.

    Raises:
        ExperimentError: The folder, its metadata, scenario or results are missing, invalid or
            damaged, or an output is unknown.
        FolderBusyError: Another process is writing into the folder.
        FileSystemError: A file cannot be written (a full disk, no permission, ...); files already
            there are left whole (each is either the old or the new one).
    """
    folder = output_folder(outdir)
    metadata = load_metadata(folder)
    default = ("summary", "charts", "report")
    wanted = _wanted(outputs if outputs is not None else metadata.get("outputs", default), folder)
    scenario = load_scenario_json(folder)
    parameters = metadata["parameters"]
    drawn = bool({"charts", "report", "svg"} & wanted)
    with hold_folder(folder):  # no batch repairs the chunks while they are read, no other writer
        for place in (folder, folder / CHARTS_DIR):
            remove_debris(place)
        results = read_digest(folder, scenario, parameters, cloud_scope(parameters), sample_cloud=drawn)
        summary = summary_table(results, metadata)
        design = Design(results, metadata, scenario)
        charts = plan_charts(results, metadata, scenario) if drawn else []
        return _write(folder, wanted, metadata, scenario, results, summary, design, charts, progress)


def _write(
    folder: Path,
    wanted: set[str],
    metadata: dict[str, Any],
    scenario: Scenario,
    results: ResultsDigest,
    summary: pd.DataFrame,
    design: Design,
    charts: list[Chart],
    progress: bool,
) -> list[Path]:
    """Write the outputs asked for (the folder is held)."""
    written: list[Path] = []
    blocs = bloc_table(results, metadata) if bloc_tables_present(results, scenario) else pd.DataFrame()
    if "summary" in wanted:
        written.append(write_atomic(folder / SUMMARY_CSV, lambda tmp: summary.to_csv(tmp, index=False)))
        text = summary_markdown(summary, metadata, design) + bloc_markdown(blocs)
        written.append(write_text_atomic(folder / SUMMARY_MD, text))
        issues = issue_table(results, metadata)
        issues.insert(issues.columns.get_loc("issue") + 1, "unit", issues["issue"].map(_units(scenario)))
        written.append(write_atomic(folder / ISSUES_CSV, lambda tmp: issues.to_csv(tmp, index=False)))
        if len(blocs):
            written.append(write_atomic(folder / BLOCS_CSV, lambda tmp: blocs.to_csv(tmp, index=False)))
    files = bool({"charts", "svg"} & wanted)
    formats = ("png", "svg") if "svg" in wanted else ("png",)
    pictures: list[tuple[Chart, bytes]] = []
    if files or "report" in wanted:
        target = make_folder(folder / CHARTS_DIR) if files else None
        pictures = list(render_charts(charts, target, formats, progress))
        if target is not None:
            written += [target / f"{chart.name}.{fmt}" for chart, _ in pictures for fmt in formats]
    if "report" in wanted:
        report = report_html(
            metadata, scenario, summary, pictures, chart_files=files, design=design, blocs=blocs
        )
        written.append(write_text_atomic(folder / REPORT_HTML, report))
    return written


class Design:
    """What the summary and the report say about a batch's design: its kind, headline and pivot."""

    def __init__(self, results: ResultsDigest, metadata: dict[str, Any], scenario: Scenario) -> None:
        """Read the design off the digest.

        Args:
            results: The batch's digest (with the varied parameters).
            metadata: The batch metadata.
            scenario: The batch's base scenario.
        """
        self.results = results
        self.scenario = scenario
        self.parameters = [p for p in metadata.get("parameters", []) if p in results.parameters]
        self.kind = design_kind(results.points, self.parameters)
        self.reach = reach_of(scenario, self.parameters)
        reached = {t for t, params in self.reach.items() if params}
        self.reached = [t for t in results.tables if t in reached]
        self.unreachable = [t for t in results.tables if t not in reached] if self.parameters else []
        self.effects = (
            parameter_effects(results, self.parameters, self.reach) if self.kind == "sampled" else None
        )
        base = {p: get_value(scenario, p) for p in self.parameters}
        self.baseline = (
            designs.baseline_point(results.points, self.parameters, base) if self.parameters else None
        )

    def headline(self) -> list[dict[str, Any]]:
        """Blocks of the headline: a title, a note and items (one line each, with intervals)."""
        blocks = []
        if self.kind in ("sweep", "grid"):
            moved = designs.movers(self.results, self.parameters, HEADLINE_TABLES)
            items = [self._mover(row) for row in moved.to_dict("records")]
            blocks.append(
                {
                    "title": "Biggest movers across the design",
                    "note": "Each table's lowest and highest deal probability over the design points, and "
                    "the change between them with its 95% interval (Newcombe's, widened for picking the "
                    "two extremes among the points); only changes beyond the noise are listed.",
                    "items": items
                    or ["No table's deal probability changes beyond the noise across the design."],
                }
            )
        point = self.baseline if self.kind in ("sweep", "grid") else None
        data = deal_probability(self.results.select(point), by=("table",))
        ranked = data.sort_values("p", ascending=False, kind="stable")
        where = self._where(point)
        blocks.append(
            {
                "title": "Most likely to settle",
                "note": where,
                "items": [_p_line(r) for r in ranked.head(HEADLINE_TABLES).itertuples()],
            }
        )
        blocks.append(
            {
                "title": "Least likely to settle",
                "note": where,
                "items": [_p_line(r) for r in ranked.tail(HEADLINE_TABLES).iloc[::-1].itertuples()],
            }
        )
        if self.effects is not None:
            clear = self.effects[self.effects["significant"]]
            clear = clear.reindex(clear["effect"].abs().sort_values(ascending=False).index).head(
                HEADLINE_TABLES
            )
            items = [
                f"{row.parameter} on {row.table}: {100 * row.effect:+.0f} points "
                f"(95% interval {100 * row.low:+.0f} to {100 * row.high:+.0f}) from {_fmt(row.low_value)} "
                f"to {_fmt(row.high_value)}"
                for row in clear.itertuples()
            ]
            blocks.insert(
                0,
                {
                    "title": "Largest effects of the sampled parameters",
                    "note": "From one logistic regression over every sampled parameter (the effects chart).",
                    "items": items or ["No sampled parameter moves any table beyond the noise."],
                },
            )
        return blocks

    def _where(self, point: int | None) -> str:
        if point is None:
            if len(self.results.points) > 1:
                return "Over every run of the sampled design pooled: the probability over its uncertainty."
            return f"Over all {self.results.runs:,} runs."
        values = self.results.points.set_index("point").loc[point, self.parameters]
        said = ", ".join(f"{p} = {_fmt(v)}" for p, v in values.items())
        return f"At design point {point} ({said}), the one nearest the scenario's own values."

    def _mover(self, row: dict[str, Any]) -> str:
        first = ", ".join(f"{p} = {_fmt(row[f'from {p}'])}" for p in self.parameters)
        second = ", ".join(f"{p} = {_fmt(row[f'to {p}'])}" for p in self.parameters)
        return (
            f"{row['table']}: {_pct(row['from_p'])} at {first} to {_pct(row['to_p'])} at {second} "
            f"({100 * row['change']:+.0f} points, 95% interval {100 * row['low']:+.0f} to "
            f"{100 * row['high']:+.0f})"
        )

    def pivot(self) -> tuple[str, str, pd.DataFrame] | None:
        """(title, intro, table) of the design's pivot, or None for a single design point."""
        out = (
            f" Not shown: {', '.join(self.unreachable)}, which the varied parameters cannot reach by the "
            "scenario's structure."
            if self.unreachable
            else ""
        )
        if self.kind in ("sweep", "grid"):
            wide = designs.pivot(self.results, self.parameters)
            frame = wide[["point", *self.parameters]].copy()
            for table in self.reached:
                frame[table] = [
                    f"{_pct(p)} ({_pct(lo)}-{_pct(hi)})"
                    for p, lo, hi in zip(
                        wide[table], wide[f"{table} low"], wide[f"{table} high"], strict=True
                    )
                ]
            return (
                "Deal probability by parameter value",
                "One row per design point, one column per table: the deal probability with its 95% Wilson "
                f"interval.{out}",
                frame,
            )
        if self.effects is not None:
            frame = pd.DataFrame({"parameter": self.parameters})
            indexed = self.effects.set_index(["parameter", "table"])
            for table in self.results.tables:
                cells = []
                for parameter in self.parameters:
                    row = indexed.loc[(parameter, table)]
                    if not row["reachable"]:
                        cells.append("out of reach")
                    elif not math.isfinite(row["effect"]):
                        cells.append("")
                    else:
                        effect, low, high = (100 * row[c] for c in ("effect", "low", "high"))
                        cells.append(f"{effect:+.0f} ({low:+.0f} to {high:+.0f})")
                frame[table] = cells
            return (
                "Effect of each sampled parameter",
                "One row per sampled parameter, one column per table: the change in deal probability "
                "(points) from the parameter's lowest to its highest sampled value, averaged over the "
                "others, with its 95% interval, from one logistic regression over every parameter. "
                "'out of reach': the scenario's structure rules out any effect.",
                frame,
            )
        return None


def _p_line(row: Any) -> str:
    return f"{row.table}: {_pct(row.p)} (95% interval {_pct(row.low)}-{_pct(row.high)})"


def _pct(p: float) -> str:
    if not isinstance(p, float | int) or not math.isfinite(p):
        return ""
    return f"{p:.1%}" if 0 < p < 0.01 or 0.99 < p < 1 else f"{p:.0%}"


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else str(value)


def _units(scenario: Scenario) -> dict[str, str]:
    """Each issue's unit, as the scenario states it."""
    return {issue_id: issue.unit for issue_id, issue in scenario.issues.items()}


def _wanted(outputs: Any, folder: Path) -> set[str]:
    """The set of outputs asked for, checked against :data:`OUTPUTS`."""
    if isinstance(outputs, str) or not all(isinstance(o, str) for o in outputs):
        raise ExperimentError(
            str(folder / "metadata.json"), "outputs", outputs, "a list of " + ", ".join(OUTPUTS)
        )
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown:
        raise ExperimentError(
            str(folder / "metadata.json"), "outputs", unknown[0], "one of " + ", ".join(OUTPUTS)
        )
    return set(outputs)


def markdown_table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    r"""A GitHub-flavoured Markdown table; numbers right-aligned, NaN as an empty cell.

    Args:
        frame: The table.
        formats: Format spec per column (default: ``.3f`` for floats, ``d`` for integers).

    Returns:
        The Markdown text, one line per row, ending in a newline.

    >>> print(markdown_table(pd.DataFrame({"table": ["a|b"], "p": [0.5]})), end="")
    | table | p |
    | --- | ---: |
    | a\|b | 0.500 |
    """
    formats = formats or {}
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame
    ]
    header = "| " + " | ".join(_escape_md(str(c)) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"
    lines = [header, rule]
    for row in frame.itertuples(index=False):
        cells = [_escape_md(format_value(v, formats.get(c))) for c, v in zip(frame.columns, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary_markdown(summary: pd.DataFrame, metadata: dict[str, Any], design: Design | None = None) -> str:
    """summary.md: a title line, the design's pivot (if any), what the columns mean, and the summary table."""
    name = metadata.get("experiment", "batch")
    runs = metadata.get("runs")
    counted = f"{runs:,} runs. " if isinstance(runs, int) else ""
    text = f"# Summary: {name}\n\n"
    pivot = design.pivot() if design is not None else None
    if pivot is not None:
        title, intro, frame = pivot
        text += (
            f"## {title}\n\n{intro}\n\n"
            + markdown_table(frame, {"point": "d"})
            + "\n## Every design point and table\n\n"
        )
    intro = (
        f"{counted}One row per design point and table: deal_probability with its 95% Wilson interval "
        "(deal_low, deal_high); walkout_share and deadline_share are how the other runs ended; "
        "mean_deal_round and the distances are over deals only, utilities over all runs."
    )
    return text + f"{intro}\n\n" + markdown_table(summary, _summary_formats(summary))


def report_html(
    metadata: dict[str, Any],
    scenario: Scenario,
    summary: pd.DataFrame,
    charts: Iterable[tuple[Chart, bytes]],
    chart_files: bool = True,
    design: Design | None = None,
    blocs: pd.DataFrame | None = None,
) -> str:
    """The report page, from the Jinja2 template: inline CSS, every chart embedded as a PNG data URI.

    Args:
        metadata: The batch metadata.
        scenario: The batch's scenario.
        summary: The summary table.
        charts: Each chart with its PNG image.
        chart_files: Whether the charts were also written to ``charts/`` (said in each caption).
        design: The design's headline and pivot (none: the report has no headline or pivot).
        blocs: Defection rates per bloc member (:func:`negotiation.stats.summary.bloc_table`); the
            report has a "Blocs" section when it has rows.

    Returns:
        The HTML text.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    shown = summary.head(REPORT_ROWS)
    pivot = design.pivot() if design is not None else None
    runs = metadata.get("runs")
    pictures = []
    for chart, png in charts:
        width, height = png_size(png)
        pictures.append(
            {
                "name": chart.name,
                "title": chart.title,
                "caption": chart.caption,
                "data": base64.b64encode(png).decode("ascii"),
                "width": width,
                "height": height,
            }
        )
    page = environment.get_template("report.html.j2").render(
        name=str(metadata.get("experiment", "batch")),
        description=str(metadata.get("description") or ""),
        scenario_name=scenario.name,
        runs_text=f"{runs:,} runs" if isinstance(runs, int) else "",
        headline=design.headline() if design is not None else [],
        metadata=_metadata_rows(metadata),
        pivot=(
            {"title": pivot[0], "intro": pivot[1], "table": _html_table(pivot[2], {"point": "d"})}
            if pivot is not None
            else None
        ),
        summary_intro=(
            "One row per design point and table. Deal probability with its 95% Wilson score interval; "
            "walk-out and deadline shares are how the other runs ended; the mean round of a deal and the "
            "distances to the Pareto frontier and the Nash point are over deals only; utilities are over "
            f"all runs (a run without a deal counts its reservation value). Also in {SUMMARY_CSV} and "
            f"{SUMMARY_MD}; {ISSUES_CSV} has, per issue, the probability that it moves and the quantiles "
            "of its agreed value."
        ),
        summary_cut=(
            f"First {len(shown):,} of {len(summary):,} rows; all rows are in {SUMMARY_CSV}."
            if len(summary) > len(shown)
            else ""
        ),
        summary_table=_html_table(shown, _summary_formats(shown)),
        blocs_intro=BLOCS_INTRO,
        blocs_table=(
            _html_table(blocs.head(REPORT_ROWS), _bloc_formats(blocs))
            if blocs is not None and len(blocs)
            else ""
        ),
        charts=pictures,
        chart_files=chart_files,
        charts_dir=CHARTS_DIR,
        svg="svg" in metadata.get("outputs", ()),
        version=str(metadata.get("package_version", "")),
        css=CSS,
    )
    return page if page.endswith("\n") else page + "\n"


BLOCS_INTRO = (
    "One row per design point and bloc member: the share of runs in which the member left its bloc, by "
    "signing a deal with a non-member while the bloc was still negotiating or by its own drawn "
    "propensity, with the 95% Wilson score interval, and the mean first round it was out (over the runs "
    f"where it left). Also in {BLOCS_CSV}; the bloc chart shows membership over the rounds and the final "
    "common position."
)


def bloc_markdown(blocs: pd.DataFrame) -> str:
    """The "Blocs" section of summary.md (empty without a bloc)."""
    if not len(blocs):
        return ""
    return f"\n\n## Blocs\n\n{BLOCS_INTRO}\n\n" + markdown_table(blocs, _bloc_formats(blocs)) + "\n"


def _bloc_formats(blocs: pd.DataFrame) -> dict[str, str]:
    formats = {c: ".1%" for c in ("defection_rate", "defection_low", "defection_high")}
    formats.update({"mean_defection_round": ".1f", "runs": ",d", "defected": ",d", "point": "d"})
    return formats


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG image, from its header.

    >>> png_size(bytes(16) + (640).to_bytes(4, "big") + (480).to_bytes(4, "big"))
    (640, 480)
    """
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def format_value(value: Any, spec: str | None = None) -> str:
    """A cell's text: ``spec`` if given, 3 decimals for floats, '' for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if spec:
        return format(value, spec)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


CSS = """
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2327;background:#fafafa;
margin:0;line-height:1.45;overflow-wrap:anywhere}
main{max-width:1200px;margin:0 auto;padding:1.5rem 2rem 3rem;background:#fff}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
.lead{font-size:1.1rem;color:#444}
.headline{background:#f4f8fb;border:1px solid #d8e4ee;padding:.2rem 1rem 1rem;margin-top:1rem}
.headline h2{margin-top:.8rem}.headline h3{margin:.8rem 0 .2rem}
.headline ul{margin:.2rem 0;padding-left:1.2rem}
.note{color:#555;font-size:.9rem;margin:.2rem 0}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f0f2f4;position:sticky;top:0}
td{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.meta{width:100%}
table.meta th{width:30%;background:#f0f2f4}
table.meta td{white-space:normal;overflow-wrap:anywhere}
.scroll{overflow:auto;max-width:100%;border:1px solid #ddd}
.scroll.tall{max-height:32rem}
figure{margin:2rem 0;padding:0}
figure img{display:block;max-width:100%;height:auto;border:1px solid #eee;cursor:zoom-in}
figcaption{color:#444;font-size:.9rem;max-width:60rem}
nav ol{font-size:.9rem}
nav ol.charts{columns:3}
p.top{font-size:.8rem;margin:.3rem 0}
dialog{max-width:100vw;max-height:100vh;padding:.5rem;border:0;overflow:auto}
dialog img{display:block;max-width:none;cursor:zoom-out}
dialog::backdrop{background:rgba(0,0,0,.6)}
footer{margin-top:3rem;color:#666;font-size:.85rem}
code{background:#f0f2f4;padding:0 .2rem}
@media (max-width:600px){
main{padding:.8rem .8rem 2rem}
nav ol.charts{columns:1}
h1{font-size:1.5rem}
}
"""


def _metadata_rows(metadata: dict[str, Any]) -> list[tuple[str, Any]]:
    """The experiment's metadata as (label, value) rows, empty values left out."""
    points = metadata.get("points", [])
    rows = [
        ("Experiment", metadata.get("experiment")),
        ("Description", metadata.get("description")),
        ("Varied parameters", ", ".join(metadata.get("parameters", [])) or "none (baseline)"),
        ("Design points", len(points) if points else None),
        ("Runs", f"{metadata['runs']:,}" if isinstance(metadata.get("runs"), int) else metadata.get("runs")),
        ("Tables", ", ".join(metadata.get("tables", []))),
        ("Master seed", metadata.get("master_seed")),
        ("Scenario hash (SHA-256 of scenario.json)", metadata.get("scenario_hash")),
        ("Package version", metadata.get("package_version")),
        ("Started", metadata.get("started")),
        ("Finished", metadata.get("finished")),
        ("Duration", _duration(metadata.get("started"), metadata.get("finished"))),
        ("Backend", metadata.get("backend")),
        ("Workers", metadata.get("workers")),
    ]
    return [(label, value) for label, value in rows if value not in (None, "", [])]


def _html_table(frame: pd.DataFrame, formats: dict[str, str]) -> str:
    """A DataFrame as an HTML table, numbers right-aligned and formatted."""
    numeric = {
        c
        for c in frame
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    }
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f"<td{' class=num' if c in numeric else ''}>{html.escape(format_value(v, formats.get(c)))}</td>"
            for c, v in zip(frame.columns, row, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _summary_formats(summary: pd.DataFrame) -> dict[str, str]:
    """Cell formats of the summary table: percentages, counts, short parameter values."""
    formats = {c: ".1%" for c in PERCENT_COLUMNS}
    formats.update({"point": "d", "runs": ",d", "deals": ",d", "mean_deal_round": ".1f"})
    known = {"table", "party_0", "party_1", *formats}
    known |= {"mean_utility_0", "mean_utility_1", "mean_pareto_distance", "mean_nash_distance"}
    formats.update({c: ".4g" for c in summary.columns if c not in known})
    return formats


def _duration(started: Any, finished: Any) -> str | None:
    """'12.3 s' between two ISO times, or None if either is missing or unreadable."""
    try:
        seconds = (
            datetime.fromisoformat(str(finished)) - datetime.fromisoformat(str(started))
        ).total_seconds()
    except ValueError:
        return None
    return f"{seconds:,.1f} s"


def _escape_md(text: str) -> str:
    """Escape the pipe, which would end a Markdown table cell."""
    return text.replace("|", "\\|")
