"""The batch fast path (engine.run_many) gives exactly the Mesa model's outcomes on the same seeds."""

from dataclasses import fields

import numpy as np
import pytest

from negotiation.bargaining import streams
from negotiation.bargaining.engine import run_many
from negotiation.bargaining.outcomes import RunArrays
from negotiation.bargaining.protocol import Derived, derive, derive_again
from negotiation.model import prepare, run_once
from negotiation.scenario.loading import load_scenario

_DEFAULT = load_scenario()
_ACTORS = list(_DEFAULT.actors)


def _every_actor(**fields: object) -> dict[str, object]:
    return {f"actors.{a}.{name}": value for a in _ACTORS for name, value in fields.items()}


def _curved() -> dict[str, float]:
    return {
        f"tables.{t}.preferences.{p}.curvature": 1.5 + 0.5 * i
        for t, table in _DEFAULT.tables.items()
        for i, p in enumerate(table.parties)
    }


def _assert_same(single: RunArrays, batch: RunArrays, index: int) -> None:
    for field in fields(RunArrays):
        np.testing.assert_array_equal(
            getattr(single, field.name),
            getattr(batch, field.name)[index],
            err_msg=f"run {index}: {field.name}",
        )


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        # every event fires, so event handling is compared too
        {f"events.{i}.probability": 1.0 for i in range(5)},
        # frequent walk-outs at us-china, so escalation linkages fire
        {"tables.us-china.breakdown_risk": 0.5},
        # the equilibrium strategy at every US table (one with a binary issue) and at us-china
        {"actors.us.strategy.kind": "equilibrium", "actors.china.strategy.kind": "equilibrium"},
        # the rules before the equilibrium, learning and efficient offers: similarity, concede, fixed
        {
            **_every_actor(**{"strategy.offers": "similarity", "strategy.last_offer": "concede"}),
            **_every_actor(**{"strategy.opponent_model": "fixed"}),
        },
        # impatience and costs of delay, curved gains (the convex solve, the sampled frontier)
        {
            **_every_actor(discount=0.9, delay_cost=0.01),
            **_curved(),
            "actors.us.strategy.kind": "equilibrium",
        },
        # a firm ASEAN bloc deciding by majority, whose members often break ranks on their own
        {
            "blocs.asean.leverage": 0.4,
            "blocs.asean.rule": "majority",
            **{f"blocs.asean.members.{m}.defection": 0.5 for m in _DEFAULT.blocs["asean"].members},
        },
        # the table of seven (SAOP) with frequent walk-outs and costly delay at every seat
        {"tables.us-asean.breakdown_risk": 0.3, **_every_actor(delay_cost=0.02)},
    ],
    ids=[
        "default",
        "all-events",
        "escalation",
        "equilibrium",
        "old-rules",
        "impatient-curved",
        "bloc",
        "summit-walkouts",
    ],
)
def test_fast_path_matches_mesa_model_bit_for_bit(overrides):
    compiled = prepare(None, overrides)
    seeds = np.arange(40) * 7919 + 3
    batch = run_many(compiled, seeds)
    for index, seed in enumerate(seeds):
        _assert_same(run_once(compiled, int(seed)), batch, index)


def test_a_runs_outcome_does_not_depend_on_its_block():
    compiled = prepare(None, {})
    seeds = np.arange(30) + 100
    whole = run_many(compiled, seeds)
    halves = [run_many(compiled, seeds[:11]), run_many(compiled, seeds[11:])]
    for field in fields(RunArrays):
        joined = np.concatenate([getattr(h, field.name) for h in halves])
        np.testing.assert_array_equal(getattr(whole, field.name), joined)


def test_the_summit_table_has_seven_parties_and_walkouts_in_its_variant():
    compiled = prepare(None, {"tables.us-asean.breakdown_risk": 0.3})
    summit = compiled.table_ids.index("us-asean")
    assert compiled.n_parties[summit] == 7 and compiled.stacked[summit]
    batch = run_many(compiled, np.arange(40))
    assert (batch.status[:, summit] == 3).sum() > 3 and (batch.status[:, summit] == 1).any()


def test_escalation_scenario_really_has_walkouts_and_events_fire():
    compiled = prepare(None, {"tables.us-china.breakdown_risk": 0.5})
    batch = run_many(compiled, np.arange(40))
    us_china = compiled.table_ids.index("us-china")
    assert (batch.status[:, us_china] == 3).sum() > 5


def test_an_event_re_derives_only_the_runs_it_hits_to_the_same_bits():
    """``derive_again`` (the runs an event hit) gives what deriving every run again gives."""
    compiled = prepare(None, {})
    params = compiled.draw(streams.run_keys(range(60)))
    derived, reservation = derive(compiled, params)
    hit = np.random.default_rng(3).random(60) < 0.3
    for event in compiled.events:
        event.apply(params, hit)
    hit_params = {name: array[hit] for name, array in params.items()}
    again, again_reservation = derive_again(compiled, hit_params, hit, derived, reservation)
    fresh, fresh_reservation = derive(compiled, params)
    for field in fields(Derived):
        np.testing.assert_array_equal(getattr(again, field.name), getattr(fresh, field.name), field.name)
    np.testing.assert_array_equal(again_reservation, fresh_reservation)
    assert hit.any() and not hit.all()
    assert not np.array_equal(fresh.exponent, derived.exponent)  # the events did change something
