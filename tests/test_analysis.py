"""Pareto frontier, Nash point and distances (negotiation.bargaining.analysis), checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from negotiation.bargaining.analysis import distance_to_frontier, nash_point, pareto_frontier
from negotiation.bargaining.preferences import utility


def random_table(seed: int, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Weights (2, K) summing to 1 per side and ideals (2, K): ends of the range or interior."""
    rng = np.random.default_rng(seed)
    weights = rng.random((2, k)) + 0.02
    weights /= weights.sum(axis=1, keepdims=True)
    ideal = np.where(rng.random((2, k)) < 0.5, rng.integers(0, 2, (2, k)), rng.random((2, k))).astype(float)
    return weights, ideal


def sampled_outcomes(weights: np.ndarray, ideal: np.ndarray, seed: int) -> np.ndarray:
    """Utilities (n, 2) of a grid of offers, random offers, and every mix of the two ideal points."""
    k = weights.shape[1]
    axes = [np.unique(np.concatenate([np.linspace(0, 1, 11), ideal[:, j]])) for j in range(k)]
    grid = np.array(list(itertools.product(*axes)))
    rng = np.random.default_rng(seed)
    offers = np.vstack([grid, rng.random((3000, k))])
    return np.stack([utility(offers, weights[s], ideal[s]) for s in (0, 1)], axis=1)


def frontier_u1_at(frontier: np.ndarray, u0: np.ndarray) -> np.ndarray:
    """The frontier's u1 at each u0 (the polyline runs from low u0 to high u0)."""
    return np.interp(u0, frontier[:, 0], frontier[:, 1])


def dense_frontier(frontier: np.ndarray, per_segment: int = 4000) -> np.ndarray:
    s = np.linspace(0.0, 1.0, per_segment)[:, None]
    return np.vstack([a + s * (b - a) for a, b in itertools.pairwise(frontier)])


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_runs_from_one_side_best_to_the_other_and_is_monotone(seed: int) -> None:
    weights, ideal = random_table(seed)
    frontier = pareto_frontier(weights, ideal)
    assert frontier.shape == (weights.shape[1] + 1, 2)
    assert frontier[0, 1] == pytest.approx(1.0) and frontier[-1, 0] == pytest.approx(1.0)
    assert frontier[0, 0] == pytest.approx(float(utility(ideal[1], weights[0], ideal[0])))
    assert frontier[-1, 1] == pytest.approx(float(utility(ideal[0], weights[1], ideal[1])))
    assert np.all(np.diff(frontier[:, 0]) >= -1e-12) and np.all(np.diff(frontier[:, 1]) <= 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_weakly_dominates_every_sampled_outcome(seed: int) -> None:
    weights, ideal = random_table(seed)
    frontier = pareto_frontier(weights, ideal)
    points = sampled_outcomes(weights, ideal, seed)
    assert np.all(points[:, 0] <= frontier[-1, 0] + 1e-9)
    assert np.all(points[:, 1] <= frontier_u1_at(frontier, points[:, 0]) + 1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_sampled_outcome_strictly_dominates_a_frontier_point(seed: int) -> None:
    weights, ideal = random_table(seed)
    frontier = dense_frontier(pareto_frontier(weights, ideal), per_segment=50)
    points = sampled_outcomes(weights, ideal, seed)
    better = (points[None, :, 0] > frontier[:, None, 0] + 1e-9) & (
        points[None, :, 1] > frontier[:, None, 1] + 1e-9
    )
    assert not better.any()


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_vertices_are_achievable_agreements(seed: int) -> None:
    """Each vertex is the utility pair of an offer that puts every issue at one side's ideal."""
    weights, ideal = random_table(seed)
    k = weights.shape[1]
    offers = np.array(
        [[ideal[side, j] for j, side in enumerate(pick)] for pick in itertools.product((0, 1), repeat=k)]
    )
    corners = np.stack([utility(offers, weights[s], ideal[s]) for s in (0, 1)], axis=1)
    for vertex in pareto_frontier(weights, ideal):
        assert np.min(np.linalg.norm(corners - vertex, axis=1)) < 1e-9, vertex


def test_frontier_of_fully_opposed_equal_weights_is_the_line_u0_plus_u1_equals_one() -> None:
    weights = np.full((2, 3), 1 / 3)
    ideal = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    frontier = pareto_frontier(weights, ideal)
    np.testing.assert_allclose(frontier.sum(axis=1), 1.0)


def test_frontier_when_the_sides_agree_on_an_issue_is_shared_there() -> None:
    # both want issue 1 high: every frontier point has it at 1, so each side gets its full weight on it
    weights = np.array([[0.5, 0.5], [0.5, 0.5]])
    ideal = np.array([[1.0, 1.0], [0.0, 1.0]])
    frontier = pareto_frontier(weights, ideal)
    np.testing.assert_allclose(frontier.sum(axis=1), 1.5)


# --- Nash point -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_nash_point_maximises_the_product_of_gains_over_the_frontier(seed: int) -> None:
    weights, ideal = random_table(seed)
    frontier = pareto_frontier(weights, ideal)
    rng = np.random.default_rng(seed)
    # a disagreement point strictly below the frontier
    u0 = rng.uniform(frontier[0, 0], frontier[-1, 0])
    disagreement = np.array([u0, frontier_u1_at(frontier, np.array([u0]))[0]]) * rng.uniform(0.2, 0.9)
    point = nash_point(frontier, disagreement)
    dense = dense_frontier(frontier)
    surplus = dense - disagreement
    product = np.where((surplus > 0).all(axis=1), surplus[:, 0] * surplus[:, 1], -np.inf)
    best = product.max()
    got = (point[0] - disagreement[0]) * (point[1] - disagreement[1])
    assert got >= best - 1e-9, "no sampled frontier point has a larger Nash product"
    assert got <= best + 1e-4, "the Nash point's product is what the frontier allows"
    assert distance_to_frontier(point, frontier) < 1e-9, "the Nash point lies on the frontier"
    assert np.all(point > disagreement)


def test_nash_point_of_a_symmetric_line_is_the_midpoint() -> None:
    frontier = np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(nash_point(frontier, np.array([0.2, 0.2])), [0.5, 0.5])
    # a better outside option for side 0 moves the point its way by half the difference
    np.testing.assert_allclose(nash_point(frontier, np.array([0.4, 0.2])), [0.6, 0.4])


def test_nash_point_is_nan_when_no_agreement_beats_the_disagreement_point() -> None:
    frontier = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.isnan(nash_point(frontier, np.array([0.6, 0.6]))).all()


# --- distance to the frontier ------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_distance_to_frontier_matches_a_dense_sample_of_the_polyline(seed: int) -> None:
    weights, ideal = random_table(seed)
    frontier = pareto_frontier(weights, ideal)
    dense = dense_frontier(frontier)
    for point in np.random.default_rng(seed).random((20, 2)):
        brute = np.min(np.linalg.norm(dense - point, axis=1))
        got = distance_to_frontier(point, frontier)
        assert got <= brute + 1e-12
        assert got == pytest.approx(brute, abs=1e-3)


def test_distance_of_a_frontier_point_is_zero_and_of_a_known_point_is_exact() -> None:
    frontier = np.array([[0.0, 1.0], [0.8, 0.8], [1.0, 0.0]])
    assert distance_to_frontier(np.array([0.4, 0.9]), frontier) == pytest.approx(0.0, abs=1e-12)
    assert distance_to_frontier(np.array([0.8, 0.8]), frontier) == pytest.approx(0.0, abs=1e-12)
    # from (0, 0) the nearest points are the perpendicular feet on either segment (symmetric):
    # |x1*y2 - x2*y1| / length for the segment (0, 1)-(0.8, 0.8)
    assert distance_to_frontier(np.zeros(2), frontier) == pytest.approx(0.8 / np.sqrt(0.68))


# --- curved gains ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_curved_frontier_points_maximise_their_weighted_sum_of_utilities(seed: int) -> None:
    """The curved frontier is traced by weighted sums a*u0 + (1-a)*u1, a = 0..1 evenly spaced."""
    weights, ideal = random_table(seed)
    curvature = np.random.default_rng(seed).uniform(1.2, 3.0, 2)
    frontier = pareto_frontier(weights, ideal, curvature)
    alpha = np.linspace(0.0, 1.0, len(frontier))
    k = weights.shape[1]
    axes = [np.unique(np.concatenate([np.linspace(0, 1, 21), ideal[:, j]])) for j in range(k)]
    offers = np.array(list(itertools.product(*axes)))
    points = np.stack([utility(offers, weights[s], ideal[s], curvature[s]) for s in (0, 1)], axis=1)
    for a, vertex in zip(alpha, frontier, strict=True):
        best = np.max(a * points[:, 0] + (1 - a) * points[:, 1])
        assert a * vertex[0] + (1 - a) * vertex[1] >= best - 1e-7, a
    assert np.all(frontier <= 1.0 + 1e-12) and np.all(frontier >= -1e-12)


def test_curved_frontier_with_curvature_one_is_the_linear_frontier() -> None:
    weights, ideal = random_table(3)
    np.testing.assert_allclose(pareto_frontier(weights, ideal, np.ones(2)), pareto_frontier(weights, ideal))


# --- issues only one side cares about --------------------------------------------------------------


def test_frontier_holds_no_dominated_points_when_a_side_ignores_an_issue() -> None:
    # side 0 cares only about issue 0, side 1 only about issue 1: (1, 1) is achievable and
    # dominates every other outcome, so the frontier is that single point
    weights = np.array([[1.0, 0.0], [0.0, 1.0]])
    ideal = np.array([[1.0, 1.0], [0.0, 0.0]])
    frontier = pareto_frontier(weights, ideal)
    assert distance_to_frontier(np.array([0.0, 1.0]), frontier) == pytest.approx(1.0)
