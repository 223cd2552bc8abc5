"""Concession strategies: how an actor's target utility moves over a table's rounds.

Pure, vectorised functions of the rows they are given. Three families, after Faratin, Sierra and
Jennings (1998): time-dependent tactics (Boulware, linear, Conceder), a behaviour-dependent tactic
(tit-for-tat) and a hardliner that never concedes. Acceptance follows Baarslag et al. (2014): AC_next
with a deadline-aware fallback.
"""

from __future__ import annotations

import numpy as np

TIME_DEPENDENT, TIT_FOR_TAT, HARDLINER = 0, 1, 2
STRATEGY_CODES = {"time_dependent": TIME_DEPENDENT, "tit_for_tat": TIT_FOR_TAT, "hardliner": HARDLINER}
"""Integer code of each strategy kind, as stored in compiled arrays."""


def time_dependent_target(
    elapsed: np.ndarray, duration: np.ndarray, exponent: np.ndarray, reservation: np.ndarray
) -> np.ndarray:
    """Faratin's polynomial tactic: target falls from 1 to the reservation value by the deadline.

    target = r + (1 - r) * (1 - (t / T) ** (1 / e)); e < 1 is Boulware, e = 1 linear, e > 1 Conceder.

    >>> time_dependent_target(np.array([5]), np.array([10]), np.array([1.0]), np.array([0.4]))
    array([0.7])
    """
    fraction = np.clip(elapsed / duration, 0.0, 1.0)
    return reservation + (1.0 - reservation) * (1.0 - fraction ** (1.0 / exponent))


def tit_for_tat_target(
    previous_target: np.ndarray,
    opponent_concession: np.ndarray,
    reciprocity: np.ndarray,
    reservation: np.ndarray,
) -> np.ndarray:
    """Absolute tit-for-tat: concede as much utility as the opponent's last move conceded to us.

    >>> tit_for_tat_target(np.array([0.9]), np.array([0.1]), np.array([1.0]), np.array([0.5]))
    array([0.8])
    """
    step = reciprocity * np.maximum(opponent_concession, 0.0)
    return np.clip(previous_target - step, reservation, 1.0)


def accepts(
    offer_utility: np.ndarray,
    next_target: np.ndarray,
    reservation: np.ndarray,
    last_chance: np.ndarray,
) -> np.ndarray:
    """AC_next with a deadline-aware fallback, never below the reservation value.

    Accept when the offer is worth at least what one's own next offer would be (AC_next), or, when
    there is no next turn before the deadline, when it is worth at least the reservation value.

    >>> accepts(np.array([0.6, 0.6, 0.4]), np.array([0.7, 0.5, 0.3]), np.array([0.5, 0.5, 0.5]),
    ...         np.array([True, False, True])).tolist()
    [True, True, False]
    """
    above_reservation = offer_utility >= reservation - 1e-12
    return above_reservation & ((offer_utility >= next_target - 1e-12) | last_chance)


def walkout_hazard(
    base_risk: np.ndarray,
    resolve: np.ndarray,
    trust: np.ndarray,
    mediation: np.ndarray,
    shortfall: np.ndarray,
) -> np.ndarray:
    """Per-round probability that a party rejecting an offer walks out.

    hazard = base * 2 * resolve * (1 - trust) * (1 - mediation) * (1 + shortfall), where shortfall is
    how far the rejected offer falls below the party's own target.

    >>> float(walkout_hazard(np.array(0.02), np.array(0.5), np.array(0.0), np.array(0.0),
    ...                      np.array(0.5))[()])
    0.03
    """
    hazard = base_risk * 2.0 * resolve * (1.0 - trust) * (1.0 - mediation) * (1.0 + shortfall)
    return np.clip(hazard, 0.0, 1.0)
