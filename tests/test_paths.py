"""Parameter paths: parsing, reading, overriding (with re-validation) and numeric bounds."""

from __future__ import annotations

import math

import pytest
from helpers import tiny_scenario

from negotiation.errors import OverrideError
from negotiation.scenario.bounds import MAX_ROUNDS, MAX_WEIGHT, numeric_bounds
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.paths import apply_overrides, get_value, parse_assignment, parse_value
from negotiation.scenario.schema import Scenario


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.8", 0.8),
        ("10", 10),
        ("true", True),
        ("boulware", "boulware"),
        ('"a b"', "a b"),
        ("[1, 2]", [1, 2]),
    ],
)
def test_parse_value_reads_toml_values_and_keeps_bare_words(text: str, value: object) -> None:
    got = parse_value(text)
    assert got == value and type(got) is type(value)


def test_parse_assignment_splits_at_the_first_equals_sign() -> None:
    assert parse_assignment("tables.us-china.deadline=10") == ("tables.us-china.deadline", 10)
    assert parse_assignment(" actors.china.resolve = 0.8 ") == ("actors.china.resolve", 0.8)


@pytest.mark.parametrize("text", ["actors.china.resolve", "=0.8", " = 1"])
def test_parse_assignment_without_a_path_or_equals_sign_is_one_clear_error(text: str) -> None:
    with pytest.raises(OverrideError) as caught:
        parse_assignment(text)
    assert (
        caught.value.one_line() == f"--set: got {text!r}; expected PATH=VALUE, e.g. actors.china.resolve=0.8"
    )


def test_get_value_reads_any_path(default_scenario: Scenario) -> None:
    assert get_value(default_scenario, "tables.us-china.deadline") == 24
    assert get_value(default_scenario, "tables.us-japan.status_quo.tariff") == 27.5
    assert get_value(default_scenario, "linkages.0.strength") == 0.6
    assert get_value(default_scenario, "actors.us.rapport.japan") == 0.75


def test_get_value_of_an_unknown_path_names_the_first_wrong_part(default_scenario: Scenario) -> None:
    with pytest.raises(OverrideError) as caught:
        get_value(default_scenario, "actors.atlantis.resolve")
    assert caught.value.field == "actors.atlantis.resolve"
    assert caught.value.value == "actors.atlantis"


def test_apply_overrides_returns_a_new_validated_scenario_and_leaves_the_old_one() -> None:
    base = tiny_scenario()
    new = apply_overrides(
        base, {"actors.a.resolve": 0.9, "tables.ab.deadline": 7, "actors.a.strategy.kind": "boulware"}
    )
    assert (new.actors["a"].resolve, new.tables["ab"].deadline) == (0.9, 7)
    assert (
        new.actors["a"].strategy.kind == "time_dependent" and new.actors["a"].strategy.e == 0.2
    )  # the preset's exponent
    assert (base.actors["a"].resolve, base.tables["ab"].deadline) == (0.5, 10)


def test_override_may_add_a_key_to_an_open_mapping() -> None:
    new = apply_overrides(tiny_scenario(), {"actors.a.rapport.b": 0.9, "tables.ab.status_quo.x": 20.0})
    assert new.actors["a"].rapport["b"] == 0.9
    assert new.status_quo("ab", "x") == 20.0


def test_override_of_an_uncertain_parameter_fixes_it(default_scenario: Scenario) -> None:
    assert "actors.china.resolve" in default_scenario.uncertainty
    new = apply_overrides(default_scenario, {"actors.china.resolve": 0.8})
    assert new.actors["china"].resolve == 0.8
    assert "actors.china.resolve" not in new.uncertainty
    assert len(new.uncertainty) == len(default_scenario.uncertainty) - 1


def test_overrides_under_uncertainty_edit_distributions(default_scenario: Scenario) -> None:
    new = apply_overrides(default_scenario, {"uncertainty.actors.china.resolve.low": 0.6})
    assert new.uncertainty["actors.china.resolve"].low == 0.6
    added = apply_overrides(
        default_scenario, {"uncertainty.actors.japan.resolve": {"dist": "uniform", "low": 0.2, "high": 0.5}}
    )
    assert added.uncertainty["actors.japan.resolve"].high == 0.5


def test_load_scenario_applies_overrides() -> None:
    assert load_scenario(None, {"tables.us-china.deadline": 10}).tables["us-china"].deadline == 10


BAD_OVERRIDES = [
    ("unknown actor", {"actors.zz.resolve": 0.5}, "actors.zz.resolve", "'actors.zz'", "a parameter path"),
    ("unknown leaf", {"actors.a.courage": 0.5}, "actors.a.courage", "'courage'", "a parameter path"),
    (
        "path through a number",
        {"actors.a.resolve.x": 0.5},
        "actors.a.resolve.x",
        "'actors.a.resolve'",
        "a parameter path",
    ),
    (
        "linkage index out of range",
        {"linkages.5.strength": 0.5},
        "linkages.5.strength",
        "'linkages.5'",
        "a parameter path",
    ),
    ("text for a number", {"actors.a.resolve": "high"}, "actors.a.resolve", "'high'", "a number"),
    ("fraction for an integer", {"tables.ab.deadline": 2.5}, "tables.ab.deadline", "2.5", "an integer"),
    ("out of bounds", {"actors.a.resolve": 1.5}, "actors.a.resolve", "1.5", "less than or equal to 1"),
    ("NaN", {"actors.a.resolve": math.nan}, "actors.a.resolve", "nan", "a finite number"),
    ("unknown strategy", {"actors.a.strategy.kind": "sly"}, "actors.a.strategy.kind", "'sly'", "'boulware'"),
    (
        "weight on an issue not at the table",
        {"tables.ab.preferences.a.weights.q": 1.0},
        "tables.ab.preferences.a.weights.q",
        "'q'",
        "table issue",
    ),
    (
        "unknown uncertain parameter",
        {"uncertainty.actors.a.resolve.low": 0.1},
        "uncertainty.actors.a.resolve.low",
        "'actors.a.resolve'",
        "declares uncertain",
    ),
    (
        "distribution of a non-numeric parameter",
        {"uncertainty.actors.a.name": {"dist": "uniform", "low": 0, "high": 1}},
        "uncertainty.actors.a.name",
        "'actors.a.name'",
        "a numeric parameter",
    ),
]


@pytest.mark.parametrize(
    ("case", "overrides", "field", "value", "expected"), BAD_OVERRIDES, ids=[c[0] for c in BAD_OVERRIDES]
)
def test_every_bad_override_gives_one_line_naming_source_field_value_and_expectation(
    case: str, overrides: dict, field: str, value: str, expected: str
) -> None:
    with pytest.raises(OverrideError) as caught:
        apply_overrides(tiny_scenario(), overrides, source="--set")
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.startswith(f"--set: field {field}: ")
    assert f"got {value}" in line
    assert expected in line.split("; expected ", 1)[1]


def test_override_source_is_named_in_the_error() -> None:
    with pytest.raises(OverrideError) as caught:
        apply_overrides(tiny_scenario(), {"actors.zz.resolve": 0.5}, source="overlay.toml")
    assert caught.value.one_line().startswith("overlay.toml: ")


def test_an_inverted_uncertainty_range_names_the_value(default_scenario: Scenario) -> None:
    with pytest.raises(OverrideError) as caught:
        apply_overrides(default_scenario, {"uncertainty.actors.china.resolve.low": 0.99})
    line = caught.value.one_line()
    assert "field uncertainty.actors.china.resolve" in line
    assert "0.99" in line


# --- numeric bounds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "bounds"),
    [
        ("actors.china.resolve", (0.0, 1.0, False)),
        ("actors.us.rapport.japan", (0.0, 1.0, False)),
        ("actors.us.strategy.e", (1e-3, 50.0, False)),
        ("actors.china.strategy.reciprocity", (0.0, 5.0, False)),
        ("tables.us-china.deadline", (1.0, float(MAX_ROUNDS), True)),
        ("tables.us-korea.deadline", (12.0, float(MAX_ROUNDS), True)),
        ("tables.us-china.breakdown_risk", (0.0, 0.5, False)),
        ("tables.us-china.preferences.us.outside_option", (-1.0, 1.0, False)),
        ("actors.us.discount", (1e-6, 1.0, False)),
        ("actors.us.delay_cost", (0.0, 1.0, False)),
        ("tables.us-malaysia.no_deal.tariff", (10.0, 40.0, False)),
        ("model.learning_prior", (0.0, 1000.0, False)),
        ("tables.us-china.preferences.china.weights.taiwan", (0.0, MAX_WEIGHT, False)),
        ("tables.us-japan.preferences.japan.ideal.defence", (1.0, 3.0, False)),
        ("linkages.1.strength", (0.0, 1.0, False)),
        ("model.urgency_gain", (0.0, 5.0, False)),
        ("model.leverage_effect", (0.0, 1.0, False)),
    ],
)
def test_numeric_bounds_of_varying_parameters(default_scenario: Scenario, path: str, bounds: tuple) -> None:
    assert numeric_bounds(default_scenario, path) == bounds


@pytest.mark.parametrize(
    "path",
    [
        "actors.china.name",
        "actors.atlantis.resolve",
        "tables.us-china.preferences.us.ideal.rare_earths",  # "increase" is not a number
        "tables.us-china.preferences.japan.outside_option",  # japan is not at the table
        "tables.us-china.preferences.us.reservation",  # derived, not a parameter
        "tables.us-china.no_deal.tariff",  # us-china declares no threat
        "tables.us-china.opens",
        "linkages.9.strength",
        "model.nonsense",
    ],
)
def test_numeric_bounds_refuses_what_cannot_vary(default_scenario: Scenario, path: str) -> None:
    with pytest.raises(KeyError):
        numeric_bounds(default_scenario, path)


def test_every_uncertain_parameter_of_the_default_scenario_has_bounds(default_scenario: Scenario) -> None:
    for path, dist in default_scenario.uncertainty.items():
        low, high, _ = numeric_bounds(default_scenario, path)
        assert low < high
        if dist.dist != "normal":
            assert low <= dist.low and dist.high <= high, path
