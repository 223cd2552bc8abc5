"""Tests of negotiation.tuning.scoring: the arithmetic against hand-computed values, the file, the command."""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import TINY_TOML
from outdirs import frame_outdir

from negotiation.commands.main import main
from negotiation.errors import ExperimentError
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict
from negotiation.tuning.scoring import (
    BASELINE,
    MODEL,
    brier_score,
    log_loss,
    read_outcomes,
    reliability_table,
    score_batch,
)

EXAMPLE = Path(__file__).parents[1] / "experiments" / "outcomes-example.toml"


def scoring_scenario() -> Scenario:
    """The tiny scenario with three copies of its table: t1, t2 and t3 (each with issue x)."""
    data = tomllib.loads(TINY_TOML)
    table = data["tables"].pop("ab")
    data["tables"] = {name: {**copy.deepcopy(table), "name": name} for name in ("t1", "t2", "t3")}
    return scenario_from_dict(data, "<scoring test>")


def write_results(
    outdir: Path,
    deals: dict[str, list[bool]],
    moved: dict[str, list[bool]] | None = None,
    points: list[int] | None = None,
) -> Path:
    """A batch folder whose tables end in the deals given, replication by replication.

    Args:
        outdir: The folder.
        deals: Per table, whether each replication ended in a deal (the same count for every table).
        moved: Per table, whether issue x moved in each replication (other tables: x not on them).
        points: The design point of each replication (default: all 0); replications count from 0
            within each point.
    """
    rows = []
    for table, values in deals.items():
        at = points or [0] * len(values)
        for r, deal in enumerate(values):
            replication = at[:r].count(at[r])
            on_table = moved is not None and table in moved
            rows.append(
                {
                    "point": at[r],
                    "replication": replication,
                    "table": table,
                    "party_0": "a",
                    "party_1": "b",
                    "status": "deal" if deal else "deadline",
                    "deal": deal,
                    "round": 4,
                    "utility_0": 0.6 if deal else 0.3,
                    "utility_1": 0.6 if deal else 0.3,
                    "reservation_0": 0.3,
                    "reservation_1": 0.3,
                    "pareto_distance": 0.0 if deal else None,
                    "nash_distance": 0.1 if deal else None,
                    "x": 40.0 if deal and on_table else None,
                    "moved_x": moved[table][r] if moved is not None and table in moved else None,
                }
            )
    frame = pd.DataFrame(rows).astype({"moved_x": "boolean", "x": float})
    return frame_outdir(outdir, frame, scoring_scenario())


def write_outcomes(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


OUTCOMES = """\
description = "made up for a test"
[tables.t1]
deal = true
reference = { experts = 0.6 }
[tables.t1.issues.x]
moved = false
[tables.t2]
deal = false
reference = { experts = 0.1 }
[tables.t3]
deal = true
"""


def test_brier_and_log_loss_by_hand() -> None:
    p, o = np.array([0.8, 0.3, 0.5]), np.array([1, 0, 1])
    # (0.2^2 + 0.3^2 + 0.5^2) / 3 = (0.04 + 0.09 + 0.25) / 3
    assert brier_score(p, o) == pytest.approx(0.38 / 3)
    # -(ln 0.8 + ln 0.7 + ln 0.5) / 3
    assert log_loss(p, o) == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.5)) / 3)
    # the 50% baseline: 0.25 and ln 2 whatever happens
    assert brier_score(np.full(3, 0.5), o) == pytest.approx(0.25)
    assert log_loss(np.full(3, 0.5), o) == pytest.approx(math.log(2))


def test_log_loss_clips_certain_mistakes() -> None:
    assert log_loss(np.array([0.0]), np.array([1])) == pytest.approx(-math.log(0.001))
    assert log_loss(np.array([1.0]), np.array([1]), clip=0.01) == pytest.approx(-math.log(0.99))


def test_score_batch_against_hand_computed(tmp_path: Path) -> None:
    # model: t1 deal 8/10 = 0.8, t2 3/10 = 0.3, t3 5/10 = 0.5; moved x at t1: 2/10 = 0.2
    outdir = write_results(
        tmp_path / "batch",
        {"t1": [True] * 8 + [False] * 2, "t2": [True] * 3 + [False] * 7, "t3": [True, False] * 5},
        moved={"t1": [True, False, False, False, False] * 2},
    )
    outcomes, events, scores = score_batch(outdir, write_outcomes(tmp_path / "o.toml", OUTCOMES))
    assert outcomes.forecasters == ["experts"]
    probs = dict(zip(events["event"], events[MODEL], strict=True))
    assert probs == pytest.approx({"t1": 0.8, "t1/x": 0.2, "t2": 0.3, "t3": 0.5})
    s = scores.set_index(["level", "forecaster"])
    assert s.loc[("table", MODEL), "brier"] == pytest.approx(0.38 / 3)
    assert s.loc[("table", MODEL), "events"] == 3
    assert s.loc[("table", BASELINE), "brier"] == pytest.approx(0.25)
    # experts cover t1 (0.6, happened) and t2 (0.1, did not): (0.16 + 0.01) / 2
    assert s.loc[("table", "experts"), "brier"] == pytest.approx(0.085)
    assert s.loc[("table", "experts"), "log_loss"] == pytest.approx(-(math.log(0.6) + math.log(0.9)) / 2)
    # the model on the experts' events only: (0.04 + 0.09) / 2
    assert s.loc[("table", "experts"), "model_brier"] == pytest.approx(0.065)
    # issue level: one event, forecast 0.2, did not happen
    assert s.loc[("issue", MODEL), "brier"] == pytest.approx(0.04)
    assert s.loc[("issue", MODEL), "log_loss"] == pytest.approx(-math.log(0.8))


def test_reliability_bins() -> None:
    events = pd.DataFrame({MODEL: [0.05, 0.1, 0.9, 0.95, 0.5], "outcome": [0, 1, 1, 1, 0]})
    table = reliability_table(events, MODEL, bins=5)
    assert table["events"].tolist() == [2, 1, 2]
    assert table["observed"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert table["mean_forecast"].tolist() == pytest.approx([0.075, 0.5, 0.925])


def test_shipped_example_is_labelled_made_up_and_parses() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "MADE UP" in text.upper()
    outcomes = read_outcomes(EXAMPLE)
    assert "made-up" in outcomes.description.lower()
    assert outcomes.made_up
    assert {e.table for e in outcomes.events} >= {"us-china", "us-japan", "us-korea"}
    assert outcomes.forecasters


def test_command_writes_scores_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = write_results(
        tmp_path / "batch",
        {"t1": [True, False], "t2": [False, False], "t3": [True, True]},
        moved={"t1": [True, False]},
    )
    code = main(["score", str(outdir), "--outcomes", str(write_outcomes(tmp_path / "o.toml", OUTCOMES))])
    assert code == 0
    out = capsys.readouterr().out
    assert "baseline 50%" in out and "experts" in out
    for name in ("scores.csv", "score_events.csv", "reliability.png", "reliability.svg"):
        assert (outdir / "score" / name).is_file()


@pytest.mark.parametrize(
    ("outcomes", "message"),
    [
        ("[tables.t9]\ndeal = true\n", "t9"),
        ("[tables.t1]\ndeal = true\nreference = { experts = 1.2 }\n", "probability in [0, 1]"),
        ("[tables.t1]\ndeal = 'yes'\n", "true or false"),
        ("[tables.t1]\ndeal = true\n[tables.t1.issues.nope]\nmoved = true\n", "nope"),
        ("title = 'no tables'\n", "title"),
        ("[tables]\n", "tables"),
    ],
)
def test_bad_outcomes_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], outcomes: str, message: str
) -> None:
    outdir = write_results(tmp_path / "batch", {"t1": [True], "t2": [False], "t3": [True]})
    assert main(["score", str(outdir), "--outcomes", str(write_outcomes(tmp_path / "o.toml", outcomes))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_results_missing_a_column_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame({"point": [0], "replication": [0], "table": ["t1"], "status": ["deal"]})
    frame_outdir(tmp_path / "batch", frame, scoring_scenario())
    path = write_outcomes(tmp_path / "o.toml", "[tables.t1]\ndeal = true\n")
    assert main(["score", str(tmp_path / "batch"), "--outcomes", str(path)]) == 2
    assert "deal" in capsys.readouterr().err


def test_one_design_point(tmp_path: Path) -> None:
    # point 0: two deals, point 1: none
    outdir = write_results(tmp_path / "batch", {"t1": [True, True, False, False]}, points=[0, 0, 1, 1])
    path = write_outcomes(tmp_path / "o.toml", "[tables.t1]\ndeal = true\n")
    assert score_batch(outdir, path)[1]["model"].tolist() == [0.5]
    assert score_batch(outdir, path, point=0)[1]["model"].tolist() == [1.0]
    assert score_batch(outdir, path, point=1)[1]["model"].tolist() == [0.0]
    with pytest.raises(ExperimentError, match="--point"):
        score_batch(outdir, path, point=7)


def test_missing_folder_and_bad_clip(tmp_path: Path) -> None:
    path = write_outcomes(tmp_path / "o.toml", "[tables.t1]\ndeal = true\n")
    with pytest.raises(ExperimentError):
        score_batch(tmp_path / "nowhere", path)
    outdir = write_results(tmp_path / "batch", {"t1": [True]})
    with pytest.raises(ExperimentError):
        score_batch(outdir, path, clip=0.7)
