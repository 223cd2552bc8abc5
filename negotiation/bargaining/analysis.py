"""Pareto frontier, Nash bargaining point and distances, for two-party additive utilities.

Every Pareto-optimal agreement puts each issue between the two ideal points. With linear gains
(curvature 1) both gains are linear there: moving issue k from side 1's ideal to side 0's gains side
0 ``a_k`` and costs side 1 ``b_k``, and the frontier is the polyline that makes these moves in falling
order of ``a_k / b_k`` (as in the fractional knapsack). It is exact for continuous issues and the
convex hull of the outcomes for binary ones. With curved gains the frontier is traced by weighted
sums: for each weight a in [0, 1], every issue is set where a * u0 + (1 - a) * u1 is highest (a
one-dimensional concave problem, solved by bisection), giving FRONTIER_SAMPLES points.

Every function broadcasts over leading axes (one row per table, or per run and table).
"""

from __future__ import annotations

import numpy as np

from negotiation.bargaining.preferences import gain, power
from negotiation.bargaining.scalar_analysis import measure_linear_agreement

FRONTIER_SAMPLES = 65
"""Points on a curved frontier (weights a evenly spaced in [0, 1])."""
SCALAR_AGREEMENTS = 8
"""Agreements with linear gains up to which each is measured on its own in plain Python floats
(:mod:`negotiation.bargaining.scalar_analysis`, the same bits): a run played on its own measures a
few at a time, where NumPy's fixed cost per call outweighs its speed per element."""


def pareto_frontier(
    weights: np.ndarray, ideal: np.ndarray, curvature: np.ndarray | None = None
) -> np.ndarray:
    """Vertices of the Pareto frontier in utility space, from side 1's best to side 0's best.

    Args:
        weights: (..., 2, K) normalised weights of the two sides.
        ideal: (..., 2, K) normalised ideal points.
        curvature: (..., 2) each side's gain curvature; None (or all ones) for linear gains.

    Returns:
        (..., K + 1, 2) utilities (u0, u1) at each vertex for linear gains, or
        (..., FRONTIER_SAMPLES, 2) points along a curved frontier.

    >>> pareto_frontier(np.array([[0.8, 0.2], [0.2, 0.8]]), np.array([[1.0, 1.0], [0.0, 0.0]])).tolist()
    [[0.0, 1.0], [0.8, 0.8], [1.0, 0.0]]
    """
    if curvature is not None and np.any(curvature != 1.0):
        return _curved_frontier(weights, ideal, curvature)
    w0, w1 = weights[..., 0, :], weights[..., 1, :]
    p0, p1 = ideal[..., 0, :], ideal[..., 1, :]
    gain_0 = w0 * (1.0 - gain(p1, p0))
    cost_1 = w1 * (1.0 - gain(p0, p1))
    # an issue one side does not weigh goes to the other side everywhere on the frontier (anything
    # else is dominated), so it is settled before the trade-offs start
    free_for_0 = cost_1 <= 0.0
    traded = ~free_for_0 & (gain_0 > 0.0)
    step_gain, step_cost = np.where(traded, gain_0, 0.0), np.where(traded, cost_1, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(traded, step_gain / np.where(traded, step_cost, 1.0), -np.inf)
    order = np.argsort(-ratio, axis=-1, kind="stable")
    u0_start = np.sum(w0 * gain(p1, p0), axis=-1) + np.sum(np.where(free_for_0, gain_0, 0.0), axis=-1)
    start = np.stack([u0_start, np.sum(w1, axis=-1)], axis=-1)  # side 1 at its ideal on every issue
    steps = np.stack(
        [np.take_along_axis(step_gain, order, axis=-1), -np.take_along_axis(step_cost, order, axis=-1)],
        axis=-1,
    )
    return np.concatenate([start[..., None, :], start[..., None, :] + np.cumsum(steps, axis=-2)], axis=-2)


def _curved_frontier(weights: np.ndarray, ideal: np.ndarray, curvature: np.ndarray) -> np.ndarray:
    w0, w1 = weights[..., 0, None, :], weights[..., 1, None, :]
    p0, p1 = ideal[..., 0, None, :], ideal[..., 1, None, :]
    c0, c1 = curvature[..., 0, None, None], curvature[..., 1, None, None]
    # moving an issue a share t of the way from side 1's ideal to side 0's, side 0's distance from its
    # ideal is (1 - t) * span0 and side 1's is t * span1 (both as shares of their own side's range)
    span0, span1 = 1.0 - gain(p1, p0), 1.0 - gain(p0, p1)
    # the ends stay a hair inside (0, 1) so that issues one side ignores still go to the other side
    alpha = np.linspace(1e-9, 1.0 - 1e-9, FRONTIER_SAMPLES)[:, None]
    pull0 = alpha * w0 * c0 * power(span0, c0)
    pull1 = (1.0 - alpha) * w1 * c1 * power(span1, c1)

    def slope(t: np.ndarray) -> np.ndarray:
        return pull0 * power(1.0 - t, c0 - 1.0) - pull1 * power(t, c1 - 1.0)

    low = np.zeros(np.broadcast_shapes(pull0.shape, pull1.shape))
    high = np.ones_like(low)
    for _ in range(40):
        middle = 0.5 * (low + high)
        rising = slope(middle) > 0.0
        low = np.where(rising, middle, low)
        high = np.where(rising, high, middle)
    t = np.where(slope(np.zeros_like(low)) <= 0.0, 0.0, np.where(slope(np.ones_like(low)) >= 0.0, 1.0, low))
    u0 = np.sum(w0 * (1.0 - power((1.0 - t) * span0, c0)), axis=-1)
    u1 = np.sum(w1 * (1.0 - power(t * span1, c1)), axis=-1)
    return np.stack([u0, u1], axis=-1)


def nash_point(frontier: np.ndarray, disagreement: np.ndarray) -> np.ndarray:
    """The Nash bargaining solution: the frontier point maximising the product of gains over d.

    Args:
        frontier: (..., M, 2) frontier vertices from :func:`pareto_frontier`.
        disagreement: (..., 2) disagreement (reservation) utilities.

    Returns:
        (..., 2) utilities at the Nash point; NaN where no frontier point gives both sides more than d.

    >>> nash_point(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    start = frontier[..., :-1, :]
    delta = frontier[..., 1:, :] - start
    surplus_start = start - disagreement[..., None, :]
    # the product along a segment is (g0 + s*d0)(g1 + s*d1) for s in [0, 1]: check its stationary
    # point and both ends
    a = delta[..., 0] * delta[..., 1]
    b = surplus_start[..., 0] * delta[..., 1] + surplus_start[..., 1] * delta[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        stationary = np.where(a < 0, -b / (2 * a), 0.0)
    s = np.stack([np.zeros_like(a), np.ones_like(a), np.clip(stationary, 0.0, 1.0)], axis=-2)
    points = start[..., None, :, :] + s[..., None] * delta[..., None, :, :]
    points = points.reshape(*points.shape[:-3], -1, 2)
    surplus = points - disagreement[..., None, :]
    product = np.where((surplus > 0).all(axis=-1), surplus[..., 0] * surplus[..., 1], -np.inf)
    best = np.argmax(product, axis=-1)
    point = np.take_along_axis(points, best[..., None, None], axis=-2)[..., 0, :]
    found = np.isfinite(np.take_along_axis(product, best[..., None], axis=-1))
    return np.where(found, point, np.nan)


def distance_to_frontier(point: np.ndarray, frontier: np.ndarray) -> np.ndarray:
    """Euclidean distance in utility space from agreements to the frontier polyline.

    Args:
        point: (..., 2) utilities of the agreement.
        frontier: (..., M, 2) frontier vertices.

    Returns:
        (...) distances.

    >>> float(distance_to_frontier(np.array([0.0, 0.0]), np.array([[0.0, 1.0], [1.0, 0.0]])))
    0.7071067811865476
    """
    start = frontier[..., :-1, :]
    delta = frontier[..., 1:, :] - start
    length = np.sum(delta * delta, axis=-1)
    along = np.sum((point[..., None, :] - start) * delta, axis=-1)
    s = np.where(length > 0, along / np.where(length > 0, length, 1.0), 0.0)
    nearest = start + np.clip(s, 0.0, 1.0)[..., None] * delta
    return np.min(np.linalg.norm(nearest - point[..., None, :], axis=-1), axis=-1)


def measure_agreements(
    weights: np.ndarray, ideal: np.ndarray, curvature: np.ndarray, reached: np.ndarray, floor: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distances of two-party agreements to the Pareto frontier and to the Nash point.

    Rows with linear gains and rows with curved gains are solved in separate groups (each group's
    frontier has its own shape); a few rows with linear gains are solved one by one in plain Python.

    Args:
        weights: (n, 2, K) both sides' weights.
        ideal: (n, 2, K) both sides' ideal points.
        curvature: (n, 2, 1) both sides' gain curvature.
        reached: (n, 2) the agreements' utilities.
        floor: (n, 2) the values of no deal when they were made.

    Returns:
        (n,) distances to the frontier and (n,) distances to the Nash point.
    """
    pareto, nash = np.full(reached.shape[0], np.nan), np.full(reached.shape[0], np.nan)
    linear = (curvature == 1.0).all(axis=(1, 2))
    for group in (np.flatnonzero(linear), np.flatnonzero(~linear)):
        if group.size == 0:
            continue
        if group.size <= SCALAR_AGREEMENTS and linear[group[0]]:
            for row in group.tolist():
                pareto[row], nash[row] = measure_linear_agreement(
                    weights[row].tolist(), ideal[row].tolist(), reached[row].tolist(), floor[row].tolist()
                )
            continue
        frontier = pareto_frontier(weights[group], ideal[group], curvature[group, :, 0])
        pareto[group] = distance_to_frontier(reached[group], frontier)
        point = nash_point(frontier, floor[group])
        nash[group] = np.linalg.norm(reached[group] - point, axis=-1)
    return pareto, nash
