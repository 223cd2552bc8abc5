"""Overlay files: written and read back, applied by ``negotiation run --overlay`` under ``--set``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from negotiation.commands.main import main
from negotiation.errors import OverrideError
from negotiation.scenario.overlay import read_overlay, write_overlay


def test_round_trip_keeps_paths_types_and_order(tmp_path: Path) -> None:
    overrides = {
        "tables.us-china.deadline": 7,
        "actors.china.resolve": 0.123456789,
        "actors.us.strategy.kind": "boulware",
        "model.leverage_effect": 1e-05,
        "flag": True,
    }
    path = write_overlay(tmp_path / "o.toml", overrides, "two\nline comment")
    assert path.read_text().startswith("# two\n# line comment\n[set]\n")
    back = read_overlay(path)
    assert back == overrides
    assert list(back) == list(overrides)
    assert type(back["tables.us-china.deadline"]) is int


def test_unquoted_dotted_keys_read_as_paths(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text('[set]\nactors.china.resolve = 0.9\n"tables.us-china.deadline" = 5\n')
    assert read_overlay(path) == {"actors.china.resolve": 0.9, "tables.us-china.deadline": 5}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("x = 1\n", "x"),
        ("set = 3\n", "set"),
        ('[set]\n"a.b" = [1, 2]\n', "set.a.b"),
        ('[set]\n"a.b" = nan\n', "set.a.b"),
        ("[set\n", ""),
        ("", "set"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(OverrideError) as info:
        read_overlay(path)
    assert info.value.field == field
    assert "\n" not in info.value.one_line()
    assert str(path) in info.value.one_line()


def test_write_rejects_values_toml_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(OverrideError):
        write_overlay(tmp_path / "o.toml", {"a.b": [1, 2]})
    with pytest.raises(OverrideError):
        write_overlay(tmp_path / "o.toml", {"a.b": float("inf")})
    assert not (tmp_path / "o.toml").exists()


def _run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["run", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_overlay_equals_set_and_set_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # no walk-out hazard at us-china, where seed 0 walks out in round 0: the overlay must show
    overlay = write_overlay(
        tmp_path / "o.toml", {"tables.us-china.breakdown_risk": 0.0, "actors.china.resolve": 1.0}
    )
    with_overlay = _run_json(["--overlay", str(overlay)], capsys)
    with_set = _run_json(
        ["--set", "tables.us-china.breakdown_risk=0", "--set", "actors.china.resolve=1.0"], capsys
    )
    plain = _run_json([], capsys)
    assert with_overlay == with_set
    assert with_overlay != plain
    on_top = _run_json(["--overlay", str(overlay), "--set", "tables.us-china.breakdown_risk=0.5"], capsys)
    only_set = _run_json(
        ["--set", "tables.us-china.breakdown_risk=0.5", "--set", "actors.china.resolve=1.0"], capsys
    )
    assert on_top != with_overlay
    assert on_top == only_set


def test_run_with_bad_overlay_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--overlay", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.toml" in err
