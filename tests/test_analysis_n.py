"""Pareto frontier, Nash point and distances for n parties (bargaining.analysis_n), by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from negotiation.bargaining.analysis import distance_to_frontier, nash_point, pareto_frontier
from negotiation.bargaining.analysis_n import (
    distance_to_point,
    frontier_gap,
    nash_point_n,
    pareto_points,
    party_utilities,
)
from negotiation.bargaining.preferences import utility

SEEDS = range(10)


def random_table(seed: int, parties: int, issues: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (n, K) summing to 1 per party and ideals (n, K): ends of the range or interior."""
    rng = np.random.default_rng(seed)
    weights = rng.random((parties, issues)) + 0.02
    weights /= weights.sum(axis=1, keepdims=True)
    shape = (parties, issues)
    ideal = np.where(rng.random(shape) < 0.5, rng.integers(0, 2, shape), rng.random(shape)).astype(float)
    return weights, ideal


def grid_utilities(weights: np.ndarray, ideal: np.ndarray, steps: int) -> np.ndarray:
    """Utilities (points, n) of every agreement on a grid of ``steps`` per issue plus the ideal points."""
    axes = [
        np.unique(np.concatenate([np.linspace(0, 1, steps + 1), ideal[:, k]])) for k in range(ideal.shape[1])
    ]
    offers = np.array(list(itertools.product(*axes)))
    return np.stack([utility(offers, weights[i], ideal[i]) for i in range(weights.shape[0])], axis=1)


def disagreement_below(points: np.ndarray, seed: int) -> np.ndarray:
    """A disagreement point some grid agreements beat for every party."""
    return points.mean(axis=0) * np.random.default_rng(seed + 100).uniform(0.3, 0.9)


# --- the Nash point ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("issues", [2, 3])
def test_three_party_nash_point_beats_every_grid_agreement_and_sits_at_the_best_one(
    seed: int, issues: int
) -> None:
    weights, ideal = random_table(seed, 3, issues)
    points = grid_utilities(weights, ideal, steps=160 if issues == 2 else 50)
    disagreement = disagreement_below(points, seed)
    surplus = points - disagreement
    products = np.where((surplus > 0).all(axis=1), surplus.prod(axis=1), -np.inf)
    best = int(np.argmax(products))
    nash = nash_point_n(weights, ideal, disagreement)
    product = float(np.prod(nash.utilities - disagreement))
    assert product >= products[best] - 1e-12  # no grid agreement does better
    assert product <= products[best] * 1.01  # and the grid's best comes close to it
    np.testing.assert_allclose(nash.utilities, points[best], atol=0.02)
    np.testing.assert_allclose(party_utilities(nash.agreement, weights, ideal), nash.utilities)


@pytest.mark.parametrize("seed", SEEDS)
def test_with_two_parties_the_nash_point_is_the_bilateral_one(seed: int) -> None:
    weights, ideal = random_table(seed, 2, 3)
    frontier = pareto_frontier(weights, ideal)
    disagreement = np.random.default_rng(seed).uniform(0.0, 0.6, 2) * frontier.max(axis=0)
    bilateral = nash_point(frontier, disagreement)
    assert np.all(np.isfinite(bilateral))
    np.testing.assert_allclose(nash_point_n(weights, ideal, disagreement).utilities, bilateral, atol=1e-6)


def test_with_nothing_better_than_no_deal_there_is_no_nash_point() -> None:
    weights, ideal = random_table(0, 3, 2)
    nash = nash_point_n(weights, ideal, np.full(3, 0.99))
    assert not nash.exists
    assert np.all(np.isnan(nash.utilities)) and np.all(np.isnan(nash.agreement))


def test_three_fully_opposed_parties_split_one_issue_by_the_nash_formula() -> None:
    # parties 0 and 1 want the issue high, party 2 low, with equal weight: u0 = u1 = x, u2 = 1 - x;
    # x^2 (1 - x) is largest at x = 2/3
    nash = nash_point_n(np.ones((3, 1)), np.array([[1.0], [1.0], [0.0]]), np.zeros(3))
    np.testing.assert_allclose(nash.agreement, [2 / 3], atol=1e-6)


@st.composite
def small_table(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parties, issues = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    # ideal points at an end or well inside (see analysis_n._gain_constraints on steep gains)
    unit = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.01, 0.99))

    def matrix() -> np.ndarray:
        values = draw(st.lists(unit, min_size=parties * issues, max_size=parties * issues))
        return np.array(values).reshape(parties, issues)

    weights = matrix() + 0.05
    weights /= weights.sum(axis=1, keepdims=True)
    share = np.array(draw(st.lists(st.floats(0.0, 0.95), min_size=parties, max_size=parties)))
    return weights, matrix(), share


@settings(max_examples=30)
@given(small_table())
def test_the_nash_point_is_pareto_optimal_and_individually_rational(
    table: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    weights, ideal, share = table
    # a disagreement point below the largest utility every party can have at once
    reachable = frontier_gap(np.zeros(len(share)), weights, ideal)
    assume(reachable > 1e-6)
    disagreement = share * reachable
    nash = nash_point_n(weights, ideal, disagreement)
    assert nash.exists
    assert np.all(nash.utilities > disagreement)
    assert abs(frontier_gap(nash.utilities, weights, ideal)) < 1e-7


# --- the Pareto frontier -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("issues", [2, 3])
def test_no_grid_agreement_dominates_a_frontier_point(seed: int, issues: int) -> None:
    weights, ideal = random_table(seed, 3, issues)
    frontier, agreements = pareto_points(weights, ideal)
    points = grid_utilities(weights, ideal, steps=40)
    at_least = np.all(points[None, :, :] >= frontier[:, None, :] - 1e-9, axis=2)
    better = np.any(points[None, :, :] > frontier[:, None, :] + 1e-9, axis=2)
    assert not (at_least & better).any()
    for point, agreement in zip(frontier, agreements, strict=True):  # each is reached by its agreement
        np.testing.assert_allclose(party_utilities(agreement, weights, ideal), point)
    # every party's own best end of the frontier is there
    np.testing.assert_allclose(frontier.max(axis=0), points.max(axis=0), atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_with_two_parties_the_frontier_points_lie_on_the_bilateral_frontier(seed: int) -> None:
    weights, ideal = random_table(seed, 2, 3)
    frontier, _ = pareto_points(weights, ideal)
    distances = distance_to_frontier(frontier, pareto_frontier(weights, ideal)[None, :, :])
    assert np.all(distances < 1e-9)


# --- distances -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_gap_is_the_largest_equal_gain_any_agreement_gives(seed: int) -> None:
    weights, ideal = random_table(seed, 3, 2)
    points = grid_utilities(weights, ideal, steps=200)
    outcome = points[np.random.default_rng(seed).integers(len(points))]
    gap = frontier_gap(outcome, weights, ideal)
    best_on_grid = float(np.max(np.min(points - outcome, axis=1)))
    assert best_on_grid - 1e-12 <= gap <= best_on_grid + 0.01
    frontier, _ = pareto_points(weights, ideal)
    assert all(abs(frontier_gap(point, weights, ideal)) < 1e-9 for point in frontier)
    assert frontier_gap(frontier[0] + 0.01, weights, ideal) < 0  # beyond the frontier


@pytest.mark.parametrize("seed", SEEDS)
def test_with_two_parties_the_gap_brackets_the_bilateral_euclidean_distance(seed: int) -> None:
    """L-infinity <= L2 <= sqrt(2) L-infinity, for the distance of an inside point to the frontier."""
    weights, ideal = random_table(seed, 2, 3)
    frontier = pareto_frontier(weights, ideal)
    outcome = frontier.mean(axis=0) * np.random.default_rng(seed).uniform(0.2, 0.9)
    gap = frontier_gap(outcome, weights, ideal)
    euclidean = float(distance_to_frontier(outcome, frontier))
    assert gap - 1e-9 <= euclidean <= np.sqrt(2) * gap + 1e-9


def test_distance_to_the_nash_point_is_euclidean_in_utility_space() -> None:
    assert distance_to_point(np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 2.0])) == pytest.approx(3.0)
