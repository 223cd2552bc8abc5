"""``negotiation discover OUTDIR --table T``: boxes of parameter space where a (no-)deal concentrates."""

from __future__ import annotations

import argparse
from pathlib import Path

from negotiation.commands.common import LIMITS, add_overwrite_argument, count


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "discover",
        help="scenario discovery: where in parameter space a table's deal (or no deal) concentrates",
        description=(
            "Fit a classification tree (CART) to a batch's runs of one table, predicting the outcome from "
            "the varied parameters; print each leaf as a box with its coverage and density, and write "
            "the boxes (CSV), the coverage-density trade-off chart and the tree chart."
        ),
    )
    parser.add_argument("outdir", type=Path, help="batch output folder of a sweep or sampled design")
    parser.add_argument("--table", required=True, help="table id, e.g. us-china")
    parser.add_argument("--outcome", choices=("deal", "no-deal"), default="deal", help="default deal")
    parser.add_argument(
        "--max-depth", type=count(LIMITS["depth"]), default=3, help="conditions per box at most (default 3)"
    )
    parser.add_argument(
        "--min-leaf", type=_share, default=0.05, help="smallest box as a share of the runs (default 0.05)"
    )
    parser.add_argument(
        "--no-merge", action="store_true", help="one box per leaf (do not merge leaves on the same side)"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default OUTDIR/discovery)")
    add_overwrite_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Discover, print the boxes and write the files."""
    from negotiation.folders import check_claim, output_folder
    from negotiation.tuning.discovery import discover_folder, format_discovery, write_discovery

    out = args.out if args.out is not None else args.outdir / "discovery"
    check_claim(out, "discover", args.overwrite)
    found = discover_folder(
        args.outdir, args.table, args.outcome, args.max_depth, args.min_leaf, not args.no_merge
    )
    print(format_discovery(found))
    with output_folder(out, "discover", args.overwrite):
        written = write_discovery(found, out)
    print(f"\n{len(written)} files written to {out}")
    return 0


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number in (0, 0.5]") from None
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(f"got {value}; expected a number in (0, 0.5]")
    return value
