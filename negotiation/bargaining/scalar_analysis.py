"""One agreement's distances to the Pareto frontier and the Nash point in plain Python floats.

The same numbers as :func:`negotiation.bargaining.analysis.measure_agreements` gives a row with
linear gains, bit for bit: a run played on its own measures one or two agreements at a time, where
NumPy's fixed cost per call (a few dozen calls) outweighs the arithmetic. Each step does the
vectorised code's IEEE operations in the same order: sums over issues in NumPy's order
(:func:`negotiation.bargaining.scalar.issue_sum`), a cumulative sum left to right starting from the
first step, NumPy's stable sort, ``argmax``'s first maximum (a NaN first of all) and ``min``'s NaN.
``tests/test_scalar_analysis.py`` compares the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from negotiation.bargaining.scalar import INFINITY, clip, descending_key, issue_sum, linear_gain

NAN = float("nan")

Point = tuple[float, float]


def linear_frontier(
    w0: Sequence[float], w1: Sequence[float], p0: Sequence[float], p1: Sequence[float]
) -> list[Point]:
    """:func:`negotiation.bargaining.analysis.pareto_frontier` of one row with linear gains."""
    k = len(w0)
    toward_0 = [linear_gain(p1[i], p0[i]) for i in range(k)]  # side 0's gain at side 1's ideal
    gain_0 = [w0[i] * (1.0 - toward_0[i]) for i in range(k)]
    cost_1 = [w1[i] * (1.0 - linear_gain(p0[i], p1[i])) for i in range(k)]
    free_for_0 = [c <= 0.0 for c in cost_1]
    traded = [not free_for_0[i] and gain_0[i] > 0.0 for i in range(k)]
    step_gain = [gain_0[i] if traded[i] else 0.0 for i in range(k)]
    step_cost = [cost_1[i] if traded[i] else 0.0 for i in range(k)]
    ratio = [step_gain[i] / step_cost[i] if traded[i] else -INFINITY for i in range(k)]
    order = sorted(range(k), key=lambda i: descending_key(ratio[i]))
    start_0 = issue_sum([w0[i] * toward_0[i] for i in range(k)]) + issue_sum(
        [gain_0[i] if free_for_0[i] else 0.0 for i in range(k)]
    )
    start_1 = issue_sum(w1)
    vertices = [(start_0, start_1)]
    for rank, i in enumerate(order):  # np.cumsum: the first step as it is, then a running sum
        if rank == 0:
            moved_0, moved_1 = step_gain[i], -step_cost[i]
        else:
            moved_0, moved_1 = moved_0 + step_gain[i], moved_1 + -step_cost[i]
        vertices.append((start_0 + moved_0, start_1 + moved_1))
    return vertices


def nash_point(frontier: Sequence[Point], disagreement: Point) -> Point:
    """:func:`negotiation.bargaining.analysis.nash_point` of one row."""
    d0, d1 = disagreement
    segments = []
    for j in range(len(frontier) - 1):
        s0, s1 = frontier[j]
        delta_0, delta_1 = frontier[j + 1][0] - s0, frontier[j + 1][1] - s1
        a = delta_0 * delta_1
        b = (s0 - d0) * delta_1 + (s1 - d1) * delta_0
        stationary = -b / (2 * a) if a < 0 else 0.0
        segments.append((s0, s1, delta_0, delta_1, clip(stationary, 0.0, 1.0)))
    best, best_product = (NAN, NAN), NAN
    first = True
    for which in range(3):  # every segment's start, then every end, then every stationary point
        for s0, s1, delta_0, delta_1, stationary in segments:
            s = 0.0 if which == 0 else 1.0 if which == 1 else stationary
            point = (s0 + s * delta_0, s1 + s * delta_1)
            surplus_0, surplus_1 = point[0] - d0, point[1] - d1
            product = surplus_0 * surplus_1 if surplus_0 > 0 and surplus_1 > 0 else -INFINITY
            if first or product > best_product or (product != product and best_product == best_product):
                best, best_product, first = point, product, False
    if not math.isfinite(best_product):  # no segment gives both sides more than d (or none at all)
        return (NAN, NAN)
    return best


def distance_to_frontier(point: Point, frontier: Sequence[Point]) -> float:
    """:func:`negotiation.bargaining.analysis.distance_to_frontier` of one row."""
    r0, r1 = point
    nearest_distance = INFINITY
    for j in range(len(frontier) - 1):
        s0, s1 = frontier[j]
        delta_0, delta_1 = frontier[j + 1][0] - s0, frontier[j + 1][1] - s1
        length = delta_0 * delta_0 + delta_1 * delta_1
        along = (r0 - s0) * delta_0 + (r1 - s1) * delta_1
        s = clip(along / length if length > 0 else 0.0, 0.0, 1.0)
        e0, e1 = s0 + s * delta_0 - r0, s1 + s * delta_1 - r1
        distance = math.sqrt(e0 * e0 + e1 * e1)
        if distance != distance:
            return distance
        if distance < nearest_distance:
            nearest_distance = distance
    return nearest_distance


def measure_linear_agreement(
    weights: Sequence[Sequence[float]], ideal: Sequence[Sequence[float]], reached: Point, floor: Point
) -> tuple[float, float]:
    """One row of :func:`negotiation.bargaining.analysis.measure_agreements`, with linear gains.

    Args:
        weights: Both sides' weights, (2, K) as lists.
        ideal: Both sides' ideal points, (2, K).
        reached: The agreement's utilities to both sides.
        floor: The values of no deal when it was made.

    Returns:
        The distance to the Pareto frontier and to the Nash point.
    """
    frontier = linear_frontier(weights[0], weights[1], ideal[0], ideal[1])
    nash = nash_point(frontier, floor)
    e0, e1 = reached[0] - nash[0], reached[1] - nash[1]
    return distance_to_frontier(reached, frontier), math.sqrt(e0 * e0 + e1 * e1)
