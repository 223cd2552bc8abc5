"""Experiment specs: the shipped files load, designs are right and reproducible, bad specs get one line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from negotiation.batch.spec import experiment_from_dict, load_experiment
from negotiation.commands.main import main as cli_main
from negotiation.errors import ExperimentError, InputError

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"

SWEEP = """\
[experiment]
name = "sweep"
seed = 7
replications = 10

[[parameters]]
path = "actors.china.resolve"
values = [0.5, 0.9]
"""


def spec_text(**experiment: object) -> str:
    """A minimal valid spec with fields of [experiment] replaced."""
    fields = {"name": '"t"', "seed": "1", "replications": "10"} | {k: str(v) for k, v in experiment.items()}
    return "[experiment]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items() if v != "DROP")


def load_text(tmp_path: Path, text: str) -> object:
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return load_experiment(path)


def test_shipped_experiments_load_with_expected_designs() -> None:
    baseline = load_experiment(EXPERIMENTS / "baseline.toml")
    assert baseline.design_points() == [{}]
    assert baseline.parameters == ()
    sweep = load_experiment(EXPERIMENTS / "china_resolve_sweep.toml")
    assert [p["actors.china.resolve"] for p in sweep.design_points()] == list(sweep.parameters[0].values)
    grid = load_experiment(EXPERIMENTS / "chips_vs_rare_earths.toml")
    chips, leverage = (p.values for p in grid.parameters)
    assert len(grid.design_points()) == len(chips) * len(leverage)
    assert {tuple(p.values()) for p in grid.design_points()} == {(c, v) for c in chips for v in leverage}
    lhs = load_experiment(EXPERIMENTS / "uncertainty_lhs.toml")
    assert lhs.sampling is not None
    assert len(lhs.design_points()) == lhs.sampling.points
    assert all(p.low is not None and p.high is not None for p in lhs.parameters)


def test_latin_hypercube_puts_one_point_in_every_stratum() -> None:
    spec = load_experiment(EXPERIMENTS / "uncertainty_lhs.toml")
    points = spec.design_points()
    n = len(points)
    for parameter in spec.parameters:
        values = np.array([p[parameter.path] for p in points])
        strata = np.floor((values - parameter.low) / (parameter.high - parameter.low) * n).astype(int)
        assert sorted(strata.tolist()) == list(range(n)), parameter.path


def spec_with_ranges(method: str, points: int, seed: int = 3) -> dict:
    return {
        "experiment": {"name": "r", "seed": seed, "replications": 5},
        "parameters": [
            {"path": "actors.china.leverage", "low": 0.2, "high": 0.6},
            {"path": "tables.us-japan.deadline", "low": 8, "high": 20},
        ],
        "sampling": {"method": method, "points": points},
    }


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
def test_sampled_designs_are_seeded_in_bounds_and_integer_where_needed(method: str) -> None:
    first = experiment_from_dict(spec_with_ranges(method, 8), "a").design_points()
    again = experiment_from_dict(spec_with_ranges(method, 8), "b").design_points()
    other = experiment_from_dict(spec_with_ranges(method, 8, seed=4), "c").design_points()
    assert first == again
    assert first != other
    assert len(first) == 8
    for point in first:
        assert 0.2 <= point["actors.china.leverage"] <= 0.6
        assert isinstance(point["tables.us-japan.deadline"], int)
        assert 8 <= point["tables.us-japan.deadline"] <= 20


def test_value_lists_are_crossed_with_sampled_points() -> None:
    data = spec_with_ranges("lhs", 4)
    data["parameters"].insert(0, {"path": "actors.china.resolve", "values": [0.5, 0.7, 0.9]})
    spec = experiment_from_dict(data, "x")
    points = spec.design_points()
    assert len(points) == 12
    assert list(points[0]) == spec.parameter_paths
    sampled = [tuple(p.values())[1:] for p in points]
    assert sampled[:4] == sampled[4:8] == sampled[8:]  # the same sample at every listed value
    assert [p["actors.china.resolve"] for p in points] == [0.5] * 4 + [0.7] * 4 + [0.9] * 4


def test_point_scenario_applies_fixed_and_varied_values() -> None:
    data = tomllib.loads(SWEEP)
    data["fixed"] = {"tables.us-china.deadline": 20, "actors.us.resolve": 0.6}
    spec = experiment_from_dict(data, "x")
    scenario = spec.point_scenario(1)
    assert scenario.actors["china"].resolve == 0.9
    assert scenario.tables["us-china"].deadline == 20
    assert scenario.actors["us"].resolve == 0.6
    # a fixed or varied value of an uncertain parameter is no longer drawn per run
    assert "actors.us.resolve" not in scenario.uncertainty
    assert "actors.china.resolve" not in scenario.uncertainty
    assert spec.base_scenario().actors["china"].resolve == 0.75


def test_spec_toml_round_trips(tmp_path: Path) -> None:
    data = spec_with_ranges("sobol", 4)
    data["fixed"] = {
        "tables.us-china.deadline": 20,
        "actors.us.strategy.kind": "boulware",
        "uncertainty.actors.us.resolve": {"dist": "uniform", "low": 0.5, "high": 0.7},
    }
    data["experiment"] |= {"description": 'quotes " and unicode é', "block": 3}
    spec = experiment_from_dict(data, "x")
    again = load_text(tmp_path, spec.to_toml())
    assert again.model_dump(exclude={"source"}) == spec.model_dump(exclude={"source"})
    assert again.design_points() == spec.design_points()
    adaptive = spec.with_precision(0.05)
    back = load_text(tmp_path, adaptive.to_toml())
    assert (back.precision, back.max_replications, back.replications) == (
        0.05,
        adaptive.max_replications,
        None,
    )


def test_relative_scenario_path_is_resolved_against_the_spec(tmp_path: Path, tiny_file: Path) -> None:
    (tmp_path / "sub").mkdir()
    spec = load_text(tmp_path / "sub", spec_text(scenario='"../tiny.toml"'))
    assert spec.scenario == str(tiny_file.resolve())
    assert spec.base_scenario().name == "tiny"


def test_copies_for_runs_and_precision() -> None:
    spec = experiment_from_dict(tomllib.loads(SWEEP), "x")
    assert spec.with_replications(3).replications == 3
    adaptive = spec.with_precision(0.1)
    assert adaptive.adaptive and adaptive.replications is None and adaptive.max_replications >= spec.block
    assert adaptive.design_points() == spec.design_points()
    with pytest.raises(ExperimentError, match="--runs"):
        spec.with_replications(0)
    with pytest.raises(ExperimentError, match="--precision"):
        spec.with_precision(0.7)


BAD_SPECS = {
    "unknown path": (SWEEP.replace("actors.china.resolve", "actors.china.resolv"), "parameters.0.path"),
    "not numeric": (SWEEP.replace("actors.china.resolve", "actors.china.strategy.kind"), "parameters.0.path"),
    "empty values": (SWEEP.replace("[0.5, 0.9]", "[]"), "parameters.0.values"),
    "value out of bounds": (SWEEP.replace("[0.5, 0.9]", "[0.5, 1.5]"), "parameters.0.values.1"),
    "repeated values": (SWEEP.replace("[0.5, 0.9]", "[0.5, 0.5]"), "parameters.0.values"),
    "inverted range": (
        SWEEP.replace("values = [0.5, 0.9]", "low = 0.9\nhigh = 0.5")
        + '[sampling]\nmethod = "lhs"\npoints = 4\n',
        "parameters.0.high",
    ),
    "range without sampling": (SWEEP.replace("values = [0.5, 0.9]", "low = 0.5\nhigh = 0.9"), "sampling"),
    "half a range": (SWEEP.replace("values = [0.5, 0.9]", "low = 0.5"), "parameters.0.high"),
    "values and range": (
        SWEEP.replace("values = [0.5, 0.9]", "values = [0.5]\nlow = 0.5\nhigh = 0.9"),
        "parameters.0",
    ),
    "zero replications": (SWEEP.replace("replications = 10", "replications = 0"), "experiment.replications"),
    "no replications": (SWEEP.replace("replications = 10", ""), "experiment.replications"),
    "both modes": (
        SWEEP.replace("replications = 10", "replications = 10\nprecision = 0.02"),
        "experiment.replications",
    ),
    "bad precision": (SWEEP.replace("replications = 10", "precision = 0.9"), "experiment.precision"),
    "cap without precision": (
        SWEEP.replace("replications = 10", "replications = 10\nmax_replications = 100"),
        "experiment.max_replications",
    ),
    "unknown field": (SWEEP.replace("seed = 7", "seed = 7\nrepetitions = 3"), "experiment.repetitions"),
    "negative seed": (SWEEP.replace("seed = 7", "seed = -1"), "experiment.seed"),
    "bad name": (SWEEP.replace('name = "sweep"', 'name = "../up"'), "experiment.name"),
    "unknown output": (SWEEP.replace("seed = 7", 'seed = 7\noutputs = ["pdf"]'), "experiment.outputs.0"),
    "missing scenario": (
        SWEEP.replace("seed = 7", 'seed = 7\nscenario = "nowhere.toml"'),
        "experiment.scenario",
    ),
    "fixed and varied": (SWEEP + '[fixed]\n"actors.china.resolve" = 0.5\n', "parameters.0.path"),
    "sobol not power of two": (
        SWEEP.replace("values = [0.5, 0.9]", "low = 0.5\nhigh = 0.9")
        + '[sampling]\nmethod = "sobol"\npoints = 6\n',
        "sampling.points",
    ),
    "integer parameter": (
        SWEEP.replace('"actors.china.resolve"', '"tables.us-china.deadline"').replace(
            "[0.5, 0.9]", "[10.5, 12]"
        ),
        "parameters.0.values.0",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_specs_name_file_field_and_expectation(case: str, tmp_path: Path) -> None:
    text, field = BAD_SPECS[case]
    with pytest.raises(ExperimentError) as info:
        load_text(tmp_path, text)
    error = info.value
    assert error.source.endswith("spec.toml")
    assert error.field == field, error.one_line()
    line = error.one_line()
    assert "\n" not in line and "expected" in line


def test_bad_fixed_override_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_text(tmp_path, SWEEP + '[fixed]\n"actors.nobody.resolve" = 0.5\n')
    assert "spec.toml" in info.value.one_line()


def test_missing_experiment_table_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="experiment"):
        load_text(tmp_path, 'name = "x"\n')
    with pytest.raises(ExperimentError, match="TOML"):
        load_text(tmp_path, "[experiment\n")


def test_validate_command_checks_experiments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(SWEEP, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(SWEEP.replace("[0.5, 0.9]", "[]"), encoding="utf-8")
    assert cli_main(["validate", str(good)]) == 0
    assert cli_main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "parameters.0.values" in err[0]
