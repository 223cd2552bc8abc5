"""Alternating offers at one table (negotiation.bargaining.protocol), observed through the model's trace.

The tiny scenario (tests/helpers.py) has neutral leverage, pressure and resolve, so each side's value of
no deal is its utility of the status quo plus its outside option (0.3 for both) and its effective
exponent is its strategy's ``e``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import TINY_NO_DEAL_UTILITY, compiled_tiny, run_model, tiny_scenario, tiny_value

from negotiation.bargaining.preferences import utility
from negotiation.bargaining.strategies import time_dependent_target
from negotiation.model import NegotiationModel

HARDLINER = {"kind": "hardliner"}


def trace(model: NegotiationModel) -> pd.DataFrame:
    return model.datacollector.get_table_dataframe("offers")


def tiny_outcome(model: NegotiationModel):
    return model.outcomes()[0]


def test_sides_alternate_and_the_opener_proposes_first() -> None:
    model = run_model(tiny_scenario({"tables.ab.opens": 3, "tables.ab.deadline": 13}), seed=1, trace=True)
    offers = trace(model)
    assert offers["round"].min() == 3, "no offers before the table opens"
    assert offers["round"].max() <= 13, "no offers after the deadline"
    expected = np.where((offers["round"] - 3) % 2 == 0, "a", "b")
    assert offers["proposer"].tolist() == expected.tolist()
    assert (offers["responder"] != offers["proposer"]).all()
    assert offers["round"].diff().dropna().eq(1).all(), "one offer per round"


def test_each_offer_is_worth_exactly_the_proposer_target() -> None:
    offers = trace(run_model(tiny_scenario(), seed=1, trace=True))
    np.testing.assert_allclose(offers["proposer_utility"], offers["target"], atol=1e-9)


def test_time_dependent_targets_follow_the_faratin_curve() -> None:
    changes = {"actors.a.strategy": {"kind": "boulware"}, "actors.b.strategy": {"kind": "conceder"}}
    model = run_model(tiny_scenario(changes), seed=1, trace=True)
    offers = trace(model)
    exponent = {"a": 0.2, "b": 5.0}  # preset exponents; neutral pressure and resolve keep them
    for _, row in offers.iterrows():
        expected = time_dependent_target(
            np.array([row["round"]]), np.array([10]), np.array([exponent[row["proposer"]]]), np.array([0.3])
        )[0]
        assert row["target"] == pytest.approx(expected)


def test_a_deal_is_the_last_offer_and_gives_the_responder_at_least_its_next_target() -> None:
    model = run_model(tiny_scenario(), seed=1, trace=True)
    offers, outcome = trace(model), tiny_outcome(model)
    assert outcome.status == "deal"
    last = offers.iloc[-1]
    assert last["status"] == "deal" and (offers["status"].iloc[:-1] == "open").all()
    assert outcome.round == last["round"]
    assert outcome.values == pytest.approx(last["offer"])
    # AC_next: the responder (linear, r = 0.3, T = 10) accepts only what its own next offer would
    # be worth to it; and it rejected every earlier offer because it was worth less than that
    for _, row in offers.iterrows():
        own_next = time_dependent_target(
            np.array([row["round"] + 1]), np.array([10]), np.ones(1), np.array([0.3])
        )
        accepted = row["responder_utility"] >= own_next[0] - 1e-12
        assert accepted == (row["status"] == "deal"), row["round"]
    assert outcome.utilities[last["responder"]] == pytest.approx(last["responder_utility"])
    assert outcome.utilities[last["proposer"]] == pytest.approx(last["proposer_utility"])


def test_hardliner_always_asks_for_everything() -> None:
    model = run_model(tiny_scenario({"actors.b.strategy": HARDLINER}), seed=2, trace=True)
    offers = trace(model)
    mine = offers[offers["proposer"] == "b"]
    assert len(mine) >= 4
    np.testing.assert_allclose(mine["target"], 1.0)
    np.testing.assert_allclose(mine["proposer_utility"], 1.0, atol=1e-9)


def test_conceding_in_the_last_round_gives_the_last_offer_at_the_value_of_no_deal() -> None:
    """With ``last_offer = "concede"`` (the old behaviour) the last proposer gives its whole surplus.

    The deadline is round 10 and the opener proposes on even rounds, so it makes the last offer, at
    target = its value of no deal 0.3. The hardliner's AC_next (next target 1) rejects everything
    before, but with no turn left it takes anything worth its value of no deal (0.1) or more.
    """
    changes = {
        "actors.a.strategy": {"kind": "linear", "last_offer": "concede"},
        "actors.b.strategy": HARDLINER,
        **tiny_value("b", 0.1),
    }
    model = run_model(tiny_scenario(changes), seed=3, trace=True)
    offers, outcome = trace(model), tiny_outcome(model)
    assert outcome.status == "deal"
    assert outcome.round == 10
    assert outcome.utilities["a"] == pytest.approx(0.3)
    assert outcome.utilities["b"] >= 0.1
    assert (offers[offers["round"] < 10]["status"] == "open").all()


def test_an_ultimatum_in_the_last_round_leaves_the_responder_its_value_of_no_deal_on_every_issue() -> None:
    """With the ultimatum (the default) the last proposer claims all but what b must get.

    b (a hardliner, value of no deal 0.1) accepts anything worth 0.1 in the last round. a does not
    know b's weights, so it offers b a gain of 0.1 on every issue (worth 0.1 to b whatever its
    weights): x and y 90% of the way from b's ideal to a's, z where b's gain is 0.1 (9.2: b's ideal is 2).
    """
    changes = {"actors.b.strategy": HARDLINER, **tiny_value("b", 0.1)}
    model = run_model(tiny_scenario(changes), seed=3, trace=True)
    offers, outcome = trace(model), tiny_outcome(model)
    last = offers.iloc[-1]
    assert (last["round"], last["proposer"], outcome.status) == (10, "a", "deal")
    assert outcome.values == pytest.approx({"x": 90.0, "y": 0.9, "z": 2.0 + 0.9 * 8.0})
    assert outcome.utilities["b"] == pytest.approx(0.1)
    # a's gain on z (ideal 10 of 0-10) at 9.2 is 0.92
    assert outcome.utilities["a"] == pytest.approx(0.5 * 0.9 + 0.3 * 0.9 + 0.2 * 0.92)
    assert last["target"] == pytest.approx(outcome.utilities["a"])


def test_an_offer_below_the_reservation_is_refused_even_at_the_deadline() -> None:
    # deadline 9: the hardliner makes the last offer (its own ideal), worth 0.04 < 0.3 to a
    changes = {"actors.b.strategy": HARDLINER, "tables.ab.deadline": 9}
    model = run_model(tiny_scenario(changes), seed=3, trace=True)
    outcome = tiny_outcome(model)
    last = trace(model).iloc[-1]
    assert last["proposer"] == "b" and last["responder_utility"] == pytest.approx(0.04)
    assert outcome.status == "deadline"
    assert outcome.round == 9


def test_a_table_without_a_deal_ends_at_the_status_quo_worth_the_values_of_no_deal() -> None:
    changes = {"actors.a.strategy": HARDLINER, "actors.b.strategy": HARDLINER}
    outcome = tiny_outcome(run_model(tiny_scenario(changes), seed=4))
    assert outcome.status == "deadline"
    assert outcome.values == pytest.approx({"x": 50.0, "y": 0.0, "z": 10.0})
    assert not any(outcome.moved.values())
    assert outcome.utilities == pytest.approx({"a": 0.3, "b": 0.3})
    assert outcome.pareto_distance is None and outcome.nash_distance is None


def test_tit_for_tat_mirrors_the_opponent_concessions_in_its_own_utility() -> None:
    changes = {
        "actors.b.strategy": {"kind": "tit_for_tat", "reciprocity": 1.0, "initial_concession": 0.05},
        **tiny_value("b", 0.0),
        "actors.a.strategy": {"kind": "time_dependent", "e": 0.5},
        "tables.ab.deadline": 20,
    }
    offers = trace(run_model(tiny_scenario(changes), seed=5, trace=True))
    a_offers = offers[offers["proposer"] == "a"]["responder_utility"].to_numpy()  # worth to b
    b_targets = offers[offers["proposer"] == "b"]["target"].to_numpy()
    assert len(b_targets) >= 4
    assert b_targets[0] == pytest.approx(0.95), "opens with its initial concession"
    # b's k-th target (k >= 1) drops by what a's k-th offer gave b over a's (k-1)-th
    for k in range(1, len(b_targets)):
        step = max(a_offers[k] - a_offers[k - 1], 0.0)
        assert b_targets[k] == pytest.approx(max(b_targets[k - 1] - step, 0.0)), k


def test_no_walkout_without_breakdown_risk() -> None:
    changes = {"actors.a.strategy": HARDLINER, "actors.b.strategy": HARDLINER}
    compiled = compiled_tiny(changes)
    statuses = {tiny_outcome(run_model(compiled, seed=s)).status for s in range(15)}
    assert statuses == {"deadline"}


def test_certain_walkout_when_hazard_reaches_one() -> None:
    # hazard = 0.5 * 2 * resolve 1 * (1 - trust 0) * (1 + shortfall) >= 1 at the first rejection
    changes = {
        "tables.ab.breakdown_risk": 0.5,
        "actors.b.resolve": 1.0,
        "actors.b.rapport": {"a": 0.0},
        "actors.b.strategy": HARDLINER,
    }
    for seed in range(5):
        outcome = tiny_outcome(run_model(tiny_scenario(changes), seed=seed))
        assert (outcome.status, outcome.round) == ("walkout", 0)
        assert outcome.values == pytest.approx({"x": 50.0, "y": 0.0, "z": 10.0})


def test_walkout_frequency_matches_the_hazard() -> None:
    """Two hardliners never agree; each rejection is a walk-out with the hazard of the formula.

    b rejects a's ideal (worth 0 to it, shortfall 1); a rejects b's ideal (worth 0.04 to a, shortfall
    0.96). base 0.05, resolve 0.5, trust 0.5: hazard = 0.05 * 2 * 0.5 * 0.5 * (1 + shortfall).
    Rounds 0..10, b answers on even rounds (6 of them), a on odd ones (5).
    """
    changes = {
        "actors.a.strategy": HARDLINER,
        "actors.b.strategy": HARDLINER,
        "tables.ab.breakdown_risk": 0.05,
    }
    compiled = compiled_tiny(changes)
    h_b, h_a = 0.025 * 2.0, 0.025 * 1.96
    expected = 1.0 - (1.0 - h_b) ** 6 * (1.0 - h_a) ** 5
    n = 300
    walkouts = sum(tiny_outcome(run_model(compiled, seed=s)).status == "walkout" for s in range(n))
    sigma = np.sqrt(expected * (1.0 - expected) / n)
    assert abs(walkouts / n - expected) < 4.0 * sigma, (walkouts / n, expected)


def test_binary_issues_are_offered_as_zero_or_one_without_costing_the_proposer_its_target() -> None:
    scenario = tiny_scenario(
        {
            "issues.s": {
                "name": "summit",
                "unit": "yes/no",
                "kind": "binary",
                "low": 0.0,
                "high": 1.0,
                "status_quo": 0.0,
            },
            "tables.ab.issues": ["x", "y", "s"],
            "tables.ab.preferences.a.weights": {"x": 0.4, "y": 0.2, "s": 0.4},
            "tables.ab.preferences.a.ideal": {"x": "increase", "y": "increase", "s": "increase"},
            "tables.ab.preferences.b.weights": {"x": 0.3, "y": 0.3, "s": 0.4},
            "tables.ab.preferences.b.ideal": {"x": "decrease", "y": "decrease", "s": "decrease"},
        }
    )
    offers = trace(run_model(scenario, seed=6, trace=True))
    summit = np.array([offer["s"] for offer in offers["offer"]])
    assert set(summit.tolist()) <= {0.0, 1.0}
    assert (offers["proposer_utility"] >= offers["target"] - 1e-9).all()


def test_effective_reservation_moves_with_the_leverage_gap_and_the_mediator() -> None:
    changes = {
        "actors.a.leverage": 0.9,
        "actors.b.leverage": 0.3,
        "model.leverage_effect": 0.2,
        "model.mediation_strength": 0.1,
        "actors.m": {
            "name": "Mediator",
            "leverage": 0.5,
            "domestic_pressure": 0.5,
            "strategy": {"kind": "linear"},
        },
        "tables.ab.mediator": "m",
    }
    model = NegotiationModel(tiny_scenario(changes), seed=0)
    reservation = model.negotiation.reservation[0]
    # own leverage minus the other's, times the effect; the mediator's leverage pushes both down
    np.testing.assert_allclose(reservation, [0.3 + 0.2 * 0.6 - 0.05, 0.3 - 0.2 * 0.6 - 0.05])


def test_values_of_no_deal_are_not_clipped_and_one_above_1_rules_out_a_deal() -> None:
    changes = {
        "actors.a.leverage": 1.0,
        "actors.b.leverage": 0.0,
        "model.leverage_effect": 1.0,
        **tiny_value("a", 0.5),
    }
    model = run_model(tiny_scenario(changes), seed=0)
    np.testing.assert_allclose(model.negotiation.reservation[0], [1.5, -0.7])
    outcome = tiny_outcome(model)
    assert not outcome.deal  # no offer is worth 1.5 to a, and a never agrees to less
    assert outcome.utilities == pytest.approx({"a": 1.5, "b": -0.7})


def test_a_declared_threat_is_the_no_deal_outcome_and_sets_the_values_of_no_deal() -> None:
    """Without a deal x falls to 0 (a threat): worth 0.5 * 0 + 0.3 * 0 + 0.2 * 1 to a, 0.2 + 0.3 to b."""
    changes = {
        "actors.a.strategy": HARDLINER,
        "actors.b.strategy": HARDLINER,
        "tables.ab.no_deal": {"x": 0.0},
    }
    model = run_model(tiny_scenario(changes), seed=4)
    outcome = tiny_outcome(model)
    assert outcome.status == "deadline"
    assert outcome.values == pytest.approx({"x": 0.0, "y": 0.0, "z": 10.0})
    assert not any(outcome.moved.values())
    outside = {"a": 0.3 - TINY_NO_DEAL_UTILITY["a"], "b": 0.3 - TINY_NO_DEAL_UTILITY["b"]}
    assert outcome.utilities == pytest.approx({"a": 0.2 + outside["a"], "b": 0.5 + outside["b"]})
    assert outcome.reservation == pytest.approx(outcome.utilities)


def test_pressure_speeds_concession_and_resolve_slows_it() -> None:
    def exponent(pressure: float, resolve: float) -> float:
        changes = {"actors.a.domestic_pressure": pressure, "actors.a.resolve": resolve}
        return float(NegotiationModel(tiny_scenario(changes), seed=0).negotiation.derived.exponent[0, 0])

    assert exponent(0.5, 0.5) == pytest.approx(1.0), "neutral pressure and resolve keep e"
    assert exponent(0.9, 0.5) > 1.0 > exponent(0.1, 0.5)
    assert exponent(0.5, 0.9) < 1.0 < exponent(0.5, 0.1)


def test_weights_are_normalised_and_prior_beliefs_follow_trust() -> None:
    changes = {
        "tables.ab.preferences.a.weights": {"x": 2.0, "y": 1.0, "z": 1.0},
        "actors.a.rapport": {"b": 1.0},
        "actors.b.rapport": {"a": 0.0},
    }
    derived = NegotiationModel(tiny_scenario(changes), seed=0).negotiation.derived
    np.testing.assert_allclose(derived.weights[0, 0], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(derived.weights[0].sum(axis=-1), 1.0)
    # full trust: a knows b's weights (and need not learn them); no trust: b starts out assuming a
    # cares equally about every issue, and learns from a's offers with a prior of no strength
    np.testing.assert_allclose(derived.prior[0, 0], derived.weights[0, 1])
    np.testing.assert_allclose(derived.prior[0, 1], [1 / 3, 1 / 3, 1 / 3])
    assert derived.learns[0].tolist() == [False, True]
    assert derived.prior_strength[0, 1] == 0.0


def test_outcome_utilities_are_the_additive_utilities_of_the_agreement() -> None:
    model = run_model(tiny_scenario(), seed=8)
    outcome = tiny_outcome(model)
    assert outcome.deal
    d = model.negotiation.derived
    x = np.array([outcome.values["x"] / 100.0, outcome.values["y"], outcome.values["z"] / 10.0])
    for side, party in enumerate(("a", "b")):
        assert outcome.utilities[party] == pytest.approx(
            float(utility(x, d.weights[0, side], d.ideal[0, side]))
        )
