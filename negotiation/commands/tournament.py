"""``negotiation tournament``: negotiators against each other across the tables, in both roles."""

from __future__ import annotations

import argparse
from pathlib import Path

from negotiation.commands.common import (
    LIMITS,
    add_overwrite_argument,
    add_scenario_argument,
    count,
    overrides_from,
    seed_value,
)
from negotiation.folders import check_claim, output_folder

DEFAULT_ENTRANTS = "time_dependent,tit_for_tat,hardliner"


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "tournament",
        help="play negotiators against each other at the scenario's tables, in both roles",
        description=(
            "Every ordered pair of the negotiators plays RUNS seeded runs with one in the opener's seat "
            "and the other in the responder's at each chosen table (common random numbers across "
            "matches). Reports each negotiator's mean utility, agreement rate and distances to the "
            "Pareto frontier and Nash point with 95% intervals. Runs take the per-run path. "
            "See docs/negotiators.md."
        ),
    )
    add_scenario_argument(parser)
    parser.add_argument(
        "--negotiators",
        default=DEFAULT_ENTRANTS,
        help="comma-separated registered kinds, or negmas:<Class> (default: %(default)s)",
    )
    parser.add_argument("--tables", default="", help="comma-separated tables (default: every table)")
    parser.add_argument(
        "--runs", type=count(LIMITS["paired runs"]), default=20, help="runs per ordered pair (default 20)"
    )
    parser.add_argument("--seed", type=seed_value, default=0, help="master seed (default 0)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write tournament.csv, standings and chart")
    add_overwrite_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Play the tournament, print the standings and optionally write them."""
    from negotiation.scenario.loading import load_scenario
    from negotiation.tuning.tournament import (
        entrant,
        format_standings,
        play_tournament,
        standings,
        write_tournament,
    )

    check_claim(args.out, "tournament", args.overwrite)
    scenario = load_scenario(args.scenario, overrides_from(args))
    entrants = [entrant(name.strip()) for name in args.negotiators.split(",") if name.strip()]
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    rows = play_tournament(scenario, entrants, args.runs, args.seed, tables)
    frame = standings(rows)
    print(format_standings(frame))
    if args.out is not None:
        with output_folder(args.out, "tournament", args.overwrite):
            written = write_tournament(rows, frame, args.out)
        print(f"\n{len(written)} files written to {args.out}")
    return 0
