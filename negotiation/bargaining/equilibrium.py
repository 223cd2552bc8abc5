"""The subgame-perfect equilibrium of the finite alternating-offers game, by backward induction.

Two sides with complete information take turns to propose (side 0 at even rounds since the table
opened), up to the table's last round ``D``. Without a deal each side gets its value of no deal
``r``; a deal one round later is worth ``r + d * (u - r) - c`` now (discount factor ``d``, cost of
delay ``c``, as everywhere in the model), and no side accepts or proposes less than ``r``. Working
back from the last round (Stahl 1972; Rubinstein 1982 is its limit with a long horizon):

- in the last round the responder accepts anything worth ``r`` to it, so the proposer takes the best
  point of the Pareto frontier that leaves the responder ``r`` (ultimatum power);
- in round ``n`` the responder accepts what is worth at least ``theta = max(r, r + d * (W(n+1) - r) -
  c)`` to it, ``W(n+1)`` being its value of the game from the next round; the proposer offers exactly
  that, on the frontier, if what is left for itself beats waiting, and the deal is struck at once.

The frontier is that of :func:`negotiation.bargaining.analysis.pareto_frontier`: exact for linear
gains, a polyline through sampled points for curved ones (the proposer's share is then slightly
understated). Binary issues are solved exactly by taking, at every ``theta``, the best of the
frontiers of each package of binary values. Walk-outs are not part of the game: it is the benchmark
of rational, patient-to-the-degree-``d`` sides who know each other's preferences.

With one divisible issue, ``r = 0`` and a long horizon the first proposer's share tends to
``(1 - d2) / (1 - d1 d2)``; with ``d = 1`` the side that proposes last takes everything. Tests check
both and the exact split of short horizons.
"""

from __future__ import annotations

import numpy as np

from negotiation.bargaining.analysis import pareto_frontier
from negotiation.bargaining.preferences import gain


def package_frontiers(
    weights: np.ndarray, ideal: np.ndarray, curvature: np.ndarray, binary: np.ndarray
) -> np.ndarray:
    """Pareto frontier of each package of binary values, in utility space.

    Args:
        weights: (R, 2, K) both sides' true weights.
        ideal: (R, 2, K) both sides' ideal points.
        curvature: (R, 2) both sides' gain curvature.
        binary: (R, K) True for binary issues.

    Returns:
        (R, P, M, 2): for each of the P = 2**b packages (b the most binary issues in a row), the
        frontier over the continuous issues, shifted by what the package's binary values are worth to
        each side; M vertices from side 1's best point to side 0's. Rows with fewer binary issues
        repeat packages, which changes no maximum.
    """
    continuous = np.where(binary[:, None, :], 0.0, weights)
    linear = (curvature == 1.0).all(axis=-1)
    parts = []
    for group in (np.flatnonzero(linear), np.flatnonzero(~linear)):
        if group.size:
            parts.append((group, pareto_frontier(continuous[group], ideal[group], curvature[group])))
    width = max(frontier.shape[-2] for _, frontier in parts)
    base = np.empty((weights.shape[0], width, 2))
    for group, frontier in parts:
        pad = np.repeat(frontier[..., -1:, :], width - frontier.shape[-2], axis=-2)
        base[group] = np.concatenate([frontier, pad], axis=-2)
    n_binary = int(binary.sum(axis=-1).max())
    rank = np.maximum(np.cumsum(binary, axis=-1) - 1, 0)
    shifted = []
    for package in range(2**n_binary):
        values = np.where(binary, (package >> rank) & 1, 0).astype(float)[:, None, :]
        worth = np.sum(
            np.where(binary[:, None, :], weights * gain(values, ideal, curvature[..., None]), 0.0), -1
        )
        shifted.append(base + worth[:, None, :])
    return np.stack(shifted, axis=1)


def best_given(frontiers: np.ndarray, floor: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The most ``side`` can get while the other side gets at least ``floor``.

    Args:
        frontiers: (R, P, M, 2) from :func:`package_frontiers`.
        floor: (R,) the least the other side must get.
        side: 0 or 1.

    Returns:
        ``side``'s utility (-inf where no point gives the other side ``floor``) and the other side's
        utility at that point, each (R,).

    >>> f = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    >>> [a.tolist() for a in best_given(f, np.array([0.25]), 0)]
    [[0.75], [0.25]]
    """
    points = frontiers if side == 0 else frontiers[..., ::-1, :]
    mine, other = points[..., side], points[..., 1 - side]  # other falls along the polyline
    theta = floor[:, None, None]
    count = np.sum(other >= theta, axis=-1)  # (R, P): vertices that give the other side enough
    last = points.shape[-2] - 1
    j = np.clip(count - 1, 0, last)
    k = np.clip(count, 0, last)
    m_j, m_k = (
        np.take_along_axis(mine, j[..., None], -1)[..., 0],
        np.take_along_axis(mine, k[..., None], -1)[..., 0],
    )
    o_j, o_k = (
        np.take_along_axis(other, j[..., None], -1)[..., 0],
        np.take_along_axis(other, k[..., None], -1)[..., 0],
    )
    inside = (count > 0) & (count <= last)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(
            inside & (o_j > o_k), (o_j - floor[:, None]) / np.where(o_j > o_k, o_j - o_k, 1.0), 0.0
        )
    value = np.where(count == 0, -np.inf, m_j + share * (m_k - m_j))
    given = np.where(inside, np.maximum(floor[:, None], o_j + share * (o_k - o_j)), o_j)
    best = np.argmax(value, axis=-1)
    pick = best[:, None]
    return np.take_along_axis(value, pick, -1)[:, 0], np.take_along_axis(given, pick, -1)[:, 0]


def subgame_perfect_values(
    frontiers: np.ndarray,
    value: np.ndarray,
    discount: np.ndarray,
    delay_cost: np.ndarray,
    duration: np.ndarray,
) -> np.ndarray:
    """Each side's equilibrium value of the game from every round, by backward induction.

    Args:
        frontiers: (R, P, M, 2) from :func:`package_frontiers`.
        value: (R, 2) values of no deal.
        discount: (R, 2) per-round discount factors.
        delay_cost: (R, 2) per-round costs of delay.
        duration: (R,) last round of each table, counted from its opening (deadline - opens).

    Returns:
        (R, D + 1, 2) ``W[:, n, s]``: what side ``s`` gets in equilibrium from round ``n`` on (D the
        longest duration; rounds past a row's duration are not meaningful). Where a deal is struck
        in round ``n``, the proposer's entry is its share and the responder's is what it is offered.

    >>> pie = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    >>> half, none = np.full((1, 2), 0.5), np.zeros((1, 2))
    >>> w = subgame_perfect_values(pie, none, half, none, np.array([2]))
    >>> w[0, :, 0].tolist()  # side 0 proposes in rounds 0 and 2
    [0.75, 0.5, 1.0]
    """
    n_rows = value.shape[0]
    longest = int(duration.max()) if n_rows else 0
    values = np.zeros((n_rows, longest + 1, 2))
    for n in range(longest, -1, -1):
        proposer, responder = n % 2, 1 - n % 2
        following = values[:, min(n + 1, longest)]
        waiting = value + discount * (following - value) - delay_cost
        continuation = np.where((duration <= n)[:, None], value, waiting)
        floor = np.maximum(value[:, responder], continuation[:, responder])
        share, offered = best_given(frontiers, floor, proposer)
        deal = share >= np.maximum(value[:, proposer], continuation[:, proposer]) - 1e-12
        values[:, n, proposer] = np.where(deal, share, continuation[:, proposer])
        values[:, n, responder] = np.where(deal, offered, continuation[:, responder])
    return values
