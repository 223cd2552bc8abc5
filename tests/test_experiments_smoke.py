"""Every experiment shipped in experiments/ runs (with a tiny number of runs) and writes its folder."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from negotiation.batch.runner import run_batch
from negotiation.batch.spec import load_experiment

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SPECS = sorted(
    path
    for path in EXPERIMENTS.glob("*.toml")
    if "experiment" in tomllib.loads(path.read_text(encoding="utf-8"))
)


def test_the_four_required_experiments_are_shipped() -> None:
    names = {path.stem for path in SPECS}
    assert {"baseline", "china_resolve_sweep", "chips_vs_rare_earths", "uncertainty_lhs"} <= names


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_shipped_experiment_runs(path: Path, tmp_path: Path) -> None:
    spec = load_experiment(path).with_outputs(())
    out = run_batch(spec, runs=2, workers=1, out=tmp_path / spec.name, progress=False)
    meta = json.loads((out / "metadata.json").read_text())
    frame = pd.read_parquet(out / "results")
    assert meta["runs"] == 2 * len(spec.design_points())
    assert len(frame) == meta["runs"] * len(meta["tables"])
    for column in spec.parameter_paths:
        assert frame[column].notna().all()
