"""Concession, acceptance and walk-out rules (negotiation.bargaining.strategies)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from negotiation.bargaining.strategies import (
    accepts,
    later_value,
    time_dependent_target,
    tit_for_tat_target,
    walkout_hazard,
)

DURATION = 12
ROUNDS = np.arange(DURATION + 1)


def curve(exponent: float, reservation: float) -> np.ndarray:
    n = ROUNDS.size
    return time_dependent_target(ROUNDS, np.full(n, DURATION), np.full(n, exponent), np.full(n, reservation))


# --- time-dependent tactics ----------------------------------------------------------------


@pytest.mark.parametrize("exponent", [0.1, 0.5, 1.0, 2.0, 8.0])
@pytest.mark.parametrize("reservation", [0.0, 0.35, 0.9])
def test_time_dependent_target_starts_at_one_and_reaches_the_reservation_at_the_deadline(
    exponent: float, reservation: float
) -> None:
    target = curve(exponent, reservation)
    assert target[0] == pytest.approx(1.0)
    assert target[-1] == pytest.approx(reservation)
    assert np.all(np.diff(target) <= 1e-12), "a time-dependent target never rises"
    assert np.all(target >= reservation - 1e-12)


def test_time_dependent_target_past_the_deadline_stays_at_the_reservation() -> None:
    late = time_dependent_target(
        np.array([13, 40]), np.array([12, 12]), np.array([0.3, 3.0]), np.array([0.4, 0.4])
    )
    np.testing.assert_allclose(late, [0.4, 0.4])


def test_linear_tactic_concedes_equal_steps() -> None:
    target = curve(1.0, 0.4)
    np.testing.assert_allclose(np.diff(target), -(1.0 - 0.4) / DURATION)


@pytest.mark.parametrize("reservation", [0.0, 0.3, 0.6])
def test_boulware_holds_out_above_linear_and_conceder_gives_way_below(reservation: float) -> None:
    boulware, linear, conceder = curve(0.3, reservation), curve(1.0, reservation), curve(4.0, reservation)
    inner = slice(1, -1)  # the three agree at the start and at the deadline
    assert np.all(boulware[inner] > linear[inner])
    assert np.all(conceder[inner] < linear[inner])
    # and the order is monotone in e: a smaller exponent always holds out longer
    assert np.all(curve(0.15, reservation)[inner] > boulware[inner])


def test_faratin_formula_at_a_known_point() -> None:
    # r + (1 - r) * (1 - (t/T)^(1/e)) with r = 0.2, t/T = 1/4, e = 0.5: 0.2 + 0.8 * (1 - 1/16)
    got = time_dependent_target(np.array([3]), np.array([12]), np.array([0.5]), np.array([0.2]))
    assert got[0] == pytest.approx(0.2 + 0.8 * (1 - 1 / 16))


# --- tit-for-tat ----------------------------------------------------------------------------


def test_tit_for_tat_mirrors_the_opponent_concession_times_reciprocity() -> None:
    previous = np.array([0.9, 0.9, 0.9])
    conceded = np.array([0.1, 0.1, 0.04])
    got = tit_for_tat_target(previous, conceded, np.array([1.0, 0.5, 2.0]), np.zeros(3))
    np.testing.assert_allclose(got, [0.8, 0.85, 0.82])


def test_tit_for_tat_does_not_concede_when_the_opponent_hardens() -> None:
    got = tit_for_tat_target(np.array([0.7, 0.7]), np.array([-0.2, 0.0]), np.ones(2), np.zeros(2))
    np.testing.assert_allclose(got, [0.7, 0.7])


def test_tit_for_tat_never_drops_below_the_reservation_value() -> None:
    got = tit_for_tat_target(np.array([0.55]), np.array([0.3]), np.array([1.0]), np.array([0.5]))
    assert got[0] == pytest.approx(0.5)


def test_tit_for_tat_sequence_tracks_the_opponent_step_by_step() -> None:
    # the opponent's offers are worth 0.2, 0.3, 0.3, 0.45 to us: we concede 0.1, 0, 0.15 in turn
    received = [0.2, 0.3, 0.3, 0.45]
    target = np.array([0.95])
    history = []
    for before, after in itertools.pairwise(received):
        target = tit_for_tat_target(target, np.array([after - before]), np.array([1.0]), np.array([0.1]))
        history.append(float(target[0]))
    np.testing.assert_allclose(history, [0.85, 0.85, 0.70])


# --- acceptance ------------------------------------------------------------------------------

PATIENT = (np.ones(3), np.zeros(3))  # no discounting, no cost of delay


def test_ac_next_accepts_an_offer_at_least_as_good_as_the_own_next_offer() -> None:
    got = accepts(
        np.array([0.7, 0.69, 0.7]), np.array([0.7, 0.7, 0.71]), np.full(3, 0.3), *PATIENT, np.zeros(3, bool)
    )
    assert got.tolist() == [True, False, False]


def test_deadline_fallback_accepts_anything_at_or_above_the_value_of_no_deal() -> None:
    offer = np.array([0.31, 0.3, 0.29])
    got = accepts(offer, np.full(3, 0.9), np.full(3, 0.3), *PATIENT, np.ones(3, bool))
    assert got.tolist() == [True, True, False]


def test_no_offer_below_the_value_of_no_deal_is_ever_accepted() -> None:
    rng = np.random.default_rng(7)
    offer, next_target, reservation = rng.random(1000), rng.random(1000), rng.random(1000)
    discount, delay = rng.uniform(0.5, 1.0, 1000), rng.uniform(0.0, 0.1, 1000)
    last_chance = rng.random(1000) < 0.5
    got = accepts(offer, next_target, reservation, discount, delay, last_chance)
    assert not np.any(got & (offer < reservation - 1e-12))
    # and the rule is exactly AC_next on discounted values, or the fallback, never below r
    waiting = reservation + discount * (next_target - reservation) - delay
    expected = (offer >= reservation) & ((offer >= waiting) | last_chance)
    assert np.array_equal(got, expected)


def test_an_impatient_responder_accepts_less_than_its_next_target() -> None:
    # next target 0.8, value of no deal 0.3: waiting a round is worth 0.3 + d (0.8 - 0.3) - c now
    offer = np.full(4, 0.74)
    discount = np.array([1.0, 0.9, 0.9, 1.0])
    delay = np.array([0.0, 0.0, 0.02, 0.07])
    got = accepts(offer, np.full(4, 0.8), np.full(4, 0.3), discount, delay, np.zeros(4, bool))
    # 0.8, 0.75, 0.73 and 0.73: only the patient one waits
    assert got.tolist() == [False, False, True, True]


def test_later_value_discounts_the_surplus_not_the_value_of_no_deal() -> None:
    # a deal worth exactly the value of no deal is worth that at any time; costs only erode surplus
    assert later_value(np.array([0.3]), np.array([0.3]), np.array([0.5]), np.zeros(1))[0] == 0.3
    np.testing.assert_allclose(
        later_value(np.array([0.9]), np.array([0.3]), np.array([0.5]), np.zeros(1)), 0.6
    )


# --- walk-out hazard -------------------------------------------------------------------------


def hazard(base=0.1, resolve=0.5, trust=0.0, mediation=0.0, shortfall=0.0) -> float:
    args = (base, resolve, trust, mediation, shortfall)
    return float(walkout_hazard(*(np.array(v, float) for v in args))[()])


def test_walkout_hazard_formula() -> None:
    assert hazard(0.1, 0.5, 0.2, 0.25, 0.4) == pytest.approx(0.1 * 2 * 0.5 * 0.8 * 0.75 * 1.4)


def test_walkout_hazard_grows_with_resolve_and_shortfall_and_shrinks_with_trust_and_mediation() -> None:
    assert hazard(resolve=0.9) > hazard(resolve=0.5) > hazard(resolve=0.1)
    assert hazard(shortfall=0.6) > hazard(shortfall=0.1) > hazard(shortfall=0.0)
    assert hazard(trust=0.8) < hazard(trust=0.2)
    assert hazard(mediation=0.8) < hazard(mediation=0.2)


def test_no_walkout_without_base_risk_full_trust_or_full_mediation() -> None:
    assert hazard(base=0.0, resolve=1.0, shortfall=1.0) == 0.0
    assert hazard(trust=1.0, resolve=1.0, shortfall=1.0) == 0.0
    assert hazard(mediation=1.0, resolve=1.0, shortfall=1.0) == 0.0


def test_walkout_hazard_is_a_probability() -> None:
    assert hazard(base=0.5, resolve=1.0, shortfall=1.0) == 1.0
