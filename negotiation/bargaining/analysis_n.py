"""Pareto frontier, Nash point and distances for tables of n parties with linear gains.

The outcomes of tables of more than two (the stacked alternating offers protocol,
:mod:`negotiation.bargaining.saop`: Aydogan, Festen, Hindriks and Jonker 2017, used in ANAC 2015) are
measured with these functions (:func:`frontier_gaps`, :func:`nash_point_n`). For two parties they agree
with :mod:`negotiation.bargaining.analysis`, which is vectorised over tables and runs; these solve one
table at a time with scipy.

Each party ``i`` has linear gains (curvature 1, :func:`negotiation.bargaining.preferences.gain`) on
normalised issues ``x in [0, 1]^K``: the gain on issue ``k`` is the smaller of two affine functions of
``x_k`` (one each side of the ideal point), so utility ``u_i(x) = sum_k w_ik gain_ik(x_k)`` is concave
and piecewise linear. Every question below is then a linear program, or (the Nash point) a concave
program with linear constraints, over ``x`` and epigraph variables ``g_ik <= gain_ik(x_k)``:

- **Pareto frontier** (:func:`pareto_points`): each point maximises a strictly positive weighted sum
  of utilities (one LP per weight vector on a lattice of the simplex), so each is exactly Pareto
  optimal; together they are the frontier's supported vertices for those weights.
- **Distance to the frontier** (:func:`frontier_gap`): the largest ``t`` such that some agreement
  gives every party at least ``u_i + t`` (one LP). The set of utility vectors some agreement weakly
  improves on is convex and closed below, so ``t`` is exactly the Chebyshev (L-infinity) distance from
  ``u`` to its boundary, the weak Pareto frontier: 0 on it, positive below, negative beyond.
- **Nash point** (:func:`nash_point_n`): the agreement maximising ``prod_i (u_i - d_i)`` over the
  disagreement values ``d`` (Nash 1950), found by maximising ``sum_i log(u_i - d_i)`` (concave) with
  SLSQP from the LP point that maximises the smallest gain; none where no agreement gives every party
  more than its disagreement value.

References: Nash, J. (1950). The bargaining problem. *Econometrica* 18(2). Aydogan, R., Festen, D.,
Hindriks, K. V., Jonker, C. M. (2017). Alternating offers protocols for multilateral negotiation. In
*Modern Approaches to Agent-based Complex Automated Negotiation*, Springer. Ehrgott, M. (2005).
*Multicriteria Optimization* (weighted sums give supported Pareto points), Springer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, minimize
from scipy.spatial import ConvexHull, QhullError
from threadpoolctl import threadpool_limits

from negotiation.bargaining.preferences import utility

FRONTIER_RESOLUTION = 12
"""Lattice steps per party for the weighted sums of :func:`pareto_points`."""

EXTREME_SHARE = 1e-6
"""The weight of every other party when :func:`pareto_points` finds one party's end of the frontier."""


@dataclass(frozen=True)
class NashPoint:
    """The n-party Nash bargaining solution of one table.

    Attributes:
        utilities: (n,) each party's utility there; NaN where no agreement beats every disagreement value.
        agreement: (K,) the agreement (normalised issue values); NaN likewise.
    """

    utilities: np.ndarray
    agreement: np.ndarray

    @property
    def exists(self) -> bool:
        """Whether some agreement gives every party more than its disagreement value."""
        return bool(np.all(np.isfinite(self.utilities)))


def party_utilities(agreement: np.ndarray, weights: np.ndarray, ideal: np.ndarray) -> np.ndarray:
    """Every party's utility of one agreement.

    Args:
        agreement: (K,) normalised issue values.
        weights: (n, K) each party's issue weights.
        ideal: (n, K) each party's ideal points.

    Returns:
        (n,) utilities.
    """
    return utility(np.asarray(agreement, float)[None, :], weights, ideal)


def pareto_points(
    weights: np.ndarray, ideal: np.ndarray, resolution: int = FRONTIER_RESOLUTION
) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-optimal agreements by weighted sums, each exact (one LP per weight vector).

    The weight vectors are ``(a + 1) / sum(a + 1)`` for every vector ``a`` of non-negative integers
    summing to ``resolution``, and one per party with nearly all the weight on it (its end of the
    frontier): all strictly positive, so every maximiser is Pareto optimal.

    Args:
        weights: (n, K) each party's issue weights.
        ideal: (n, K) each party's ideal points.
        resolution: lattice steps; the number of LPs is C(resolution + n - 1, n - 1) + n.

    Returns:
        ``(utilities, agreements)``: (M, n) distinct frontier points and (M, K) agreements reaching them.

    >>> u, x = pareto_points(np.array([[0.8, 0.2], [0.2, 0.8]]), np.array([[1.0, 1.0], [0.0, 0.0]]), 2)
    >>> sorted(map(tuple, np.round(u, 6).tolist()))
    [(0.0, 1.0), (0.8, 0.8), (1.0, 0.0)]
    """
    weights, ideal = np.asarray(weights, float), np.asarray(ideal, float)
    parties, issues = weights.shape
    a_ub, b_ub = _gain_constraints(ideal)
    found: dict[tuple[float, ...], tuple[np.ndarray, np.ndarray]] = {}
    for shares in _lattice(parties, resolution):
        objective = np.concatenate([np.zeros(issues), -(shares[:, None] * weights).ravel()])
        result = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=(0.0, 1.0), method="highs")
        agreement = np.clip(result.x[:issues], 0.0, 1.0)
        values = party_utilities(agreement, weights, ideal)
        found.setdefault(tuple(np.round(values, 9)), (values, agreement))
    points = sorted(found.values(), key=lambda pair: tuple(pair[0]))
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


def frontier_gap(point: np.ndarray, weights: np.ndarray, ideal: np.ndarray) -> float:
    """Chebyshev distance from a utility vector to the weak Pareto frontier (one LP).

    Args:
        point: (n,) utilities, e.g. of an outcome.
        weights: (n, K) each party's issue weights.
        ideal: (n, K) each party's ideal points.

    Returns:
        The largest t such that some agreement gives every party at least ``point + t``: 0 on the
        frontier, positive below it, negative beyond it.

    >>> float(round(frontier_gap(np.zeros(2), np.array([[1.0], [1.0]]), np.array([[1.0], [0.0]])), 9))
    0.5
    """
    return _max_min_surplus(np.asarray(point, float), np.asarray(weights, float), np.asarray(ideal, float))[0]


def frontier_gaps(points: np.ndarray, weights: np.ndarray, ideal: np.ndarray) -> np.ndarray:
    """:func:`frontier_gap` of many outcomes at once: one LP made of independent blocks.

    The blocks share no variable, so maximising the sum of their ``t`` maximises each; one solver call
    replaces one per outcome (the solver's fixed cost dominates these small LPs). Equal to
    :func:`frontier_gap` row by row within the solver's tolerance (a test checks it).

    Args:
        points: (m, n) utilities of m outcomes.
        weights: (m, n, K) the parties' issue weights at each outcome's table.
        ideal: (m, n, K) their ideal points.

    Returns:
        (m,) the gaps.
    """
    points, weights, ideal = (np.asarray(a, float) for a in (points, weights, ideal))
    if points.shape[0] == 0:
        return np.zeros(0)
    blocks, bounds_high, rights = [], [], []
    for point, weight, position in zip(points, weights, ideal, strict=True):
        a_gain, b_gain = _gain_constraints(position)
        a_gain = np.hstack([a_gain, np.zeros((a_gain.shape[0], 1))])
        a_floor = np.hstack([-_utility_rows(weight), np.ones((weight.shape[0], 1))])
        blocks.append(np.vstack([a_gain, a_floor]))
        rights.append(np.concatenate([b_gain, -point]))
        high = np.ones(a_floor.shape[1])
        high[-1] = np.inf
        bounds_high.append(high)
    width = blocks[0].shape[1]
    low = np.zeros((len(blocks), width))
    low[:, -1] = -np.inf
    objective = np.zeros((len(blocks), width))
    objective[:, -1] = -1.0
    result = linprog(
        objective.reshape(-1),
        A_ub=sparse.block_diag([sparse.coo_array(block) for block in blocks], format="csr"),
        b_ub=np.concatenate(rights),
        bounds=np.column_stack([low.reshape(-1), np.concatenate(bounds_high)]),
        method="highs",
    )
    return result.x.reshape(len(blocks), width)[:, -1].copy()


@dataclass(frozen=True)
class Frontier:
    """The facets of one table's set of reachable utility vectors (downward closed), for fast gaps.

    With linear gains each utility is affine on every cell of the grid whose lines, issue by issue,
    are 0, 1 and the parties' ideal points; the reachable set (every utility vector some agreement
    weakly improves on) is then the convex hull of the grid points' utilities, closed downward. Its
    facets with non-negative normals ``a . v <= b`` describe it, and the Chebyshev gap of a point
    ``u`` is ``min over facets of (b - a . u) / sum(a)``, exactly :func:`frontier_gap` (a test checks
    it), for the cost of a matrix product.

    Attributes:
        normals: (F, n) facet normals, non-negative.
        offsets: (F,) facet offsets.
    """

    normals: np.ndarray
    offsets: np.ndarray

    def gaps(self, points: np.ndarray) -> np.ndarray:
        """(m,) Chebyshev gaps of (m, n) utility vectors to the weak Pareto frontier.

        Summed element by element rather than by a matrix product, whose rounding depends on how many
        points there are: a run's gap must not depend on the other runs of its block.
        """
        levels = (points[:, None, :] * self.normals[None, :, :]).sum(axis=-1)
        return np.min((self.offsets[None, :] - levels) / self.normals.sum(axis=1), axis=1)


GRID_LIMIT = 4096
"""Most grid points :func:`facets` takes (above it, use :func:`frontier_gaps`)."""


def facets(weights: np.ndarray, ideal: np.ndarray) -> Frontier | None:
    """The facets of one table's reachable utility set (see :class:`Frontier`), or None if too big.

    Args:
        weights: (n, K) each party's issue weights.
        ideal: (n, K) each party's ideal points.

    Returns:
        The facets, or None where the grid has more than ``GRID_LIMIT`` points or the hull fails.
    """
    weights, ideal = np.asarray(weights, float), np.asarray(ideal, float)
    parties, issues = weights.shape
    lines = [np.unique(np.concatenate([[0.0, 1.0], ideal[:, k]])) for k in range(issues)]
    if np.prod([len(line) for line in lines]) > GRID_LIMIT:
        return None
    grid = np.array(list(itertools.product(*lines))).reshape(-1, issues)
    points = np.array([party_utilities(x, weights, ideal) for x in grid])
    # close the hull downward: each point also pushed far below in every party's direction
    depth = 4.0
    below = (points[:, None, :] - depth * np.eye(parties)[None]).reshape(-1, parties)
    cloud = np.unique(np.vstack([points, below, points.min(axis=0) - depth]), axis=0)
    try:
        hull = ConvexHull(cloud)
    except QhullError:
        return None
    normals, offsets = hull.equations[:, :-1], -hull.equations[:, -1]
    upper = (normals >= -1e-12).all(axis=1) & (normals.sum(axis=1) > 1e-12)
    normals, offsets = np.maximum(normals[upper], 0.0), offsets[upper]
    return Frontier(normals, offsets)


def nash_point_n(weights: np.ndarray, ideal: np.ndarray, disagreement: np.ndarray) -> NashPoint:
    """The n-party Nash bargaining solution: the agreement maximising the product of gains over d.

    Args:
        weights: (n, K) each party's issue weights.
        ideal: (n, K) each party's ideal points.
        disagreement: (n,) each party's disagreement value (value of no deal).

    Returns:
        The Nash point (utilities and agreement), NaN where no agreement gives every party more than d.

    >>> nash = nash_point_n(np.array([[1.0], [1.0]]), np.array([[1.0], [0.0]]), np.zeros(2))
    >>> np.round(nash.utilities, 6).tolist()
    [0.5, 0.5]
    """
    weights, ideal = np.asarray(weights, float), np.asarray(ideal, float)
    disagreement = np.asarray(disagreement, float)
    parties, issues = weights.shape
    gap, start = _max_min_surplus(disagreement, weights, ideal)
    if not gap > 1e-12:
        return NashPoint(np.full(parties, np.nan), np.full(issues, np.nan))
    a_ub, b_ub = _gain_constraints(ideal)
    picks = _utility_rows(weights)

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        surplus = (picks * z).sum(
            axis=1
        ) - disagreement  # not a BLAS product: its rounding varies with threads
        if np.any(surplus <= 0.0):  # outside the domain: a wall the line search backs off from
            return 1e10, -picks.sum(axis=0)
        return float(-np.sum(np.log(surplus))), -(picks / surplus[:, None]).sum(axis=0)

    with threadpool_limits(1):  # SLSQP's linear algebra rounds differently with more BLAS threads
        result = minimize(
            objective,
            start,
            jac=True,
            method="SLSQP",
            bounds=Bounds(0.0, 1.0),
            constraints=[LinearConstraint(a_ub, -np.inf, b_ub)],
            options={"ftol": 1e-14, "maxiter": 1000},
        )
    best = result.x if result.fun <= objective(start)[0] else start
    agreement = np.clip(best[:issues], 0.0, 1.0)
    return NashPoint(party_utilities(agreement, weights, ideal), agreement)


def distance_to_point(point: np.ndarray, target: np.ndarray) -> float:
    """Euclidean distance in utility space, e.g. from an outcome to the Nash point (NaN if either is)."""
    return float(np.linalg.norm(np.asarray(point, float) - np.asarray(target, float)))


def _gain_constraints(ideal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``A z <= b`` saying ``g_ik`` is at most both affine pieces of party i's gain on issue k.

    The variables are ``z = (x_1..x_K, g_11..g_1K, ..., g_n1..g_nK)``. The pieces of
    :func:`negotiation.bargaining.preferences.gain` with curvature 1 are ``g <= 1 - (p - x) / p`` and
    ``g <= 1 - (x - p) / (1 - p)``; each is multiplied through by its span, ``p g - x <= 0`` and
    ``(1 - p) g + x <= 1``, so no coefficient blows up for an ideal point at or near an end (where
    the span is 0 the piece says only ``0 <= x <= 1``). An ideal point within about 1e-6 of an end,
    but not at it, leaves a gain so steep that the solver's feasibility tolerance shows in it.
    """
    parties, issues = ideal.shape
    rows = parties * issues
    a_ub = np.zeros((2 * rows, issues + rows))
    b_ub = np.zeros(2 * rows)
    for row, (party, issue) in enumerate(itertools.product(range(parties), range(issues))):
        gain_column = issues + row
        a_ub[2 * row, [issue, gain_column]] = [-1.0, ideal[party, issue]]
        a_ub[2 * row + 1, [issue, gain_column]] = [1.0, 1.0 - ideal[party, issue]]
        b_ub[2 * row + 1] = 1.0
    return a_ub, b_ub


def _utility_rows(weights: np.ndarray) -> np.ndarray:
    """(n, K + n K): row i times ``z = (x, g)`` is party i's utility ``sum_k w_ik g_ik``."""
    parties, issues = weights.shape
    rows = np.zeros((parties, issues + parties * issues))
    for party in range(parties):
        rows[party, issues + party * issues : issues + (party + 1) * issues] = weights[party]
    return rows


def _max_min_surplus(point: np.ndarray, weights: np.ndarray, ideal: np.ndarray) -> tuple[float, np.ndarray]:
    """The LP ``max t`` s.t. ``u_i >= point_i + t`` for all i; returns t and the (x, g) reaching it."""
    parties = weights.shape[0]
    a_gain, b_gain = _gain_constraints(ideal)
    a_gain = np.hstack([a_gain, np.zeros((a_gain.shape[0], 1))])
    # -sum_k w_ik g_ik + t <= -point_i
    a_floor = np.hstack([-_utility_rows(weights), np.ones((parties, 1))])
    objective = np.zeros(a_floor.shape[1])
    objective[-1] = -1.0
    bounds = [(0.0, 1.0)] * (a_floor.shape[1] - 1) + [(None, None)]
    result = linprog(
        objective,
        A_ub=np.vstack([a_gain, a_floor]),
        b_ub=np.concatenate([b_gain, -point]),
        bounds=bounds,
        method="highs",
    )
    return float(result.x[-1]), result.x[:-1]


def _lattice(parties: int, resolution: int) -> list[np.ndarray]:
    """Strictly positive weight vectors ``(a + 1) / sum(a + 1)`` with ``sum(a) = resolution``.

    Also each party's best end of the frontier: nearly all the weight on that party and
    ``EXTREME_SHARE`` on each other one (its best agreement, then the best for the others).
    """
    vectors = [np.where(np.arange(parties) == party, 1.0, EXTREME_SHARE) for party in range(parties)]
    for cuts in itertools.combinations(range(resolution + parties - 1), parties - 1):
        bounds = (-1, *cuts, resolution + parties - 1)
        counts = np.diff(bounds) - 1
        vectors.append((counts + 1.0) / (counts + 1.0).sum())
    return vectors
