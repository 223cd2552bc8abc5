"""Component tests of the dashboard's state logic (no browser, no Solara server)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from negotiation.batch.rows import simulate
from negotiation.commands.main import main as cli_main
from negotiation.dashboard.state import (
    STRATEGY_KINDS,
    DashboardModel,
    DashboardState,
    DealProbabilities,
    parameter_catalogue,
    probability_comparison,
    summary_frame,
)
from negotiation.errors import OverrideError
from negotiation.intervals import wilson_interval
from negotiation.model import NegotiationModel
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.overlay import read_overlay
from negotiation.scenario.paths import apply_overrides, get_value

SEED = 3


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(None)


@pytest.fixture
def state(scenario):
    session = DashboardState(scenario, seed=SEED, batch_runs=40, batch_chunk=10, batch_seed=11)
    yield session
    session.close()


def outcome_key(model) -> list[tuple]:
    return [(o.table, o.status, o.round, tuple(sorted(o.utilities.items()))) for o in model.outcomes()]


# --- the parameter catalogue -------------------------------------------------------------------


def test_catalogue_has_the_key_parameters_of_every_actor_and_table(scenario) -> None:
    catalogue = parameter_catalogue(scenario)
    for actor in scenario.actors:
        for leaf in ("resolve", "strategy.kind", "strategy.e"):
            assert f"actors.{actor}.{leaf}" in catalogue
    for table_id, table in scenario.tables.items():
        assert catalogue[f"tables.{table_id}.deadline"].kind == "int"
        for party in table.parties:
            assert f"tables.{table_id}.preferences.{party}.outside_option" in catalogue
            for issue in table.issues:
                assert f"tables.{table_id}.preferences.{party}.weights.{issue}" in catalogue
    assert catalogue["actors.china.strategy.kind"].choices == STRATEGY_KINDS
    assert catalogue["actors.china.resolve"].uncertain
    assert not catalogue["actors.japan.resolve"].uncertain


def test_every_catalogue_path_is_a_set_path_and_its_bounds_validate(scenario) -> None:
    for path, spec in parameter_catalogue(scenario).items():
        assert get_value(scenario, path) == spec.default
        assert spec.low <= (spec.default if spec.kind != "choice" else spec.low) <= spec.high
        for value in spec.choices if spec.kind == "choice" else (spec.low, spec.high):
            apply_overrides(scenario, {path: spec.coerce(value)})  # raises if --set would refuse it


def test_coerce_clips_rounds_and_rejects(scenario) -> None:
    catalogue = parameter_catalogue(scenario)
    resolve = catalogue["actors.china.resolve"]
    assert resolve.coerce(0.123456) == pytest.approx(0.12)
    assert resolve.coerce(7) == 1.0
    deadline = catalogue["tables.us-china.deadline"]
    assert deadline.coerce(12.6) == 13 and isinstance(deadline.coerce(12.6), int)
    with pytest.raises(OverrideError):
        catalogue["actors.china.strategy.kind"].coerce("sulk")
    with pytest.raises(OverrideError):
        resolve.coerce("high")


# --- parameters and the run --------------------------------------------------------------------


def test_changing_a_parameter_updates_overrides_and_rebuilds_the_model(state) -> None:
    state.step()
    state.step()
    before = state.model
    assert state.set_parameter("tables.us-china.deadline", 6)
    assert state.overrides == {"tables.us-china.deadline": 6}
    assert state.model is not before
    assert state.round == 0 and state.model.round == 0
    assert get_value(state.compiled.scenario, "tables.us-china.deadline") == 6
    state.run()
    reference = NegotiationModel(None, seed=SEED, trace=True, **{"tables.us-china.deadline": 6})
    reference.run()
    assert outcome_key(state.model) == outcome_key(reference)
    us_china = next(o for o in state.model.outcomes() if o.table == "us-china")
    assert us_china.round <= 6


def test_setting_a_value_back_to_the_scenario_value_drops_the_override(state, scenario) -> None:
    japan = get_value(scenario, "actors.japan.resolve")
    state.set_parameter("actors.japan.resolve", 0.9)
    assert state.value("actors.japan.resolve") == 0.9
    state.set_parameter("actors.japan.resolve", japan)
    assert state.overrides == {}
    # an uncertain parameter set to its nominal value stays set: that fixes it
    china = get_value(scenario, "actors.china.resolve")
    state.set_parameter("actors.china.resolve", china)
    assert state.overrides == {"actors.china.resolve": china}
    assert "actors.china.resolve" not in state.compiled.scenario.uncertainty


def test_a_bad_override_raises_and_leaves_the_state_alone(state) -> None:
    state.set_parameter("actors.china.resolve", 0.7)
    model, overrides = state.model, state.overrides
    with pytest.raises(OverrideError):
        state.set_parameter("actors.nobody.resolve", 0.5)
    with pytest.raises(OverrideError):
        state.set_parameter("actors.china.strategy.kind", "sulk")
    assert state.model is model and state.overrides == overrides
    assert state.set_parameter("actors.china.resolve", 0.7) is False


def test_step_advances_the_round_and_adds_trace_rows(state) -> None:
    assert state.round == 0 and len(state.offers()) == 0
    assert state.step()
    first = len(state.offers())
    assert state.round == 1 and first > 0
    assert set(state.offers()["round"]) == {0}
    state.step()
    assert state.round == 2 and len(state.offers()) > first
    rows = state.offers("us-china")
    assert set(rows["table"]) == {"us-china"}
    by_us = rows["proposer"] == "us"
    assert np.allclose(rows.loc[by_us, "utility_0"], rows.loc[by_us, "proposer_utility"])
    assert np.allclose(rows.loc[~by_us, "utility_0"], rows.loc[~by_us, "responder_utility"])
    state.run()
    assert state.finished and not state.step()


def test_reset_returns_to_round_zero_and_the_same_seed_gives_the_same_outcome(state) -> None:
    state.set_parameter("actors.us.resolve", 0.3)
    state.run()
    first = outcome_key(state.model)
    state.reset()
    assert state.round == 0 and len(state.offers()) == 0 and state.overrides == {"actors.us.resolve": 0.3}
    state.run()
    assert outcome_key(state.model) == first
    state.reset(seed=SEED + 100)
    assert state.seed == SEED + 100
    state.run()
    assert outcome_key(state.model) != first


def test_mesa_reset_rebuilds_through_the_session(state) -> None:
    # SolaraViz's Reset does type(model)(**model_params)
    state.set_parameter("tables.us-japan.deadline", 8)
    rebuilt = type(state.model)(session=state, seed=42)
    assert isinstance(rebuilt, DashboardModel)
    assert state.model is rebuilt and state.seed == 42
    assert get_value(rebuilt.compiled.scenario, "tables.us-japan.deadline") == 8


def test_summary_and_utility_space_follow_the_run(state) -> None:
    rows = {row.table: row for row in state.summary()}
    assert all(row.status == "open" and row.round is None and row.offers == 0 for row in rows.values())
    state.run()
    rows = {row.table: row for row in state.summary()}
    outcomes = {o.table: o for o in state.model.outcomes()}
    for table_id, row in rows.items():
        assert row.status == outcomes[table_id].status != "open"
        assert row.round == outcomes[table_id].round
        assert row.offers == len(state.offers(table_id))
    frame = summary_frame(state)
    assert list(frame["table"]) == state.table_ids
    deal = next(t for t, row in rows.items() if row.status == "deal")
    space = state.utility_space(deal)
    assert space.agreement == pytest.approx(rows[deal].utilities)
    assert space.parties == state.parties(deal)
    assert np.all(space.frontier >= -1e-9) and np.all(space.frontier <= 1 + 1e-9)
    # the agreement is individually rational and not above the frontier
    assert space.agreement[0] >= space.reservation[0] - 1e-9
    assert len(space.offers) == rows[deal].offers
    no_deal = [t for t, row in rows.items() if row.status != "deal" and len(state.parties(t)) == 2]
    for table_id in no_deal:
        assert state.utility_space(table_id).agreement is None
    # the summit of seven: every party's utility in the summary, no two-party utility space
    summit = outcomes["us-asean"]
    assert state.parties("us-asean") == summit.parties and len(summit.parties) == 7
    if summit.deal:
        assert rows["us-asean"].utilities == pytest.approx(tuple(summit.utilities[p] for p in summit.parties))
    else:
        assert len(rows["us-asean"].utilities) == 7
    shown = frame.set_index("table").loc["us-asean"]
    assert shown["parties"] == " / ".join(summit.parties) and len(shown["utilities"].split(" / ")) == 7
    with pytest.raises(ValueError, match="7 parties"):
        state.utility_space("us-asean")


# --- deal probabilities ------------------------------------------------------------------------


def test_background_batch_gives_probabilities_with_intervals(state) -> None:
    seen: list[tuple[int, int]] = []
    caller = threading.get_ident()
    threads: set[int] = set()

    def listener(done: int, total: int) -> None:
        seen.append((done, total))
        threads.add(threading.get_ident())

    result = state.start_batch(listener).result(timeout=120)
    assert isinstance(result, DealProbabilities) and state.probabilities is result
    assert seen == [(10, 40), (20, 40), (30, 40), (40, 40)]
    assert caller not in threads  # it ran in the background
    assert state.batch_progress == (40, 40) and not state.batch_running
    low, high = result.interval
    assert np.all((0 <= result.p) & (result.p <= 1))
    assert np.all(low <= result.p) and np.all(result.p <= high)
    # the same counts as running the same seeded replications directly
    rows = simulate(state.compiled, 40, 11).to_pandas()
    direct = rows.groupby("table", sort=False)["deal"].sum().reindex(state.table_ids)
    assert result.deals.tolist() == direct.tolist()
    expected_low, expected_high = wilson_interval(result.deals, 40)
    assert np.allclose(low, expected_low) and np.allclose(high, expected_high)


def test_compare_with_previous_keeps_the_earlier_probabilities(state) -> None:
    first = state.start_batch().result(timeout=120)
    state.set_parameter("tables.us-china.deadline", 2)
    assert state.previous is first and state.probabilities is None
    state.set_parameter("tables.us-china.preferences.china.outside_option", 0.5)
    assert state.previous is first  # still the last estimate before the changes
    second = state.start_batch().result(timeout=120)
    assert state.previous is first and state.probabilities is second
    assert second.overrides == state.overrides and first.overrides == {}
    china = state.table_ids.index("us-china")
    assert second.p[china] < first.p[china]
    table = probability_comparison(second, first)
    assert np.allclose(table["change"], second.p - first.p)
    assert np.allclose(table["p before"], first.p)


def test_a_parameter_change_cancels_a_running_batch(scenario) -> None:
    session = DashboardState(scenario, seed=SEED, batch_runs=100_000, batch_chunk=10)
    try:
        started = threading.Event()
        future = session.start_batch(lambda done, total: started.set())
        assert started.wait(timeout=120)
        session.set_parameter("actors.china.resolve", 0.2)
        assert future.result(timeout=120) is None
        assert session.probabilities is None and not session.batch_running
    finally:
        session.close()


# --- overlay -----------------------------------------------------------------------------------


def test_overlay_round_trips_and_run_accepts_it(
    state, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state.set_parameter("actors.china.resolve", 0.85)
    state.set_parameter("actors.us.strategy.kind", "hardliner")
    state.set_parameter("tables.us-china.deadline", 9)
    path = state.write_overlay(tmp_path / "tuned.toml")
    assert read_overlay(path) == state.overrides
    assert cli_main(["run", "--json", "--seed", str(SEED), "--overlay", str(path)]) == 0
    from_overlay = json.loads(capsys.readouterr().out)
    sets = [f"--set={p}={json.dumps(v)}" for p, v in state.overrides.items()]
    assert cli_main(["run", "--json", "--seed", str(SEED), *sets]) == 0
    assert from_overlay == json.loads(capsys.readouterr().out)
    state.run()
    by_table = {o.table: o for o in state.model.outcomes()}
    assert from_overlay["tables"][0]["status"] == by_table[from_overlay["tables"][0]["table"]].status


def test_charts_draw_current_and_previous(state) -> None:
    from negotiation.dashboard.charts import concession_chart, deal_probability_chart, utility_space_chart

    state.step()
    state.step()
    _, ax = concession_chart(state.offers("us-china"), "us-china", state.parties("us-china"), 25)
    assert len(ax.lines) == 4
    _, ax = utility_space_chart(state.utility_space("us-china"))
    assert ax.get_xlabel() == "utility to us (0-1)"
    # the same drawing function as `negotiation run --plot`: the same lines from the same run
    from negotiation.charts.run_charts import utility_space_figure

    _, same = utility_space_figure(state.model, "us-china")
    assert [line.get_label() for line in ax.lines] == [line.get_label() for line in same.lines]
    for mine, theirs in zip(ax.lines, same.lines, strict=True):
        assert np.array_equal(mine.get_xydata(), theirs.get_xydata())
    # the summit's concession chart: a line per party, the same as `negotiation run --plot` draws
    state.run()
    _, ax = concession_chart(
        state.offers("us-asean"), "us-asean", state.parties("us-asean"), state.model.horizon
    )
    from negotiation.charts.run_charts import concession_figure

    _, same = concession_figure(state.model, "us-asean")
    own = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")][:7]
    assert [label.split("'")[0].split(":")[0] for label in own] == list(state.parties("us-asean"))
    assert [line.get_label() for line in ax.lines] == [line.get_label() for line in same.lines]
    for mine, theirs in zip(ax.lines, same.lines, strict=True):
        assert np.array_equal(mine.get_xydata(), theirs.get_xydata())
    _, ax = deal_probability_chart(None, None)
    assert not ax.containers
    first = state.start_batch().result(timeout=120)
    state.set_parameter("actors.china.resolve", 0.1)
    second = state.start_batch().result(timeout=120)
    _, ax = deal_probability_chart(second, first)
    assert len(ax.containers) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == state.table_ids


def test_a_slider_moves_only_the_tables_its_parameter_can_reach(state) -> None:
    """Issue item 1: moving China's US-China reservation moved us-japan and us-korea by 1.5-2 points."""
    first = state.start_batch().result(timeout=120)
    state.set_parameter("tables.us-china.preferences.china.outside_option", 0.3)
    second = state.start_batch().result(timeout=120)
    for table in ("us-japan", "us-korea", "us-north-korea", "thailand-cambodia"):
        index = state.table_ids.index(table)
        assert second.deals[index] == first.deals[index], table


# --- the bloc ----------------------------------------------------------------------------------


def test_the_bloc_has_its_parameters_its_trace_and_defection_rates(state, scenario) -> None:
    catalogue = parameter_catalogue(scenario)
    for member in scenario.blocs["asean"].members:
        for leaf in ("cohesion", "defection"):
            spec = catalogue[f"blocs.asean.members.{member}.{leaf}"]
            assert spec.group == "bloc" and spec.owner == "asean" and spec.uncertain
    assert catalogue["blocs.asean.leverage"].group == "bloc"
    from negotiation.dashboard.charts import bloc_chart

    bloc_chart(state.model, "asean")  # before the first round: no trace yet
    state.step()
    trace = state.bloc_trace()
    assert set(trace["actor"]) >= {"common", *scenario.blocs["asean"].members}
    result = state.start_batch().result(timeout=120)
    rows = simulate(state.compiled, 40, 11).to_pandas()
    first = rows[rows["table"] == state.table_ids[0]]
    rates = result.defection_frame()
    for row in rates.itertuples():
        assert row.defected == first[f"bloc_asean_{row.member}_defected"].sum()
        assert row.low <= row.rate <= row.high
    fig, _ = bloc_chart(state.model, "asean")
    assert fig.get_size_inches()[0] == 10.0
