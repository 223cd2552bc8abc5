"""Every experiment shipped in experiments/ runs (with a tiny number of runs) and writes its folder."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from negotiation.batch.runner import run_batch
from negotiation.batch.spec import ExperimentSpec, experiment_from_dict, load_experiment
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.paths import get_value

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SPECS = sorted(
    path
    for path in EXPERIMENTS.glob("*.toml")
    if "experiment" in tomllib.loads(path.read_text(encoding="utf-8"))
)


MANY_POINTS = 100
"""A shipped factorial with more design points than this runs only its corners in the smoke test."""


def test_the_required_experiments_are_shipped() -> None:
    names = {path.stem for path in SPECS}
    required = {"baseline", "china_resolve_sweep", "chips_vs_rare_earths", "uncertainty_lhs", "grid_20x20"}
    assert required <= names


def corners(path: Path) -> ExperimentSpec:
    """The spec with each list of values cut to its first and last value (a big grid's corners)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for entry in data.get("parameters", []):
        if "values" in entry:
            entry["values"] = [entry["values"][0], entry["values"][-1]]
    return experiment_from_dict(data, str(path), path.parent)


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_shipped_experiment_runs(path: Path, tmp_path: Path) -> None:
    spec = load_experiment(path).with_outputs(())
    if len(spec.design_points()) > MANY_POINTS:  # every point loads and validates; the corners run
        spec = corners(path).with_outputs(())
    out = run_batch(spec, runs=2, workers=1, out=tmp_path / spec.name, progress=False)
    meta = json.loads((out / "metadata.json").read_text())
    frame = pd.read_parquet(out / "results")
    assert meta["runs"] == 2 * len(spec.design_points())
    assert len(frame) == meta["runs"] * len(meta["tables"])
    for column in spec.parameter_paths:
        assert frame[column].notna().all()


def test_the_big_grid_is_20_by_20_at_plus_minus_2_points() -> None:
    spec = load_experiment(EXPERIMENTS / "grid_20x20.toml")
    points = spec.design_points()
    assert len(points) == 400 and spec.precision == 0.02
    for path in spec.parameter_paths:
        levels = sorted({point[path] for point in points})
        assert len(levels) == 20
        steps = np.diff(levels)
        assert np.allclose(steps, steps[0])  # even steps
    # the default scenario's own values are levels of the grid: the map shows where it stands
    default = {path: float(get_value(load_scenario(None), path)) for path in spec.parameter_paths}
    assert default in points


CLAIM = "support of the parameter's distribution"
"""The phrase with which a shipped experiment says its ranges follow the scenario's distributions."""


def _ranges_match_the_distributions(path: Path) -> list[str]:
    """The parameters of a spec whose range is not its distribution's support (or mean -/+ 2 sd)."""
    spec = load_experiment(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    uncertainty = spec.base_scenario().uncertainty
    wrong = []
    for entry in data.get("parameters", []):
        dist = uncertainty.get(entry["path"])
        if dist is None or "low" not in entry:
            wrong.append(f"{entry['path']}: not uncertain in the scenario, or not a range")
            continue
        if dist.dist == "normal":
            expected = (dist.mean - 2 * dist.sd, dist.mean + 2 * dist.sd)
        else:
            expected = (dist.low, dist.high)
        if abs(entry["low"] - expected[0]) > 0.011 or abs(entry["high"] - expected[1]) > 0.011:
            wrong.append(f"{entry['path']}: {entry['low']}-{entry['high']}, the scenario's is {expected}")
    return wrong


CLAIMING = [p for p in SPECS if CLAIM in p.read_text(encoding="utf-8")]


def test_some_shipped_experiment_claims_to_follow_the_distributions() -> None:
    assert any(p.stem == "uncertainty_lhs" for p in CLAIMING)


@pytest.mark.parametrize("path", CLAIMING, ids=[p.stem for p in CLAIMING])
def test_an_experiment_that_says_it_follows_the_distributions_does(path: Path) -> None:
    """Issue item 5: uncertainty_lhs said so while the US reservation ran 0.2-0.5 against N(0.55, 0.08)."""
    assert _ranges_match_the_distributions(path) == []


def test_the_check_catches_a_range_off_the_distribution(tmp_path: Path) -> None:
    text = (EXPERIMENTS / "uncertainty_lhs.toml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("low = -0.16", "low = -0.3", 1), encoding="utf-8")
    assert len(_ranges_match_the_distributions(broken)) == 1
