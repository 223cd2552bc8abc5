"""`negotiation batch --set/--overlay`: hold parameters fixed for a whole batch (e.g. a calibration)."""

import pandas as pd

from negotiation.commands.main import main
from negotiation.scenario.overlay import write_overlay


def _deal_rate(outdir, table="us-china"):
    rows = pd.read_parquet(outdir / "results")
    return rows[rows["table"] == table]["deal"].mean()


SPEC = """
[experiment]
name = "overlay-test"
scenario = "default"
seed = 3
replications = 150
block = 150
outputs = []
"""


def test_overlay_and_set_hold_parameters_fixed_for_the_batch(tmp_path):
    overlay = tmp_path / "calibrated.toml"
    write_overlay(overlay, {"actors.china.resolve": 1.0, "actors.china.leverage": 1.0}, "test")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    common = [str(spec), "--no-progress", "--workers", "1"]
    assert main(["batch", *common, "--out", str(tmp_path / "plain")]) == 0
    assert main(["batch", *common, "--overlay", str(overlay), "--out", str(tmp_path / "tough")]) == 0
    assert (
        main(
            [
                "batch",
                *common,
                "--overlay",
                str(overlay),
                "--set",
                "actors.china.resolve=0.0",
                "--out",
                str(tmp_path / "soft"),
            ]
        )
        == 0
    )
    spec = (tmp_path / "tough" / "spec.toml").read_text()
    assert '"actors.china.resolve" = 1.0' in spec
    # a resolute, high-leverage China makes a US-China deal rarer; --set wins over the overlay
    assert _deal_rate(tmp_path / "tough") < _deal_rate(tmp_path / "plain") < _deal_rate(tmp_path / "soft")


def test_fixing_a_varied_parameter_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(
        [
            "batch",
            "experiments/china_resolve_sweep.toml",
            "--set",
            "actors.china.resolve=0.5",
            "--runs",
            "2",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "actors.china.resolve" in err[0] and "does not vary" in err[0]
    assert not (tmp_path / "x").exists()
