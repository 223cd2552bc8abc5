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
            "PRIM (Friedman and Fisher 1999) over a batch's design points for one table: peel the parameter "
            "space toward the region where the outcome is likelier (a high-density box) and where it is "
            "rarer (a low-density box); print each chosen box with its coverage, density, mass and the "
            "quasi-p-value of each restricted limit, and whether it beats the base rate beyond noise (a "
            "permutation test); write the boxes and trajectories (CSV) and the peeling trajectory chart. "
            "Reads the results a record batch at a time, so any size of batch fits in memory."
        ),
    )
    parser.add_argument("outdir", type=Path, help="batch output folder of a sweep or sampled design")
    parser.add_argument("--table", required=True, help="table id, e.g. us-china")
    parser.add_argument("--outcome", choices=("deal", "no-deal"), default="deal", help="default deal")
    parser.add_argument(
        "--alpha", type=_share, default=0.05, help="share of the box each peel removes (default 0.05)"
    )
    parser.add_argument(
        "--min-mass", type=_share, default=0.05, help="smallest box as a share of the runs (default 0.05)"
    )
    parser.add_argument(
        "--permutations",
        type=count(LIMITS["permutations"]),
        default=199,
        help="shuffles of the permutation test of each chosen box (default 199)",
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
        args.outdir, args.table, args.outcome, args.alpha, args.min_mass, args.permutations
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
