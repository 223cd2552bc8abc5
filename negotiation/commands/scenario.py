"""``negotiation scenario export``: print the shipped default scenario as TOML."""

from __future__ import annotations

import argparse

from negotiation.scenario.loading import default_scenario_text


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser("scenario", help="work with scenario files")
    actions = parser.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="print the default scenario as TOML, to copy and edit")
    export.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Print the default scenario, comments included."""
    print(default_scenario_text(), end="")
    return 0
