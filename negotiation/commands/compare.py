"""``negotiation compare BASE VARIANT``: the change in each table's deal probability, paired runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from negotiation.commands.common import LIMITS, add_overwrite_argument, count, seed_value
from negotiation.folders import check_claim, output_folder


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "compare",
        help="run two scenarios (or overlays) on the same seeds and report the change per table",
        description=(
            "Run BASE and VARIANT on common random numbers (run r of both uses the same seed) and "
            "report, per table, the change in deal probability with a paired 95% interval "
            "(Newcombe's hybrid score method). Each of BASE and VARIANT is a scenario file, an overlay "
            "file ([set] table, applied to the default scenario) or the word 'default'."
        ),
    )
    parser.add_argument("base", type=Path, help="scenario or overlay file, or 'default'")
    parser.add_argument("variant", type=Path, help="scenario or overlay file, or 'default'")
    parser.add_argument(
        "--runs", type=count(LIMITS["paired runs"]), default=1000, help="paired runs (default 1000)"
    )
    parser.add_argument("--seed", type=seed_value, default=0, help="master seed (default 0)")
    parser.add_argument(
        "--issues", action="store_true", help="also compare the probability that each issue moves"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write compare.csv/.md/.png/.svg into DIR")
    add_overwrite_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run both sides, print the comparison and optionally write it."""
    from negotiation.tuning.compare import (
        format_comparison,
        format_member_utilities,
        load_side,
        mark_reach,
        paired_deal_changes,
        paired_issue_changes,
        paired_member_utilities,
        simulate_pair,
        write_comparison,
    )

    check_claim(args.out, "compare", args.overwrite)
    base, variant = load_side(args.base), load_side(args.variant)
    if base.label == variant.label:
        base_label, variant_label = f"{base.label} (base)", f"{variant.label} (variant)"
    else:
        base_label, variant_label = base.label, variant.label
    base_rows, variant_rows = simulate_pair(base.scenario, variant.scenario, args.runs, args.seed)
    frame = mark_reach(paired_deal_changes(base_rows, variant_rows), base.scenario, variant.scenario)
    issues = paired_issue_changes(base_rows, variant_rows) if args.issues else None
    if issues is not None:
        issues = mark_reach(issues, base.scenario, variant.scenario)
    print(format_comparison(frame, base_label, variant_label))
    if issues is not None:
        print("\n" + format_comparison(issues, base_label, variant_label))
    members = paired_member_utilities(base_rows, variant_rows, (base.scenario, variant.scenario))
    if len(members):
        print("\n" + format_member_utilities(members, base_label, variant_label))
    if args.out is not None:
        with output_folder(args.out, "compare", args.overwrite):
            written = write_comparison(frame, args.out, base_label, variant_label, issues, members)
        print(f"\n{len(written)} files written to {args.out}")
    return 0
