"""``negotiation plot OUTDIR``: re-render the summary, charts and report of a batch from saved results."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "plot",
        help="re-render summary, charts and report.html of a batch output folder (no runs)",
        description="Read OUTDIR/results, metadata.json and scenario.json and write summary.csv, "
        "summary.md, charts/*.png and report.html again, without running the model (all three, "
        "whatever outputs the experiment asked for).",
    )
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="a folder written by `negotiation batch`")
    parser.add_argument("--svg", action="store_true", help="also write every chart as SVG")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress line")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Write the outputs and say where the report is."""
    from negotiation.charts.report import REPORT_HTML, write_outputs

    outputs = ["summary", "charts", "report", *(["svg"] if args.svg else [])]
    written = write_outputs(args.outdir, outputs, progress=args.progress)
    charts = sum(1 for path in written if path.parent.name == "charts")
    print(f"{len(written)} files written to {args.outdir} ({charts} chart files)")
    print(f"report: {args.outdir / REPORT_HTML}")
    return 0
