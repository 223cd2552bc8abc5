"""The reference negotiators (plain Python, one seat at a time) give the fast path's outcomes bit for bit.

Every built-in strategy kind, and every offer, last-offer and opponent-model rule, is played on the
default scenario by ``NegotiationModel(negotiators="reference")`` (the per-run path, where each
agent's negotiator makes every offer and answer through the interface) and by the vectorised
``run_many``, over many seeds; every outcome array must be identical.
"""

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation.bargaining.engine import run_many
from negotiation.bargaining.outcomes import RunArrays
from negotiation.model import NegotiationModel, prepare, run_once
from negotiation.negotiators.reference import REFERENCE_NEGOTIATORS, BuiltinStrategy
from negotiation.scenario.loading import load_scenario
from tests.test_fastpath import _curved, _every_actor

_DEFAULT = load_scenario()
_ACTORS = list(_DEFAULT.actors)
SEEDS = range(1000, 1040)


def _strategy(**values: object) -> dict[str, object]:
    return _every_actor(**{f"strategy.{name}": value for name, value in values.items()})


VARIANTS = {
    # the shipped scenario: time-dependent tactics and tit-for-tat, learning, ultimatums, events
    "default": {},
    "time_dependent": _strategy(kind="time_dependent"),
    "boulware": _strategy(kind="boulware"),
    "conceder": _strategy(kind="conceder"),
    "tit_for_tat": _strategy(kind="tit_for_tat"),
    "hardliner": _strategy(kind="hardliner"),
    "equilibrium": _strategy(kind="equilibrium"),
    # the equilibrium strategy against time-dependent and tit-for-tat sides
    "equilibrium-mixed": {f"actors.{a}.strategy.kind": "equilibrium" for a in _ACTORS[1::2]},
    # the offer and acceptance rules of the core: similarity offers, conceding last offers, no learning
    "similarity": _strategy(offers="similarity"),
    "concede-fixed": _strategy(last_offer="concede", opponent_model="fixed"),
    # every event fires, tables walk out (escalation linkages), impatience and curved gains
    "events-walkouts": {
        **{f"events.{i}.probability": 1.0 for i in range(len(_DEFAULT.events))},
        "tables.us-china.breakdown_risk": 0.5,
    },
    "impatient-curved": {
        **_every_actor(discount=0.9, delay_cost=0.01),
        **_curved(),
        "actors.us.strategy.kind": "equilibrium",
    },
}


CURVED_SEEDS = SEEDS[:8]
"""Fewer seeds where gains are curved: one row at a time, the convex offer solve (60 bisections,
each with Newton steps) costs about 70 ms a call that the vectorised core shares among its rows."""


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_reference_negotiators_match_the_fast_path(name: str) -> None:
    compiled = prepare(None, VARIANTS[name])
    seeds = np.array(CURVED_SEEDS if name == "impatient-curved" else SEEDS)
    fast = run_many(compiled, seeds)
    endings = set()
    for index, seed in enumerate(seeds.tolist()):
        reference = run_once(compiled, seed, negotiators="reference")
        for field in fields(RunArrays):
            np.testing.assert_array_equal(
                getattr(reference, field.name),
                getattr(fast, field.name)[index],
                err_msg=f"{name}, seed {seed}: {field.name}",
            )
        endings.update(reference.status.tolist())
    assert endings, "no table ended"


def test_the_variants_cover_every_builtin_kind() -> None:
    kinds = set()
    for overrides in VARIANTS.values():
        scenario = prepare(None, overrides).scenario
        kinds |= {actor.strategy.kind for actor in scenario.actors.values()}
    assert kinds == set(REFERENCE_NEGOTIATORS)


def test_the_per_run_path_is_really_taken() -> None:
    """With ``negotiators="reference"`` every seat has a reference negotiator that makes the offers."""
    model = NegotiationModel(None, seed=3, negotiators="reference", trace=True)
    model.run()
    china = model.agent("china")
    assert set(china.negotiators) == set(china.tables)
    seat = china.negotiators["us-china"]
    assert isinstance(seat, BuiltinStrategy)
    assert type(seat.inner).__name__ == "TitForTat"
    offers = model.datacollector.get_table_dataframe("offers")
    assert offers["target"].notna().all()  # the reference negotiators report their targets
    fast = NegotiationModel(None, seed=3, trace=True)
    fast.run()
    assert fast.seats is None and fast.agent("china").negotiators == {}
    np.testing.assert_array_equal(
        offers["target"].to_numpy(), fast.datacollector.get_table_dataframe("offers")["target"].to_numpy()
    )


def test_a_changed_reference_negotiator_is_caught() -> None:
    """The comparison can fail: a hardliner that concedes a little is not the fast path's hardliner."""

    class SofterHardliner(REFERENCE_NEGOTIATORS["hardliner"]):
        def aim(self, state, step):
            return 0.97

    compiled = prepare(None, _strategy(kind="hardliner"))
    fast = run_many(compiled, list(SEEDS)[:10])
    softer = [
        run_once(compiled, seed, negotiators=dict.fromkeys(_ACTORS, SofterHardliner)) for seed in SEEDS[:10]
    ]
    assert any(
        not np.array_equal(run.utilities, fast.utilities[i], equal_nan=True) for i, run in enumerate(softer)
    )


KINDS = ("boulware", "linear", "conceder", "tit_for_tat", "hardliner", "equilibrium")


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    kinds=st.lists(st.sampled_from(KINDS), min_size=len(_ACTORS), max_size=len(_ACTORS)),
    similarity=st.lists(st.booleans(), min_size=len(_ACTORS), max_size=len(_ACTORS)),
    learning=st.booleans(),
)
def test_any_mix_of_strategies_matches_the_fast_path(
    seed: int, kinds: list[str], similarity: list[bool], learning: bool
) -> None:
    """Whatever strategy each actor plays, with either offer rule, the reference run is the fast path's."""
    overrides: dict[str, object] = {}
    for actor, kind, similar in zip(_ACTORS, kinds, similarity, strict=True):
        overrides[f"actors.{actor}.strategy.kind"] = kind
        overrides[f"actors.{actor}.strategy.offers"] = "similarity" if similar else "efficient"
        overrides[f"actors.{actor}.strategy.opponent_model"] = "bayesian" if learning else "fixed"
    compiled = prepare(None, overrides)
    fast = run_many(compiled, [seed])
    reference = run_once(compiled, seed, negotiators="reference")
    for field in fields(RunArrays):
        np.testing.assert_array_equal(getattr(reference, field.name), getattr(fast, field.name)[0])
