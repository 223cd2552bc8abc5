"""Fault injection, classes 1 and 2: input that crashed (deep nesting), values that slipped through
(out-of-bound numbers, wrong types), and a byte-order mark that was refused.

Every case asserts the exit code, one stderr line naming the file (or flag), the field and the
reason, no traceback, and that nothing was written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faults import assert_refused, run_main, snapshot
from helpers import TINY_TOML
from outdirs import make_outdir

from negotiation.batch.spec import MAX_POINTS, MAX_REPLICATIONS, MAX_RUNS
from negotiation.documents import MAX_NESTING
from negotiation.errors import ScenarioError
from negotiation.scenario.bounds import MAX_ROUNDS, MAX_WEIGHT

DEEP = "[" * 3000 + "]" * 3000
NESTED = f"nested more than {MAX_NESTING} levels deep"
BOM = "\ufeff"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


EXPERIMENT = """\
[experiment]
name = "tiny"
seed = 1
replications = 4
block = 4
outputs = []
"""


# --- class 1: deep nesting, in every reader ------------------------------------------------------


def test_deeply_nested_scenario_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    deep = write(tmp_path / "deep.toml", f"name = {DEEP}\n")
    assert_refused(run_main(capsys, "run", deep), f"{deep}: got", NESTED)
    assert_refused(run_main(capsys, "validate", deep), str(deep), NESTED)


def test_deeply_nested_set_value(capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_refused(run_main(capsys, "run", "--set", f"tables.us-china.deadline={DEEP}"), NESTED)
    assert line.startswith("negotiation run: --set: field tables.us-china.deadline: got")


def test_deeply_nested_overlay_of_dotted_keys(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    overlay = write(tmp_path / "o.toml", "[set]\n" + "a." * 2000 + "b = 1\n")
    assert_refused(run_main(capsys, "run", "--overlay", overlay), str(overlay), NESTED)


def test_deeply_nested_experiment_outcomes_and_targets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = write(tmp_path / "spec.toml", EXPERIMENT + f"description = {DEEP}\n")
    out = tmp_path / "out"
    assert_refused(run_main(capsys, "batch", spec, "--out", out), str(spec), NESTED)
    assert not out.exists(), "nothing written on bad input"
    batch = make_outdir(tmp_path / "batch", replications=2, tables=["us-china"])
    outcomes = write(tmp_path / "outcomes.toml", f"[tables.us-china]\ndeal = {DEEP}\n")
    assert_refused(run_main(capsys, "score", batch, "--outcomes", outcomes), str(outcomes), NESTED)
    assert not (batch / "score").exists()
    good_spec = write(tmp_path / "good.toml", EXPERIMENT + '[[parameters]]\npath = "actors.china.resolve"\n')
    targets = write(tmp_path / "targets.toml", f"[tables.us-china]\nprobability = {DEEP}\n")
    line = assert_refused(run_main(capsys, "calibrate", good_spec, "--targets", targets))
    assert str(good_spec) in line or str(targets) in line


def test_deeply_nested_batch_metadata(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch = make_outdir(tmp_path / "batch", replications=2, tables=["us-china"])
    metadata = batch / "metadata.json"
    metadata.write_text('{"parameters": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    before = snapshot(batch)
    assert_refused(run_main(capsys, "plot", batch), str(metadata), NESTED)
    assert snapshot(batch) == before


def test_dashboard_refuses_a_deeply_nested_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("solara")
    from negotiation.dashboard.state import DashboardState

    deep = write(tmp_path / "deep.toml", f"name = {DEEP}\n")
    assert_refused(run_main(capsys, "dashboard", deep, "--port", "8799"), str(deep), NESTED)
    with pytest.raises(ScenarioError, match=NESTED):
        DashboardState(deep)


# --- class 2: out-of-bound numbers, wrong types, a byte-order mark -------------------------------


def tiny(tmp_path: Path, old: str = "", new: str = "", name: str = "tiny.toml") -> Path:
    text = TINY_TOML.replace(old, new, 1) if old else TINY_TOML
    assert not old or text != TINY_TOML, old
    return write(tmp_path / name, text)


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        (
            "deadline = 10",
            f"deadline = {MAX_ROUNDS + 1}",
            "tables.ab.deadline",
            f"less than or equal to {MAX_ROUNDS}",
        ),
        ("opens = 0", f"opens = {MAX_ROUNDS}", "tables.ab.opens", f"less than {MAX_ROUNDS}"),
        (
            "weights = { x = 0.5,",
            "weights = { x = 1e308,",
            "tables.ab.preferences.a.weights.x",
            "less than or equal",
        ),
    ],
    ids=["deadline", "opens", "weight"],
)
def test_out_of_bound_numbers_in_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str, field: str, expected: str
) -> None:
    path = tiny(tmp_path, old, new)
    assert_refused(run_main(capsys, "run", path), f"{path}: field {field}: got", expected)


def test_out_of_bound_numbers_on_the_command_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # the cases of the issue: a deadline of 1e30 or 10^6 ran (for minutes), weights of 1e308 overflowed
    for value in ("1e30", "1000000"):
        assert_refused(
            run_main(capsys, "run", "--set", f"tables.us-china.deadline={value}"),
            "--set: field tables.us-china.deadline",
        )
    assert_refused(
        run_main(capsys, "run", "--set", "tables.us-china.preferences.us.weights.tariff=1e308"),
        f"expected less than or equal to {MAX_WEIGHT:.0f}",
    )
    spec = write(
        tmp_path / "big.toml",
        EXPERIMENT.replace("replications = 4", f"replications = {MAX_REPLICATIONS + 1}"),
    )
    assert_refused(run_main(capsys, "batch", spec, "--out", tmp_path / "o"), "experiment.replications")
    values = ", ".join(str(v / 1000) for v in range(1000))
    grid = write(
        tmp_path / "grid.toml",
        EXPERIMENT
        + f'[[parameters]]\npath = "actors.china.resolve"\nvalues = [{values}]\n'
        + '[[parameters]]\npath = "actors.us.resolve"\n'
        + f"values = [{values}]\n",
    )
    assert_refused(
        run_main(capsys, "batch", grid, "--out", tmp_path / "o"), "1,000,000 points", f"{MAX_POINTS:,}"
    )
    runs = write(
        tmp_path / "runs.toml",
        EXPERIMENT
        + '[[parameters]]\npath = "actors.china.resolve"\n'
        + f"values = [{', '.join(str(v / 20) for v in range(11))}]\n",  # 11 points x 10^7 runs > 10^8
    )
    assert_refused(
        run_main(capsys, "batch", runs, "--out", tmp_path / "o", "--runs", str(MAX_REPLICATIONS)),
        f"at most {MAX_RUNS:,} runs",
    )
    assert_refused(run_main(capsys, "batch", runs, "--runs", str(MAX_REPLICATIONS + 1)), "--runs", "at most")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        ("leverage = 0.5", "leverage = true", "actors.a.leverage", "a number"),
        ("deadline = 10", 'deadline = "24"', "tables.ab.deadline", "an integer"),
        ("deadline = 10", "deadline = 24.0", "tables.ab.deadline", "an integer"),
        ('name = "Alpha"', "name = 7", "actors.a.name", "a string"),
    ],
    ids=["bool-for-number", "string-for-integer", "float-for-integer", "number-for-string"],
)
def test_wrong_types_are_refused_not_coerced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str, field: str, expected: str
) -> None:
    path = tiny(tmp_path, old, new)
    assert_refused(run_main(capsys, "validate", path), f"{path}: field {field}: got", f"expected {expected}")


def test_wrong_types_in_an_experiment_and_an_override(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = write(tmp_path / "spec.toml", EXPERIMENT.replace("seed = 1", 'seed = "1"'))
    assert_refused(run_main(capsys, "batch", spec, "--out", tmp_path / "o"), "experiment.seed", "an integer")
    assert_refused(
        run_main(capsys, "run", "--set", "actors.china.leverage=true"), "actors.china.leverage", "a number"
    )
    assert not (tmp_path / "o").exists()


def test_a_byte_order_mark_is_accepted_in_every_kind_of_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = write(tmp_path / "bom.toml", BOM + TINY_TOML)
    overlay = write(tmp_path / "overlay.toml", BOM + '[set]\n"actors.china.resolve" = 0.8\n')
    spec = write(tmp_path / "spec.toml", BOM + EXPERIMENT)
    outcome = run_main(capsys, "validate", scenario, overlay, spec)
    assert outcome.code == 0 and outcome.err == ""
    assert outcome.out.splitlines() == [
        f"{scenario}: ok (scenario)",
        f"{overlay}: ok (overlay)",
        f"{spec}: ok (experiment)",
    ]
    assert run_main(capsys, "run", "--overlay", overlay, "--json").code == 0
    out = tmp_path / "out"
    assert run_main(capsys, "batch", spec, "--out", out, "--workers", "1", "--no-progress").code == 0
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["runs"] == 4 and metadata["finished"]
    outcomes = write(tmp_path / "outcomes.toml", BOM + "[tables.us-china]\ndeal = true\n")
    assert run_main(capsys, "score", out, "--outcomes", outcomes).code == 0
    assert (out / "score" / "scores.csv").is_file()
    capsys.readouterr()
