"""``negotiation validate``: check scenario (and experiment) files without running them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from negotiation.errors import InputError
from negotiation.scenario.loading import load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser("validate", help="check scenario files without running them")
    parser.add_argument("files", nargs="+", type=Path, help="TOML files to check")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Validate each file; print one line per file. Exit 2 if any is bad."""
    bad = 0
    for path in args.files:
        try:
            validate_file(path)
        except InputError as exc:
            print(f"negotiation validate: {exc.one_line()}", file=sys.stderr)
            bad += 1
        else:
            print(f"{path}: ok")
    return 2 if bad else 0


def validate_file(path: Path) -> None:
    """Validate one file: an experiment spec if it has an ``[experiment]`` table, else a scenario."""
    from negotiation.scenario.loading import read_toml

    data = read_toml(path)
    if "experiment" in data:
        from negotiation.batch.spec import load_experiment

        load_experiment(path)
    else:
        load_scenario(path)
