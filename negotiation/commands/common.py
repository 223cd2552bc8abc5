"""Arguments shared by several sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from negotiation.errors import OverrideError
from negotiation.scenario.paths import parse_assignment


def add_scenario_positional(parser: argparse.ArgumentParser) -> None:
    """Add the optional SCENARIO positional (default: the shipped scenario)."""
    parser.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=None,
        help="scenario TOML file (default: the shipped Asia-tour scenario)",
    )


def add_scenario_argument(parser: argparse.ArgumentParser) -> None:
    """Add the optional SCENARIO positional and repeatable ``--set PATH=VALUE``."""
    add_scenario_positional(parser)
    add_set_argument(parser, "override a parameter, e.g. actors.china.resolve=0.8 (repeatable)")


def add_set_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Add the repeatable ``--set PATH=VALUE`` (collected as ``args.overrides``)."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE", help=help_text
    )


def add_fixed_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--set`` and ``--overlay`` for holding parameters of an experiment fixed (``what``: where)."""
    add_set_argument(parser, f"hold a parameter fixed at this value {what} (repeatable)")
    add_overlay_argument(parser)


def with_fixed(spec: Any, args: argparse.Namespace) -> Any:
    """The experiment spec with the ``--overlay`` and ``--set`` values of ``args`` held fixed."""
    fixed = overrides_from(args)
    if not fixed:
        return spec
    return spec.with_fixed(fixed, str(args.overlay) if args.overlay and not args.overrides else "--set")


def add_overlay_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--overlay FILE``: overrides read from an overlay file (see negotiation.scenario.overlay)."""
    parser.add_argument(
        "--overlay",
        type=Path,
        default=None,
        metavar="FILE",
        help="apply the [set] overrides of an overlay TOML file (before any --set)",
    )


def add_overwrite_argument(parser: argparse.ArgumentParser, what: str = "the output folder") -> None:
    """Add ``--overwrite``: write into a folder that holds files this command did not make."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"write into {what} even if it holds files this command did not make "
        "(same-named files are replaced; without it such a folder is refused)",
    )


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the overrides: an ``--overlay`` file's values first, then every ``--set`` on top.

    Returns:
        Parameter path to value.

    Raises:
        OverrideError: The overlay file or a ``--set`` is malformed.
    """
    overrides: dict[str, Any] = {}
    if getattr(args, "overlay", None) is not None:
        from negotiation.scenario.overlay import read_overlay

        overrides.update(read_overlay(args.overlay))
    for text in args.overrides:
        path, value = parse_assignment(text)
        overrides[path] = value
    return overrides


def seed_value(text: str) -> int:
    """Argparse type for a non-negative integer seed."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a non-negative integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"got {value}; expected a non-negative integer")
    return value


LIMITS = {
    "workers": 1024,
    "paired runs": 100_000,
    "trials": 10_000,
    "runs per point": 100_000,
    "check runs": 1_000_000,
    "samples": 4096,
    "permutations": 100_000,
}
"""Upper bounds of the command-line counts that scale work or memory (docs/faults-and-guarantees.md)."""


def count(limit: int) -> Any:
    """Argparse type for a whole number from 1 to ``limit``.

    >>> count(5)("3")
    3
    """

    def parse(text: str) -> int:
        value = positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"got {value:,}; expected at most {limit:,}")
        return value

    parse.__name__ = f"count up to {limit:,}"
    return parse


def positive_int(text: str) -> int:
    """Argparse type for a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {value}; expected a positive integer")
    return value


__all__ = [
    "OverrideError",
    "add_fixed_arguments",
    "add_overlay_argument",
    "add_overwrite_argument",
    "add_scenario_argument",
    "add_scenario_positional",
    "add_set_argument",
    "count",
    "overrides_from",
    "positive_int",
    "seed_value",
    "with_fixed",
]
