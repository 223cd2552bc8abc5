"""Concession strategies: how an actor's target utility moves over a table's rounds.

Pure, vectorised functions of the rows they are given. Three heuristic families, after Faratin,
Sierra and Jennings (1998): time-dependent tactics (Boulware, linear, Conceder), a
behaviour-dependent tactic (tit-for-tat) and a hardliner that never concedes; and the equilibrium
strategy, whose targets come from :mod:`negotiation.bargaining.equilibrium`. Acceptance follows
Baarslag et al. (2014): AC_next with a deadline-aware fallback, on discounted values, never below the
value of no deal.

Values are stated at the current round. A deal one round later is worth ``r + d * (u - r) - c`` now,
where ``r`` is the value of no deal, ``d`` the per-round discount factor and ``c`` the cost of delay:
the surplus over no deal shrinks, the value of no deal itself does not (the no-deal outcome holds
meanwhile).
"""

from __future__ import annotations

import numpy as np

from negotiation.bargaining.preferences import power

TIME_DEPENDENT, TIT_FOR_TAT, HARDLINER, EQUILIBRIUM = 0, 1, 2, 3
STRATEGY_CODES = {
    "time_dependent": TIME_DEPENDENT,
    "tit_for_tat": TIT_FOR_TAT,
    "hardliner": HARDLINER,
    "equilibrium": EQUILIBRIUM,
}
"""Integer code of each strategy kind, as stored in compiled arrays."""
EFFICIENT, SIMILARITY = 0, 1
OFFER_RULE_CODES = {"efficient": EFFICIENT, "similarity": SIMILARITY}
"""Integer code of each offer rule."""
ULTIMATUM, CONCEDE = 0, 1
LAST_OFFER_CODES = {"ultimatum": ULTIMATUM, "concede": CONCEDE}
"""Integer code of each last-round behaviour of time-dependent tactics."""
BAYESIAN, FIXED = 0, 1
OPPONENT_MODEL_CODES = {"bayesian": BAYESIAN, "fixed": FIXED}
"""Integer code of each opponent model."""


def time_dependent_target(
    elapsed: np.ndarray, duration: np.ndarray, exponent: np.ndarray, reservation: np.ndarray
) -> np.ndarray:
    """Faratin's polynomial tactic: target falls from 1 to the value of no deal by the deadline.

    target = r + (1 - r) * (1 - (t / T) ** (1 / e)); e < 1 is Boulware, e = 1 linear, e > 1 Conceder.

    >>> time_dependent_target(np.array([5]), np.array([10]), np.array([1.0]), np.array([0.4]))
    array([0.7])
    """
    fraction = np.clip(elapsed / duration, 0.0, 1.0)
    return reservation + (1.0 - reservation) * (1.0 - power(fraction, 1.0 / exponent))


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


def later_value(
    utility: np.ndarray, reservation: np.ndarray, discount: np.ndarray, delay_cost: np.ndarray
) -> np.ndarray:
    """Value now of a deal worth ``utility`` that is struck one round later.

    >>> later_value(np.array([0.8]), np.array([0.3]), np.array([0.9]), np.array([0.02])).round(6).tolist()
    [0.73]
    """
    return reservation + discount * (utility - reservation) - delay_cost


def acceptance_threshold(
    next_target: np.ndarray,
    reservation: np.ndarray,
    discount: np.ndarray,
    delay_cost: np.ndarray,
    last_chance: np.ndarray,
) -> np.ndarray:
    """The least an offer must be worth now to be accepted: AC_next on discounted values.

    One's own next offer comes a round later, so it is worth ``later_value(next_target)`` now; with
    no turn left before the deadline, the alternative is no deal. Never below the value of no deal.

    >>> acceptance_threshold(np.array([0.8, 0.8]), np.array([0.3, 0.3]), np.array([0.9, 0.9]),
    ...                      np.zeros(2), np.array([False, True])).round(6).tolist()
    [0.75, 0.3]
    """
    waiting = np.maximum(later_value(next_target, reservation, discount, delay_cost), reservation)
    return np.where(last_chance, reservation, waiting)


def accepts(
    offer_utility: np.ndarray,
    next_target: np.ndarray,
    reservation: np.ndarray,
    discount: np.ndarray,
    delay_cost: np.ndarray,
    last_chance: np.ndarray,
) -> np.ndarray:
    """AC_next with a deadline-aware fallback, on discounted values, never below the value of no deal.

    Accept when the offer is worth at least what one's own next offer would be worth now (AC_next),
    or, when there is no next turn before the deadline, when it is worth at least the value of no
    deal (the reservation value).

    >>> accepts(np.array([0.6, 0.6, 0.4]), np.array([0.7, 0.5, 0.3]), np.array([0.5, 0.5, 0.5]),
    ...         np.ones(3), np.zeros(3), np.array([True, False, True])).tolist()
    [True, True, False]
    """
    threshold = acceptance_threshold(next_target, reservation, discount, delay_cost, last_chance)
    return offer_utility >= threshold - 1e-12


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
