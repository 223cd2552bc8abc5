"""Scenario files: loading, validation and one-line errors for every kind of bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from helpers import TINY_TOML, edited, tiny_dict, tiny_scenario, write_tiny
from pydantic import ValidationError

from negotiation.errors import InputError, ScenarioError
from negotiation.scenario.loading import load_scenario, read_toml
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict


def test_tiny_scenario_loads_from_file_and_from_dict_identically(tiny_file: Path) -> None:
    from_file = load_scenario(tiny_file)
    assert from_file == scenario_from_dict(tomllib.loads(TINY_TOML), "<text>")
    assert set(from_file.actors) == {"a", "b"}
    assert from_file.tables["ab"].issues == ("x", "y", "z")


def test_scenario_objects_are_immutable(tiny: Scenario) -> None:
    with pytest.raises(ValidationError):
        tiny.tables["ab"].deadline = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        tiny.actors["a"].resolve = 0.9  # type: ignore[misc]


def test_strategy_presets_fix_the_exponent_unless_it_is_given() -> None:
    scenario = tiny_scenario(
        {"actors.a.strategy": {"kind": "boulware"}, "actors.b.strategy": {"kind": "conceder", "e": 3.0}}
    )
    a, b = scenario.actors["a"].strategy, scenario.actors["b"].strategy
    assert (a.kind, a.e) == ("time_dependent", 0.2)
    assert (b.kind, b.e) == ("time_dependent", 3.0)


def test_table_ranges_and_status_quo_override_the_issue_defaults() -> None:
    scenario = tiny_scenario({"tables.ab.ranges": {"x": [20.0, 80.0]}, "tables.ab.status_quo": {"x": 30.0}})
    assert scenario.issue_range("ab", "x") == (20.0, 80.0)
    assert scenario.status_quo("ab", "x") == 30.0
    assert scenario.issue_range("ab", "y") == (0.0, 1.0)
    assert scenario.status_quo("ab", "z") == 10.0


def test_horizon_is_one_past_the_latest_deadline(tiny: Scenario) -> None:
    assert tiny.horizon == 11


def test_read_toml_returns_data(tiny_file: Path) -> None:
    assert read_toml(tiny_file)["tables"]["ab"]["deadline"] == 10


# --- bad input: each case is (name, edit of the tiny file, field path, value shown, expectation) ---

REVERSED_X = ("low = 0.0\nhigh = 100.0", "low = 100.0\nhigh = 0.0")
A_WEIGHTS = "weights = { x = 0.5, y = 0.3, z = 0.2 }"
A_OUTSIDE = 'z = "increase" }\noutside_option = -0.15'
A_STRATEGY = 'rapport = { b = 0.5 }\nstrategy = { kind = "linear" }'
# from the top of the file to the table's issues: one edit that adds binary issues and a's strategy
_HEAD = TINY_TOML[: TINY_TOML.index('issues = ["x", "y", "z"]') + len('issues = ["x", "y", "z"]')]
_NINE_BINARY = ", ".join(f'"b{i}"' for i in range(9))
_BINARY_ISSUES = "".join(
    f'[issues.b{i}]\nname = "b{i}"\nunit = "yes/no"\nkind = "binary"\n'
    "low = 0.0\nhigh = 1.0\nstatus_quo = 0.0\n\n"
    for i in range(9)
)

_CASES = [
    ("syntax error", ("deadline = 10", "deadline = = 10"), None, "line 45", "valid TOML"),
    ("missing field", ("deadline = 10\n", ""), "tables.ab.deadline", "missing", "required"),
    (
        "unknown field",
        ('name = "Alpha"\n', 'name = "Alpha"\ncolour = "red"\n'),
        "actors.a.colour",
        "'red'",
        "no such field",
    ),
    (
        "unknown actor",
        ('parties = ["a", "b"]', 'parties = ["a", "zz"]'),
        "tables.ab.parties.1",
        "'zz'",
        "declared actors: a, b",
    ),
    (
        "unknown issue",
        ('issues = ["x", "y", "z"]', 'issues = ["x", "y", "nope"]'),
        "tables.ab.issues",
        "'nope'",
        "declared issues: x, y, z",
    ),
    (
        "unknown issue in weights",
        (A_WEIGHTS, "weights = { x = 0.5, y = 0.3, q = 0.2 }"),
        "tables.ab.preferences.a.weights.q",
        "'q'",
        "table issue",
    ),
    (
        "unknown rapport actor",
        ("rapport = { b = 0.5 }", "rapport = { zz = 0.5 }"),
        "actors.a.rapport.zz",
        "'zz'",
        "declared actors",
    ),
    (
        "negative weight",
        (A_WEIGHTS, "weights = { x = -0.5, y = 0.3, z = 0.2 }"),
        "tables.ab.preferences.a.weights.x",
        "-0.5",
        "greater than or equal to 0",
    ),
    (
        "all-zero weights",
        (A_WEIGHTS, "weights = { x = 0.0, y = 0.0, z = 0.0 }"),
        "tables.ab.preferences.a.weights",
        "'x': 0.0",
        "at least one positive weight",
    ),
    (
        "weight as text",
        (A_WEIGHTS, 'weights = { x = "high", y = 0.3, z = 0.2 }'),
        "tables.ab.preferences.a.weights.x",
        "'high'",
        "number",
    ),
    (
        "outside option off the utility scale",
        (A_OUTSIDE, 'z = "increase" }\noutside_option = 1.5'),
        "tables.ab.preferences.a.outside_option",
        "1.5",
        "less than or equal to 1",
    ),
    (
        "a reservation value (the format before values of no deal were derived)",
        (A_OUTSIDE, 'z = "increase" }\nreservation = 0.3'),
        "tables.ab.preferences.a.reservation",
        "0.3",
        "outside_option instead",
    ),
    (
        "discount factor of 0",
        (A_STRATEGY, 'rapport = { b = 0.5 }\ndiscount = 0.0\nstrategy = { kind = "linear" }'),
        "actors.a.discount",
        "0.0",
        "greater than 0",
    ),
    (
        "discount factor above 1",
        (A_STRATEGY, 'rapport = { b = 0.5 }\ndiscount = 1.2\nstrategy = { kind = "linear" }'),
        "actors.a.discount",
        "1.2",
        "less than or equal to 1",
    ),
    (
        "threat point outside the issue's range",
        ("breakdown_risk = 0.0\n", "breakdown_risk = 0.0\nno_deal = { x = 150.0 }\n"),
        "tables.ab.no_deal.x",
        "150.0",
        "a value in the issue's range [0.0, 100.0]",
    ),
    (
        "threat point on an issue not at the table",
        ("breakdown_risk = 0.0\n", "breakdown_risk = 0.0\nno_deal = { w = 1.0 }\n"),
        "tables.ab.status_quo/ranges/no_deal.w",
        "'w'",
        "table issue",
    ),
    (
        "equilibrium strategy on a table it cannot solve",
        (
            _HEAD,
            _HEAD.replace("[issues.x]", _BINARY_ISSUES + "[issues.x]")
            .replace('kind = "linear"', 'kind = "equilibrium"', 1)
            .replace('issues = ["x", "y", "z"]', f'issues = [{_NINE_BINARY}, "x", "y", "z"]'),
        ),
        "actors.a.strategy.kind",
        "'equilibrium'",
        "(2**9 here: b0, b1, b2, b3, b4, b5, b6, b7, b8); at most 8 binary issues",
    ),
    ("inverted issue range", REVERSED_X, "issues.x", "{'low': 100.0, 'high': 0.0}", "low < high"),
    (
        "inverted table range",
        ("breakdown_risk = 0.0\n", "breakdown_risk = 0.0\nranges = { x = [80.0, 20.0] }\n"),
        "tables.ab.ranges.x",
        "[80.0, 20.0]",
        "low < high",
    ),
    pytest.param(
        "status quo outside the range",
        ("status_quo = 50.0", "status_quo = 150.0"),
        "issues.x.status_quo",
        "150.0",
        "a value in [0.0, 100.0]",
        id="status quo outside the range",
    ),
    (
        "ideal outside the range",
        ("z = 2.0 }", "z = 20.0 }"),
        "tables.ab.preferences.b.ideal.z",
        "20.0",
        "[0.0, 10.0]",
    ),
    (
        "NaN outside option",
        (A_OUTSIDE, 'z = "increase" }\noutside_option = nan'),
        "tables.ab.preferences.a.outside_option",
        "nan",
        "finite number",
    ),
    (
        "NaN leverage",
        (
            "leverage = 0.5\ndomestic_pressure = 0.5\nresolve = 0.5\nrapport = { b",
            "leverage = nan\ndomestic_pressure = 0.5\nresolve = 0.5\nrapport = { b",
        ),
        "actors.a.leverage",
        "nan",
        "finite number",
    ),
    (
        "infinite range end",
        ("high = 100.0", "high = inf"),
        "issues.x.high",
        "inf",
        "finite number",
    ),
    (
        "deadline before opening",
        ("opens = 0\ndeadline = 10", "opens = 12\ndeadline = 10"),
        "tables.ab.deadline",
        "10",
        "after opens=12",
    ),
    (
        "unknown strategy",
        ('strategy = { kind = "linear" }\n\n[actors.b]', 'strategy = { kind = "sly" }\n\n[actors.b]'),
        "actors.a.strategy.kind",
        "'sly'",
        "'boulware'",
    ),
]


BAD_FILES = [case if type(case) is not tuple else pytest.param(*case, id=case[0]) for case in _CASES]


@pytest.mark.parametrize(("case", "edit", "field", "value", "expected"), BAD_FILES)
def test_every_bad_file_gives_one_line_naming_file_field_value_and_expectation(
    tmp_path: Path, case: str, edit: tuple[str, str], field: str | None, value: str, expected: str
) -> None:
    path = write_tiny(tmp_path, edited(*edit), name="bad.toml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    line = error.one_line()
    assert "\n" not in line
    assert line.startswith(str(path) + ": ")
    if field is not None:
        assert error.field == field
        assert f"field {field}: " in line
    assert value in line
    assert f"expected {expected}" in line or ("expected" in line and expected in line)


def test_a_directory_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert caught.value.one_line() == f"{tmp_path}: got 'a directory'; expected a TOML file"


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "no-such-scenario.toml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    line = caught.value.one_line()
    assert line.startswith(f"{path}: missing;") and "existing, readable TOML file" in line


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "UTF-8" in caught.value.one_line()


def test_errors_from_a_dict_name_the_source_given() -> None:
    data = tiny_dict()
    del data["tables"]["ab"]["preferences"]["b"]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, "<my dict>")
    line = caught.value.one_line()
    assert line.startswith("<my dict>: field tables.ab.preferences: ")
    assert "preferences for exactly the parties a, b" in line


def test_input_errors_are_input_errors() -> None:
    assert issubclass(ScenarioError, InputError)


def test_an_interior_ideal_on_a_binary_issue_is_rejected() -> None:
    with pytest.raises(ScenarioError):
        tiny_scenario(
            {
                "issues.s": {
                    "name": "s",
                    "unit": "yes/no",
                    "kind": "binary",
                    "low": 0.0,
                    "high": 1.0,
                    "status_quo": 0.0,
                },
                "tables.ab.issues": ["x", "y", "s"],
                "tables.ab.preferences.a.weights": {"s": 1.0},
                "tables.ab.preferences.a.ideal": {"s": 0.5},
                "tables.ab.preferences.b.weights": {"x": 1.0},
                "tables.ab.preferences.b.ideal": {"x": "decrease"},
            }
        )
