"""Utilities over normalised issues and trade-off offers (negotiation.bargaining.preferences)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation.bargaining import analysis
from negotiation.bargaining.equilibrium import best_given, package_frontiers
from negotiation.bargaining.preferences import (
    efficient_offer,
    from_gain,
    gain,
    guaranteed_offer,
    trade_off,
    utility,
)

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


# --- efficient offers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fine_curved_frontier(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sample curved frontiers finely here, so that the dominance checks below miss little."""
    monkeypatch.setattr(analysis, "FRONTIER_SAMPLES", 2001)


def dominance_gap(
    offer: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    curvature: np.ndarray,
    binary: np.ndarray,
) -> float:
    """How much one side could gain without the other losing (0 on the Pareto frontier).

    ``weights``, ``ideal`` (2, K) and ``curvature`` (2,) of the proposer (side 0) and the opponent.
    The frontier is exact for linear gains; for curved gains it is the sampled frontier of
    ``analysis`` (points on the true frontier, sampled finely), so a positive gap is a real domination.
    """
    u = np.array([utility(offer, weights[s], ideal[s], curvature[s]) for s in (0, 1)])
    frontiers = package_frontiers(weights[None], ideal[None], curvature[None], binary[None])
    points = frontiers.reshape(-1, 2)
    better = (points[:, 0] >= u[0]) & (points[:, 1] >= u[1])
    sampled = float(np.max(np.where(better, np.maximum(points[:, 0] - u[0], points[:, 1] - u[1]), 0.0)))
    own, _ = best_given(frontiers, np.array([u[1]]), 0)
    opp, _ = best_given(frontiers, np.array([u[0]]), 1)
    return max(sampled, float(own[0] - u[0]), float(opp[0] - u[1]))


@st.composite
def efficient_problems(draw: st.DrawFn, curved: bool = False) -> tuple:
    k = draw(st.integers(1, 4))
    unit = st.floats(0.0, 1.0)
    # a weight is 0 or at least 1e-6: gains of 1e-67 vanish in floating point, where they cannot be
    # told from a domination
    weight = st.one_of(st.just(0.0), st.floats(1e-6, 1.0))
    weights = np.array([[draw(weight) for _ in range(k)] for _ in range(2)])
    weights[:, 0] += 1e-3  # every side weighs something
    weights /= weights.sum(axis=1, keepdims=True)
    binary = np.array([not curved and draw(st.booleans()) and draw(st.booleans()) for _ in range(k)])
    ideal = np.array(
        [
            [
                float(draw(st.integers(0, 1)))
                if binary[i]
                else draw(st.one_of(st.sampled_from([0.0, 1.0]), unit))
                for i in range(k)
            ]
            for _ in range(2)
        ]
    )
    curvature = np.array([draw(st.floats(1.0, 4.0)) if curved else 1.0 for _ in range(2)])
    return weights, ideal, curvature, binary, draw(st.floats(0.0, 1.0))


def offer_for(problem: tuple) -> np.ndarray:
    weights, ideal, curvature, binary, target = problem
    offer = efficient_offer(
        np.array([target]),
        weights[:1],
        ideal[:1],
        curvature[:1, None],
        weights[1:],
        ideal[1:],
        curvature[1:, None],
        binary[None],
    )[0]
    own = utility(offer, weights[0], ideal[0], curvature[0])
    assert own >= target - 1e-9 or np.allclose(offer, ideal[0]), "the target is met where it can be"
    return offer


@given(efficient_problems())
@settings(max_examples=300)
def test_with_true_beliefs_no_efficient_offer_is_pareto_dominated(problem: tuple) -> None:
    """Linear gains (binary issues included): the offer is on the exact frontier, to 1e-9."""
    weights, ideal, curvature, binary, _ = problem
    assert dominance_gap(offer_for(problem), weights, ideal, curvature, binary) <= 1e-9


@given(efficient_problems(curved=True))
@settings(max_examples=300)
def test_with_true_beliefs_no_efficient_offer_with_curved_gains_is_pareto_dominated(problem: tuple) -> None:
    """Curved gains: no point of the (finely sampled, true) frontier is better for both sides.

    Near an ideal a curved gain is so flat that one side's loss rounds to nothing while the other
    gains 1e-9 or more; so this check asks for a strict improvement on both sides, and the exact
    optimality of the solve is checked against a general-purpose optimiser below.
    """
    weights, ideal, curvature, _, _ = problem
    offer = offer_for(problem)
    points = package_frontiers(weights[None], ideal[None], curvature[None], np.zeros((1, offer.size), bool))
    u = np.array([utility(offer, weights[s], ideal[s], curvature[s]) for s in (0, 1)])
    assert np.max(np.min(points.reshape(-1, 2) - u, axis=-1)) <= 1e-9


def test_a_general_optimiser_cannot_improve_curved_efficient_offers() -> None:
    """SLSQP, from many starts, finds no offer better for the opponent at the proposer's utility."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(RNG_SEED)
    for _ in range(40):
        k = int(rng.integers(1, 4))
        w, v = random_weights(rng, 1, k)[0], random_weights(rng, 1, k)[0]
        p, q = rng.choice([0.0, 1.0, rng.random()], k), rng.choice([0.0, 1.0, rng.random()], k)
        cw, co = rng.uniform(1.0, 4.0), rng.uniform(1.0, 4.0)
        offer = efficient_offer(
            np.array([rng.random()]), w[None], p[None], np.array([[cw]]), v[None], q[None], np.array([[co]])
        )[0]
        own, opp = utility(offer, w, p, cw), utility(offer, v, q, co)

        def theirs(y: np.ndarray, v=v, q=q, co=co) -> float:
            return -utility(y, v, q, co)

        def enough(y: np.ndarray, w=w, p=p, cw=cw, own=own) -> float:
            return utility(y, w, p, cw) - own

        for start in rng.random((6, k)):
            found = minimize(
                theirs,
                start,
                bounds=[(0.0, 1.0)] * k,
                constraints=[{"type": "ineq", "fun": enough}],
                method="SLSQP",
                options={"ftol": 1e-14, "maxiter": 500},
            )
            if found.success and utility(found.x, w, p, cw) >= own - 1e-10:
                assert -found.fun <= opp + 1e-7


def test_efficient_offers_meet_the_target_exactly_unless_the_opponents_ideal_beats_it() -> None:
    _, target, weights, ideal, _, believed = trade_off_instances("interior")
    opponent_ideal = np.random.default_rng(RNG_SEED + 1).random(ideal.shape)
    ones = np.ones((len(target), 1))
    offers = efficient_offer(target, weights, ideal, ones, believed, opponent_ideal, ones)
    own = utility(offers, weights, ideal)
    beats = utility(opponent_ideal, weights, ideal) >= target
    np.testing.assert_allclose(own[~beats], target[~beats], atol=1e-12)
    np.testing.assert_allclose(offers[beats], opponent_ideal[beats], atol=1e-12)


def test_efficient_offers_concede_in_order_of_the_opponents_gain_over_ones_loss() -> None:
    # ratios v/w: issue 0 3.0, issue 1 1.0, issue 2 0.2: issue 0 goes first, then issue 1 in part
    weights = np.array([[0.2, 0.4, 0.4]])
    believed = np.array([[0.6, 0.32, 0.08]])
    ones = np.ones((1, 1))
    offer = efficient_offer(np.array([0.6]), weights, np.ones((1, 3)), ones, believed, np.zeros((1, 3)), ones)
    np.testing.assert_allclose(offer, [[0.0, 0.5, 1.0]])


def test_an_efficient_offer_is_worth_more_to_the_opponent_than_the_similarity_offer() -> None:
    """Faratin's similarity rule keeps the option: same target, but not the best for the opponent."""
    _, target, weights, ideal, opponent, believed = trade_off_instances("range ends", curvature=1.0)
    opponent_ideal = 1.0 - ideal
    ones = np.ones((len(target), 1))
    efficient = efficient_offer(target, weights, ideal, ones, believed, opponent_ideal, ones)
    similar = trade_off(target, weights, ideal, opponent, believed)
    assert np.all(
        utility(efficient, believed, opponent_ideal) >= utility(similar, believed, opponent_ideal) - 1e-12
    )
    assert (
        np.mean(
            utility(efficient, believed, opponent_ideal) > utility(similar, believed, opponent_ideal) + 1e-6
        )
        > 0.5
    )


def test_the_guaranteed_offer_is_worth_the_floor_to_the_opponent_whatever_its_weights() -> None:
    rng = np.random.default_rng(RNG_SEED)
    n, k = 200, 3
    ideal, opponent_ideal = rng.random((n, k)), rng.random((n, k))
    floor = rng.random(n)
    curvature = rng.uniform(1.0, 3.0, (n, 1))
    offers = guaranteed_offer(floor, random_weights(rng, n, k), ideal, opponent_ideal, curvature)
    gains = gain(offers, opponent_ideal, curvature)
    assert np.all(gains >= floor[:, None] - 1e-12)
    for _ in range(20):  # so any weights give at least the floor
        assert np.all(utility(offers, random_weights(rng, n, k), opponent_ideal, curvature) >= floor - 1e-12)
