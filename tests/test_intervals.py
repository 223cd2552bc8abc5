"""Wilson intervals agree with scipy's binomtest."""

import numpy as np
import pytest
from scipy.stats import binomtest

from negotiation.intervals import wilson_half_width, wilson_interval


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 10), (3, 10), (10, 10), (50, 100), (1, 9600)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_scalar_matches_scipy(k: int, n: int, confidence: float) -> None:
    expected = binomtest(k, n).proportion_ci(confidence, method="wilson")
    low, high = wilson_interval(k, n, confidence)
    assert isinstance(low, float)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_vectorised_matches_scalar() -> None:
    k = np.array([0, 4, 17, 30])
    n = np.array([5, 10, 40, 30])
    low, high = wilson_interval(k, n)
    for i in range(len(k)):
        ci = binomtest(int(k[i]), int(n[i])).proportion_ci(0.95, method="wilson")
        assert low[i] == pytest.approx(ci.low, abs=1e-12)
        assert high[i] == pytest.approx(ci.high, abs=1e-12)


def test_zero_trials_is_whole_unit_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_half_width_about_one_point_at_9600_runs() -> None:
    assert wilson_half_width(4800, 9600) == pytest.approx(0.01, abs=2e-4)
    assert np.all(wilson_half_width(np.array([50, 2]), np.array([100, 100])) > 0)
