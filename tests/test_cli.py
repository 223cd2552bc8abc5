"""The command line: run, validate, scenario export, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import edited, write_tiny
from test_scenario import BAD_FILES

from negotiation.commands.main import main
from negotiation.folders import HOUSEKEEPING
from negotiation.scenario.bounds import MAX_ROUNDS
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.validation import scenario_from_dict

STATUSES = {"deal", "deadline", "walkout"}
TABLES = {
    "us-china",
    "us-japan",
    "us-korea",
    "us-malaysia",
    "us-thailand",
    "us-cambodia",
    "us-vietnam",
    "us-indonesia",
    "us-singapore",
    "thailand-cambodia",
    "us-north-korea",
    "us-asean",
}


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors exit through SystemExit
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert out == "", "no half-written output on bad input"
    return lines[0]


# --- run ------------------------------------------------------------------------------------------


def test_run_json_has_every_table_with_a_valid_ending(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", "--json", "--seed", "3")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["seed"] == 3
    assert report["scenario"] == load_scenario().name
    assert {t["table"] for t in report["tables"]} == TABLES and len(report["tables"]) == len(TABLES)
    for table in report["tables"]:
        assert table["status"] in STATUSES
        assert set(table["utilities"]) == set(table["parties"])
        measured = table["status"] == "deal" and len(table["parties"]) == 2  # else model.n_party_distances
        assert (table["pareto_distance"] is not None) == measured


def test_run_json_is_reproducible_and_depends_on_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    first = cli(capsys, "run", "--json", "--seed", "8")[1]
    again = cli(capsys, "run", "--json", "--seed", "8")[1]
    other = cli(capsys, "run", "--json", "--seed", "9")[1]
    assert first == again
    assert json.loads(first)["tables"] != json.loads(other)["tables"]


def test_run_prints_a_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", "--seed", "1")
    assert code == 0
    assert out.splitlines()[0] == f"{load_scenario().name} (seed 1)"
    for table in TABLES:
        assert any(line.startswith(table + " ") for line in out.splitlines()), table


def test_run_applies_set_overrides(capsys: pytest.CaptureFixture[str], tiny_file: Path) -> None:
    code, out, _ = cli(capsys, "run", str(tiny_file), "--json", "--set", "tables.ab.deadline=2")
    assert code == 0
    assert json.loads(out)["tables"][0]["round"] <= 2


def test_run_plot_writes_png_pictures(
    capsys: pytest.CaptureFixture[str], tiny_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "pictures"
    code, out, _ = cli(capsys, "run", str(tiny_file), "--plot", str(target))
    assert code == 0
    pictures = sorted(target.glob("*.png"))
    assert [p.name for p in pictures] == ["ab-concession.png", "ab-utility-space.png"]
    for picture in pictures:
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert picture.stat().st_size > 2000
    assert f"2 pictures written to {target}" in out
    leftovers = [p for p in target.glob(".*") if p.name not in HOUSEKEEPING]  # lock and marker stay
    assert not leftovers, "no temporary files left behind"


def test_run_plot_onto_a_file_is_refused(capsys: pytest.CaptureFixture[str], tiny_file: Path) -> None:
    line = assert_one_line_error(*cli(capsys, "run", str(tiny_file), "--plot", str(tiny_file)))
    assert str(tiny_file) in line and "a folder" in line


# --- bad input through the command line -------------------------------------------------------------


@pytest.mark.parametrize(("case", "edit", "field", "value", "expected"), BAD_FILES)
def test_every_bad_scenario_file_is_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, edit, field, value, expected
) -> None:
    path = write_tiny(tmp_path, edited(*edit), name="bad.toml")
    line = assert_one_line_error(*cli(capsys, "run", str(path)))
    assert line.startswith(f"negotiation run: {path}: ")
    if field is not None:
        assert f"field {field}: " in line
    assert value in line and "expected" in line


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (
            ["--set", "actors.atlantis.resolve=0.5"],
            ["--set", "field actors.atlantis.resolve", "'actors.atlantis'"],
        ),
        (["--set", "actors.a.resolve=high"], ["--set", "field actors.a.resolve", "'high'", "number"]),
        (["--set", "actors.a.resolve=1.5"], ["field actors.a.resolve", "1.5", "less than or equal to 1"]),
        (["--set", "actors.a.resolve=nan"], ["field actors.a.resolve", "nan", "finite"]),
        (["--set", "tables.ab.deadline=2.5"], ["field tables.ab.deadline", "2.5", "integer"]),
        (["--set", "actors.a.discount=0"], ["field actors.a.discount", "0", "greater than 0"]),
        (["--set", "tables.ab.no_deal.x=150"], ["field tables.ab.no_deal.x", "150", "range [0.0, 100.0]"]),
        (
            ["--set", "tables.ab.preferences.a.reservation=0.3"],
            ["field tables.ab.preferences.a.reservation", "a parameter path"],
        ),
        (["--set", "nonsense"], ["--set", "'nonsense'", "PATH=VALUE"]),
    ],
)
def test_bad_overrides_are_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], tiny_file: Path, argv: list[str], fragments: list[str]
) -> None:
    line = assert_one_line_error(*cli(capsys, "run", str(tiny_file), *argv))
    for fragment in fragments:
        assert fragment in line


@pytest.mark.parametrize(
    "argv",
    [["run", "--seed", "-1"], ["run", "--seed", "many"], ["conquer"], ["run", "--colour"], []],
)
def test_usage_errors_are_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = cli(capsys, *argv)
    line = assert_one_line_error(code, out, err)
    assert line.startswith("negotiation") and "error" in line


def test_unreadable_scenario_files_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = assert_one_line_error(*cli(capsys, "run", str(tmp_path)))
    assert str(tmp_path) in line and "a directory" in line
    missing = tmp_path / "nowhere.toml"
    line = assert_one_line_error(*cli(capsys, "run", str(missing)))
    assert str(missing) in line and "missing" in line


# --- validate ---------------------------------------------------------------------------------------


def test_validate_accepts_good_files(capsys: pytest.CaptureFixture[str], tiny_file: Path) -> None:
    default = Path(__file__).parents[1] / "negotiation" / "scenario" / "data" / "asia_tour_2025.toml"
    code, out, err = cli(capsys, "validate", str(tiny_file), str(default))
    assert code == 0 and err == ""
    assert out.splitlines() == [f"{tiny_file}: ok (scenario)", f"{default}: ok (scenario)"]


def test_validate_reports_each_bad_file_on_one_line(
    capsys: pytest.CaptureFixture[str], tiny_file: Path, tmp_path: Path
) -> None:
    bad = write_tiny(tmp_path, edited("deadline = 10", "deadline = -3"), name="bad.toml")
    code, out, err = cli(capsys, "validate", str(bad), str(tiny_file))
    assert code == 2
    assert out.splitlines() == [f"{tiny_file}: ok (scenario)"], "good files are still checked after a bad one"
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(f"negotiation validate: {bad}: field tables.ab.deadline: got -3;")


def test_validate_does_not_run_anything(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # a file that validates but whose run would take very long: validate must not run it
    slow = write_tiny(
        tmp_path, edited("deadline = 10", f"deadline = {MAX_ROUNDS}").replace("linear", "hardliner")
    )
    code, out, _ = cli(capsys, "validate", str(slow))
    assert code == 0 and out.strip() == f"{slow}: ok (scenario)"


# --- scenario export ----------------------------------------------------------------------------------


def test_scenario_export_round_trips_to_the_same_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "scenario", "export")
    assert code == 0 and err == ""
    assert scenario_from_dict(tomllib.loads(out), "<export>") == load_scenario()
    assert "27.5% to 15%" in out, "comments with the article's sentences are kept"


def test_exported_scenario_file_validates_and_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = cli(capsys, "scenario", "export")[1]
    path = write_tiny(tmp_path, out, name="copy.toml")
    assert cli(capsys, "validate", str(path))[0] == 0
    mine = json.loads(cli(capsys, "run", str(path), "--json", "--seed", "2")[1])["tables"]
    shipped = json.loads(cli(capsys, "run", "--json", "--seed", "2")[1])["tables"]
    assert mine == shipped


# --- python -m negotiation ----------------------------------------------------------------------------


def test_python_dash_m_negotiation_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "negotiation", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("run", "validate", "scenario"):
        assert command in result.stdout
    assert result.stderr == ""


# --- issue "charts and comparisons that never mislead", item 6: the command line ------------------

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import metadata

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"negotiation {metadata.version('asia-negotiation')}"


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["comapre", "a", "b"], "did you mean 'compare'?"),
        (["run", "--set", "actors.china.resolv=0.8"], "did you mean 'actors.china.resolve'?"),
        (["run", "--set", "tables.us-china.dedline=3"], "did you mean 'tables.us-china.deadline'?"),
        (["validate", str(EXPERIMENTS / "baselin.toml")], f"did you mean '{EXPERIMENTS / 'baseline.toml'}'?"),
    ],
)
def test_mistyped_names_get_a_suggestion_on_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], suggestion: str
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert suggestion in err


def test_params_lists_every_path_with_value_bounds_and_distribution(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["params"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_path = {line.split()[0]: line for line in lines[1:]}
    scenario = load_scenario()
    for path in scenario.uncertainty:
        assert path in by_path and scenario.uncertainty[path].dist in by_path[path], path
    assert (
        "[0, 1]" in by_path["actors.china.resolve"]
        and "uniform(low=0.55, high=0.95)" in by_path["actors.china.resolve"]
    )
    assert "events.0.probability" in by_path and "linkages.0.strength" in by_path
    assert main(["params", "--set", "actors.china.resolve=0.9", "--grep", "china.resolve"]) == 0
    shown = capsys.readouterr().out.splitlines()[1]
    assert "0.9" in shown and "uniform" not in shown  # a value set is fixed: no longer drawn


def test_validate_recognises_every_shipped_file_by_its_content(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue item 6: `negotiation validate experiments/*.toml` exited 2 on valid shipped files."""
    files = sorted(EXPERIMENTS.glob("*.toml")) + sorted((EXPERIMENTS / "variants").glob("*.toml"))
    assert main(["validate", *map(str, files)]) == 0
    out = capsys.readouterr().out
    for kind, name in (
        ("experiment", "baseline.toml"),
        ("targets", "targets-example.toml"),
        ("outcomes", "outcomes-example.toml"),
        ("overlay", "no-shocks.toml"),
    ):
        assert f"{name}: ok ({kind})" in out


def test_validate_checks_each_kind_against_its_own_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = {
        "targets.toml": ("[tables.us-china]\nprobability = 1.5\n", "probability"),
        "outcomes.toml": ('[tables.us-china]\ndeal = "yes"\n', "deal"),
        "overlay.toml": ('[set]\n"actors.china.resolv" = 0.5\n', "did you mean"),
    }
    for name, (text, word) in bad.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert main(["validate", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and word in err, err


def test_no_help_text_shows_a_doubled_percent_sign() -> None:
    """Issue item 6: descriptions printed a literal '95%%'."""
    from negotiation.commands.main import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        assert "%%" not in sub.format_help(), name
    assert "%%" not in parser.format_help()


def test_calibrate_takes_an_overlay_and_set_like_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue item 6: the dashboard's overlay was refused by calibrate."""
    data = Path(__file__).parent / "data"
    spec = (data / "tuning_tiny_experiment.toml").read_text("utf-8")
    spec = spec.replace('scenario = "tuning_tiny.toml"', f'scenario = "{data / "tuning_tiny.toml"}"')
    (tmp_path / "spec.toml").write_text(spec, "utf-8")
    (tmp_path / "targets.toml").write_text("[tables.ab]\nprobability = 0.5\n", "utf-8")
    (tmp_path / "overlay.toml").write_text('[set]\n"actors.a.resolve" = 0.9\n', "utf-8")
    argv = ["calibrate", str(tmp_path / "spec.toml"), "--targets", str(tmp_path / "targets.toml")]
    argv += ["--trials", "2", "--runs", "10", "--overlay", str(tmp_path / "overlay.toml")]
    assert main([*argv, "--set", "actors.b.resolve=0.2", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    calibrated = tomllib.loads((tmp_path / "out" / "calibrated.toml").read_text("utf-8"))["set"]
    assert calibrated["actors.a.resolve"] == 0.9 and calibrated["actors.b.resolve"] == 0.2
    assert main([*argv, "--set", "tables.ab.breakdown_risk=0.1", "--out", str(tmp_path / "o2")]) == 2
    assert "does not vary" in capsys.readouterr().err  # a searched parameter cannot be held


def test_a_summary_only_batch_says_nothing_about_a_missing_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue item 6: outputs = ["summary"] printed that negotiation.report was not available."""
    spec = (
        (EXPERIMENTS / "baseline.toml")
        .read_text("utf-8")
        .replace('outputs = ["summary", "charts", "report"]', 'outputs = ["summary"]')
    )
    (tmp_path / "spec.toml").write_text(spec, "utf-8")
    out = tmp_path / "out"
    assert (
        main(["batch", str(tmp_path / "spec.toml"), "--runs", "5", "--workers", "1", "--out", str(out)]) == 0
    )
    captured = capsys.readouterr()
    assert "not available" not in captured.out + captured.err
    assert (
        (out / "summary.md").is_file()
        and not (out / "report.html").exists()
        and not (out / "charts").exists()
    )
