"""``negotiation sensitivity EXPERIMENT``: Sobol' or Morris indices of each table's deal probability."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from negotiation.commands.common import LIMITS, add_overwrite_argument, count, seed_value


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "sensitivity",
        help="global sensitivity (Sobol' or Morris) of each table's deal probability to the parameters",
        description=(
            "Sample the [[parameters]] of EXPERIMENT with SALib, run every sample point on the same "
            "seeds, and report per table the Sobol' indices S1/ST (or Morris mu*/sigma) of the deal "
            "probability with 95% bootstrap intervals. Writes sensitivity.csv, samples.csv and a chart "
            "per table."
        ),
    )
    parser.add_argument("experiment", type=Path, help="experiment spec (TOML) declaring the parameters")
    parser.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="default sobol")
    parser.add_argument(
        "--samples",
        type=count(LIMITS["samples"]),
        default=32,
        help="SALib's N: base samples for sobol (a power of two), trajectories for morris (default 32)",
    )
    parser.add_argument(
        "--runs",
        type=count(LIMITS["runs per point"]),
        default=200,
        help="runs per sample point (default 200)",
    )
    parser.add_argument("--seed", type=seed_value, help="master seed (default: the experiment's)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default sensitivity/<name>)")
    add_overwrite_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the analysis, print the ranking and write the files."""
    from tqdm import tqdm

    from negotiation.batch.spec import load_experiment
    from negotiation.folders import check_claim, output_folder
    from negotiation.tuning.sensitivity import (
        format_indices,
        n_points,
        problem_from,
        run_sensitivity,
        sample,
        write_sensitivity,
    )

    spec = load_experiment(args.experiment)
    problem = problem_from(spec)
    sample(problem, args.method, args.samples, 0)  # checks --samples before any run
    out = args.out if args.out is not None else Path("sensitivity") / spec.name
    check_claim(out, "sensitivity", args.overwrite)
    total = n_points(args.method, args.samples, problem["num_vars"])
    with tqdm(total=total, desc=f"{args.method} points", unit="point", disable=None, file=sys.stderr) as bar:
        indices, outputs = run_sensitivity(spec, args.method, args.samples, args.runs, args.seed, bar.update)
    print(f"{args.method}: {len(outputs)} points x {args.runs} runs, {problem['num_vars']} parameters\n")
    print(format_indices(indices, args.method))
    with output_folder(out, "sensitivity", args.overwrite):
        written = write_sensitivity(indices, outputs, args.method, out)
    print(f"\n{len(written)} files written to {out}")
    return 0
