"""``negotiation calibrate EXPERIMENT --targets FILE``: fit parameters to target probabilities."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from negotiation.commands.common import (
    LIMITS,
    add_fixed_arguments,
    add_overwrite_argument,
    count,
    seed_value,
    with_fixed,
)


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "calibrate",
        help="search an experiment's parameter ranges for values that match target probabilities",
        description=(
            "Search the [[parameters]] of EXPERIMENT (ranges and value lists) with Optuna's TPE sampler "
            "for the point whose simulated deal (and issue-move) probabilities best match TARGETS "
            "(weighted mean squared error). Every trial uses the same run seeds. Writes the best point "
            "as an overlay file (calibrated.toml), trials.csv, targets.csv and two charts."
        ),
    )
    parser.add_argument("experiment", type=Path, help="experiment spec (TOML) declaring the parameters")
    parser.add_argument("--targets", type=Path, required=True, metavar="FILE", help="targets TOML file")
    parser.add_argument(
        "--trials", type=count(LIMITS["trials"]), default=50, help="points to try (default 50)"
    )
    parser.add_argument(
        "--runs", type=count(LIMITS["runs per point"]), default=400, help="runs per trial (default 400)"
    )
    parser.add_argument(
        "--check-runs",
        type=count(LIMITS["check runs"]),
        help="independent runs to check the best point (default 4 x --runs)",
    )
    parser.add_argument("--seed", type=seed_value, help="master seed (default: the experiment's)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default calibration/<name>)")
    add_fixed_arguments(parser, "in every trial (not a searched one)")
    add_overwrite_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the calibration, print the result and write the files."""
    from tqdm import tqdm

    from negotiation.batch.spec import load_experiment
    from negotiation.folders import check_claim, output_folder
    from negotiation.tuning.calibration import (
        calibrate,
        format_calibration,
        read_targets,
        search_space,
        write_calibration,
    )

    spec = load_experiment(args.experiment)
    spec = with_fixed(spec, args)  # e.g. the dashboard's overlay: held in every trial, as in `batch`
    targets = read_targets(args.targets, spec.base_scenario())
    search_space(spec)  # fails early, with one line, when nothing varies
    out = args.out if args.out is not None else Path("calibration") / spec.name
    check_claim(out, "calibrate", args.overwrite)
    with tqdm(total=args.trials, desc="calibrating", unit="trial", disable=None, file=sys.stderr) as bar:

        def progress(trial: int, value: float, best: float) -> None:
            bar.set_postfix(best=f"{best:.5f}")
            bar.update(1)

        result = calibrate(spec, targets, args.trials, args.runs, args.seed, args.check_runs, progress)
    print(format_calibration(result))
    seed = args.seed if args.seed is not None else spec.seed
    command = (
        f"negotiation calibrate {args.experiment} --targets {args.targets} --trials {args.trials} "
        f"--runs {args.runs} --seed {seed}"
        + (f" --overlay {args.overlay}" if args.overlay else "")
        + "".join(f" --set {text}" for text in args.overrides)
    )
    with output_folder(out, "calibrate", args.overwrite):
        written = write_calibration(result, spec, out, command)
    print(f"\n{len(written)} files written to {out} (overlay: {out / 'calibrated.toml'})")
    return 0
