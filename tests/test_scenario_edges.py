"""Edge cases of scenario validation and overrides found in review."""

import pytest

from negotiation.commands.main import main
from negotiation.errors import OverrideError, ScenarioError
from negotiation.scenario.loading import load_scenario


@pytest.mark.parametrize("section", ["issues", "actors", "tables"])
def test_a_scenario_without_issues_actors_or_tables_is_rejected_not_crashed(tmp_path, capsys, section):
    text = tmp_path / "s.toml"
    text.write_text('name = "x"\n[issues]\n[actors]\n[tables]\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(text)
    assert caught.value.field in {"issues", "actors", "tables"}
    assert main(["run", str(text)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_switching_to_a_preset_tactic_takes_the_presets_exponent():
    scenario = load_scenario(overrides={"actors.japan.strategy.kind": "boulware"})
    assert scenario.actors["japan"].strategy.e == pytest.approx(0.2)
    both = load_scenario(overrides={"actors.japan.strategy.kind": "boulware", "actors.japan.strategy.e": 0.4})
    assert both.actors["japan"].strategy.e == pytest.approx(0.4)


def test_a_distribution_missing_a_field_says_which_fields_it_needs():
    with pytest.raises(OverrideError) as caught:
        load_scenario(
            overrides={"uncertainty.actors.china.resolve": {"dist": "triangular", "low": 0.1, "high": 0.9}}
        )
    assert caught.value.expected.startswith("low, mode, high")


def test_events_cannot_move_a_deadline():
    with pytest.raises(OverrideError) as caught:
        load_scenario(overrides={"events.0.shift": {"tables.us-china.deadline": 3}})
    assert caught.value.field == "events.0.shift"
    assert "deadline" in caught.value.expected
