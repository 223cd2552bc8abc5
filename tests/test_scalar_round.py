"""The scalar round (one run's tables in plain Python) gives the vectorised round's outcomes bit for bit."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation.bargaining import protocol, scalar
from negotiation.bargaining.engine import run_many
from negotiation.bargaining.outcomes import RunArrays
from negotiation.bargaining.preferences import efficient_offer, guaranteed_offer, utility
from negotiation.bargaining.scalar_round import ScalarRound
from negotiation.bargaining.status import DEAL, WALKOUT
from negotiation.bargaining.streams import stream_id
from negotiation.model import NegotiationModel, prepare
from negotiation.scenario.loading import load_scenario

_DEFAULT = load_scenario()
_ACTORS = list(_DEFAULT.actors)
BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "boulware_vs_conceder.toml"


def _every_actor(**values: object) -> dict[str, object]:
    return {f"actors.{a}.strategy.{name}": value for a in _ACTORS for name, value in values.items()}


def _alternating(kinds: list[str]) -> dict[str, object]:
    """Strategy kinds dealt round the actors in turn, so every pairing of kinds meets somewhere."""
    return {f"actors.{a}.strategy.kind": kinds[i % len(kinds)] for i, a in enumerate(_ACTORS)}


MIXES = {
    "default": {},
    "time-dependent-concede-fixed": _every_actor(
        kind="time_dependent", last_offer="concede", opponent_model="fixed"
    ),
    "time-dependent-ultimatum-bayesian": _every_actor(
        kind="time_dependent", last_offer="ultimatum", opponent_model="bayesian"
    ),
    "tit-for-tat": _every_actor(kind="tit_for_tat"),
    "hardliner-vs-the-rest": _alternating(["hardliner", "time_dependent", "tit_for_tat"]),
    "equilibrium-vs-the-rest": _alternating(["equilibrium", "time_dependent", "tit_for_tat", "hardliner"]),
    # similarity offers stay vectorised; the tables where the other side proposes go scalar
    "similarity-offers": {
        **{f"actors.{a}.strategy.offers": ("similarity", "efficient")[i % 2] for i, a in enumerate(_ACTORS)},
        **_alternating(["time_dependent", "time_dependent", "tit_for_tat", "tit_for_tat"]),
    },
    "full-trust-ultimatums": {
        **_every_actor(kind="time_dependent", last_offer="ultimatum"),
        **{f"actors.{a}.rapport.{b}": 1.0 for a in _ACTORS for b in _ACTORS if a != b},
    },
    "all-events-impatient": {
        **{f"events.{i}.probability": 1.0 for i in range(len(_DEFAULT.events))},
        **{f"actors.{a}.discount": 0.95 for a in _ACTORS},
        **{f"actors.{a}.delay_cost": 0.005 for a in _ACTORS},
    },
}


class Counting(ScalarRound):
    """A scalar round that counts the rows it plays."""

    played = 0

    def play(self, rows, round_, uniforms, trace):
        Counting.played += len(rows)
        return super().play(rows, round_, uniforms, trace)


def _run(compiled, seed: int, trace: bool) -> tuple[RunArrays, object]:
    model = NegotiationModel(compiled, seed=seed, trace=trace)
    model.run()
    offers = model.datacollector.get_table_dataframe("offers") if trace else None
    return model.arrays(), offers


def _assert_same(scalar_run: RunArrays, vector_run: RunArrays, seed: int) -> None:
    for field in fields(RunArrays):
        np.testing.assert_array_equal(
            getattr(scalar_run, field.name),
            getattr(vector_run, field.name),
            err_msg=f"seed {seed}: {field.name}",
        )


@pytest.mark.parametrize("overrides", MIXES.values(), ids=MIXES.keys())
def test_scalar_round_matches_the_vectorised_round_bit_for_bit(overrides, monkeypatch):
    compiled = prepare(None, overrides)
    seeds = [int(s) for s in np.arange(25) * 104729 + 11]
    monkeypatch.setattr(protocol, "ScalarRound", Counting)
    Counting.played = 0
    scalar_runs = [_run(compiled, seed, trace=seed == seeds[0]) for seed in seeds]
    assert Counting.played > 0, "the scalar round played no table: nothing was compared"
    monkeypatch.setattr(protocol, "SCALAR_ROWS", 0)  # every round vectorised
    for seed, (scalar_arrays, scalar_trace) in zip(seeds, scalar_runs, strict=True):
        vector_arrays, vector_trace = _run(compiled, seed, trace=scalar_trace is not None)
        _assert_same(scalar_arrays, vector_arrays, seed)
        if scalar_trace is not None:
            assert scalar_trace.to_dict("records") == vector_trace.to_dict("records")


def test_the_benchmark_negotiation_is_played_by_the_scalar_round_alone(monkeypatch):
    compiled = prepare(BENCHMARK, {})
    monkeypatch.setattr(protocol, "ScalarRound", Counting)
    Counting.played = 0
    scalar_arrays, _ = _run(compiled, 0, trace=False)
    rounds = int(scalar_arrays.end_round[0]) + 1
    assert Counting.played == rounds  # every round, none left to the vectorised code
    monkeypatch.setattr(protocol, "SCALAR_ROWS", 0)
    _assert_same(scalar_arrays, _run(compiled, 0, trace=False)[0], 0)


def test_a_run_of_one_table_draws_its_walkout_numbers_at_once_and_matches_the_fast_path():
    compiled = prepare(BENCHMARK, {"tables.t.breakdown_risk": 0.002})  # some runs walk out
    seeds = list(range(40))
    batch = run_many(compiled, seeds)
    counter = np.zeros(4, np.uint64)
    counter[2:] = stream_id("walkout:t")
    for index, seed in enumerate(seeds):
        model = NegotiationModel(compiled, seed=seed)
        key = np.random.SeedSequence(seed).generate_state(2, np.uint64)
        stream = np.random.Generator(np.random.Philox(key=key, counter=counter)).random(model.horizon)
        assert [float(model.runs.walkout(r)[0]) for r in range(model.horizon)] == stream.tolist()
        model.run()
        for field in fields(RunArrays):
            np.testing.assert_array_equal(
                getattr(model.arrays(), field.name), getattr(batch, field.name)[index], err_msg=f"seed {seed}"
            )
    assert {DEAL, WALKOUT} <= set(batch.status[:, 0].tolist())


_unit = st.floats(0.0, 1.0)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 20).flatmap(lambda k: st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
def test_issue_sum_is_numpys_sum(terms):
    assert scalar.issue_sum(terms) == float(np.sum(np.array([terms]), axis=-1)[0])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 9).flatmap(
        lambda k: st.tuples(
            *(st.lists(_unit, min_size=k, max_size=k) for _ in range(4)),
            st.floats(-0.5, 1.5),
            st.lists(st.booleans(), min_size=k, max_size=k),
        )
    )
)
def test_linear_offers_and_utility_are_the_vectorised_ones(arrays):
    raw_w, ideal, raw_v, opponent_ideal, target, flags = arrays
    weights = np.array([raw_w]) + 1e-3
    weights = weights / weights.sum(axis=-1, keepdims=True)
    believed, binary = np.array([raw_v]), np.array([flags])
    ideal_a, opponent_a, one = np.array([ideal]), np.array([opponent_ideal]), np.ones((1, 1))
    w = weights[0].tolist()
    vectorised = efficient_offer(np.array([target]), weights, ideal_a, one, believed, opponent_a, one)
    mine = scalar.linear_efficient_offer(target, w, ideal, raw_v, opponent_ideal)
    assert mine == vectorised[0].tolist()
    assert scalar.linear_utility(mine, w, ideal) == float(utility(vectorised, weights, ideal_a)[0])
    packages = efficient_offer(np.array([target]), weights, ideal_a, one, believed, opponent_a, one, binary)
    assert scalar.linear_package_offer(target, w, ideal, raw_v, opponent_ideal, flags) == packages[0].tolist()
    floor = min(max(target, 0.0), 1.0)
    guaranteed = guaranteed_offer(np.array([floor]), weights, ideal_a, opponent_a, one, binary)
    assert scalar.guaranteed_linear_offer(floor, w, ideal, opponent_ideal, flags) == guaranteed[0].tolist()
