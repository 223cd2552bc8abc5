"""Tests of negotiation.tuning.discovery: boxes, coverage and density, on planted and real results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from outdirs import frame_outdir

from negotiation.commands.main import main
from negotiation.tuning.discovery import discover, discover_folder, format_discovery, points_of_table

DATA = Path(__file__).parent / "data"


def planted_folder(
    outdir: Path, flip: float = 0.05, parameters: tuple[str, ...] = ("x.drive", "x.noise")
) -> Path:
    """A results folder where table t1 ends without a deal exactly when x.drive > 0.6 (plus flips)."""
    rng = np.random.default_rng(3)
    n_points, reps = 40, 25
    drive, noise = rng.random(n_points), rng.random(n_points)
    rows = []
    for point in range(n_points):
        for rep in range(reps):
            no_deal = (drive[point] > 0.6) != (rng.random() < flip)
            for table, deal in (("t1", not no_deal), ("t2", True)):
                rows.append(
                    {
                        "point": point,
                        "replication": rep,
                        "x.drive": drive[point],
                        "x.noise": noise[point],
                        "table": table,
                        "deal": deal,
                    }
                )
    return frame_outdir(outdir, pd.DataFrame(rows), parameters=parameters)


def test_planted_box_is_found_with_coverage_density_mass_and_quasi_p(tmp_path: Path) -> None:
    found = discover_folder(planted_folder(tmp_path / "b"), "t1", "no-deal", permutations=49)
    high, low = found.searches
    assert high.direction == "high-density" and low.direction == "low-density"
    box = high.box
    # the planted region, x.drive > 0.6, and nothing about the noise parameter
    assert set(box.limits) == {"x.drive"} and 0.55 <= box.limits["x.drive"][0] <= 0.65
    assert box.density >= 0.9 and box.coverage >= 0.85 and high.beats_noise
    assert box.coverage == pytest.approx(box.hits / found.total_hits)
    assert box.density == pytest.approx(box.hits / box.runs)
    assert box.mass == pytest.approx(box.runs / found.runs)
    q_low, q_high = box.quasi_p["x.drive"]
    assert q_low < 0.001 and np.isnan(q_high)  # only the lower end is restricted
    assert low.box.density < found.base_rate and low.box.limits["x.drive"][1] <= 0.65
    curve = high.trajectory
    assert curve["mass"].iloc[0] == 1.0 and curve["density"].iloc[0] == pytest.approx(found.base_rate)
    assert (np.diff(curve["mass"]) < 0).all() and curve["mass"].iloc[-1] >= 0.05


def test_boxes_are_labelled_by_density_against_the_base_rate(tmp_path: Path) -> None:
    """Issue item 4: a box with density below the base rate was printed as 'no deal when ...'."""
    found = discover_folder(planted_folder(tmp_path / "b"), "t1", "deal", permutations=49)
    high, low = found.searches
    assert high.box.density > found.base_rate > low.box.density
    text = format_discovery(found)
    assert "high-density box (a t1 deal likelier here" in text
    assert "low-density box (a t1 deal rarer here" in text
    frame = found.table_frame()
    assert list(frame["direction"]) == ["high-density", "low-density"]


def test_noise_is_called_noise(tmp_path: Path) -> None:
    """Issue item 4: boxes at 9-15% against an 11.5% base rate were shown with no sign they were noise."""
    rng = np.random.default_rng(0)
    called_noise, texts = 0, []
    for seed in range(10):
        x = rng.random((32, 3))
        runs = np.full(32, 100)
        deals = rng.binomial(runs, 0.115)  # the outcome does not depend on the parameters
        points = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "runs": runs, "deals": deals})
        found = discover(points, ["a", "b", "c"], "t", "deal", seed=seed, permutations=99)
        called_noise += not found.searches[0].beats_noise
        texts.append(format_discovery(found))
    assert called_noise >= 8
    assert sum("no box where a t deal is likelier than the base rate beyond noise" in t for t in texts) >= 8


def test_a_table_the_parameters_cannot_reach_has_no_box(tmp_path: Path) -> None:
    # with keyed random streams an unreachable table plays the same at every design point
    points = pd.DataFrame({"a": np.linspace(0, 1, 16), "runs": 50, "deals": 30})
    found = discover(points, ["a"], "t", "deal", permutations=19)
    assert all(not s.beats_noise and not s.box.limits for s in found.searches)
    assert "no box where a t deal is likelier than the base rate beyond noise" in format_discovery(found)


def test_real_batch_finds_each_tables_own_hazard(tmp_path: Path) -> None:
    from negotiation.batch.runner import run_batch

    spec = (DATA / "tuning_tiny_experiment.toml").read_text("utf-8")
    spec = spec.replace('scenario = "tuning_tiny.toml"', f'scenario = "{DATA / "tuning_tiny.toml"}"')
    spec = spec.replace("replications = 50", "replications = 20\noutputs = []").replace(
        "points = 8", "points = 32"
    )
    (tmp_path / "spec.toml").write_text(spec, "utf-8")
    out = run_batch(tmp_path / "spec.toml", workers=1, out=tmp_path / "out", progress=False)
    for table, own, other in (
        ("ab", "tables.ab.breakdown_risk", "tables.cd.breakdown_risk"),
        ("cd", "tables.cd.breakdown_risk", "tables.ab.breakdown_risk"),
    ):
        found = discover_folder(out, table, "no-deal", permutations=49)
        assert own in found.searches[0].box.limits and other not in found.searches[0].box.limits


def test_streaming_aggregates_per_design_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = planted_folder(tmp_path / "b")
    points = points_of_table(folder, "t1", ["x.drive", "x.noise"])
    assert len(points) == 40 and (points["runs"] == 25).all()
    frame = pd.read_parquet(folder / "results")
    expected = frame[frame["table"] == "t1"].groupby("point")["deal"].sum().to_numpy()
    assert (points["deals"].to_numpy() == expected).all()


def test_command_writes_boxes_trajectories_and_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue item 4: the tree chart's leaves all read 'class = other'; now the trajectory marks the box."""
    folder = planted_folder(tmp_path / "b")
    argv = ["discover", str(folder), "--table", "t1", "--outcome", "no-deal", "--permutations", "19"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "coverage" in out and "mass" in out and "quasi-p" in out
    names = sorted(p.name for p in (folder / "discovery").iterdir() if not p.name.startswith("."))
    assert names == [
        "discover-t1-no-deal-trajectory.csv",
        "discover-t1-no-deal-trajectory.png",
        "discover-t1-no-deal-trajectory.svg",
        "discover-t1-no-deal.csv",
    ]
    trajectory = pd.read_csv(folder / "discovery" / "discover-t1-no-deal-trajectory.csv")
    assert trajectory.groupby("direction")["chosen"].sum().tolist() == [1, 1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--table", "zz"], "zz"),
        (["--table", "t2"], "every run"),  # t2 always ends in a deal: nothing to discover
    ],
)
def test_bad_inputs_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    folder = planted_folder(tmp_path / "b")
    assert main(["discover", str(folder), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_bad_min_mass_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["discover", str(tmp_path), "--table", "t1", "--min-mass", "0.9"])
    assert exc.value.code == 2
    assert "--min-mass" in capsys.readouterr().err


def test_missing_parameter_column_or_none_varied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = planted_folder(tmp_path / "a", parameters=("x.drive", "x.absent"))
    assert main(["discover", str(folder), "--table", "t1"]) == 2
    assert "x.absent" in capsys.readouterr().err
    folder = planted_folder(tmp_path / "b", parameters=())
    assert main(["discover", str(folder), "--table", "t1"]) == 2
    assert "varied" in capsys.readouterr().err
    assert main(["discover", str(tmp_path / "nowhere"), "--table", "t1"]) == 2


def test_constant_parameters_are_not_inputs() -> None:
    points = pd.DataFrame({"p": 0.5, "q": np.arange(20) / 20, "runs": 10, "deals": np.arange(20) % 10})
    found = discover(points, ["p", "q"], "t", permutations=9)
    assert found.parameters == ["q"]
