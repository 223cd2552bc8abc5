"""The Mesa model: reproducibility, the Mesa 3 API, randomness, tracing and cross-table linkages."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import mesa
import numpy as np
import pytest
from helpers import arrays_equal, compiled_tiny, run_model, tiny_scenario, without_events

from negotiation.agents import CountryAgent
from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.preferences import gain
from negotiation.bargaining.protocol import OPEN
from negotiation.bargaining.streams import stream_id
from negotiation.errors import OverrideError
from negotiation.model import TRACE_COLUMNS, NegotiationModel, run_once
from negotiation.scenario.schema import Scenario

# --- reproducibility ---------------------------------------------------------------------------


def test_same_seed_gives_bit_identical_outcomes(default_compiled: CompiledScenario) -> None:
    first = run_model(default_compiled, seed=11).arrays()
    second = run_model(default_compiled, seed=11).arrays()
    assert arrays_equal(first, second)
    assert run_model(default_compiled, seed=11).outcomes() == run_model(default_compiled, seed=11).outcomes()


def test_model_and_run_once_agree_bit_for_bit(default_compiled: CompiledScenario) -> None:
    for seed in (0, 3):
        assert arrays_equal(run_model(default_compiled, seed=seed).arrays(), run_once(default_compiled, seed))


def test_an_integer_rng_is_the_same_as_the_seed_and_a_generator_is_reproducible(
    default_compiled: CompiledScenario,
) -> None:
    from_seed = run_model(default_compiled, seed=5).arrays()
    model = NegotiationModel(default_compiled, rng=5)
    model.run()
    assert arrays_equal(from_seed, model.arrays())
    # Mesa takes one number from a Generator passed as rng (to seed its stdlib `random`), so a
    # Generator run is not the seed run; but it is reproducible
    generator_runs = []
    for _ in range(2):
        model = NegotiationModel(default_compiled, rng=np.random.default_rng(5))
        model.run()
        generator_runs.append(model.arrays())
    assert arrays_equal(*generator_runs)


def test_an_integer_seed_seeds_both_generators_as_mesa_seed_did_without_a_deprecation_warning(
    default_compiled: CompiledScenario,
) -> None:
    # Mesa 3.5 deprecates Model(seed=...); the model hands its seed to Mesa as rng, which seeds numpy's
    # generator and Mesa's stdlib random exactly as Mesa's seed did on Mesa 3.3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = NegotiationModel(default_compiled, seed=5)
    deprecations = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
    assert not [str(w.message) for w in caught if issubclass(w.category, deprecations)]
    assert model._rng == np.random.default_rng(5).bit_generator.state  # Mesa keeps the initial state
    assert model.random.getstate() == random.Random(5).getstate()  # the model itself never draws from it
    with pytest.raises(ValueError, match="either seed or rng"):
        NegotiationModel(default_compiled, seed=5, rng=5)


def test_different_seeds_give_different_outcomes_where_the_scenario_is_uncertain(
    default_compiled: CompiledScenario,
) -> None:
    runs = [run_model(default_compiled, seed=seed).arrays() for seed in range(8)]
    # the drawn parameters differ, so the effective reservation values differ from run to run ...
    assert not arrays_equal(runs[0], runs[1])
    assert len({r.reservation.tobytes() for r in runs}) == len(runs)
    # ... and so do the negotiated outcomes themselves: how tables end and what they agree
    endings = {(r.status.tobytes(), r.end_round.tobytes(), np.round(r.values, 6).tobytes()) for r in runs}
    assert len(endings) > 1


def test_a_scenario_without_uncertainty_or_walkout_risk_does_not_depend_on_the_seed() -> None:
    compiled = compiled_tiny()
    assert not compiled.scenario.uncertainty
    first = run_model(compiled, seed=0).arrays()
    assert all(arrays_equal(first, run_model(compiled, seed=seed).arrays()) for seed in (1, 2, 99))


def test_global_random_state_is_neither_used_nor_consumed(default_compiled: CompiledScenario) -> None:
    np.random.seed(1)  # noqa: NPY002 (the global state is what this test watches)
    random.seed(1)
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    first = run_model(default_compiled, seed=4, trace=True).arrays()
    after = np.random.get_state()  # noqa: NPY002
    assert (
        after[0] == numpy_state[0]
        and np.array_equal(after[1], numpy_state[1])
        and after[2:] == numpy_state[2:]
    )
    assert random.getstate() == python_state
    np.random.seed(999)  # noqa: NPY002 (the global state is what this test watches)
    random.seed(999)
    assert arrays_equal(first, run_model(default_compiled, seed=4).arrays())


def test_the_model_draws_from_streams_keyed_by_its_seed(default_compiled: CompiledScenario) -> None:
    model = NegotiationModel(default_compiled, seed=4)
    untouched = np.random.default_rng(4).bit_generator.state
    # each table's walk-out numbers are numpy's Philox stream keyed by SeedSequence(4) and the table
    key = np.random.SeedSequence(4).generate_state(2, np.uint64)
    expected = []
    for table in default_compiled.table_ids:
        counter = np.zeros(4, np.uint64)
        counter[2:] = stream_id(f"walkout:{table}")
        expected.append(np.random.Generator(np.random.Philox(key=key, counter=counter)).random(model.horizon))
    compared = 0
    while model.running:  # every table open in a round draws that round's number of its stream
        in_play = (model.negotiation.status == OPEN) & (default_compiled.opens <= model.round)
        got = model.runs.walkout(model.round)
        for t in np.flatnonzero(in_play):
            assert got[t] == expected[t][model.round]
            compared += 1
        model.step()
    assert compared > default_compiled.n_tables
    assert model.rng.bit_generator.state == untouched, "Mesa's generator is left for the user"


def test_a_generator_keys_the_run_from_its_numbers(default_compiled: CompiledScenario) -> None:
    first = NegotiationModel(default_compiled, rng=np.random.default_rng(9))
    again = NegotiationModel(default_compiled, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(first.runs.keys, again.runs.keys)
    other = NegotiationModel(default_compiled, rng=np.random.default_rng(10))
    assert not np.array_equal(first.runs.keys, other.runs.keys)


# --- the Mesa 3 API -----------------------------------------------------------------------------


def test_model_is_a_mesa_model_with_one_country_agent_per_actor(
    default_compiled: CompiledScenario, default_scenario: Scenario
) -> None:
    model = NegotiationModel(default_compiled, seed=0)
    assert isinstance(model, mesa.Model)
    # model.agents is Mesa's registry: an AgentSet on Mesa 3.3, an AgentSet-like set of its own class on
    # Mesa 3.5; both register every agent and answer AgentSet queries
    assert len(model.agents) == 11
    us = model.agents.select(lambda agent: agent.actor_id == "us")
    assert isinstance(us, mesa.agent.AgentSet)
    assert list(us) == [model.agent("us")]
    assert all(isinstance(agent, CountryAgent) for agent in model.agents)
    assert sorted(a.actor_id for a in model.agents) == sorted(default_scenario.actors)
    assert set(model.agents_by_type[CountryAgent]) == set(model.agents)


def test_each_agent_takes_part_in_every_table_it_sits_at(default_scenario: Scenario) -> None:
    model = NegotiationModel(default_scenario, seed=0)
    for agent in model.agents:
        expected = {t for t, table in default_scenario.tables.items() if agent.actor_id in table.parties}
        assert set(agent.tables) == expected, agent.actor_id
        for table_id in agent.tables:
            side = default_scenario.tables[table_id].parties.index(agent.actor_id)
            t = model.compiled.table_ids.index(table_id)
            assert agent.seats[t] == side
            if model.compiled.stacked[t]:  # a table of more than two keeps its own state
                row = list(model.runs.stacked.tables).index(t)
                assert agent.reservation(table_id) == model.runs.stacked.reservation[row, side]
            else:
                assert agent.reservation(table_id) == model.negotiation.reservation[t, side]
    assert len(model.agent("us").tables) == 11
    assert "thailand-cambodia" not in model.agent("us").tables  # the US mediates there
    assert set(model.agent("thailand").tables) == {"thailand-cambodia", "us-thailand", "us-asean"}


def test_model_steps_until_every_table_has_ended(default_compiled: CompiledScenario) -> None:
    model = NegotiationModel(default_compiled, seed=2)
    assert model.running and model.round == 0
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert steps == model.round <= model.horizon
    assert model.steps == steps  # Mesa's own step counter
    assert not np.any(model.negotiation.status == OPEN)


def test_model_accepts_a_path_a_scenario_a_compiled_scenario_or_nothing(tiny_file: Path) -> None:
    for source in (tiny_file, str(tiny_file), tiny_scenario(), compile_scenario(tiny_scenario())):
        assert arrays_equal(run_model(source, seed=1).arrays(), run_model(tiny_scenario(), seed=1).arrays())
    assert NegotiationModel(seed=1).compiled.table_ids[0] == "us-china"


def test_overrides_are_flat_keyword_arguments_named_by_path() -> None:
    model = NegotiationModel(tiny_scenario(), seed=1, **{"tables.ab.deadline": 4, "actors.a.resolve": 0.7})
    assert model.compiled.scenario.tables["ab"].deadline == 4
    assert model.compiled.scenario.actors["a"].resolve == 0.7
    assert model.run()[0].round <= 4
    with pytest.raises(OverrideError):
        NegotiationModel(tiny_scenario(), seed=1, **{"tables.ab.colour": 4})


def test_trace_is_in_the_datacollector_only_when_asked_for() -> None:
    assert run_model(tiny_scenario(), seed=1).datacollector is None
    model = run_model(tiny_scenario(), seed=1, trace=True)
    offers = model.datacollector.get_table_dataframe("offers")
    assert tuple(offers.columns) == TRACE_COLUMNS
    assert len(offers) == model.outcomes()[0].round + 1
    reporters = model.datacollector.get_model_vars_dataframe()
    assert len(reporters) == model.round
    assert reporters["deals"].iloc[-1] == 1 and reporters["open_tables"].iloc[-1] == 0


def test_tracing_does_not_change_the_outcome(default_compiled: CompiledScenario) -> None:
    traced = run_model(default_compiled, seed=6, trace=True).arrays()
    assert arrays_equal(traced, run_model(default_compiled, seed=6).arrays())


# --- cross-table linkages ------------------------------------------------------------------------


def step_until_ended(model: NegotiationModel, table_id: str) -> None:
    t = model.compiled.table_ids.index(table_id)
    while model.running and model.negotiation.status[t] == OPEN:
        model.step()


def test_a_us_japan_deal_moves_the_values_of_no_deal_at_us_korea() -> None:
    """The precedent moves each side by strength * w_tariff * (gain(precedent) - gain(no-deal value)).

    US-Korea declares no threat, so its no-deal tariff is the status quo (25%).

    Compared with the same seed and the linkage strength set to 0, stopping right after the round
    in which US-Japan ends (the two runs are identical up to then).
    """
    scenario = without_events()
    linked = compile_scenario(scenario)
    unlinked = NegotiationModel(scenario, **{"linkages.0.strength": 0.0}).compiled
    japan, korea = linked.table_ids.index("us-japan"), linked.table_ids.index("us-korea")
    seed = next(s for s in range(30) if run_model(linked, seed=s).arrays().status[japan] == 1)
    with_link, without_link = NegotiationModel(linked, seed=seed), NegotiationModel(unlinked, seed=seed)
    start = with_link.negotiation.reservation[korea].copy()
    step_until_ended(with_link, "us-japan")
    step_until_ended(without_link, "us-japan")
    assert with_link.round == without_link.round <= 12 and with_link.negotiation.status[korea] == OPEN

    np.testing.assert_array_equal(without_link.negotiation.reservation[korea], start)
    tariff = with_link.outcomes()[japan].values["tariff"]  # real units, Japan's 27.5% -> 15% range
    precedent = np.clip((tariff - 15.0) / (25.0 - 15.0), 0.0, 1.0)  # on Korea's 25% -> 15% range
    weights = with_link.negotiation.derived.weights[korea, :, 0]  # tariff is Korea's first issue
    ideal = with_link.negotiation.derived.ideal[korea, :, 0]
    expected = start + 0.6 * weights * (gain(np.full(2, precedent), ideal) - gain(np.ones(2), ideal))
    np.testing.assert_allclose(with_link.negotiation.reservation[korea], expected)
    # a tariff cut below Korea's 25% raises Korea's expectations and lowers the US's
    assert tariff < 25.0
    us_side, korea_side = 0, 1
    assert with_link.negotiation.reservation[korea, korea_side] > start[korea_side]
    assert with_link.negotiation.reservation[korea, us_side] < start[us_side]


def test_a_us_china_walkout_lowers_asean_partners_values_of_no_deal() -> None:
    """Force a walk-out in round 0 (hazard >= 1 for China), then compare with the linkage off."""
    forced = {
        "tables.us-china.breakdown_risk": 0.5,
        "actors.china.resolve": 1.0,
        "actors.china.rapport.us": 0.0,
    }
    scenario = without_events()
    linked = NegotiationModel(scenario, seed=3, **forced)
    unlinked = NegotiationModel(scenario, seed=3, **forced, **{"linkages.1.strength": 0.0})
    start = linked.negotiation.reservation.copy()
    linked.step()
    unlinked.step()
    c = linked.compiled
    china = c.table_ids.index("us-china")
    assert linked.outcomes()[china].status == "walkout" and linked.outcomes()[china].round == 0

    np.testing.assert_array_equal(unlinked.negotiation.reservation, start)
    asean = ["us-malaysia", "us-thailand", "us-cambodia", "us-vietnam", "us-indonesia", "us-singapore"]
    still_open = [t for t in asean if linked.negotiation.status[c.table_ids.index(t)] == OPEN]
    assert len(still_open) >= 3
    for table_id in still_open:
        t = c.table_ids.index(table_id)
        us, partner = linked.negotiation.reservation[t]
        assert us == start[t, 0], "the US sits at us-china: its own walk-out does not hit its BATNA"
        assert partner == pytest.approx(start[t, 1] - 0.15), table_id
    # tables not linked to us-china are untouched
    for table_id in ("us-japan", "us-korea", "thailand-cambodia"):
        t = c.table_ids.index(table_id)
        np.testing.assert_array_equal(linked.negotiation.reservation[t], start[t])


def test_no_linkage_effect_without_the_triggering_event(default_scenario: Scenario) -> None:
    # a precedent needs a deal: with US-Japan forced to time out, Korea's reservations never move
    scenario = without_events(default_scenario)
    stalled = {"actors.japan.strategy.kind": "hardliner", "actors.us.strategy.kind": "hardliner"}
    model = NegotiationModel(scenario, seed=1, **stalled)
    korea = model.compiled.table_ids.index("us-korea")
    start = model.negotiation.reservation[korea].copy()
    step_until_ended(model, "us-japan")
    assert model.outcomes()[model.compiled.table_ids.index("us-japan")].status != "deal"
    np.testing.assert_array_equal(model.negotiation.reservation[korea], start)
