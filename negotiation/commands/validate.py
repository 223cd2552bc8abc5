"""``negotiation validate FILE...``: check scenario, experiment, overlay, targets and outcomes files.

Each file's kind is recognised by its content (see :func:`file_kind`) and checked against its own
schema, without running anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from negotiation.errors import InputError

KINDS = ("experiment", "overlay", "targets", "outcomes", "scenario")


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "validate",
        help="check scenario, experiment, overlay, targets and outcomes files without running them",
        description="Check each file against the schema of its kind, recognised by its content: an "
        "experiment has an [experiment] table, an overlay a [set] table, a targets file [tables.<id>] "
        "entries with probability, an outcomes file [tables.<id>] entries with deal; anything else is "
        "read as a scenario. Prints one line per file; exits 2 if any is bad.",
    )
    parser.add_argument("files", nargs="+", type=Path, help="TOML files to check")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Validate each file; print one line per file. Exit 2 if any is bad."""
    bad = 0
    for path in args.files:
        try:
            kind = validate_file(path)
        except InputError as exc:
            print(f"negotiation validate: {exc.one_line()}", file=sys.stderr)
            bad += 1
        else:
            print(f"{path}: ok ({kind})")
    return 2 if bad else 0


def file_kind(data: dict[str, Any]) -> str:
    """The kind of a parsed TOML file, from its content: one of :data:`KINDS`.

    >>> file_kind({"experiment": {}}), file_kind({"set": {}}), file_kind({"tables": {"t": {"deal": True}}})
    ('experiment', 'overlay', 'outcomes')
    >>> file_kind({"tables": {"t": {"probability": 0.5}}}), file_kind({"name": "x", "actors": {}})
    ('targets', 'scenario')
    """
    if "experiment" in data:
        return "experiment"
    if "set" in data:
        return "overlay"
    tables = data.get("tables")
    if isinstance(tables, dict) and not {"actors", "issues"} & set(data):
        entries = [entry for entry in tables.values() if isinstance(entry, dict)]
        if any("deal" in entry for entry in entries) or "made_up" in data:
            return "outcomes"
        if any("probability" in entry or "weight" in entry for entry in entries):
            return "targets"
    return "scenario"


def validate_file(path: Path) -> str:
    """Validate one file against the schema of its kind.

    Returns:
        The kind.

    Raises:
        InputError: The file is missing, not TOML, or does not validate.
    """
    from negotiation.scenario.loading import load_scenario, read_toml

    kind = file_kind(read_toml(path))
    if kind == "experiment":
        from negotiation.batch.spec import load_experiment

        load_experiment(path)
    elif kind == "overlay":
        from negotiation.scenario.overlay import read_overlay

        load_scenario(None, read_overlay(path))  # its paths and values must fit the shipped scenario
    elif kind == "targets":
        from negotiation.tuning.calibration import read_targets

        read_targets(path, load_scenario(None))
    elif kind == "outcomes":
        from negotiation.tuning.scoring import read_outcomes

        read_outcomes(path)
    else:
        load_scenario(path)
    return kind
