"""One agreement measured in plain Python floats gives the vectorised measures bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation.bargaining import analysis, scalar_analysis

# ideal points at the ends of the ranges and in between, weights that may be 0 (an issue one side
# ignores), agreements and values of no deal anywhere around the frontier
_ideal = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0.0, 1.0))
_weight = st.one_of(st.just(0.0), st.floats(0.0, 1.0))
_utility = st.floats(-0.5, 1.5)


def _row(k: int) -> st.SearchStrategy:
    return st.tuples(
        st.lists(st.lists(_weight, min_size=k, max_size=k), min_size=2, max_size=2),
        st.lists(st.lists(_ideal, min_size=k, max_size=k), min_size=2, max_size=2),
        st.tuples(_utility, _utility),
        st.tuples(_utility, _utility),
    )


def _vectorised(weights, ideal, reached, floor):
    """The vectorised measures of these rows, on the path taken for many rows."""
    frontier = analysis.pareto_frontier(weights, ideal)
    point = analysis.nash_point(frontier, floor)
    return analysis.distance_to_frontier(reached, frontier), np.linalg.norm(reached - point, axis=-1)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 9).flatmap(lambda k: st.lists(_row(k), min_size=1, max_size=12)))
def test_scalar_measures_are_the_vectorised_ones(rows):
    raw = np.array([[w for w in row[0]] for row in rows])
    weights = raw / np.where(raw.sum(axis=-1, keepdims=True) > 0, raw.sum(axis=-1, keepdims=True), 1.0)
    ideal = np.array([row[1] for row in rows])
    reached, floor = np.array([row[2] for row in rows]), np.array([row[3] for row in rows])
    pareto, nash = _vectorised(weights, ideal, reached, floor)
    for i in range(len(rows)):
        frontier = analysis.pareto_frontier(weights[i : i + 1], ideal[i : i + 1])[0]
        assert scalar_analysis.linear_frontier(*weights[i].tolist(), *ideal[i].tolist()) == [
            tuple(v) for v in frontier.tolist()
        ]
        mine = scalar_analysis.measure_linear_agreement(
            weights[i].tolist(), ideal[i].tolist(), tuple(reached[i].tolist()), tuple(floor[i].tolist())
        )
        np.testing.assert_array_equal(mine, (pareto[i], nash[i]), err_msg=f"row {i}")
    # and measure_agreements, which takes the scalar path for a few rows, the vectorised one for more
    curvature = np.ones((len(rows), 2, 1))
    few = analysis.measure_agreements(weights, ideal, curvature, reached, floor)
    np.testing.assert_array_equal(few, (pareto, nash))


def test_a_frontier_point_short_of_the_floor_has_no_nash_point():
    weights = [[0.8, 0.2], [0.2, 0.8]]
    ideal = [[1.0, 1.0], [0.0, 0.0]]
    frontier = scalar_analysis.linear_frontier(*weights, *ideal)
    assert frontier == [(0.0, 1.0), (0.8, 0.8), (1.0, 0.0)]
    assert scalar_analysis.nash_point(frontier, (0.0, 0.0)) == (0.8, 0.8)
    nowhere = scalar_analysis.nash_point(frontier, (0.9, 0.9))  # no point gives both more
    assert all(np.isnan(nowhere))
    assert np.isnan(scalar_analysis.measure_linear_agreement(weights, ideal, (0.5, 0.5), (0.9, 0.9))[1])
