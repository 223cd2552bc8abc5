"""The tournament: every ordered pair in both roles on common seeds, ANAC-style standings, the command."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from negotiation.commands.main import main
from negotiation.model import prepare, run_once
from negotiation.scenario.loading import load_scenario
from negotiation.tuning.tournament import entrant, play_tournament, standings

TABLES = ["us-china", "us-japan"]


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    entrants = [entrant(k) for k in ("time_dependent", "tit_for_tat", "hardliner")]
    return play_tournament(load_scenario(), entrants, runs=4, master_seed=7, tables=TABLES)


def test_every_ordered_pair_plays_every_table_on_the_same_seeds(rows: pd.DataFrame) -> None:
    matches = rows.groupby(["negotiator_0", "negotiator_1"])
    assert len(matches) == 6  # 3 entrants, ordered pairs, no self-play
    seeds = {tuple(sorted(group["seed"].unique())) for _, group in matches}
    assert len(seeds) == 1  # common random numbers
    assert (matches.size() == 4 * len(TABLES)).all()


def test_a_match_row_is_the_run_with_that_seating(rows: pd.DataFrame) -> None:
    row = rows[(rows.negotiator_0 == "hardliner") & (rows.negotiator_1 == "tit_for_tat")].iloc[0]
    compiled = prepare(None, {})
    factories = {"hardliner": entrant("hardliner").factory, "tit_for_tat": entrant("tit_for_tat").factory}
    seats = {}
    for table in TABLES:
        opener, responder = compiled.scenario.tables[table].parties
        seats[opener, table], seats[responder, table] = factories["hardliner"], factories["tit_for_tat"]
    arrays = run_once(compiled, int(row.seed), negotiators=seats)
    t = compiled.table_ids.index(row.table)
    assert arrays.utilities[t, 0] == row.utility_0 and arrays.utilities[t, 1] == row.utility_1


def test_standings_are_each_entrants_seats_in_both_roles(rows: pd.DataFrame) -> None:
    frame = standings(rows).set_index("negotiator")
    for name in ("time_dependent", "tit_for_tat", "hardliner"):
        utilities = np.concatenate(
            [rows.loc[rows[f"negotiator_{s}"] == name, f"utility_{s}"] for s in (0, 1)]
        )
        deals = np.concatenate([rows.loc[rows[f"negotiator_{s}"] == name, "deal"] for s in (0, 1)])
        assert frame.loc[name, "seats"] == utilities.size == 2 * 2 * 4 * len(TABLES)
        # equal seats per run, so the mean of run means is the mean of seats
        assert frame.loc[name, "mean_utility"] == pytest.approx(utilities.mean())
        assert frame.loc[name, "agreement_rate"] == pytest.approx(deals.mean())
        assert (
            frame.loc[name, "utility_low"]
            <= frame.loc[name, "mean_utility"]
            <= frame.loc[name, "utility_high"]
        )
    # a deal is a deal for both sides: the entrants' agreements add up to twice the deals
    seats_per_entrant = 2 * 2 * 4 * len(TABLES)
    assert (frame["agreement_rate"] * seats_per_entrant).sum() == pytest.approx(2 * rows["deal"].sum())


def test_hardliners_only_agree_where_the_opponent_concedes_to_them(rows: pd.DataFrame) -> None:
    """A hardliner asks for utility 1 and accepts only what beats waiting: its deals are worth at least
    its value of no deal (never below it), whoever opens."""
    for side in (0, 1):
        mine = rows[(rows[f"negotiator_{side}"] == "hardliner") & rows["deal"]]
        assert (mine[f"utility_{side}"] >= mine[f"reservation_{side}"] - 1e-12).all()


def test_the_command_writes_its_table_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t"
    code = main(["tournament", "--runs", "2", "--tables", "us-china", "--out", str(out), "--seed", "3"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "time_dependent" in printed and "hardliner" in printed
    assert {p.name for p in out.iterdir()} >= {
        "tournament.csv", "standings.csv", "standings.md", "tournament.png", "tournament.svg"
    }  # fmt: skip
    assert len(pd.read_csv(out / "tournament.csv")) == 6 * 2


def test_bad_entrants_and_tables_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tournament", "--negotiators", "hardliner,no-such-kind", "--runs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'no-such-kind'" in err and "registered negotiator kind" in err
    assert main(["tournament", "--tables", "us-mars", "--runs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--tables" in err and "'us-mars'" in err
    assert main(["tournament", "--negotiators", "hardliner", "--runs", "1"]) == 2
