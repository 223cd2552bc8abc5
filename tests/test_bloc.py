"""A bloc's collective decision (negotiation.bargaining.bloc), checked against Black's median theorem."""

from __future__ import annotations

from random import Random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation.bargaining.bloc import TOLERANCE, DecisionRule, common_position

BLACK_TOLERANCE = 1e-7
"""How close the converged position must come to the weighted median. With equal salience every
carried concession is at least half the way, so a stance that still moves less than TOLERANCE per
iteration is within 2 (M - 1) TOLERANCE <= 1.4e-9 of the median set for M <= 8 members."""

unit = st.floats(0.0, 1.0, allow_nan=False)
capability = st.floats(0.05, 1.0, allow_nan=False)


def median_interval(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The set of weighted medians, {y : weight below y <= half and weight above y <= half}.

    It is an interval whose ends are data points (a single point unless the weights split exactly).
    """
    half = weights.sum() / 2.0
    medians = [
        y
        for y in values
        if weights[values < y].sum() <= half + 1e-12 and weights[values > y].sum() <= half + 1e-12
    ]
    return min(medians), max(medians)


def total_loss(point: np.ndarray, ideal: np.ndarray, clout: np.ndarray) -> np.ndarray:
    """F(y) = sum_h w_h |p_h - y| per issue, for stances (..., K)."""
    return np.sum(clout * np.abs(ideal - point[..., None, :]), axis=-2)


@st.composite
def one_issue_bloc(draw: st.DrawFn, max_members: int = 8) -> tuple[np.ndarray, np.ndarray]:
    members = draw(st.integers(1, max_members))
    ideal = np.array(draw(st.lists(unit, min_size=members, max_size=members)))
    weights = np.array(draw(st.lists(capability, min_size=members, max_size=members)))
    return ideal, weights


@st.composite
def bloc_with_ranges(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    members, issues = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    shape = (members, issues)

    def grid() -> np.ndarray:
        return np.array(draw(st.lists(unit, min_size=members * issues, max_size=members * issues))).reshape(
            shape
        )

    ideal = grid()
    salience = np.clip(grid(), 0.05, 1.0)
    caps = np.array(draw(st.lists(capability, min_size=members, max_size=members)))
    low = ideal - 0.5 * grid() * ideal
    high = ideal + 0.5 * grid() * (1.0 - ideal)
    return ideal, salience, caps, low, high


# --- Black's median voter theorem ----------------------------------------------------------------


@given(one_issue_bloc())
def test_majority_on_one_issue_with_equal_salience_converges_to_the_capability_weighted_median(
    bloc: tuple[np.ndarray, np.ndarray],
) -> None:
    ideal, caps = bloc
    decision = common_position(ideal, np.ones_like(ideal), caps, DecisionRule.majority())
    low, high = median_interval(ideal, caps)
    assert decision.converged
    assert low - BLACK_TOLERANCE <= decision.position[0] <= high + BLACK_TOLERANCE
    # not just the compromise: every member's stance has come to the median
    assert np.all(decision.stances >= low - BLACK_TOLERANCE) and np.all(
        decision.stances <= high + BLACK_TOLERANCE
    )


@settings(max_examples=25)
@given(one_issue_bloc(max_members=5), st.lists(st.floats(0.5, 1.0), min_size=5, max_size=5))
def test_majority_with_unequal_salience_converges_to_the_capability_times_salience_median(
    bloc: tuple[np.ndarray, np.ndarray], saliences: list[float]
) -> None:
    ideal, caps = bloc
    salience = np.array(saliences[: ideal.size])
    decision = common_position(ideal, salience, caps, DecisionRule.majority(), tolerance=1e-12)
    low, high = median_interval(ideal, caps * salience)
    assert decision.converged
    assert low - BLACK_TOLERANCE <= decision.position[0] <= high + BLACK_TOLERANCE


def test_a_strong_member_pulls_the_bloc_from_the_compromise_to_its_own_position() -> None:
    # capability 5 of 9: the member at 0 is the weighted median, though the capability-weighted mean of
    # the ideal points (where the iteration starts) is 2.6 / 9
    ideal = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    decision = common_position(
        ideal, np.ones(5), np.array([5.0, 1.0, 1.0, 1.0, 1.0]), DecisionRule.majority()
    )
    assert decision.compromise_history[0, 0] == pytest.approx(2.6 / 9)
    assert decision.position[0] == pytest.approx(0.0, abs=BLACK_TOLERANCE)
    assert decision.iterations > 10  # it took challenges to get there


def test_each_issue_is_decided_on_its_own_median() -> None:
    ideal = np.array([[0.1, 0.9], [0.5, 0.2], [0.8, 0.3]])
    salience = np.array([[1.0, 0.2], [0.2, 1.0], [0.2, 1.0]])
    decision = common_position(ideal, salience, np.ones(3), DecisionRule.majority(), tolerance=1e-12)
    # issue 0: clout 1, 0.2, 0.2 -> member 0 alone has more than half; issue 1: the median is 0.3
    np.testing.assert_allclose(decision.position, [0.1, 0.3], atol=BLACK_TOLERANCE)


@given(bloc_with_ranges())
def test_every_moving_stance_lowers_its_total_weighted_loss(bloc: tuple[np.ndarray, ...]) -> None:
    """The invariant behind convergence: stances move only toward lower F, and F is convex."""
    ideal, salience, caps, _, _ = bloc
    clout = caps[:, None] * salience
    for rule in (DecisionRule.majority(), DecisionRule.qualified(2 / 3)):
        history = common_position(ideal, salience, caps, rule, max_iterations=200).stance_history
        losses = total_loss(history, ideal, clout)  # (T + 1, M, K)
        assert np.all(np.diff(losses, axis=0) <= 1e-12)


def test_a_qualified_majority_stops_short_of_the_median() -> None:
    ideal = np.array([0.0, 0.1, 0.2, 0.6, 0.8, 1.0])
    caps = np.array([1.0, 1.0, 1.5, 1.0, 1.0, 1.0])  # the median is 0.2 alone (no exact split)
    majority = common_position(ideal, np.ones(6), caps, DecisionRule.majority())
    qualified = common_position(ideal, np.ones(6), caps, DecisionRule.qualified(0.75))
    assert np.ptp(majority.stances) < 1e-7
    assert np.ptp(qualified.stances) > 0.1
    assert qualified.converged


# --- consensus -----------------------------------------------------------------------------------


@given(bloc_with_ranges())
def test_consensus_is_inside_every_members_acceptable_range_or_reports_that_none_exists(
    bloc: tuple[np.ndarray, ...],
) -> None:
    ideal, salience, caps, low, high = bloc
    decision = common_position(ideal, salience, caps, DecisionRule.consensus(), acceptable=(low, high))
    shared = low.max(axis=0) <= high.min(axis=0)
    np.testing.assert_array_equal(decision.deadlocked_issues, ~shared)
    if shared.all():
        assert decision.exists
        assert np.all(decision.position >= low) and np.all(decision.position <= high)
        assert not decision.outside_range.any()
    else:
        assert not decision.exists and decision.position is None


def test_consensus_without_ranges_moves_no_stance_from_an_ideal_point() -> None:
    # every challenge is opposed at least by the challenged member itself, so none is unanimous
    ideal = np.array([[0.1, 0.7], [0.4, 0.2], [0.9, 0.5]])
    caps = np.array([1.0, 2.0, 3.0])
    decision = common_position(ideal, np.ones_like(ideal), caps, DecisionRule.consensus())
    np.testing.assert_array_equal(decision.stances, ideal)
    np.testing.assert_allclose(decision.position, caps @ ideal / caps.sum())


def test_consensus_with_disjoint_ranges_on_one_issue_has_no_common_position() -> None:
    ideal = np.array([[0.1, 0.5], [0.9, 0.5]])
    low, high = np.array([[0.0, 0.0], [0.8, 0.0]]), np.array([[0.3, 1.0], [1.0, 1.0]])
    decision = common_position(
        ideal, np.ones((2, 2)), np.ones(2), DecisionRule.consensus(), acceptable=(low, high)
    )
    assert not decision.exists
    np.testing.assert_array_equal(decision.deadlocked_issues, [True, False])


def test_majority_reports_the_members_whose_range_the_position_leaves() -> None:
    ideal = np.array([0.1, 0.5, 0.55])
    low, high = np.array([0.0, 0.4, 0.45]), np.array([0.2, 0.6, 0.65])
    decision = common_position(ideal, np.ones(3), np.ones(3), DecisionRule.majority(), acceptable=(low, high))
    np.testing.assert_array_equal(decision.outside_range, [True, False, False])


# --- reductions and reproducibility --------------------------------------------------------------


@given(bloc_with_ranges())
def test_a_bloc_of_one_is_that_member(bloc: tuple[np.ndarray, ...]) -> None:
    ideal, salience, caps, low, high = (array[:1] for array in bloc)
    for rule in (DecisionRule.majority(), DecisionRule.qualified(0.6), DecisionRule.consensus()):
        decision = common_position(ideal, salience, caps, rule, acceptable=(low, high))
        np.testing.assert_array_equal(decision.position, ideal[0])
        assert decision.converged and decision.iterations == 1


@given(bloc_with_ranges())
def test_same_inputs_give_bit_identical_decisions(bloc: tuple[np.ndarray, ...]) -> None:
    ideal, salience, caps, low, high = bloc
    first, second = (
        common_position(
            ideal, salience, caps, DecisionRule.majority(), acceptable=(low, high), max_iterations=300
        )
        for _ in range(2)
    )
    np.testing.assert_array_equal(first.stance_history, second.stance_history)
    np.testing.assert_array_equal(first.position, second.position)
    assert first.iterations == second.iterations


@given(bloc_with_ranges(), st.randoms(use_true_random=False))
def test_the_order_of_the_members_does_not_matter(bloc: tuple[np.ndarray, ...], random: Random) -> None:
    ideal, salience, caps, low, high = bloc
    order = list(range(ideal.shape[0]))
    random.shuffle(order)
    rule = DecisionRule.qualified(0.6)
    first = common_position(ideal, salience, caps, rule, acceptable=(low, high), max_iterations=300)
    second = common_position(
        ideal[order],
        salience[order],
        caps[order],
        rule,
        acceptable=(low[order], high[order]),
        max_iterations=300,
    )
    np.testing.assert_allclose(first.position, second.position, atol=1e-9)
    np.testing.assert_allclose(first.stances[order], second.stances, atol=1e-9)


def test_the_iteration_stops_at_the_cap_and_says_it_did_not_converge() -> None:
    ideal = np.array([0.0, 0.3, 1.0])
    decision = common_position(ideal, np.ones(3), np.ones(3), DecisionRule.majority(), max_iterations=3)
    assert decision.iterations == 3 and not decision.converged
    assert decision.stance_history.shape == (4, 3, 1)


def test_the_default_tolerance_is_what_the_docs_state() -> None:
    assert TOLERANCE == 1e-10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ideal": np.array([0.5, 1.5])}, "ideal"),
        ({"salience": np.array([0.0, 1.0])}, "salience"),
        ({"capability": np.array([1.0, -1.0])}, "capability"),
        ({"capability": np.array([1.0])}, "capability: expected shape"),
        ({"acceptable": (np.array([0.6, 0.0]), np.array([1.0, 1.0]))}, "acceptable range"),
    ],
)
def test_bad_inputs_are_refused_with_the_name_of_the_field(kwargs: dict, message: str) -> None:
    arguments = {"ideal": np.array([0.5, 0.5]), "salience": np.ones(2), "capability": np.ones(2)} | kwargs
    with pytest.raises(ValueError, match=message):
        common_position(**arguments)


@pytest.mark.parametrize(
    ("name", "quota"), [("majority", 0.6), ("qualified", 0.5), ("qualified", 1.0), ("unanimous", 1.0)]
)
def test_decision_rules_refuse_quotas_that_do_not_fit_them(name: str, quota: float) -> None:
    with pytest.raises(ValueError, match="decision rule"):
        DecisionRule(name, quota)
