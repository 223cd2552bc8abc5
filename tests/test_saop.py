"""The stacked alternating offers protocol (SAOP) at tables of more than two.

(a) with two parties SAOP is exactly the bilateral alternating offers, bit for bit, on the same seeds;
(b) with time-dependent conceders only, a table of n agrees no later than its slowest pair would;
(c) the distances an n-party outcome reports are analysis_n's (frontier gap, Nash point);
(d) nobody who accepts agrees below its value of no deal; (e) a qualified majority makes deals over a
rejection, unanimity never does; (f) bad input gets one line and exit code 2.
"""

from __future__ import annotations

import copy
import itertools
import tomllib
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation.bargaining.analysis_n import (
    distance_to_point,
    facets,
    frontier_gap,
    frontier_gaps,
    nash_point_n,
)
from negotiation.bargaining.compiled import compile_scenario
from negotiation.bargaining.engine import Runs, run_many
from negotiation.bargaining.outcomes import RunArrays
from negotiation.bargaining.status import DEAL, WALKOUT
from negotiation.bargaining.streams import run_keys
from negotiation.errors import ScenarioError
from negotiation.scenario.loading import default_scenario_text
from negotiation.scenario.validation import scenario_from_dict
from tests.helpers import set_path, tiny_dict

SEEDS = np.arange(300)


def _default_dict() -> dict[str, Any]:
    return tomllib.loads(default_scenario_text())


def _compiled(data: dict[str, Any]) -> Any:
    return compile_scenario(scenario_from_dict(copy.deepcopy(data), "<test>"))


def _assert_same(left: RunArrays, right: RunArrays) -> None:
    for field in fields(RunArrays):
        np.testing.assert_array_equal(
            getattr(left, field.name), getattr(right, field.name), err_msg=field.name
        )


def _plain_rules(data: dict[str, Any]) -> dict[str, Any]:
    """Every actor without the bilateral-only rules (learning, ultimatum), so both protocols apply them."""
    for actor in data["actors"].values():
        actor["strategy"] = {**actor["strategy"], "opponent_model": "fixed", "last_offer": "concede"}
    return data


def _bilateral_tables(data: dict[str, Any]) -> list[str]:
    targets = {t for link in data.get("linkages", []) for t in link["targets"]}
    return [t for t, table in data["tables"].items() if len(table["parties"]) == 2 and t not in targets]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"tables.us-china.breakdown_risk": 0.5},  # walk-outs at a SAOP source, so escalations fire
        {f"events.{i}.probability": 1.0 for i in range(5)},
        {"actors.us.discount": 0.9, "actors.china.delay_cost": 0.01},
    ],
    ids=["default", "walkouts", "all-events", "impatient"],
)
def test_two_party_saop_is_the_bilateral_protocol_bit_for_bit(changes: dict[str, Any]) -> None:
    data = _plain_rules(_default_dict())
    data["tables"] = {t: v for t, v in data["tables"].items() if len(v["parties"]) == 2}
    data["linkages"] = [
        link
        for link in data.get("linkages", [])
        if set(link["targets"]) | {link["source"]} <= set(data["tables"])
    ]
    for path, value in changes.items():
        if path.startswith("events."):
            data["events"][int(path.split(".")[1])]["probability"] = value
        else:
            set_path(data, path, value)
    bilateral = _compiled(data)
    swapped = _bilateral_tables(data)
    assert {"us-china", "us-japan"} <= set(swapped)  # a precedent source and an escalation source
    for table in swapped:
        data["tables"][table]["protocol"] = "saop"
    stacked = _compiled(data)
    assert stacked.stacked.sum() == len(swapped)
    _assert_same(run_many(bilateral, SEEDS), run_many(stacked, SEEDS))


_KINDS = st.sampled_from(
    [
        {"kind": "linear"},
        {"kind": "boulware", "e": 0.3},
        {"kind": "conceder", "e": 3.0},
        {"kind": "hardliner"},
        {"kind": "tit_for_tat", "reciprocity": 1.0, "initial_concession": 0.05},
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=_KINDS,
    b=_KINDS,
    risk=st.sampled_from([0.0, 0.1, 0.4]),
    discount=st.floats(0.85, 1.0),
    delay=st.floats(0.0, 0.02),
    rapport=st.floats(0.0, 1.0),
    deadline=st.integers(1, 12),
)
def test_two_party_saop_reduction_over_strategy_mixes(
    a: dict, b: dict, risk: float, discount: float, delay: float, rapport: float, deadline: int
) -> None:
    data = tiny_dict()
    for actor, kind in (("a", a), ("b", b)):
        data["actors"][actor]["strategy"] = {**kind, "opponent_model": "fixed", "last_offer": "concede"}
        data["actors"][actor]["discount"] = discount
        data["actors"][actor]["delay_cost"] = delay
    data["actors"]["a"]["rapport"] = {"b": rapport}
    data["tables"]["ab"]["breakdown_risk"] = risk
    data["tables"]["ab"]["deadline"] = deadline
    bilateral = _compiled(data)
    data["tables"]["ab"]["protocol"] = "saop"
    _assert_same(run_many(bilateral, SEEDS[:60]), run_many(_compiled(data), SEEDS[:60]))


def _table_of(n: int, exponents: list[float], deadline: int = 10, rule: dict | None = None) -> dict[str, Any]:
    """n actors p0..p{n-1} at one table on issues x, y, z (alternating sides of the ideals), no walk-outs."""
    data = tiny_dict()
    names = [f"p{i}" for i in range(n)]
    data["actors"] = {
        name: {
            "name": name,
            "leverage": 0.5,
            "domestic_pressure": 0.5,
            "resolve": 0.5,
            "rapport": {},
            "strategy": {"kind": "time_dependent", "e": e},
        }
        for name, e in zip(names, exponents, strict=True)
    }
    preferences = {}
    for i, name in enumerate(names):
        up = i % 2 == 0
        weights = [0.5, 0.3, 0.2] if up else [0.2, 0.3, 0.5]
        preferences[name] = {
            "weights": dict(zip(("x", "y", "z"), weights, strict=True)),
            "ideal": {
                "x": "increase" if up else "decrease",
                "y": "increase" if up else "decrease",
                "z": 2.0 + i,
            },
            "outside_option": -0.15,
        }
    table = {**data["tables"]["ab"], "parties": names, "preferences": preferences, "deadline": deadline}
    table.update(rule or {})
    data["tables"] = {"t": table}
    return data


def _first_deal(data: dict[str, Any]) -> int:
    arrays = run_many(_compiled(data), SEEDS[:1])
    return int(arrays.end_round[0, 0]) if arrays.status[0, 0] == DEAL else 10**6


def _one_issue(data: dict[str, Any], deadline: int) -> dict[str, Any]:
    table = data["tables"]["t"]
    table["issues"], table["deadline"] = ["x"], deadline
    for preference in table["preferences"].values():
        preference["weights"], preference["ideal"] = {"x": 1.0}, {"x": preference["ideal"]["x"]}
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(3, 5),
    exponents=st.lists(st.floats(1.0, 8.0), min_size=5, max_size=5),
    deadline=st.integers(3, 14),
)
def test_conceders_agree_no_later_than_the_slowest_pair(
    n: int, exponents: list[float], deadline: int
) -> None:
    """On one issue, n conceders agree no later than the slowest pair (either opening), n = 3.

    On one issue each party's acceptable offers form an interval, so by Helly's theorem in one
    dimension, once every pair could agree some offer suits all. The protocol makes one offer per
    round, the proposer's, so with four or more parties a slower ally of the proposer may reject it
    and restate it a round later: the bound is then the slowest pair's round plus one.
    """
    exponents = exponents[:n]
    whole = _first_deal(_one_issue(_table_of(n, exponents), deadline))
    pairs = []
    for i, j in itertools.permutations(range(n), 2):
        pair = _one_issue(_table_of(n, exponents), deadline)
        table = pair["tables"]["t"]
        table["parties"] = [f"p{i}", f"p{j}"]
        table["preferences"] = {p: table["preferences"][p] for p in table["parties"]}
        table["protocol"] = "saop"
        pairs.append(_first_deal(pair))
    assert whole <= max(pairs) + (0 if n == 3 else 1)


def test_outcomes_report_analysis_n_distances_and_values_of_no_deal() -> None:
    data = _table_of(3, [2.0, 1.0, 3.0])
    assert (run_many(_compiled(data), SEEDS[:3]).pareto_distance[:, 0] != 0.0).all()  # NaN: not asked for
    data.setdefault("model", {})["n_party_distances"] = True
    compiled = _compiled(data)
    runs = Runs(compiled, run_keys(SEEDS[:3]))
    arrays = run_many(compiled, SEEDS[:3])
    assert (arrays.status == DEAL).all()
    d = runs.stacked.derived
    weights, ideal = d.weights[0], d.ideal[0]
    for run in range(3):
        reached, floor = arrays.utilities[run, 0], arrays.reservation[run, 0]
        assert arrays.utilities.shape[-1] == 3
        np.testing.assert_allclose(
            arrays.pareto_distance[run, 0], frontier_gap(reached, weights, ideal), atol=1e-9
        )
        nash = nash_point_n(weights, ideal, floor).utilities
        np.testing.assert_allclose(arrays.nash_distance[run, 0], distance_to_point(reached, nash))
        assert (reached >= floor - 1e-12).all()


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 7),
    issues=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_fast_frontier_gaps_are_the_lp_gaps(n: int, issues: int, seed: int) -> None:
    """The facets (and the batched LP) give analysis_n's frontier gap, for points below and beyond."""
    rng = np.random.default_rng(seed)
    weights = rng.random((n, issues)) + 0.01
    weights /= weights.sum(axis=1, keepdims=True)
    ideal = rng.choice([0.0, 0.2, 0.5, 0.9, 1.0], (n, issues))
    points = rng.uniform(-0.3, 1.1, (6, n))
    expected = np.array([frontier_gap(p, weights, ideal) for p in points])
    frontier = facets(weights, ideal)
    assert frontier is not None
    np.testing.assert_allclose(frontier.gaps(points), expected, atol=1e-9)
    batched = frontier_gaps(points, np.repeat(weights[None], 6, 0), np.repeat(ideal[None], 6, 0))
    np.testing.assert_allclose(batched, expected, atol=1e-7)


def test_the_summit_table_leaves_unreachable_tables_as_they_were() -> None:
    """Paired design: adding us-asean changes only the tables its precedent reaches."""
    data = _default_dict()
    with_table = run_many(_compiled(data), SEEDS)
    without = copy.deepcopy(data)
    del without["tables"]["us-asean"]
    without["linkages"] = [link for link in without["linkages"] if link["source"] != "us-asean"]
    before = run_many(_compiled(without), SEEDS)
    after_ids = [t for t in data["tables"] if t != "us-asean"]
    reach = set(data["linkages"][-1]["targets"])
    assert data["linkages"][-1]["source"] == "us-asean"
    for t, table in enumerate(without["tables"]):
        j = after_ids.index(table) + (
            1 if list(data["tables"]).index(table) > list(data["tables"]).index("us-asean") else 0
        )
        if table in reach:
            continue
        for field in ("status", "end_round", "values", "pareto_distance", "nash_distance"):
            np.testing.assert_array_equal(
                getattr(before, field)[:, t], getattr(with_table, field)[:, j], err_msg=table
            )
        for field in ("utilities", "reservation"):
            np.testing.assert_array_equal(
                getattr(before, field)[:, t], getattr(with_table, field)[:, j, :2], err_msg=table
            )
    # and the tables it reaches do move in some runs
    moved = [
        (
            before.reservation[:, list(without["tables"]).index(t)]
            != with_table.reservation[:, list(data["tables"]).index(t), :2]
        ).any()
        for t in reach
    ]
    assert any(moved)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(3, 6),
    exponents=st.lists(st.floats(0.2, 5.0), min_size=6, max_size=6),
    outside=st.lists(st.floats(-0.3, 0.3), min_size=6, max_size=6),
    risk=st.sampled_from([0.0, 0.2]),
)
def test_nobody_agrees_below_its_value_of_no_deal(
    n: int, exponents: list[float], outside: list[float], risk: float
) -> None:
    data = _table_of(n, exponents[:n])
    data["tables"]["t"]["breakdown_risk"] = risk
    for i in range(n):
        data["tables"]["t"]["preferences"][f"p{i}"]["outside_option"] = outside[i]
    arrays = run_many(_compiled(data), SEEDS[:40])
    deal = arrays.status[:, 0] == DEAL
    assert (arrays.utilities[deal, 0] >= arrays.reservation[deal, 0] - 1e-9).all()


def _hold_out(rule: dict | None) -> RunArrays:
    """p2 is a hardliner whose value of no deal is above anything at the table (outside option 1)."""
    data = _table_of(4, [2.0, 2.0, 1.0, 2.0], rule=rule)
    data["actors"]["p2"]["strategy"] = {"kind": "hardliner"}
    data["tables"]["t"]["preferences"]["p2"]["outside_option"] = 1.0
    return run_many(_compiled(data), SEEDS[:50])


def test_a_quota_makes_deals_over_a_rejection_unanimity_never() -> None:
    unanimity = _hold_out(None)
    assert not (unanimity.status == DEAL).any()
    quota = _hold_out({"decision_rule": "qualified_majority", "quota": 0.6})
    deal = quota.status[:, 0] == DEAL
    assert deal.all()
    # the hold-out is bound below its value of no deal: it did not accept
    assert (quota.utilities[deal, 0, 2] < quota.reservation[deal, 0, 2]).all()


def test_walkouts_end_a_table_of_n() -> None:
    data = _table_of(4, [0.2, 0.2, 0.2, 0.2])
    data["tables"]["t"]["breakdown_risk"] = 0.5
    arrays = run_many(_compiled(data), SEEDS[:50])
    assert (arrays.status[:, 0] == WALKOUT).any()


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"tables.ab.parties": ["a"]}, "tables.ab.parties", "at least 2"),
        ({"tables.ab.parties": [f"a{i}" for i in range(13)]}, "tables.ab.parties", "at most 12"),
        ({"tables.ab.parties": ["a", "b", "a"]}, "tables.ab.parties", "different actors"),
        ({"tables.ab.decision_rule": "plurality"}, "tables.ab.decision_rule", "unanimity"),
        ({"tables.ab.decision_rule": "qualified_majority"}, "tables.ab.quota", "(0.5, 1]"),
        ({"tables.ab.quota": 0.7}, "tables.ab.quota", "no quota under unanimity"),
        (
            {"tables.ab.decision_rule": "qualified_majority", "tables.ab.quota": 0.4},
            "tables.ab.quota",
            "greater than 0.5",
        ),
        (
            {"tables.ab.protocol": "saop", "tables.ab.negotiators.a": {"kind": "linear"}},
            "tables.ab.negotiators.a",
            "SAOP",
        ),
    ],
)
def test_bad_tables_of_n_get_one_line(change: dict[str, Any], field: str, expected: str) -> None:
    data = tiny_dict()
    for path, value in change.items():
        set_path(data, path, value)
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(data, "bad.toml")
    message = str(error.value)
    assert "\n" not in message and "bad.toml" in message and field in message and expected in message


def test_a_linkage_cannot_target_a_table_of_n() -> None:
    data = _table_of(3, [1.0, 1.0, 1.0])
    data["tables"]["u"] = {**data["tables"]["t"], "parties": ["p0", "p1"]}
    data["tables"]["u"]["preferences"] = {p: data["tables"]["t"]["preferences"][p] for p in ("p0", "p1")}
    data["linkages"] = [{"kind": "escalation", "source": "u", "targets": ["t"], "strength": 0.1}]
    with pytest.raises(ScenarioError, match=r"linkages\.0\.targets.*a table of two"):
        scenario_from_dict(data, "bad.toml")
