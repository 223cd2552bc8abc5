"""The equilibrium strategy against bargaining theory (negotiation.bargaining.equilibrium).

Rubinstein (1982): with one divisible issue, values of no deal 0 and discount factors d1 (first
proposer) and d2, the first proposer's share is (1 - d2) / (1 - d1 d2) in the infinite game; a long
deadline comes within a hair of it. Stahl (1972): with a short deadline, backward induction gives an
exact split; without discounting the last proposer takes everything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import run_model

from negotiation.bargaining.analysis import pareto_frontier
from negotiation.bargaining.equilibrium import best_given, package_frontiers, subgame_perfect_values
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict


def pie(
    discount: tuple[float, float],
    deadline: int,
    values: tuple[float, float] = (0.0, 0.0),
    delay_cost: tuple[float, float] = (0.0, 0.0),
    kinds: tuple[str, str] = ("equilibrium", "equilibrium"),
) -> Scenario:
    """One divisible issue (a pie): ``a`` wants it high, ``b`` low; status quo in the middle.

    The status quo is worth 0.5 to each; the outside options make the values of no deal ``values``.
    Leverage, pressure and resolve are neutral, so the discount factors are the actors' own.
    """
    actors = {}
    for i, (actor, other) in enumerate((("a", "b"), ("b", "a"))):
        actors[actor] = {
            "name": actor,
            "leverage": 0.5,
            "domestic_pressure": 0.5,
            "resolve": 0.5,
            "rapport": {other: 0.5},
            "discount": discount[i],
            "delay_cost": delay_cost[i],
            "strategy": {"kind": kinds[i]},
        }
    data: dict[str, Any] = {
        "name": "pie",
        "issues": {"x": {"name": "x", "unit": "share", "low": 0.0, "high": 1.0, "status_quo": 0.5}},
        "actors": actors,
        "tables": {
            "t": {
                "name": "t",
                "parties": ["a", "b"],
                "issues": ["x"],
                "opens": 0,
                "deadline": deadline,
                "breakdown_risk": 0.0,
                "preferences": {
                    "a": {
                        "weights": {"x": 1.0},
                        "ideal": {"x": "increase"},
                        "outside_option": values[0] - 0.5,
                    },
                    "b": {
                        "weights": {"x": 1.0},
                        "ideal": {"x": "decrease"},
                        "outside_option": values[1] - 0.5,
                    },
                },
            }
        },
    }
    return scenario_from_dict(data, "<pie>")


def first_round_split(scenario: Scenario) -> dict[str, float]:
    outcome = run_model(scenario, seed=0).outcomes()[0]
    assert (outcome.status, outcome.round) == ("deal", 0), outcome
    return outcome.utilities


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.9), (0.9, 0.8), (0.95, 0.7), (0.8, 0.95), (0.99, 0.99)])
def test_a_long_deadline_gives_the_rubinstein_share(d1: float, d2: float) -> None:
    # the finite game's share differs from the limit by about (d1 d2)^(D/2): 1000 rounds suffice
    split = first_round_split(pie((d1, d2), deadline=1000))
    assert split["a"] == pytest.approx((1 - d2) / (1 - d1 * d2), abs=0.005)
    assert split["a"] + split["b"] == pytest.approx(1.0)


def backward_induction_by_hand(d1: float, d2: float, deadline: int) -> float:
    """The first proposer's share of a pie when the game ends after round ``deadline`` (values 0)."""
    discount = (d1, d2)
    proposer_share = 1.0  # in the last round the proposer takes everything
    for n in range(deadline - 1, -1, -1):
        responder = 1 - n % 2
        proposer_share = 1.0 - discount[responder] * proposer_share
    return proposer_share


@pytest.mark.parametrize(
    ("d1", "d2", "deadline"), [(0.9, 0.8, 3), (0.9, 0.8, 4), (0.6, 0.95, 1), (0.5, 0.5, 2)]
)
def test_a_short_deadline_gives_the_exact_backward_induction_split(
    d1: float, d2: float, deadline: int
) -> None:
    split = first_round_split(pie((d1, d2), deadline=deadline))
    assert split["a"] == pytest.approx(backward_induction_by_hand(d1, d2, deadline), abs=1e-12)


def test_the_split_of_three_rounds_worked_out() -> None:
    # round 3: b takes all; round 2: a leaves b 0.8 * 1; round 1: b leaves a 0.9 * 0.2;
    # round 0: a leaves b 0.8 * 0.82 = 0.656 and keeps 0.344
    assert first_round_split(pie((0.9, 0.8), deadline=3)) == pytest.approx({"a": 0.344, "b": 0.656})


@pytest.mark.parametrize("deadline", [1, 2, 5, 10, 11])
def test_without_discounting_the_last_proposer_takes_everything(deadline: int) -> None:
    split = first_round_split(pie((1.0, 1.0), deadline=deadline))
    last, other = ("a", "b") if deadline % 2 == 0 else ("b", "a")
    assert split[last] == pytest.approx(1.0, abs=1e-12)
    assert split[other] == pytest.approx(0.0, abs=1e-12)


def test_without_discounting_the_last_proposer_leaves_the_other_its_value_of_no_deal() -> None:
    split = first_round_split(pie((1.0, 1.0), deadline=6, values=(0.2, 0.3)))
    assert split == pytest.approx({"a": 0.7, "b": 0.3})


def test_a_cost_of_delay_works_like_rubinsteins_fixed_costs() -> None:
    # deadline 1, no discounting: b would take all in round 1, but waiting costs it 0.1, so in round 0
    # a offers b 1 - 0.1 and keeps 0.1
    assert first_round_split(pie((1.0, 1.0), deadline=1, delay_cost=(0.0, 0.1))) == pytest.approx(
        {"a": 0.1, "b": 0.9}
    )


def test_no_deal_when_the_values_of_no_deal_leave_no_room() -> None:
    outcome = run_model(pie((0.9, 0.9), deadline=5, values=(0.6, 0.5)), seed=0).outcomes()[0]
    assert outcome.status == "deadline"
    assert outcome.utilities == pytest.approx({"a": 0.6, "b": 0.5})


def test_the_equilibrium_player_takes_what_a_heuristic_opponent_concedes() -> None:
    """Against a linear opponent, the equilibrium player never accepts less than its threshold."""
    model = run_model(pie((0.9, 0.9), deadline=12, kinds=("equilibrium", "linear")), seed=0, trace=True)
    offers = model.datacollector.get_table_dataframe("offers")
    values = model.negotiation._equilibrium.values[0]
    for _, row in offers[offers["responder"] == "a"].iterrows():
        n = int(row["round"])
        threshold = 0.9 * values[n + 1, 0] if n < 12 else 0.0
        assert (row["status"] == "deal") == (row["responder_utility"] >= threshold - 1e-12), row
    outcome = model.outcomes()[0]
    assert outcome.deal and outcome.utilities["a"] >= 0.5  # at least what it would offer itself


# --- the backward induction itself ------------------------------------------------------------------


def test_subgame_perfect_values_agree_with_the_recursion_by_hand() -> None:
    frontier = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    for d1, d2, deadline in [(0.9, 0.8, 7), (0.95, 0.6, 10)]:
        values = subgame_perfect_values(
            frontier, np.zeros((1, 2)), np.array([[d1, d2]]), np.zeros((1, 2)), np.array([deadline])
        )
        assert values[0, 0, 0] == pytest.approx(backward_induction_by_hand(d1, d2, deadline))


def test_best_given_reads_the_frontier_and_its_ends() -> None:
    frontier = package_frontiers(
        np.array([[[0.8, 0.2], [0.2, 0.8]]]),
        np.array([[[1.0, 1.0], [0.0, 0.0]]]),
        np.ones((1, 2)),
        np.zeros((1, 2), bool),
    )
    np.testing.assert_allclose(
        frontier[0, 0],
        pareto_frontier(np.array([[0.8, 0.2], [0.2, 0.8]]), np.array([[1.0, 1.0], [0.0, 0.0]])),
    )
    share, offered = best_given(frontier, np.array([0.8]), 0)
    assert (share[0], offered[0]) == pytest.approx((0.8, 0.8))
    share, offered = best_given(frontier, np.array([-0.5]), 0)  # no floor: all to side 0
    assert (share[0], offered[0]) == pytest.approx((1.0, 0.0))
    share, _ = best_given(frontier, np.array([1.01]), 1)  # more than side 0 can ever get
    assert share[0] == -np.inf


def test_binary_issues_are_solved_package_by_package() -> None:
    """A binary issue worth 0.6 to a and 0.2 to b, and a pie: a takes the binary issue first."""
    weights = np.array([[[0.6, 0.4], [0.2, 0.8]]])
    ideal = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    frontiers = package_frontiers(weights, ideal, np.ones((1, 2)), np.array([[True, False]]))
    assert frontiers.shape[1] == 2
    # b needs 0.5: with the binary issue at a's ideal, b gets 0.8 * (1 - x) = 0.5 from the pie,
    # a gets 0.6 + 0.4 * 0.375 = 0.75; with it at b's ideal, a gets at most 0.4 * 0.625 = 0.25
    share, offered = best_given(frontiers, np.array([0.5]), 0)
    assert (share[0], offered[0]) == pytest.approx((0.75, 0.5))
