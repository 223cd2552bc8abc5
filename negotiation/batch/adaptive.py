"""Adaptive replication: how many more runs each design point needs to meet a precision target.

Pure functions of the deal counts so far, so the decisions (and therefore the results) are the same
for any worker count, backend or interruption. A point is done when, at every table, the Wilson 95%
interval of its deal probability is at most +/-``precision`` wide, or when it reaches the cap.
A point that is not done jumps to the run count that the usual sample-size formula predicts (with
the Agresti-Coull estimate ``(deals + 2) / (runs + 4)``, so a table at 0 deals still asks for
enough), rounded up to whole blocks; the next round checks again. A deal near 50% thus gets far
more runs than one near 2%.
"""

from __future__ import annotations

import math

import numpy as np

from negotiation.intervals import wilson_half_width

Z95 = 1.959963984540054
"""Standard-normal quantile of a two-sided 95% interval."""


def unmet(deals: np.ndarray, runs: np.ndarray, precision: float, cap: int) -> np.ndarray:
    """Which design points still miss the target and may grow.

    Args:
        deals: (P, T) deals per point and table.
        runs: (P,) runs per point.
        precision: Target half-width of the Wilson 95% interval.
        cap: Maximum runs per point.

    Returns:
        (P,) booleans.
    """
    widths = np.asarray(wilson_half_width(deals, runs[:, None]))
    return (widths > precision).any(axis=1) & (runs < cap)


def next_targets(deals: np.ndarray, runs: np.ndarray, precision: float, block: int, cap: int) -> np.ndarray:
    """Run counts to grow each design point to (equal to ``runs`` where the point is done).

    Args:
        deals: (P, T) deals per point and table.
        runs: (P,) runs per point so far.
        precision: Target half-width of the Wilson 95% interval.
        block: Replications per chunk; targets are whole blocks (or the cap).
        cap: Maximum runs per point.

    Returns:
        (P,) integer targets, each ``runs`` (done) or more, at most ``cap``.

    >>> next_targets(np.array([[50], [0]]), np.array([100, 100]), 0.05, 100, 10_000).tolist()
    [400, 100]
    """
    p = (deals + 2.0) / (runs[:, None] + 4.0)
    needed = np.ceil(Z95**2 * p * (1 - p) / precision**2).max(axis=1)
    whole_blocks = np.ceil(needed / block) * block
    grown = np.minimum(np.maximum(whole_blocks, runs + block), cap).astype(np.int64)
    return np.where(unmet(deals, runs, precision, cap), grown, runs)


def blocks(start: int, stop: int, block: int) -> list[tuple[int, int]]:
    """Split replications [start, stop) at multiples of ``block``.

    >>> blocks(0, 250, 100)
    [(0, 100), (100, 200), (200, 250)]
    """
    first = math.floor(start / block) * block
    edges = [*range(first + block, stop, block), stop]
    bounds, low = [], start
    for high in edges:
        if high > low:
            bounds.append((low, high))
            low = high
    return bounds
