"""Additive utilities over normalised issues, and trade-off offers. Pure, vectorised functions.

Every issue value is normalised to x in [0, 1] over its range at the table. An actor has an ideal
point p in [0, 1] per issue ("increase" is p = 1, "decrease" is p = 0) and its gain on the issue
falls from 1 at p to 0 at the far end of the range on either side as ``1 - d ** c``, where d is the
distance from p as a share of that side's span and c >= 1 the actor's curvature: c = 1 is linear;
c > 1 makes small concessions cheap and large ones dear (diminishing sensitivity), which gives
agreements that split issues instead of all-or-nothing trades. Utility is the weighted sum of gains
with weights summing to 1, so it lies in [0, 1].

All functions take arrays whose last axis runs over issues and broadcast over any leading axes
(tables, parties, runs).
"""

from __future__ import annotations

import numpy as np

_BIG = 1e9


def gain(x: np.ndarray, ideal: np.ndarray, curvature: np.ndarray | float = 1.0) -> np.ndarray:
    """Per-issue gain in [0, 1] of normalised values ``x`` for an actor with ideal points ``ideal``.

    >>> gain(np.array([0.0, 0.5, 1.0]), np.array([0.5, 0.5, 0.0])).tolist()
    [0.0, 1.0, 0.0]
    >>> gain(np.array([0.5]), np.array([1.0]), 2.0).tolist()
    [0.75]
    """
    left_span = np.where(ideal > 0.0, ideal, 1.0)
    right_span = np.where(ideal < 1.0, 1.0 - ideal, 1.0)
    below = x < ideal
    distance = np.where(below, (ideal - x) / left_span, (x - ideal) / right_span)
    return np.clip(1.0 - np.clip(distance, 0.0, 1.0) ** curvature, 0.0, 1.0)


def utility(
    x: np.ndarray, weights: np.ndarray, ideal: np.ndarray, curvature: np.ndarray | float = 1.0
) -> np.ndarray:
    """Additive utility of normalised offers ``x``: the weighted sum of gains.

    >>> float(utility(np.array([0.25, 1.0]), np.array([0.5, 0.5]), np.array([0.0, 1.0])))
    0.875
    """
    return np.sum(weights * gain(x, ideal, curvature), axis=-1)


def from_gain(
    y: np.ndarray, ideal: np.ndarray, toward: np.ndarray, curvature: np.ndarray | float = 1.0
) -> np.ndarray:
    """Invert :func:`gain`: the value with gain ``y`` on the side of ``ideal`` facing ``toward``.

    >>> from_gain(np.array([0.5, 0.5]), np.array([0.0, 0.5]), np.array([1.0, 0.0])).tolist()
    [0.5, 0.25]
    """
    above = toward > ideal
    distance = np.clip(1.0 - y, 0.0, 1.0) ** (1.0 / curvature)
    return np.where(above, ideal + distance * (1.0 - ideal), ideal - distance * ideal)


def trade_off(
    target: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    opponent_offer: np.ndarray,
    believed_opponent_weights: np.ndarray,
    curvature: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Trade-off offers (Faratin, Sierra and Jennings 2002), solved exactly for linear gains.

    Among offers worth exactly ``target`` to the proposer, return the one nearest the opponent's
    last offer in the opponent's (believed) weighted distance. Moving from the opponent's offer, gain
    on issue k rises in proportion to w_k / v_k: the proposer claws back most where it cares much
    and the opponent (it believes) cares little. That is logrolling, and it pulls agreements toward
    the Pareto frontier. Issues the proposer does not weigh stay where the opponent put them.

    Args:
        target: Target utility per row, shape (n,).
        weights: Proposer's weights, shape (n, k), each row summing to 1.
        ideal: Proposer's ideal points, shape (n, k).
        opponent_offer: Opponent's last offer (normalised), shape (n, k).
        believed_opponent_weights: Proposer's belief of the opponent's weights, shape (n, k).
        curvature: Proposer's curvature, broadcastable to (n, k); the offer is found in gain space,
            where utility is linear, then mapped back to issue values.

    Returns:
        The offers, normalised, shape (n, k).
    """
    start = gain(opponent_offer, ideal, curvature)
    direction = weights / np.maximum(believed_opponent_weights, 1e-6)
    with np.errstate(over="ignore"):  # a subnormal weight ratio overflows; such breakpoints are capped
        safe = np.where(direction > 0, direction, 1.0)
        breakpoints = np.where(direction > 0.0, np.minimum((1.0 - start) / safe, _BIG), _BIG)
    breakpoints = np.sort(breakpoints, axis=-1)
    lambdas = np.concatenate([np.zeros_like(target)[..., None], breakpoints], axis=-1)
    gains_at = np.minimum(start[..., None, :] + lambdas[..., :, None] * direction[..., None, :], 1.0)
    utils_at = np.sum(gains_at * weights[..., None, :], axis=-1)
    goal = np.minimum(target, utils_at[..., -1])
    first = np.argmax(utils_at >= goal[..., None] - 1e-12, axis=-1)
    upper = np.maximum(first, 1)
    lam_lo = np.take_along_axis(lambdas, (upper - 1)[..., None], axis=-1)[..., 0]
    lam_hi = np.take_along_axis(lambdas, upper[..., None], axis=-1)[..., 0]
    u_lo = np.take_along_axis(utils_at, (upper - 1)[..., None], axis=-1)[..., 0]
    u_hi = np.take_along_axis(utils_at, upper[..., None], axis=-1)[..., 0]
    slope = np.where(u_hi > u_lo, (lam_hi - lam_lo) / np.where(u_hi > u_lo, u_hi - u_lo, 1.0), 0.0)
    lam = np.where(first == 0, 0.0, lam_lo + (goal - u_lo) * slope)
    y = np.minimum(start + lam[..., None] * direction, 1.0)
    return from_gain(y, ideal, opponent_offer, curvature)
