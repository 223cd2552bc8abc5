"""Utilities over normalised issues and trade-off offers (negotiation.bargaining.preferences)."""

from __future__ import annotations

import numpy as np
import pytest

from negotiation.bargaining.preferences import from_gain, gain, trade_off, utility

RNG_SEED = 20251030


def random_weights(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    w = rng.random((n, k)) + 0.01
    return w / w.sum(axis=1, keepdims=True)


# --- gain -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ideal", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_gain_is_one_at_the_ideal_zero_at_the_far_ends_and_linear_between(ideal: float) -> None:
    x = np.linspace(0.0, 1.0, 201)
    expected = np.where(
        x < ideal,
        1.0 - (ideal - x) / (ideal if ideal > 0 else 1.0),
        1.0 - (x - ideal) / (1.0 - ideal if ideal < 1 else 1.0),
    )
    got = gain(x, np.full_like(x, ideal))
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert gain(np.array(ideal), np.array(ideal)) == pytest.approx(1.0)
    if 0.0 < ideal < 1.0:
        # both ends of the range are the worst outcome for an interior ideal
        assert gain(np.array([0.0, 1.0]), np.array([ideal, ideal])).tolist() == [0.0, 0.0]


def test_gain_for_increase_and_decrease_is_the_value_and_its_complement() -> None:
    x = np.random.default_rng(RNG_SEED).random(50)
    np.testing.assert_allclose(gain(x, np.ones_like(x)), x)
    np.testing.assert_allclose(gain(x, np.zeros_like(x)), 1.0 - x)


def test_gain_stays_in_unit_interval_and_falls_away_from_the_ideal() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ideal = rng.random(500)
    x = rng.random(500)
    g = gain(x, ideal)
    assert np.all((g >= 0.0) & (g <= 1.0))
    # moving further from the ideal, on the same side, never raises the gain
    further = np.where(x < ideal, x * 0.5, x + (1.0 - x) * 0.5)
    assert np.all(gain(further, ideal) <= g + 1e-12)


# --- utility ----------------------------------------------------------------------------------


def test_utility_is_the_weighted_sum_of_gains() -> None:
    rng = np.random.default_rng(RNG_SEED)
    weights = random_weights(rng, 40, 4)
    ideal, x = rng.random((40, 4)), rng.random((40, 4))
    expected = np.array(
        [sum(weights[i, k] * gain(x[i, k], ideal[i, k]) for k in range(4)) for i in range(40)]
    )
    np.testing.assert_allclose(utility(x, weights, ideal), expected)


def test_utility_is_one_at_the_ideal_and_zero_at_the_worst_outcome() -> None:
    weights = np.array([0.2, 0.5, 0.3])
    ideal = np.array([1.0, 0.0, 0.3])
    assert utility(ideal, weights, ideal) == pytest.approx(1.0)
    worst = np.array([0.0, 1.0, 1.0])  # far end of each issue from the ideal
    assert utility(worst, weights, ideal) == pytest.approx(0.0)


def test_utility_broadcasts_over_leading_axes() -> None:
    rng = np.random.default_rng(RNG_SEED)
    weights = random_weights(rng, 6, 3).reshape(2, 3, 3)
    ideal, x = rng.random((2, 3, 3)), rng.random((2, 3, 3))
    got = utility(x, weights, ideal)
    assert got.shape == (2, 3)
    assert got[1, 2] == pytest.approx(float(utility(x[1, 2], weights[1, 2], ideal[1, 2])))


# --- from_gain --------------------------------------------------------------------------------


def test_from_gain_inverts_gain_on_the_requested_side() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ideal = rng.random(300)
    y = rng.random(300)
    toward = rng.random(300)
    x = from_gain(y, ideal, toward)
    assert np.all((x >= 0.0) & (x <= 1.0))
    np.testing.assert_allclose(gain(x, ideal), y, atol=1e-12)
    # the value lies on the side of the ideal that faces `toward`
    assert np.all(np.where(toward > ideal, x >= ideal - 1e-12, x <= ideal + 1e-12))


def test_from_gain_of_a_gain_returns_the_value() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ideal, x = rng.random(300), rng.random(300)
    np.testing.assert_allclose(from_gain(gain(x, ideal), ideal, x), x, atol=1e-12)


# --- trade_off ---------------------------------------------------------------------------------


def same_utility_offers(
    rng: np.random.Generator,
    target: float,
    weights: np.ndarray,
    ideal: np.ndarray,
    opponent_offer: np.ndarray,
    n: int,
) -> np.ndarray:
    """Random offers worth exactly ``target`` to the proposer.

    Draw random gains, move them toward all-ones (or scale them toward zero) until their weighted
    sum is the target, then turn each gain into a value on the same side of the ideal as the
    opponent's offer (the other side is never nearer to it).
    """
    gains = rng.random((n, weights.size)) ** rng.uniform(0.2, 3.0, (n, 1))
    level = gains @ weights
    up = (target - level) / np.maximum((1.0 - gains) @ weights, 1e-15)
    gains = np.where(
        (level < target)[:, None], gains + up[:, None] * (1.0 - gains), gains * (target / level)[:, None]
    )
    offers = from_gain(gains, ideal, opponent_offer)
    np.testing.assert_allclose(utility(offers, weights, ideal), target, atol=1e-9)
    return offers


def opponent_distance(
    offers: np.ndarray, opponent_offer: np.ndarray, opponent_weights: np.ndarray
) -> np.ndarray:
    """Opponent-weighted squared Euclidean distance in normalised issue space."""
    return np.sum(opponent_weights * (offers - opponent_offer) ** 2, axis=-1)


def trade_off_instances(ideal_kind: str, n: int = 60, curvature: float = 1.0):
    """Random trade-off problems: (target, weights, ideal, opponent offer, believed weights)."""
    rng = np.random.default_rng(RNG_SEED)
    k = 4
    weights = random_weights(rng, n, k)
    believed = random_weights(rng, n, k)
    if ideal_kind == "range ends":
        ideal = rng.integers(0, 2, (n, k)).astype(float)
    else:
        ideal = rng.uniform(0.1, 0.9, (n, k))
    opponent = rng.random((n, k))
    start = utility(opponent, weights, ideal, curvature)
    target = start + rng.random(n) * (1.0 - start)
    return rng, target, weights, ideal, opponent, believed


@pytest.mark.parametrize("ideal_kind", ["range ends", "interior"])
def test_trade_off_offer_has_exactly_the_target_utility_and_stays_in_range(ideal_kind: str) -> None:
    _, target, weights, ideal, opponent, believed = trade_off_instances(ideal_kind)
    offers = trade_off(target, weights, ideal, opponent, believed)
    assert offers.shape == opponent.shape
    assert np.all((offers >= 0.0) & (offers <= 1.0))
    np.testing.assert_allclose(utility(offers, weights, ideal), target, atol=1e-9)


def test_trade_off_is_nearest_the_opponent_offer_among_offers_of_that_utility() -> None:
    """No random offer of the same utility is nearer the opponent's offer in its weighted metric.

    Ideals at the range ends ("increase"/"decrease", as most scenario issues have them), so the
    proposer's gain is the normalised value itself and the metric is unambiguous.
    """
    rng, target, weights, ideal, opponent, believed = trade_off_instances("range ends")
    offers = trade_off(target, weights, ideal, opponent, believed)
    for i in range(len(target)):
        rivals = same_utility_offers(rng, target[i], weights[i], ideal[i], opponent[i], 400)
        best = opponent_distance(offers[i], opponent[i], believed[i])
        assert best <= opponent_distance(rivals, opponent[i], believed[i]).min() + 1e-9, i


def test_trade_off_is_nearest_in_the_proposer_gain_space_for_any_ideal() -> None:
    """What trade_off guarantees for interior ideals: nearest in opponent-weighted gain distance."""
    rng, target, weights, ideal, opponent, believed = trade_off_instances("interior")
    offers = trade_off(target, weights, ideal, opponent, believed)
    start = gain(opponent, ideal)
    for i in range(len(target)):
        rivals = same_utility_offers(rng, target[i], weights[i], ideal[i], opponent[i], 400)
        best = np.sum(believed[i] * (gain(offers[i], ideal[i]) - start[i]) ** 2)
        rival = np.sum(believed[i] * (gain(rivals, ideal[i]) - start[i]) ** 2, axis=1)
        assert best <= rival.min() + 1e-9, i


def test_trade_off_concedes_on_what_the_opponent_cares_about_least() -> None:
    # the proposer weighs both issues equally; the opponent (it believes) cares mostly about issue 0,
    # so from the opponent's offer the proposer claws back utility mainly on issue 1
    weights = np.array([[0.5, 0.5]])
    ideal = np.array([[1.0, 1.0]])
    opponent = np.array([[0.0, 0.0]])
    offer = trade_off(np.array([0.4]), weights, ideal, opponent, np.array([[0.9, 0.1]]))
    assert offer[0, 1] > offer[0, 0]
    assert utility(offer, weights, ideal)[0] == pytest.approx(0.4)


def test_trade_off_leaves_issues_the_proposer_does_not_weigh_where_the_opponent_put_them() -> None:
    weights = np.array([[0.7, 0.3, 0.0]])
    ideal = np.array([[1.0, 1.0, 1.0]])
    opponent = np.array([[0.1, 0.2, 0.35]])
    offer = trade_off(np.array([0.8]), weights, ideal, opponent, np.array([[0.3, 0.3, 0.4]]))
    assert offer[0, 2] == pytest.approx(0.35)


def test_trade_off_at_full_target_is_the_proposer_ideal() -> None:
    rng = np.random.default_rng(RNG_SEED)
    weights = random_weights(rng, 10, 3)
    ideal = rng.integers(0, 2, (10, 3)).astype(float)
    offers = trade_off(np.ones(10), weights, ideal, rng.random((10, 3)), random_weights(rng, 10, 3))
    np.testing.assert_allclose(offers, ideal, atol=1e-9)


def test_trade_off_at_the_opponent_offer_utility_repeats_that_offer() -> None:
    rng = np.random.default_rng(RNG_SEED)
    weights = random_weights(rng, 10, 3)
    ideal = rng.random((10, 3))
    opponent = rng.random((10, 3))
    offers = trade_off(
        utility(opponent, weights, ideal), weights, ideal, opponent, random_weights(rng, 10, 3)
    )
    np.testing.assert_allclose(offers, opponent, atol=1e-9)


# --- curved gains (preference curvature) --------------------------------------------------------


@pytest.mark.parametrize("curvature", [1.0, 1.5, 2.0, 4.0])
def test_curved_gain_is_one_minus_distance_to_the_power_curvature(curvature: float) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ideal, x = rng.random(200), rng.random(200)
    distance = np.where(
        x < ideal,
        (ideal - x) / np.where(ideal > 0, ideal, 1),
        (x - ideal) / np.where(ideal < 1, 1 - ideal, 1),
    )
    np.testing.assert_allclose(gain(x, ideal, curvature), 1.0 - distance**curvature, atol=1e-12)
    # diminishing sensitivity: never below the linear gain
    assert np.all(gain(x, ideal, curvature) >= gain(x, ideal) - 1e-12)


@pytest.mark.parametrize("curvature", [1.5, 3.0])
def test_curved_from_gain_inverts_gain(curvature: float) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ideal, y, toward = rng.random(300), rng.random(300), rng.random(300)
    x = from_gain(y, ideal, toward, curvature)
    assert np.all((x >= 0.0) & (x <= 1.0))
    np.testing.assert_allclose(gain(x, ideal, curvature), y, atol=1e-9)


@pytest.mark.parametrize("curvature", [1.5, 3.0])
def test_curved_trade_off_offer_has_exactly_the_target_utility(curvature: float) -> None:
    _, target, weights, ideal, opponent, believed = trade_off_instances("interior", curvature=curvature)
    offers = trade_off(target, weights, ideal, opponent, believed, curvature)
    assert np.all((offers >= 0.0) & (offers <= 1.0))
    np.testing.assert_allclose(utility(offers, weights, ideal, curvature), target, atol=1e-9)
