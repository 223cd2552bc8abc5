"""``negotiation params [SCENARIO]``: every parameter path with its value, bounds and distribution."""

from __future__ import annotations

import argparse

from negotiation.commands.common import add_scenario_argument, overrides_from


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "params",
        help="list every numeric parameter path with its value, bounds and distribution",
        description="List every numeric parameter of the scenario (default: the shipped one) by the path "
        "that --set, overlays, experiments and the dashboard use, with its current value, the bounds it "
        "accepts and, where the scenario draws it per run, its distribution.",
    )
    add_scenario_argument(parser)
    parser.add_argument("--grep", metavar="TEXT", help="only paths containing TEXT")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Print one line per parameter."""
    from negotiation.scenario.loading import load_scenario
    from negotiation.scenario.parameters import parameter_table

    scenario = load_scenario(args.scenario, overrides_from(args))
    rows = [row for row in parameter_table(scenario) if not args.grep or args.grep in row[0]]
    width = max([len(row[0]) for row in rows] + [4])
    print(f"{'path':<{width}}  {'value':>10}  {'bounds':<17}  distribution (per run)")
    for path, value, bounds, distribution in rows:
        print(f"{path:<{width}}  {value:>10}  {bounds:<17}  {distribution}".rstrip())
    return 0
