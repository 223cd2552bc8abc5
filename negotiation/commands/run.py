"""``negotiation run``: one seeded run of a scenario, printed as a table or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from negotiation.bargaining.outcomes import TableOutcome, outcomes_to_dict
from negotiation.commands.common import (
    add_overlay_argument,
    add_overwrite_argument,
    add_scenario_argument,
    overrides_from,
    seed_value,
)
from negotiation.folders import check_claim, output_folder
from negotiation.model import NegotiationModel


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser("run", help="run a scenario once and print the outcome of every table")
    add_scenario_argument(parser)
    add_overlay_argument(parser)
    parser.add_argument("--seed", type=seed_value, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="DIR",
        help="write concession curves and utility-space pictures (PNG) into DIR",
    )
    add_overwrite_argument(parser, "the --plot folder")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Run the scenario and print its outcomes."""
    check_claim(args.plot, "run", args.overwrite, flag="--plot")
    model = NegotiationModel(
        args.scenario, seed=args.seed, trace=args.plot is not None, **overrides_from(args)
    )
    outcomes = model.run()
    if args.plot is not None:
        from negotiation.charts.run_charts import write_run_plots

        with output_folder(args.plot, "run", args.overwrite, flag="--plot"):
            written = write_run_plots(model, args.plot)
    if args.json:
        print(
            json.dumps(
                {
                    "scenario": model.compiled.scenario.name,
                    "seed": args.seed,
                    "tables": outcomes_to_dict(outcomes),
                    "blocs": model.bloc_outcomes(),
                },
                indent=2,
            )
        )
    else:
        print(format_outcomes(outcomes, model.compiled.scenario.name, args.seed))
        for line in format_blocs(model):
            print(line)
    if args.plot is not None and not args.json:
        print(f"\n{len(written)} pictures written to {args.plot}")
    return 0


def format_blocs(model: NegotiationModel) -> list[str]:
    """One line per bloc: its common position at the end (if any) and who left it, when."""
    values = model.bloc_outcomes()
    lines = []
    for bloc in model.compiled.blocs:
        prefix = f"bloc_{bloc.bloc_id}"
        if values[f"{prefix}_exists"]:
            where = ", ".join(f"{i} {values[f'{prefix}_position_{i}']:.2f}" for i in bloc.issues)
            held = f"common position {where} (strength {values[f'{prefix}_strength']:.2f})"
        else:
            held = "no common position at the end"
        left = [
            f"{m} (from round {values[f'{prefix}_{m}_defected_round']})"
            for m in bloc.members
            if values[f"{prefix}_{m}_defected"]
        ]
        lines.append(f"\nbloc {bloc.bloc_id}: {held}; left: {', '.join(left) or 'none'}")
    return lines


def format_outcomes(outcomes: tuple[TableOutcome, ...], scenario: str, seed: int) -> str:
    """A readable table of outcomes: one block per table, one line per issue."""
    lines = [f"{scenario} (seed {seed})", ""]
    for o in outcomes:
        ending = f"deal in round {o.round}" if o.deal else f"no deal ({o.status}, round {o.round})"
        if o.partial:
            ending += ", partial"
        utilities = ", ".join(f"{p} {u:.2f}" for p, u in o.utilities.items())
        lines.append(f"{o.table:<18} {ending:<34} utility: {utilities}")
        for issue, value in o.values.items():
            mark = "moved" if o.moved[issue] else ("status quo" if o.deal else "without a deal")
            lines.append(f"    {issue:<24} {value:>10.2f}  {mark}")
        if o.deal and o.pareto_distance is None and len(o.parties) > 2:
            lines.append(
                "    distances to the Pareto frontier and Nash point: not measured (model.n_party_distances)"
            )
        elif o.deal:
            lines.append(
                f"    distance to Pareto frontier {o.pareto_distance:.3f}, "
                f"to Nash point {o.nash_distance if o.nash_distance is not None else float('nan'):.3f}"
            )
    return "\n".join(lines)
