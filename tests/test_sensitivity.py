"""Tests of negotiation.tuning.sensitivity: a parameter with no possible effect gets zero indices."""

from __future__ import annotations

from pathlib import Path

import pytest

from negotiation.batch.spec import load_experiment
from negotiation.commands.main import main
from negotiation.errors import ExperimentError
from negotiation.tuning.sensitivity import n_points, problem_from, run_sensitivity, sample

DATA = Path(__file__).parent / "data"
EXPERIMENT = DATA / "tuning_tiny_sensitivity.toml"
NULL = "actors.a.rapport.c"  # a and c never meet: rapport only acts between a table's two parties


def test_sobol_finds_no_effect_where_there_is_none() -> None:
    spec = load_experiment(EXPERIMENT)
    indices, outputs = run_sensitivity(spec, "sobol", samples=16, runs=60)
    assert len(outputs) == n_points("sobol", 16, 3)
    ix = indices.set_index(["table", "parameter"])
    for table in ("ab", "cd"):
        assert abs(ix.loc[(table, NULL), "ST"]) < 0.01
        assert abs(ix.loc[(table, NULL), "S1"]) < 0.01
    # each table's own walk-out hazard drives it; the other table's cannot
    assert ix.loc[("ab", "tables.ab.breakdown_risk"), "ST"] > 0.3
    assert abs(ix.loc[("ab", "tables.cd.breakdown_risk"), "ST"]) < 0.01
    assert ix.loc[("cd", "tables.cd.breakdown_risk"), "ST"] > 0.3
    assert abs(ix.loc[("cd", "tables.ab.breakdown_risk"), "ST"]) < 0.01
    assert (indices["ST_conf"] >= 0).all()


def test_morris_ranks_the_same_way() -> None:
    spec = load_experiment(EXPERIMENT)
    indices, outputs = run_sensitivity(spec, "morris", samples=6, runs=60)
    assert len(outputs) == n_points("morris", 6, 3)
    ix = indices.set_index(["table", "parameter"])
    assert ix.loc[("ab", NULL), "mu_star"] < 0.01
    assert ix.loc[("ab", "tables.ab.breakdown_risk"), "mu_star"] > 0.1


def test_same_seed_same_indices() -> None:
    spec = load_experiment(EXPERIMENT)
    first, _ = run_sensitivity(spec, "morris", samples=3, runs=20, seed=4)
    again, _ = run_sensitivity(spec, "morris", samples=3, runs=20, seed=4)
    assert first.equals(again)


def test_command_writes_csv_and_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s"
    argv = ["sensitivity", str(EXPERIMENT), "--method", "morris", "--samples", "3", "--runs", "10"]
    assert main([*argv, "--out", str(out)]) == 0
    assert NULL in capsys.readouterr().out
    for name in ("sensitivity.csv", "samples.csv", "sensitivity-ab.png", "sensitivity-cd.svg"):
        assert (out / name).is_file(), name


def test_sobol_sample_size_must_be_a_power_of_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ExperimentError):
        sample(problem_from(load_experiment(EXPERIMENT)), "sobol", 12, seed=0)
    assert main(["sensitivity", str(EXPERIMENT), "--samples", "12"]) == 2
    assert "power of two" in capsys.readouterr().err


def test_experiment_without_parameters_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "fixed.toml"
    spec.write_text(
        f'[experiment]\nname = "fixed"\nscenario = "{DATA / "tuning_tiny.toml"}"\nseed = 1\n'
        "replications = 5\n",
        "utf-8",
    )
    assert main(["sensitivity", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "parameters" in err
