"""Tests of negotiation.tuning.discovery: boxes, coverage and density, on planted and real results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from outdirs import frame_outdir

from negotiation.commands.main import main
from negotiation.tuning.discovery import discover, discover_folder

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


def test_planted_box_is_found_with_coverage_and_density(tmp_path: Path) -> None:
    found = discover_folder(planted_folder(tmp_path / "b"), "t1", "no-deal")
    top = found.boxes[0]
    assert top.density >= 0.9 and top.limits["x.drive"][0] >= 0.55
    # the boxes split where the outcome was planted: mostly no deal above 0.6, mostly a deal below
    for box in found.boxes:
        low, high = box.limits.get("x.drive", (-np.inf, np.inf))
        if box.density > 0.5:
            assert low >= 0.55, box
        else:
            assert high <= 0.65, box
    # all boxes together cover every no-deal run, and coverage/density follow their definitions
    assert sum(b.hits for b in found.boxes) == found.total_hits
    assert sum(b.runs for b in found.boxes) == 40 * 25
    for box in found.boxes:
        assert box.coverage == pytest.approx(box.hits / found.total_hits)
        assert box.density == pytest.approx(box.hits / box.runs)
    curve = found.tradeoff()
    assert curve["coverage"].iloc[-1] == pytest.approx(1.0)
    assert curve["density"].iloc[-1] == pytest.approx(found.base_rate)
    assert top.describe().startswith("x.drive >")
    assert set(top.limits) == {"x.drive"}  # merged: one box for the whole planted region
    unmerged = discover_folder(tmp_path / "b", "t1", "no-deal", merge=False)
    assert len(unmerged.boxes) > len(found.boxes)
    assert sum(b.hits for b in unmerged.boxes) == found.total_hits
    assert unmerged.boxes == found.leaves == unmerged.leaves  # the trade-off curve's steps


def test_deal_and_no_deal_are_complements(tmp_path: Path) -> None:
    folder = planted_folder(tmp_path / "b")
    deal, no_deal = discover_folder(folder, "t1", "deal"), discover_folder(folder, "t1", "no-deal")
    assert deal.base_rate == pytest.approx(1 - no_deal.base_rate)
    assert deal.boxes[0].limits["x.drive"][1] <= 0.7


def test_real_batch_splits_on_the_tables_own_hazard(tmp_path: Path) -> None:
    from negotiation.batch.runner import run_batch

    spec = (DATA / "tuning_tiny_experiment.toml").read_text("utf-8")
    spec = spec.replace('scenario = "tuning_tiny.toml"', f'scenario = "{DATA / "tuning_tiny.toml"}"')
    spec = spec.replace("replications = 50", "replications = 20\noutputs = []").replace(
        "points = 8", "points = 32"
    )
    (tmp_path / "spec.toml").write_text(spec, "utf-8")
    out = run_batch(tmp_path / "spec.toml", workers=1, out=tmp_path / "out", progress=False)
    for table, own in (("ab", "tables.ab.breakdown_risk"), ("cd", "tables.cd.breakdown_risk")):
        found = discover_folder(out, table, "no-deal", max_depth=2)
        assert found.parameters[found.tree.tree_.feature[0]] == own
        assert own in found.boxes[0].limits


def test_command_writes_boxes_and_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = planted_folder(tmp_path / "b")
    assert main(["discover", str(folder), "--table", "t1", "--outcome", "no-deal"]) == 0
    assert "coverage" in capsys.readouterr().out
    for name in (
        "discover-t1-no-deal.csv",
        "discover-t1-no-deal-tradeoff.png",
        "discover-t1-no-deal-tree.svg",
    ):
        assert (folder / "discovery" / name).is_file(), name


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


def test_bad_min_leaf_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["discover", str(tmp_path), "--table", "t1", "--min-leaf", "0.9"])
    assert exc.value.code == 2
    assert "--min-leaf" in capsys.readouterr().err


def test_missing_parameter_column_or_none_varied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = planted_folder(tmp_path / "a", parameters=("x.drive", "x.absent"))
    assert main(["discover", str(folder), "--table", "t1"]) == 2
    assert "x.absent" in capsys.readouterr().err
    folder = planted_folder(tmp_path / "b", parameters=())
    assert main(["discover", str(folder), "--table", "t1"]) == 2
    assert "varied" in capsys.readouterr().err
    assert main(["discover", str(tmp_path / "nowhere"), "--table", "t1"]) == 2


def test_constant_parameters_are_not_inputs() -> None:
    frame = pd.DataFrame({"table": "t", "deal": [True, False] * 10, "p": 0.5, "q": np.arange(20) / 20})
    found = discover(frame, ["p", "q"], "t")
    assert found.parameters == ["q"]
