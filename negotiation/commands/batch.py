"""``negotiation batch``: run an experiment batch (the baseline by default) and write its outputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from negotiation.batch.reader import load_metadata
from negotiation.batch.spec import MAX_REPLICATIONS, ExperimentSpec, experiment_from_dict, load_experiment
from negotiation.commands.common import LIMITS, add_fixed_arguments, count, with_fixed
from negotiation.errors import FileSystemError, InputError

BASELINE_FILE = Path("experiments") / "baseline.toml"
"""Where the shipped baseline experiment lives, relative to the repository (or the current folder)."""

BUILTIN_BASELINE = {
    "experiment": {
        "name": "baseline",
        "description": "The default Asia-tour scenario as written, with its uncertain parameters drawn "
        "afresh in every run (built-in copy of experiments/baseline.toml).",
        "scenario": "default",
        "seed": 20251030,
        "replications": 10000,
        "block": 1000,
    }
}
"""Used when experiments/baseline.toml cannot be found (e.g. an installed package, no clone)."""


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "batch",
        help="run an experiment batch: many seeded runs in parallel, results, charts and a report",
        description="Run an experiment (default: experiments/baseline.toml) and write results, "
        "summary, charts and report.html to the output folder. See docs/experiments.md.",
    )
    parser.add_argument(
        "experiment",
        nargs="?",
        type=Path,
        default=None,
        help="experiment spec (TOML), or a batch output folder to rerun/resume (default: the baseline)",
    )
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument(
        "--runs", type=count(MAX_REPLICATIONS), metavar="N", help="replications per design point"
    )
    amount.add_argument(
        "--precision",
        type=_precision,
        metavar="P",
        help="adaptive: add runs until every deal probability's 95%% interval is within +/-P (e.g. 0.02)",
    )
    parser.add_argument(
        "--workers",
        type=count(LIMITS["workers"]),
        metavar="N",
        help="local worker processes (default: all CPUs)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: results/<experiment name>)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted batch in the output folder, or re-run its damaged or missing chunks",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the batch the output folder holds (its batch files only; other files stay)",
    )
    parser.add_argument("--backend", choices=("local", "dask"), default="local", help="where runs execute")
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786"
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    add_fixed_arguments(parser, "for the whole batch")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the batch and print where its outputs are."""
    from negotiation.batch.runner import RESULTS_ROOT, run_batch

    spec, folder = resolve_experiment(args.experiment)
    spec = with_fixed(spec, args)
    out = args.out or folder or RESULTS_ROOT / spec.name
    already_finished, repairs = (None, 0) if args.overwrite else _finished_at(out)
    try:
        outdir = run_batch(
            spec,
            runs=args.runs,
            precision=args.precision,
            workers=args.workers,
            out=out,
            resume=args.resume,
            overwrite=args.overwrite,
            backend=args.backend,
            scheduler=args.scheduler,
            progress=args.progress,
        )
    except KeyboardInterrupt:
        print(
            f"negotiation batch: interrupted; finished chunks are kept in {out}: "
            "run the same command with --resume to finish",
            file=sys.stderr,
        )
        return 130
    repaired = _finished_at(outdir)[1] - repairs
    untouched = already_finished is not None and not repaired
    if spec.outputs and not (untouched and (outdir / "report.html").exists()):
        from negotiation.charts.report import write_outputs

        try:
            write_outputs(outdir, progress=args.progress)
        except FileSystemError as exc:
            raise exc.with_hint(
                f"the results are complete and kept: once it is fixed, `negotiation plot {outdir}` "
                "writes the summary, charts and report"
            ) from None
    if untouched:
        print(
            f"{outdir} already holds this batch, finished {already_finished}: nothing was run "
            "(pass another --out, or --overwrite, to run it again)"
        )
    elif already_finished is not None:
        chunks = len(load_metadata(outdir)["repairs"][-1]["chunks"])
        print(f"{outdir}: the damaged and missing chunks were run again ({chunks}); the batch is whole")
    print(describe_outputs(outdir))
    return 0


def _finished_at(folder: Path) -> tuple[str | None, int]:
    """When the batch in a folder finished (None: not a finished batch), and how often it was repaired."""
    try:
        metadata = load_metadata(folder)
    except InputError:
        return None, 0
    finished, repairs = metadata.get("finished"), metadata.get("repairs", [])
    return (finished if isinstance(finished, str) else None), len(repairs) if isinstance(repairs, list) else 0


def resolve_experiment(argument: Path | None) -> tuple[ExperimentSpec, Path | None]:
    """The spec to run, and the output folder it implies (a batch folder given as the argument).

    Args:
        argument: A spec file, a batch output folder (holding spec.toml), or None for the baseline.
    """
    if argument is None:
        return default_experiment(), None
    if argument.is_dir() and (argument / "spec.toml").is_file():
        return load_experiment(argument / "spec.toml"), argument
    return load_experiment(argument), None


def default_experiment() -> ExperimentSpec:
    """experiments/baseline.toml from the current folder or the repository, else the built-in copy."""
    repository = Path(__file__).resolve().parents[2]
    for base in (Path.cwd(), repository):
        if (base / BASELINE_FILE).is_file():
            return load_experiment(base / BASELINE_FILE)
    return experiment_from_dict(BUILTIN_BASELINE, "<built-in baseline>")


def describe_outputs(outdir: Path) -> str:
    """A few lines saying what the batch wrote and where."""
    metadata = load_metadata(outdir)
    lines = [
        f"{metadata['experiment']}: {metadata['runs']} runs over {len(metadata['points'])} design "
        f"point(s), {len(metadata['tables'])} tables",
        f"results:  {outdir / 'results'}  (pandas.read_parquet reads the folder)",
    ]
    for name, label in (("summary.csv", "summary:"), ("report.html", "report: "), ("charts", "charts: ")):
        if (outdir / name).exists():
            lines.append(f"{label}  {outdir / name}")
    return "\n".join(lines)


def _precision(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a half-width such as 0.02") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"got {value}; expected a half-width between 0 and 0.5, e.g. 0.02")
    return value
