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


def power(base: np.ndarray | float, exponent: np.ndarray | float) -> np.ndarray:
    """``base ** exponent`` computed the same way whatever the shapes, so results never depend on them.

    NumPy may take a different path (with results a unit in the last place apart) when an array
    exponent is broadcast over a row of one element than over many; the Mesa model plays one run and
    the fast path many at once, and both must give the same bits. Both operands are therefore
    expanded to full, contiguous arrays first.

    >>> power(np.array([[0.5, 0.25]]), np.array([[2.0]])).tolist()
    [[0.25, 0.0625]]
    """
    exponent = np.asarray(exponent, float)
    if np.all(exponent == 1.0):  # linear gains, the common case: nothing to compute
        return np.broadcast_to(np.asarray(base, float), np.broadcast_shapes(np.shape(base), exponent.shape))
    base, exponent = np.broadcast_arrays(np.asarray(base, float), exponent)
    raised = np.power(np.ascontiguousarray(base), np.ascontiguousarray(exponent))
    return np.where(exponent == 1.0, base, raised)  # the same bits as the shortcut above


def gain(x: np.ndarray, ideal: np.ndarray, curvature: np.ndarray | float = 1.0) -> np.ndarray:
    """Per-issue gain in [0, 1] of normalised values ``x`` for an actor with ideal points ``ideal``.

    >>> gain(np.array([0.0, 0.5, 1.0]), np.array([0.5, 0.5, 0.0])).tolist()
    [0.0, 1.0, 0.0]
    >>> gain(np.array([0.5]), np.array([1.0]), 2.0).tolist()
    [0.75]
    """
    # the distance from the ideal as a share of the span on x's side (below: ``ideal``, else
    # ``1 - ideal``; a whole span where that side is empty); |x - ideal| is exactly ideal - x below
    span = np.where(x < ideal, np.where(ideal > 0.0, ideal, 1.0), np.where(ideal < 1.0, 1.0 - ideal, 1.0))
    with np.errstate(over="ignore"):  # a tiny span overflows: a distance beyond the span, cut to 1
        distance = np.minimum(np.abs(x - ideal) / span, 1.0)
    if isinstance(curvature, float | int) and curvature == 1.0:
        return 1.0 - distance  # linear gains, the common case
    return 1.0 - power(distance, curvature)


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
    distance = power(np.clip(1.0 - y, 0.0, 1.0), 1.0 / np.asarray(curvature, float))
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


def efficient_offer(
    target: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    curvature: np.ndarray,
    opponent_weights: np.ndarray,
    opponent_ideal: np.ndarray,
    opponent_curvature: np.ndarray,
    binary: np.ndarray | None = None,
    spans: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The offer worth at least ``target`` to the proposer that is best for the opponent (believed).

    Every efficient offer puts each issue between the two ideal points: ``x = p + t * (q - p)`` with
    ``t`` in [0, 1], the share of the way conceded from the proposer's ideal ``p`` toward the
    opponent's ``q``. With linear gains the problem is a fractional knapsack: concede issues in
    falling order of the opponent's (believed) gain over one's own loss, ``v_k s_k' / (w_k s_k)``,
    the last one partly, until the proposer's utility is down to the target. With curved gains it is
    a convex problem, solved by its first-order conditions: for a weight ``a`` on the proposer's
    utility each issue's ``t`` solves ``(1 - a) d/dt u_opp = a d/dt u_own`` (in closed form, or by
    Newton's method when the two curvatures differ), and ``a`` is found by bisection. Binary issues
    are settled by comparing every package of their values, each completed by the continuous rule.

    With the opponent's true weights the offer is Pareto-optimal (never dominated). If the target
    cannot be reached the offer is the proposer's ideal; if even the opponent's ideal is worth the
    target, it is offered.

    Args:
        target: (n,) the proposer's target utility.
        weights: (n, K) the proposer's weights (summing to 1 over the table's issues).
        ideal: (n, K) the proposer's ideal points.
        curvature: (n, 1) the proposer's gain curvature.
        opponent_weights: (n, K) the opponent's weights as the proposer believes them.
        opponent_ideal: (n, K) the opponent's ideal points (positions are public).
        opponent_curvature: (n, 1) the opponent's gain curvature.
        binary: (n, K) True for binary issues, or None.
        spans: The two ideals' distance as a share of each side's span, ``_spans(ideal,
            opponent_ideal)``, if the caller keeps them (they depend on positions alone); else None.

    Returns:
        (n, K) the offers, normalised.

    >>> efficient_offer(np.array([0.6]), np.array([[0.5, 0.5]]), np.array([[1.0, 1.0]]), np.ones((1, 1)),
    ...                 np.array([[0.8, 0.2]]), np.array([[0.0, 0.0]]), np.ones((1, 1))).round(6).tolist()
    [[0.2, 1.0]]
    """
    curvature = np.broadcast_to(curvature, (*target.shape, 1))
    opponent_curvature = np.broadcast_to(opponent_curvature, (*target.shape, 1))
    if spans is None:
        spans = _spans(ideal, opponent_ideal)
    t = _concessions(
        target, weights, ideal, curvature, opponent_weights, opponent_ideal, opponent_curvature, spans
    )
    offer = _between(ideal, opponent_ideal, t)
    if binary is None or not binary.any():
        return offer
    rows = np.flatnonzero(binary.any(axis=-1))  # only these need their binary issues settled
    offer[rows] = _with_packages(
        target[rows],
        weights[rows],
        ideal[rows],
        curvature[rows],
        opponent_weights[rows],
        opponent_ideal[rows],
        opponent_curvature[rows],
        binary[rows],
        (spans[0][rows], spans[1][rows]),
    )
    return offer


def _with_packages(
    target: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    curvature: np.ndarray,
    opponent_weights: np.ndarray,
    opponent_ideal: np.ndarray,
    opponent_curvature: np.ndarray,
    binary: np.ndarray,
    spans: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Efficient offers with binary issues: the best package of binary values, completed efficiently."""
    rank = np.cumsum(binary, axis=-1) - 1
    best = ideal.copy()
    best_value = np.full(target.shape, -np.inf)
    best_own = np.full(target.shape, -np.inf)
    free = ~binary
    for package in range(2 ** int(binary.sum(axis=-1).max())):
        bits = ((package >> np.maximum(rank, 0)) & 1).astype(float)
        fixed = np.where(binary, bits, 0.0)
        own_fixed = np.sum(np.where(binary, weights * gain(fixed, ideal, curvature), 0.0), axis=-1)
        opp_fixed = np.sum(
            np.where(binary, opponent_weights * gain(fixed, opponent_ideal, opponent_curvature), 0.0), axis=-1
        )
        t = _concessions(
            target - own_fixed,
            np.where(free, weights, 0.0),
            ideal,
            curvature,
            np.where(free, opponent_weights, 0.0),
            opponent_ideal,
            opponent_curvature,
            spans,
        )
        offer = np.where(binary, fixed, _between(ideal, opponent_ideal, t))
        own = utility(offer, weights, ideal, curvature)
        value = opp_fixed + np.sum(
            np.where(free, opponent_weights * gain(offer, opponent_ideal, opponent_curvature), 0.0), axis=-1
        )
        feasible = own >= target - 1e-12
        # a feasible package better for the opponent wins (as good for it: better for oneself); among
        # infeasible ones, the best for oneself
        tie = (value >= best_value - 1e-12) & (own > best_own + 1e-12)
        better = np.where(
            feasible,
            (best_own < target - 1e-12) | (value > best_value + 1e-12) | tie,
            (best_own < target - 1e-12) & (own > best_own + 1e-12),
        )
        best = np.where(better[:, None], offer, best)
        best_value = np.where(better, value, best_value)
        best_own = np.where(better, own, best_own)
    return best


def _between(ideal: np.ndarray, opponent_ideal: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The point a share ``t`` of the way from ``ideal`` to ``opponent_ideal`` (exact at both ends)."""
    return (1.0 - t) * ideal + t * opponent_ideal


def _spans(ideal: np.ndarray, opponent_ideal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance between the two ideals as a share of each side's span (0 where they coincide)."""
    return 1.0 - gain(opponent_ideal, ideal), 1.0 - gain(ideal, opponent_ideal)


def _concessions(
    target: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    curvature: np.ndarray,
    opponent_weights: np.ndarray,
    opponent_ideal: np.ndarray,
    opponent_curvature: np.ndarray,
    spans: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Share ``t`` of the way from own ideal toward the opponent's on each issue (efficient offers).

    ``spans`` is ``_spans(ideal, opponent_ideal)``.
    """
    own_span, opp_span = spans
    curvature = np.broadcast_to(curvature, (*target.shape, 1))
    opponent_curvature = np.broadcast_to(opponent_curvature, (*target.shape, 1))
    linear = (curvature[:, 0] == 1.0) & (opponent_curvature[:, 0] == 1.0)
    budget = np.sum(weights, axis=-1) - target  # utility above the target, from one's own ideal
    t = _knapsack(budget, weights * own_span, opponent_weights * opp_span)
    if not linear.all():
        curved = np.flatnonzero(~linear)
        t[curved] = _convex(
            target[curved],
            weights[curved],
            own_span[curved],
            curvature[curved],
            opponent_weights[curved],
            opp_span[curved],
            opponent_curvature[curved],
        )
    return t


def _knapsack(budget: np.ndarray, cost: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Fractional knapsack: concede issues in falling order of benefit / cost until the budget is spent.

    ``cost`` is the proposer's utility lost by conceding an issue fully, ``benefit`` the opponent's
    (believed) gain; ``budget`` the proposer's utility above its target at its own ideal.
    """
    free = cost <= 0.0
    traded = ~free & (benefit > 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        ratio = np.where(traded, benefit / np.where(traded, cost, 1.0), -np.inf)
    order = np.argsort(-ratio, axis=-1, kind="stable")
    sorted_cost = np.take_along_axis(np.where(traded, cost, 0.0), order, axis=-1)
    before = np.cumsum(sorted_cost, axis=-1) - sorted_cost
    budget = budget[:, None]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        share = np.clip((budget - before) / np.where(sorted_cost > 0, sorted_cost, 1.0), 0.0, 1.0)
    t_sorted = np.where(sorted_cost > 0.0, share, 0.0)
    t = np.empty_like(t_sorted)
    np.put_along_axis(t, order, t_sorted, axis=-1)
    return np.where(free, 1.0, np.where(traded, t, 0.0))


_BISECTIONS = 60
_NEWTON_STEPS = 12


def _convex(
    target: np.ndarray,
    weights: np.ndarray,
    own_span: np.ndarray,
    curvature: np.ndarray,
    opponent_weights: np.ndarray,
    opp_span: np.ndarray,
    opponent_curvature: np.ndarray,
) -> np.ndarray:
    """Efficient concessions with curved gains: bisection on the weight of the proposer's utility."""

    def own_utility(t: np.ndarray) -> np.ndarray:
        return np.sum(weights * (1.0 - power(t * own_span, curvature)), axis=-1)

    low, high = np.zeros_like(target), np.ones_like(target)
    for _ in range(_BISECTIONS):
        middle = 0.5 * (low + high)
        t = _first_order(middle, weights, own_span, curvature, opponent_weights, opp_span, opponent_curvature)
        enough = own_utility(t) >= target
        high = np.where(enough, middle, high)
        low = np.where(enough, low, middle)
    return _first_order(high, weights, own_span, curvature, opponent_weights, opp_span, opponent_curvature)


def _first_order(
    alpha: np.ndarray,
    weights: np.ndarray,
    own_span: np.ndarray,
    curvature: np.ndarray,
    opponent_weights: np.ndarray,
    opp_span: np.ndarray,
    opponent_curvature: np.ndarray,
) -> np.ndarray:
    """Per issue, the ``t`` maximising ``alpha * u_own + (1 - alpha) * u_opp`` (curved gains).

    The derivative in ``t`` is ``A (1 - t)^(co - 1) - B t^(cw - 1)`` with ``A = (1 - alpha) v co s'^co``
    and ``B = alpha w cw s^cw``; it falls in ``t``, so its root (or an end) is the maximum.
    """
    a = alpha[:, None]
    pull = (1.0 - a) * opponent_weights * opponent_curvature * power(opp_span, opponent_curvature)
    cost = a * weights * curvature * power(own_span, curvature)
    ko, kw = opponent_curvature - 1.0, curvature - 1.0  # (n, 1), each >= 0
    safe_pull, safe_cost = np.where(pull > 0, pull, 1.0), np.where(cost > 0, cost, 1.0)
    log_ratio = np.log(safe_pull) - np.log(safe_cost)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        both_linear = np.where(log_ratio > 0.0, 1.0, 0.0)
        own_curved = np.clip(np.exp(log_ratio / np.where(kw > 0, kw, 1.0)), 0.0, 1.0)
        opp_curved = np.clip(1.0 - np.exp(-log_ratio / np.where(ko > 0, ko, 1.0)), 0.0, 1.0)
        mean_k = np.where(ko + kw > 0, 0.5 * (ko + kw), 1.0)
        z = log_ratio / mean_k  # exact when the two curvatures are equal
    unequal = (ko > 0) & (kw > 0) & (ko != kw)
    if unequal.any():
        for _ in range(_NEWTON_STEPS):
            sigma = 0.5 * (1.0 + np.tanh(0.5 * z))
            zero = np.zeros_like(z)
            h = log_ratio - ko * np.logaddexp(zero, z) + kw * np.logaddexp(zero, -z)
            slope = -(ko * sigma + kw * (1.0 - sigma))
            z = np.where(unequal, z - h / np.where(slope < 0, slope, -1.0), z)
    both_curved = 0.5 * (1.0 + np.tanh(0.5 * z))
    t = np.select(
        [(ko == 0) & (kw == 0), ko == 0, kw == 0],
        [both_linear, own_curved, opp_curved],
        both_curved,
    )
    # an issue only one side weighs goes to that side; one neither weighs stays at the proposer's ideal
    t = np.where(cost <= 0.0, np.where((pull > 0.0) | (weights <= 0.0), 1.0, 0.0), t)
    return np.where((pull <= 0.0) & (cost > 0.0), 0.0, t)


def guaranteed_offer(
    floor: np.ndarray,
    weights: np.ndarray,
    ideal: np.ndarray,
    opponent_ideal: np.ndarray,
    opponent_curvature: np.ndarray,
    binary: np.ndarray | None = None,
) -> np.ndarray:
    """The offer nearest one's own ideal that gives the opponent a gain of ``floor`` on every issue.

    Whatever the opponent's weights, it is worth at least ``floor`` to the opponent (a weighted mean
    of gains that are each at least ``floor``): the most demanding offer one can be sure is accepted
    by an opponent who accepts anything worth its value of no deal. On each issue it moves from one's
    own ideal ``p`` toward the opponent's ``q`` only as far as that takes; issues one does not weigh
    go to the opponent's ideal (they cost nothing).

    Args:
        floor: (n,) the gain the opponent must get on every issue.
        weights: (n, K) one's own weights.
        ideal: (n, K) one's own ideal points.
        opponent_ideal: (n, K) the opponent's ideal points.
        opponent_curvature: (n, 1) the opponent's gain curvature.
        binary: (n, K) True for binary issues (which go to the opponent's ideal unless the floor is
            at most 0), or None.

    Returns:
        (n, K) the offers, normalised.

    >>> weights, ideal, theirs = np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]])
    >>> guaranteed_offer(np.array([0.75]), weights, ideal, theirs, np.ones((1, 1))).tolist()
    [[0.25, 0.0]]
    """
    span = 1.0 - gain(ideal, opponent_ideal)  # the opponent's distance from its ideal to ours
    allowed = power(np.clip(1.0 - floor, 0.0, None)[:, None], 1.0 / opponent_curvature)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(span > 0.0, np.clip(1.0 - allowed / np.where(span > 0, span, 1.0), 0.0, 1.0), 0.0)
    if binary is not None:
        t = np.where(binary, np.where(floor[:, None] > 0.0, 1.0, t), t)
    return _between(ideal, opponent_ideal, np.where(weights > 0.0, t, 1.0))
