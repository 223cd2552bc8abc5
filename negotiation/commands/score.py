"""``negotiation score OUTDIR --outcomes FILE``: Brier score, log loss and a reliability diagram."""

from __future__ import annotations

import argparse
from pathlib import Path

from negotiation.commands.common import add_overwrite_argument


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "score",
        help="score a batch's deal probabilities against recorded outcomes (Brier, log loss)",
        description=(
            "Score the deal (and issue-move) probabilities of a batch output folder against what "
            "happened, recorded in an outcomes TOML file; compare with an always-50% baseline and with "
            "any reference forecasts in the file. See docs/tuning.md for the file format."
        ),
    )
    parser.add_argument("outdir", type=Path, help="batch output folder (made by `negotiation batch`)")
    parser.add_argument("--outcomes", type=Path, required=True, metavar="FILE", help="outcomes TOML file")
    parser.add_argument(
        "--clip",
        type=float,
        default=0.001,
        help="clip probabilities to [clip, 1-clip] for the log loss (default 0.001)",
    )
    parser.add_argument(
        "--point",
        type=int,
        metavar="N",
        help="score design point N only (default: pool every design point of the batch)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write scores.csv, score_events.csv and reliability.png/.svg (default OUTDIR/score)",
    )
    add_overwrite_argument(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Score the batch, print the scores and write the files."""
    from negotiation.folders import check_claim, output_folder
    from negotiation.tuning.scoring import format_scores, score_batch, write_scores

    out = args.out if args.out is not None else args.outdir / "score"
    check_claim(out, "score", args.overwrite)
    outcomes, events, scores = score_batch(args.outdir, args.outcomes, args.clip, args.point)
    if outcomes.made_up:
        print(f"NOTE: {args.outcomes} says its outcomes are MADE UP: these scores measure nothing real.")
    if outcomes.description:
        print(outcomes.description.strip(), end="\n\n")
    print(format_scores(scores, events))
    with output_folder(out, "score", args.overwrite):
        written = write_scores(out, events, scores, outcomes.forecasters)
    print(f"\n{len(written)} files written to {out}")
    return 0
