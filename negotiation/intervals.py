"""Confidence intervals for proportions (deal probabilities), vectorised over numpy arrays.

The Wilson score interval is used everywhere a deal probability is reported: it behaves well near
0 and 1 (unlike the normal approximation) and matches ``scipy.stats.binomtest(k, n)
.proportion_ci(confidence, method="wilson")``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def wilson_interval(
    successes: int | np.ndarray, n: int | np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Wilson score interval of a binomial proportion.

    Args:
        successes: Number of successes (e.g. deals); scalar or array.
        n: Number of trials (runs); scalar or array broadcastable with ``successes``.
        confidence: Two-sided confidence level, in (0, 1).

    Returns:
        ``(low, high)``, floats for scalar input, arrays otherwise. Where ``n`` is 0 the interval
        is the whole of [0, 1].

    >>> low, high = wilson_interval(5, 10)
    >>> round(low, 4), round(high, 4)
    (0.2366, 0.7634)
    """
    k = np.asarray(successes, dtype=float)
    trials = np.asarray(n, dtype=float)
    z = float(norm.ppf(0.5 + confidence / 2))
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / trials
        denominator = 1 + z2 / trials
        centre = (p + z2 / (2 * trials)) / denominator
        half = z * np.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
        # at k = 0 and k = n the exact ends are 0 and 1; rounding would leave them a hair inside
        low = np.where((trials > 0) & (k > 0), np.clip(centre - half, 0.0, 1.0), 0.0)
        high = np.where((trials > 0) & (k < trials), np.clip(centre + half, 0.0, 1.0), 1.0)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def wilson_half_width(
    successes: int | np.ndarray, n: int | np.ndarray, confidence: float = 0.95
) -> np.ndarray | float:
    """Half the width of the Wilson interval (the "+/-" of a precision target)."""
    low, high = wilson_interval(successes, n, confidence)
    return (np.asarray(high) - np.asarray(low)) / 2 if np.ndim(low) else (high - low) / 2
