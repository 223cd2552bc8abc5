"""Tests of negotiation.tuning.compare: paired intervals, paired changes from runs, the compare command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from negotiation.commands.main import main
from negotiation.scenario.loading import load_scenario
from negotiation.tuning.compare import (
    compare_scenarios,
    load_side,
    paired_deal_changes,
    paired_difference_interval,
    paired_issue_changes,
    simulate_pair,
    write_comparison,
)

TINY = Path(__file__).parent / "data" / "tuning_tiny.toml"


def test_newcombe_interval_matches_published_example() -> None:
    # Cavo et al. (2012) paired table, as in Fagerland, Lydersen & Laake (2017), chapter 8:
    # Newcombe square-and-add interval for p1 - p2 = -0.0621 is (-0.1186, -0.0046).
    low, high = paired_difference_interval(both=59, first_only=16, second_only=6, neither=80)
    assert (round(float(low), 4), round(float(high), 4)) == (-0.1186, -0.0046)
    # swapping the roles of the two sides mirrors the interval
    low, high = paired_difference_interval(both=59, first_only=6, second_only=16, neither=80)
    assert (round(float(low), 4), round(float(high), 4)) == (0.0046, 0.1186)


def test_interval_without_changes_is_not_degenerate() -> None:
    low, high = paired_difference_interval(40, 0, 0, 60)
    assert low < 0.0 < high  # the Wald interval would be [0, 0]
    low, high = paired_difference_interval(0, 0, 0, 0)
    assert (low, high) == (-1.0, 1.0)


def test_interval_is_vectorised() -> None:
    low, high = paired_difference_interval(
        np.array([59, 40]), np.array([16, 0]), np.array([6, 0]), np.array([80, 60])
    )
    assert low.shape == high.shape == (2,)
    assert np.all(low < high)


def test_interval_coverage_near_nominal() -> None:
    # Monte Carlo coverage of the 95% interval for a few true paired distributions
    rng = np.random.default_rng(7)
    for probs in ([0.5, 0.1, 0.05, 0.35], [0.02, 0.01, 0.03, 0.94], [0.3, 0.2, 0.2, 0.3]):
        counts = rng.multinomial(150, probs, size=4000)
        low, high = paired_difference_interval(*counts.T)
        truth = probs[2] - probs[1]
        coverage = np.mean((low <= truth) & (truth <= high))
        assert 0.93 <= coverage <= 0.995, (probs, coverage)


def _rows(deals: dict[str, list[bool]]) -> pd.DataFrame:
    rows = [
        {"replication": r, "table": table, "deal": deal}
        for table, values in deals.items()
        for r, deal in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_paired_changes_count_by_replication() -> None:
    base = _rows({"t1": [True, True, False, False, True], "t2": [False] * 5})
    variant = _rows({"t1": [True, False, True, True, True], "t2": [False] * 5})
    frame = paired_deal_changes(base, variant).set_index("table")
    t1 = frame.loc["t1"]
    assert (t1["both"], t1["base_only"], t1["variant_only"], t1["neither"]) == (2, 1, 2, 0)
    assert t1["base_p"] == pytest.approx(3 / 5)
    assert t1["variant_p"] == pytest.approx(4 / 5)
    assert t1["change"] == pytest.approx(1 / 5)
    diffs = np.array([0, -1, 1, 1, 0])
    half = 1.959964 * diffs.std(ddof=1) / np.sqrt(5)
    assert t1["wald_low"] == pytest.approx(0.2 - half, abs=1e-5)
    assert t1["low"] < t1["change"] < t1["high"]
    assert frame.loc["t2", "change"] == 0.0
    assert list(frame.index) == ["t1", "t2"]


def test_paired_changes_need_a_common_table() -> None:
    from negotiation.errors import ExperimentError

    with pytest.raises(ExperimentError):
        paired_deal_changes(_rows({"t1": [True]}), _rows({"t9": [True]}))


def test_identical_scenarios_change_nothing() -> None:
    scenario = load_scenario(TINY)
    frame = compare_scenarios(scenario, scenario, runs=30, master_seed=3)
    assert list(frame["table"]) == ["ab", "cd"]
    assert (frame["base_only"] == 0).all() and (frame["variant_only"] == 0).all()
    assert (frame["change"] == 0).all()


def test_common_random_numbers_isolate_the_changed_table() -> None:
    base = load_scenario(TINY)
    # a value of no deal of 0.4 + 0.6 = 1 for a leaves no zone of agreement at table ab: every deal is lost
    variant = load_scenario(TINY, {"tables.ab.preferences.a.outside_option": 0.6})
    frame = compare_scenarios(base, variant, runs=40, master_seed=5).set_index("table")
    assert frame.loc["ab", "variant_p"] == 0.0
    assert frame.loc["ab", "high"] < 0.0  # a significant fall
    # the untouched table sees exactly the same random numbers, so not one run changes
    assert frame.loc["cd", "base_only"] == frame.loc["cd", "variant_only"] == 0


def test_issue_changes_pair_moves_and_skip_issues_off_the_table() -> None:
    base = pd.DataFrame(
        {
            "replication": [0, 1, 2, 0, 1, 2],
            "table": ["t1"] * 3 + ["t2"] * 3,
            "moved_x": [True, False, False, None, None, None],
            "moved_y": [True, True, True, False, False, True],
        }
    )
    variant = base.assign(moved_x=[True, True, True, None, None, None])
    frame = paired_issue_changes(base.astype({"moved_x": "boolean"}), variant.astype({"moved_x": "boolean"}))
    assert list(zip(frame["table"], frame["issue"], strict=True)) == [("t1", "x"), ("t1", "y"), ("t2", "y")]
    x = frame.set_index(["table", "issue"]).loc[("t1", "x")]
    assert (x["runs"], x["variant_only"], x["base_only"]) == (3, 2, 0)
    assert x["change"] == pytest.approx(2 / 3)


def test_issue_changes_on_real_runs_agree_with_deals() -> None:
    base = load_scenario(TINY)
    variant = load_scenario(TINY, {"tables.ab.preferences.a.outside_option": 0.6})
    rows = simulate_pair(base, variant, runs=30, master_seed=2)
    issues = paired_issue_changes(*rows).set_index(["table", "issue"])
    assert set(issues.index) == {("ab", "x"), ("ab", "y"), ("cd", "x"), ("cd", "y")}
    # no deal at ab in the variant, so no issue moves there; cd is untouched run by run
    assert (issues.loc["ab", "variant_p"] == 0).all()
    assert (issues.loc["cd", "base_only"] == 0).all() and (issues.loc["cd", "variant_only"] == 0).all()


def test_load_side_recognises_overlays_scenarios_and_default(tmp_path: Path) -> None:
    overlay = tmp_path / "resolute.toml"
    overlay.write_text('[set]\n"actors.china.resolve" = 0.9\n', encoding="utf-8")
    side = load_side(overlay)
    assert side.label == "resolute"
    assert side.scenario.actors["china"].resolve == 0.9
    assert "actors.china.resolve" not in side.scenario.uncertainty
    assert load_side(TINY).scenario.name == "Tuning test scenario"
    assert load_side("default").label == "default"


def test_write_comparison_files(tmp_path: Path) -> None:
    base = _rows({"t1": [True, False, True], "t2": [True, True, True]})
    variant = _rows({"t1": [False, False, True], "t2": [True, True, True]})
    written = write_comparison(paired_deal_changes(base, variant), tmp_path / "out", "b", "v")
    assert sorted(p.name for p in written) == ["compare.csv", "compare.md", "compare.png", "compare.svg"]
    assert pd.read_csv(tmp_path / "out" / "compare.csv")["table"].tolist() == ["t1", "t2"]
    first = {p.name: p.read_bytes() for p in written}
    again = write_comparison(paired_deal_changes(base, variant), tmp_path / "out", "b", "v")
    assert {p.name: p.read_bytes() for p in again} == first  # same inputs, same bytes (no dates)


def test_command_prints_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = tmp_path / "variant.toml"
    variant.write_text(TINY.read_text(encoding="utf-8").replace("deadline = 6", "deadline = 2"), "utf-8")
    argv = ["compare", str(TINY), str(variant), "--runs", "10", "--issues", "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ab" in out and "cd" in out and "tuning_tiny" in out
    assert "ab/x" in out  # the --issues table
    assert (tmp_path / "o" / "compare.png").is_file()
    assert pd.read_csv(tmp_path / "o" / "compare-issues.csv")["issue"].tolist() == ["x", "y", "x", "y"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (("missing.toml", None), "missing.toml"),
        (("bad-overlay", None), "actors.nobody"),
        (("other-tables", None), "tables"),
        ((None, "out-is-file"), "--out"),
    ],
)
def test_bad_inputs_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: tuple, message: str
) -> None:
    (tmp_path / "bad-overlay").write_text('[set]\n"actors.nobody.resolve" = 0.5\n', "utf-8")
    renamed = (
        TINY.read_text(encoding="utf-8").replace("tables.ab", "tables.zz").replace("tables.cd", "tables.yy")
    )
    (tmp_path / "other-tables").write_text(renamed, "utf-8")
    (tmp_path / "out-is-file").write_text("not a folder", "utf-8")
    variant = str(tmp_path / files[0]) if files[0] else str(TINY)
    argv = ["compare", str(TINY), variant, "--runs", "3"]
    if files[1]:
        argv += ["--out", str(tmp_path / files[1])]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err
