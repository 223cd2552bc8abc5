"""Curved gains (diminishing sensitivity): utilities, trade-off offers and the sampled frontier."""

import numpy as np
import pytest

from negotiation.bargaining.analysis import pareto_frontier
from negotiation.bargaining.preferences import from_gain, gain, trade_off, utility
from negotiation.model import NegotiationModel
from negotiation.scenario.loading import load_scenario


def test_curvature_one_is_the_linear_gain_exactly():
    x = np.linspace(0, 1, 11)
    ideal = np.full_like(x, 0.3)
    np.testing.assert_array_equal(gain(x, ideal, 1.0), gain(x, ideal))


def test_curved_gain_makes_small_concessions_cheap():
    ideal = np.array([1.0])
    assert gain(np.array([0.9]), ideal, 2.0)[0] == pytest.approx(0.99)
    assert gain(np.array([0.9]), ideal, 1.0)[0] == pytest.approx(0.9)


@pytest.mark.parametrize("curvature", [1.0, 1.5, 2.0, 3.0])
def test_from_gain_inverts_curved_gain(curvature):
    rng = np.random.default_rng(1)
    x, ideal = rng.random(50), rng.random(50)
    back = from_gain(gain(x, ideal, curvature), ideal, x, curvature)
    np.testing.assert_allclose(back, x, atol=1e-9)


def test_trade_off_with_curvature_hits_the_target_utility():
    rng = np.random.default_rng(2)
    weights = rng.dirichlet(np.ones(4), 30)
    ideal, opponent = rng.random((30, 4)), rng.random((30, 4))
    believed = rng.dirichlet(np.ones(4), 30)
    start = utility(opponent, weights, ideal, 2.0)
    target = start + (1 - start) * rng.random(30)
    offers = trade_off(target, weights, ideal, opponent, believed, 2.0)
    np.testing.assert_allclose(utility(offers, weights, ideal, 2.0), target, atol=1e-9)


def test_curved_frontier_is_never_beaten_by_any_outcome():
    rng = np.random.default_rng(3)
    for _ in range(20):
        weights = rng.dirichlet(np.ones(3), 2)
        ideal = rng.random((2, 3))
        curvature = 1.0 + 2.0 * rng.random(2)
        frontier = pareto_frontier(weights, ideal, curvature)
        x = rng.random((4000, 3))
        outcomes = np.stack([utility(x, weights[s], ideal[s], curvature[s]) for s in (0, 1)], axis=1)
        for alpha in np.linspace(0, 1, 17):
            best_outcome = (alpha * outcomes[:, 0] + (1 - alpha) * outcomes[:, 1]).max()
            best_frontier = (alpha * frontier[:, 0] + (1 - alpha) * frontier[:, 1]).max()
            assert best_outcome <= best_frontier + 1e-9


def test_curved_frontier_ends_at_each_sides_ideal():
    weights = np.array([[0.6, 0.4], [0.5, 0.5]])
    ideal = np.array([[1.0, 1.0], [0.0, 0.0]])
    frontier = pareto_frontier(weights, ideal, np.array([2.0, 2.0]))
    np.testing.assert_allclose(frontier[0], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(frontier[-1], [1.0, 0.0], atol=1e-6)
    # concave gains bulge the frontier outwards: the middle beats the straight line
    assert (frontier[:, 0] + frontier[:, 1]).max() > 1.2


def test_curvature_is_a_parameter_path_and_changes_outcomes():
    path = "tables.us-china.preferences.china.curvature"
    assert load_scenario(overrides={path: 2.0}).tables["us-china"].preferences["china"].curvature == 2.0
    plain = [NegotiationModel(seed=s).run()[0].utilities["china"] for s in range(5)]
    curved = [NegotiationModel(seed=s, **{path: 2.0}).run()[0].utilities["china"] for s in range(5)]
    assert plain != curved
