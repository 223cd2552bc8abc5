"""Learning the opponent's weights from its offers (negotiation.bargaining.learning).

The learner ``a`` plays a hardliner (so the table runs to its deadline and the opponent keeps
conceding) and starts with no trust in ``b`` (a uniform prior of no strength); ``b`` concedes to a value
of no deal of 0 and knows ``a``'s weights. Every issue is wanted high by ``a`` and low by ``b``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from negotiation.bargaining.equilibrium import best_given, package_frontiers
from negotiation.bargaining.learning import SCHEDULE_EXPONENTS, OpponentModels, prior_strength
from negotiation.bargaining.preferences import efficient_offer, utility
from negotiation.model import NegotiationModel
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict

ISSUES = ("p", "q", "r")
A_WEIGHTS = np.array([0.5, 0.3, 0.2])
B_WEIGHTS = np.array([0.6, 0.3, 0.1])
"""With a uniform belief, ``a`` would concede r first (b's weight over a's: 1/3 over 0.2), but b cares
least about r: the true order is p, q, r (1.2, 1, 0.5)."""


def learning_table(
    opponent: dict[str, Any], learner: dict[str, Any] | None = None, rapport: float = 0.0, deadline: int = 60
) -> Scenario:
    actors = {
        "a": {"strategy": learner or {"kind": "hardliner"}, "rapport": {"b": rapport}},
        "b": {"strategy": opponent, "rapport": {"a": 1.0}},
    }
    data: dict[str, Any] = {
        "name": "learning",
        "issues": {i: {"name": i, "unit": "u", "low": 0.0, "high": 1.0, "status_quo": 0.5} for i in ISSUES},
        "actors": {
            actor: {"name": actor, "leverage": 0.5, "domestic_pressure": 0.5, "resolve": 0.5, **spec}
            for actor, spec in actors.items()
        },
        "tables": {
            "t": {
                "name": "t",
                "parties": ["a", "b"],
                "issues": list(ISSUES),
                "opens": 0,
                "deadline": deadline,
                "breakdown_risk": 0.0,
                "preferences": {
                    "a": {
                        "weights": dict(zip(ISSUES, A_WEIGHTS.tolist(), strict=True)),
                        "ideal": dict.fromkeys(ISSUES, "increase"),
                    },
                    "b": {
                        "weights": dict(zip(ISSUES, B_WEIGHTS.tolist(), strict=True)),
                        "ideal": dict.fromkeys(ISSUES, "decrease"),
                        "outside_option": -0.5,  # the status quo is worth 0.5: a value of no deal of 0
                    },
                },
            }
        },
    }
    return scenario_from_dict(data, "<learning>")


def belief_errors(scenario: Scenario) -> tuple[list[float], NegotiationModel]:
    """The learner's L1 distance from b's true weights after every round."""
    model = NegotiationModel(scenario, seed=0)
    errors = []
    while model.running:
        model.step()
        errors.append(float(np.abs(model.negotiation.believed[0, 0] - B_WEIGHTS).sum()))
    return errors, model


@pytest.mark.parametrize(
    "opponent",
    [
        {"kind": "linear"},
        {"kind": "boulware"},
        {"kind": "time_dependent", "e": 0.5},
        {"kind": "linear", "offers": "similarity"},
    ],
    ids=["linear", "boulware", "e=0.5", "linear-similarity"],
)
def test_beliefs_converge_to_the_true_weights_against_a_conceding_opponent(opponent: dict) -> None:
    errors, model = belief_errors(learning_table(opponent))
    assert errors[0] == pytest.approx(np.abs(1 / 3 - B_WEIGHTS).sum())  # the uniform prior
    assert errors[-1] < 0.02, model.negotiation.believed[0, 0]
    # after the first few offers (two or three fit many weights) it stays below where it started
    assert max(errors[len(errors) // 4 :]) < errors[0]


def test_a_conceder_reveals_the_ranking_of_weights() -> None:
    """A Conceder gives up its low-weight issues in a rush; their order is learned, not all sizes."""
    errors, model = belief_errors(learning_table({"kind": "conceder"}))
    belief = model.negotiation.believed[0, 0]
    assert errors[-1] < errors[0]
    assert belief[0] == pytest.approx(0.6, abs=0.02)
    assert belief[0] > belief[1] >= belief[2] - 1e-9


def test_an_opponent_that_does_not_concede_teaches_nothing() -> None:
    _, model = belief_errors(learning_table({"kind": "hardliner"}))
    np.testing.assert_allclose(model.negotiation.believed[0, 0], 1 / 3, atol=1e-6)


def test_offers_become_more_efficient_as_beliefs_improve() -> None:
    """The learner's efficient offer at a fixed target, made with its beliefs round by round.

    Its distance from the Pareto frontier (in the true utilities) falls to 0 as it learns; a side
    that keeps its prior (``opponent_model = "fixed"``) keeps making the same inefficient offer.
    """

    def gaps(opponent_model: str) -> list[float]:
        scenario = learning_table({"kind": "linear"}, {"kind": "hardliner", "opponent_model": opponent_model})
        model = NegotiationModel(scenario, seed=0)
        d = model.negotiation.derived
        frontier = package_frontiers(d.weights[:1], d.ideal[:1], np.ones((1, 2)), np.zeros((1, 3), bool))
        found = []
        while model.running:
            model.step()
            offer = efficient_offer(
                np.array([0.7]),
                d.weights[:1, 0],
                d.ideal[:1, 0],
                np.ones((1, 1)),
                model.negotiation.believed[:1, 0],
                d.ideal[:1, 1],
                np.ones((1, 1)),
            )
            own = utility(offer, d.weights[:1, 0], d.ideal[:1, 0])
            opponent = utility(offer, d.weights[:1, 1], d.ideal[:1, 1])
            best, _ = best_given(frontier, own, 1)
            found.append(float(best[0] - opponent[0]))
        return found

    learned, fixed = gaps("bayesian"), gaps("fixed")
    assert learned[0] > 0.05  # the uniform prior concedes the wrong issues first
    assert learned[-1] < 1e-9 < learned[0]
    assert learned[len(learned) // 2] <= learned[0]
    assert fixed == pytest.approx([fixed[0]] * len(fixed)) and fixed[0] > 0.05


def test_full_trust_is_certainty_and_rapport_sets_the_priors_strength() -> None:
    trust = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    strength = prior_strength(trust, np.full(5, 5.0))
    assert strength.tolist() == pytest.approx([0.0, 5 / 3, 5.0, 15.0, 1e6])
    # the same offers move a stronger prior less
    rng = np.random.default_rng(3)
    prior = np.full((5, 3), 1 / 3)
    models = OpponentModels(prior, strength, np.ones((5, 3), bool))
    for n in range(6):
        given_up = np.broadcast_to(rng.random(3), (5, 3))
        features = np.concatenate([given_up, -np.ones((5, 1))], axis=1)
        expected = np.broadcast_to(rng.random(7) * 0.3 * (n + 1), (5, 7))
        beliefs = models.update(np.arange(5), features, expected, prior)
    moved = np.abs(beliefs - prior).sum(axis=1)
    assert np.all(np.diff(moved) <= 1e-12) and moved[0] > 0.05 and moved[-1] < 1e-4


def test_the_recursive_update_is_the_constrained_least_squares_posterior() -> None:
    """Offer by offer, the beliefs equal the direct solve of the posterior (one schedule, e = 1)."""
    rng = np.random.default_rng(5)
    k, lam = 3, 2.0
    prior = np.array([[0.5, 0.3, 0.2]])
    models = OpponentModels(prior, np.array([lam]), np.ones((1, k), bool))
    rows, targets = [], []
    for _ in range(8):
        features = np.concatenate([rng.random(k) * 0.5, [-1.0]])
        expected = rng.random(SCHEDULE_EXPONENTS.size) * 0.5
        rows.append(features)
        targets.append(expected)
        got = models.update(np.array([0]), features[None], expected[None], prior)[0]
        # the direct solve for the schedule the model chose: minimise |F z - y|^2 + lam |v - v0|^2
        # + ridge a^2 subject to sum v = 1, for every schedule, and take the best fit
        design, outcome = np.array(rows), np.array(targets)
        best = None
        for e in range(SCHEDULE_EXPONENTS.size):
            ridge = np.diag([lam] * k + [1e-3])
            system = np.zeros((k + 2, k + 2))
            system[: k + 1, : k + 1] = design.T @ design + ridge
            system[k + 1, :k] = system[:k, k + 1] = 1.0
            rhs = np.concatenate([design.T @ outcome[:, e] + ridge @ np.append(prior[0], 0.0), [1.0]])
            z = np.linalg.solve(system, rhs)[: k + 1]
            cost = (
                np.sum((design @ z - outcome[:, e]) ** 2)
                + lam * np.sum((z[:k] - prior[0]) ** 2)
                + 1e-3 * z[k] ** 2
            )
            if best is None or cost < best[0]:
                best = (cost, z[:k])
        expected_belief = np.maximum(best[1], 0.0) / np.maximum(best[1], 0.0).sum()
        np.testing.assert_allclose(got, expected_belief, atol=1e-9)


def test_with_full_rapport_beliefs_are_the_true_weights_and_never_move() -> None:
    model = NegotiationModel(learning_table({"kind": "linear"}, rapport=1.0), seed=0)
    assert not model.negotiation.derived.learns[0, 0]
    model.run()
    np.testing.assert_array_equal(model.negotiation.believed[0, 0], model.negotiation.derived.weights[0, 1])
