"""The outputs of a batch folder: summary.csv, summary.md, charts/ and a self-contained report.html.

:func:`write_outputs` reads only what the batch saved (results, metadata, scenario), so the batch
runner calls it at the end and ``negotiation plot OUTDIR`` calls it again without re-running
anything. It streams the results once into a :class:`~negotiation.stats.digest.ResultsDigest`, so its
memory does not grow with the number of runs. Every file is written atomically: a reader never sees
half of one. The folder is locked while the outputs are written (a second writer is refused), and
temporary files that an earlier, killed writer left are removed first.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from negotiation.atomic import make_folder, remove_debris, write_atomic, write_text_atomic
from negotiation.batch.reader import load_metadata, load_scenario_json, output_folder
from negotiation.charts.plan import CHARTS_DIR, Chart, cloud_scope, plan_charts, render_png, write_chart
from negotiation.errors import ExperimentError
from negotiation.folders import hold_folder
from negotiation.scenario.schema import Scenario
from negotiation.stats.digest import read_digest
from negotiation.stats.summary import issue_table, summary_table

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
ISSUES_CSV = "issues.csv"
REPORT_HTML = "report.html"
REPORT_ROWS = 400
"""Most summary rows shown in report.html (summary.csv always has them all)."""

OUTPUTS = ("summary", "charts", "report")
"""Every output :func:`write_outputs` can write."""

PERCENT_COLUMNS = ("deal_probability", "deal_low", "deal_high", "walkout_share", "deadline_share")


def write_outputs(outdir: str | Path, outputs: Iterable[str] | None = None) -> list[Path]:
    """Write the summary, the charts and the report of a batch output folder from its saved results.

    Args:
        outdir: The batch output folder (``metadata.json``, ``scenario.json``, ``results/``).
        outputs: Which of "summary" (summary.csv, summary.md, issues.csv), "charts" (charts/*.png, *.svg) and
            "report" (report.html) to write; default: the metadata's ``outputs``, else all three. A
            report without "charts" still embeds every chart, drawn in memory.

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
    wanted = _wanted(outputs if outputs is not None else metadata.get("outputs", OUTPUTS), folder)
    scenario = load_scenario_json(folder)
    parameters = metadata["parameters"]
    drawn = bool({"charts", "report"} & wanted)
    with hold_folder(folder):  # no batch repairs the chunks while they are read, no other writer
        results = read_digest(folder, scenario, parameters, cloud_scope(parameters), sample_cloud=drawn)
        summary = summary_table(results, metadata)
        charts = plan_charts(results, metadata, scenario) if drawn else []
        return _write(folder, wanted, metadata, scenario, results, summary, charts)


def _write(
    folder: Path,
    wanted: set[str],
    metadata: dict[str, Any],
    scenario: Scenario,
    results: Any,
    summary: pd.DataFrame,
    charts: list[Chart],
) -> list[Path]:
    """Write the outputs asked for (the folder is held)."""
    for place in (folder, folder / CHARTS_DIR):
        remove_debris(place)
    written: list[Path] = []
    if "summary" in wanted:
        written.append(write_atomic(folder / SUMMARY_CSV, lambda tmp: summary.to_csv(tmp, index=False)))
        written.append(write_text_atomic(folder / SUMMARY_MD, summary_markdown(summary, metadata)))
        issues = issue_table(results, metadata)
        issues.insert(issues.columns.get_loc("issue") + 1, "unit", issues["issue"].map(_units(scenario)))
        written.append(write_atomic(folder / ISSUES_CSV, lambda tmp: issues.to_csv(tmp, index=False)))
    pictures: list[tuple[Chart, bytes]] = []
    if "charts" in wanted:
        make_folder(folder / CHARTS_DIR)
        for chart in charts:
            paths = write_chart(chart, folder / CHARTS_DIR)
            written += paths
            pictures.append((chart, paths[0].read_bytes()))
    elif "report" in wanted:
        pictures = [(chart, render_png(chart)) for chart in charts]
    if "report" in wanted:
        report = report_html(metadata, scenario, summary, pictures, chart_files="charts" in wanted)
        written.append(write_text_atomic(folder / REPORT_HTML, report))
    return written


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


def summary_markdown(summary: pd.DataFrame, metadata: dict[str, Any]) -> str:
    """summary.md: a title line, what the columns mean, and the summary table."""
    name = metadata.get("experiment", "batch")
    runs = metadata.get("runs")
    counted = f"{runs:,} runs. " if isinstance(runs, int) else ""
    intro = (
        f"{counted}One row per design point and table: deal_probability with its 95% Wilson interval "
        "(deal_low, deal_high); walkout_share and deadline_share are how the other runs ended; "
        "mean_deal_round and the distances are over deals only, utilities over all runs."
    )
    return f"# Summary: {name}\n\n{intro}\n\n" + markdown_table(summary, _summary_formats(summary))


def report_html(
    metadata: dict[str, Any],
    scenario: Scenario,
    summary: pd.DataFrame,
    charts: Iterable[tuple[Chart, bytes]],
    chart_files: bool = True,
) -> str:
    """The report page: one HTML file with inline CSS and every chart embedded as a PNG data URI.

    Args:
        metadata: The batch metadata.
        scenario: The batch's scenario.
        summary: The summary table.
        charts: Each chart with its PNG image.
        chart_files: Whether the charts were also written to ``charts/`` (said in each caption).

    Returns:
        The HTML text.
    """
    charts = list(charts)
    name = str(metadata.get("experiment", "batch"))
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(name)}: negotiation batch report</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>{esc(name)}</h1>",
    ]
    if metadata.get("description"):
        parts.append(f'<p class="lead">{esc(str(metadata["description"]))}</p>')
    parts.append(f"<p>Scenario: <strong>{esc(scenario.name)}</strong></p>")
    parts.append('<nav><h2>Contents</h2><ol><li><a href="#metadata">Experiment</a></li>')
    parts.append('<li><a href="#summary">Summary table</a></li><li><a href="#charts">Charts</a><ol>')
    parts += [f'<li><a href="#{esc(c.name)}">{esc(c.title)}</a></li>' for c, _ in charts]
    parts.append("</ol></li></ol></nav>")
    parts.append('<section id="metadata"><h2>Experiment</h2>')
    parts.append(_metadata_table(metadata))
    parts.append("</section>")
    parts.append('<section id="summary"><h2>Summary table</h2>')
    parts.append(
        "<p>One row per design point and table. Deal probability with its 95% Wilson score interval; "
        "walk-out and deadline shares are how the other runs ended; the mean round of a deal and the "
        "distances to the Pareto frontier and the Nash point are over deals only; utilities are over "
        f"all runs (a run without a deal counts its reservation value). Also in {SUMMARY_CSV} and "
        f"{SUMMARY_MD}; {ISSUES_CSV} has, per issue, the probability that it moves and the quantiles "
        "of its agreed value.</p>"
    )
    shown = summary.head(REPORT_ROWS)
    if len(summary) > len(shown):
        parts.append(f"<p>First {len(shown):,} of {len(summary):,} rows; all rows are in {SUMMARY_CSV}.</p>")
    parts.append('<div class="scroll">' + _html_table(shown, _summary_formats(shown)) + "</div></section>")
    parts.append('<section id="charts"><h2>Charts</h2>')
    for chart, png in charts:
        data = base64.b64encode(png).decode("ascii")
        files = f" Files: {CHARTS_DIR}/{esc(chart.name)}.png, .svg." if chart_files else ""
        parts.append(
            f'<figure id="{esc(chart.name)}"><h3>{esc(chart.title)}</h3>'
            f'<img src="data:image/png;base64,{data}" alt="{esc(chart.title)}">'
            f"<figcaption>{esc(chart.caption)}{files}</figcaption></figure>"
        )
    parts.append("</section>")
    parts.append(
        f"<footer>Written by negotiation {esc(str(metadata.get('package_version', '')))} from the saved "
        "results; re-render with <code>negotiation plot OUTDIR</code>.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


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
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2327;background:#fafafa;
margin:0;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:1.5rem 2rem 3rem;background:#fff}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
.lead{font-size:1.1rem;color:#444}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f2f4;position:sticky;top:0}
td{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.meta th{width:12rem}
.scroll{overflow:auto;max-height:32rem;border:1px solid #ddd}
figure{margin:2rem 0;padding:0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.9rem;max-width:60rem}
nav ol{font-size:.9rem}
nav ol ol{columns:3}
footer{margin-top:3rem;color:#666;font-size:.85rem}
code{background:#f0f2f4;padding:0 .2rem}
"""


def _metadata_table(metadata: dict[str, Any]) -> str:
    """The experiment's metadata as a two-column HTML table."""
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
    body = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>"
        for label, value in rows
        if value not in (None, "", [])
    )
    return f'<table class="meta">{body}</table>'


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
