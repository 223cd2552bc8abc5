"""Invariants of the negotiation model, checked with hypothesis on random small scenarios.

(a) no agreement gives a party less than its effective reservation utility;
(b) agreed values stay inside the issue ranges, in real units;
(c) symmetric agents with symmetric preferences split symmetrically;
(d) a Boulware agent against a Conceder gets the larger share;
(e) raising a side's reservation value never raises its opponent's utility in an agreement.

Each example runs whole models, so example counts are modest (conftest.py sets the profile).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import mirror_scenario, run_model, tiny_scenario
from hypothesis import assume, event, given, note
from hypothesis import strategies as st

from negotiation.bargaining.protocol import DEAL
from negotiation.bargaining.strategies import time_dependent_target
from negotiation.errors import OverrideError
from negotiation.model import NegotiationModel
from negotiation.scenario.bounds import MAX_WEIGHT
from negotiation.scenario.paths import apply_overrides
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict

UNIT = st.floats(0.0, 1.0)
ISSUE_NAMES = ("p", "q", "r")

# --- random scenarios ------------------------------------------------------------------------


ALL_KINDS = ("time_dependent", "boulware", "linear", "conceder", "tit_for_tat", "hardliner")


@st.composite
def strategies_(draw: st.DrawFn, kinds: tuple[str, ...] = ALL_KINDS) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds))
    strategy: dict[str, Any] = {"kind": kind}
    if kind == "time_dependent":
        strategy["e"] = draw(st.floats(0.05, 10.0))
    if kind == "tit_for_tat":
        strategy["reciprocity"] = draw(st.floats(0.0, 3.0))
        strategy["initial_concession"] = draw(st.floats(0.0, 0.3))
    return strategy


@st.composite
def issues_(draw: st.DrawFn, binary: bool = True) -> dict[str, dict[str, Any]]:
    issues = {}
    for name in ISSUE_NAMES:
        if binary and draw(st.booleans()) and draw(st.booleans()):
            issues[name] = {"name": name, "unit": "yes/no", "kind": "binary", "low": 0.0, "high": 1.0}
            issues[name]["status_quo"] = float(draw(st.integers(0, 1)))
        else:
            low = draw(st.floats(-50.0, 50.0))
            high = low + draw(st.floats(0.5, 200.0))
            issues[name] = {"name": name, "unit": "u", "low": low, "high": high}
            issues[name]["status_quo"] = min(max(low + draw(UNIT) * (high - low), low), high)
    return issues


@st.composite
def preference_(
    draw: st.DrawFn, issues: dict[str, dict[str, Any]], table_issues: list[str], ranges: dict
) -> dict:
    # subnormal weights (below 2.2e-308) break trade_off: see the xfail test after property (a)
    weights = {i: draw(st.floats(0.0, 1.0, allow_subnormal=False)) for i in table_issues}
    if sum(weights.values()) <= 0.0:
        weights[table_issues[0]] = 1.0
    ideal: dict[str, Any] = {}
    for i in table_issues:
        low, high = ranges.get(i, (issues[i]["low"], issues[i]["high"]))
        if issues[i].get("kind") == "binary":
            ideal[i] = draw(st.sampled_from(["increase", "decrease", 0.0, 1.0]))  # all a binary issue takes
        else:
            ideal[i] = draw(st.one_of(st.sampled_from(["increase", "decrease"]), st.floats(low, high)))
    curvature = draw(st.one_of(st.just(1.0), st.floats(1.0, 4.0)))
    return {
        "weights": weights,
        "ideal": ideal,
        "reservation": draw(st.floats(0.0, 0.95)),
        "curvature": curvature,
    }


@st.composite
def random_scenarios(
    draw: st.DrawFn,
    walkouts: bool = True,
    second_table: bool = True,
    binary: bool = True,
    kinds: tuple[str, ...] = ALL_KINDS,
) -> Scenario:
    """One or two tables over up to three issues, any strategies, leverage, mediator and linkage."""
    issues = draw(issues_(binary))
    actors = {}
    for actor in ("a", "b", "c"):
        others = [o for o in ("a", "b", "c") if o != actor]
        actors[actor] = {
            "name": actor,
            "leverage": draw(UNIT),
            "domestic_pressure": draw(UNIT),
            "resolve": draw(UNIT),
            "rapport": {o: draw(UNIT) for o in others if draw(st.booleans())},
            "strategy": draw(strategies_(kinds)),
        }
    tables = {}
    layout = [("t1", ("a", "b"))] + ([("t2", ("a", "c"))] if second_table and draw(st.booleans()) else [])
    for table_id, parties in layout:
        if draw(st.booleans()):
            parties = parties[::-1]
        table_issues = draw(st.lists(st.sampled_from(ISSUE_NAMES), min_size=1, max_size=3, unique=True))
        ranges = {}
        for i in table_issues:
            if issues[i].get("kind") != "binary" and draw(st.booleans()):
                low, high = issues[i]["low"], issues[i]["high"]
                cut = sorted(draw(st.lists(st.floats(low, high), min_size=2, max_size=2)))
                if cut[1] - cut[0] > 1e-3 * (high - low):
                    ranges[i] = cut
        opens = draw(st.integers(0, 3))
        table: dict[str, Any] = {
            "name": table_id,
            "parties": list(parties),
            "issues": table_issues,
            "opens": opens,
            "deadline": opens + draw(st.integers(1, 20)),
            "breakdown_risk": draw(st.floats(0.0, 0.2)) if walkouts else 0.0,
            "ranges": ranges,
            "status_quo": {
                i: min(max(lo + draw(UNIT) * (hi - lo), lo), hi) for i, (lo, hi) in ranges.items()
            },
            "preferences": {p: draw(preference_(issues, table_issues, ranges)) for p in parties},
        }
        if table_id == "t1" and len(layout) == 1 and draw(st.booleans()):
            table["mediator"] = "c"
        tables[table_id] = table
    linkages = []
    if len(tables) == 2:
        source, target = draw(st.permutations(["t1", "t2"]))
        shared = [i for i in tables[source]["issues"] if i in tables[target]["issues"]]
        kind = draw(st.sampled_from(["precedent", "escalation"])) if shared else "escalation"
        link: dict[str, Any] = {"kind": kind, "source": source, "targets": [target], "strength": draw(UNIT)}
        if kind == "precedent":
            link["issue"] = draw(st.sampled_from(shared))
        linkages.append(link)
    data = {
        "name": "random",
        "issues": issues,
        "actors": actors,
        "tables": tables,
        "linkages": linkages,
        "model": {
            "leverage_effect": draw(st.floats(0.0, 0.5)),
            "urgency_gain": draw(st.floats(0.0, 3.0)),
            "resolve_gain": draw(st.floats(0.0, 3.0)),
            "mediation_strength": draw(st.floats(0.0, 0.3)),
        },
    }
    return scenario_from_dict(data, "<hypothesis>")


# --- (a) individual rationality, (b) ranges ---------------------------------------------------


@given(random_scenarios(), st.integers(0, 2**32 - 1))
def test_no_agreement_gives_a_party_less_than_its_effective_reservation(
    scenario: Scenario, seed: int
) -> None:
    assert_individually_rational(scenario, seed)


def assert_individually_rational(scenario: Scenario, seed: int) -> None:
    """No agreement below a reservation; without one, each side has exactly its reservation."""
    arrays = run_model(scenario, seed=seed).arrays()
    deal = arrays.status == DEAL
    event(f"deals: {int(deal.sum())} of {deal.size} tables")
    note(f"status {arrays.status}, utilities {arrays.utilities}, reservation {arrays.reservation}")
    assert np.all(np.isfinite(arrays.utilities))
    assert np.all(arrays.utilities[deal] >= arrays.reservation[deal] - 1e-9)
    # without a deal each side is left with exactly its reservation (BATNA) utility
    np.testing.assert_array_equal(arrays.utilities[~deal], arrays.reservation[~deal])


EXTREME_WEIGHT = st.one_of(
    st.just(0.0),
    st.just(MAX_WEIGHT),
    st.floats(5e-324, 1e-300),  # subnormal and tiny
    st.builds(lambda exponent: 10.0**exponent, st.floats(-300.0, float(np.log10(MAX_WEIGHT)))),
)
"""Weights of any magnitude the schema accepts, from 0 and subnormal numbers to the bound."""


@st.composite
def extreme_weight_scenarios(draw: st.DrawFn) -> Scenario:
    """A random scenario whose weights are redrawn over every magnitude the schema allows."""
    scenario = draw(random_scenarios())
    overrides = {}
    for table_id, table in scenario.tables.items():
        for party in table.parties:
            weights = {issue: draw(EXTREME_WEIGHT) for issue in table.issues}
            if not any(weights.values()):
                weights[table.issues[0]] = MAX_WEIGHT
            for issue, weight in weights.items():
                overrides[f"tables.{table_id}.preferences.{party}.weights.{issue}"] = weight
    return apply_overrides(scenario, overrides)


@given(extreme_weight_scenarios(), st.integers(0, 2**32 - 1))
def test_weights_of_any_allowed_magnitude_never_give_a_deal_below_the_reservation(
    scenario: Scenario, seed: int
) -> None:
    assert_individually_rational(scenario, seed)


def test_a_weight_above_the_bound_is_refused_not_overflowed() -> None:
    # 1e308 once overflowed the normalising sum to infinity: a "deal" at utility 0 below the reservation
    with pytest.raises(OverrideError, match=r"weights\.x: got 1e\+308; expected less than or equal to"):
        apply_overrides(tiny_scenario(), {"tables.ab.preferences.a.weights.x": 1e308})


def test_a_subnormal_weight_never_gives_a_deal_below_the_reservation() -> None:
    binary = {"unit": "yes/no", "kind": "binary", "low": 0.0, "high": 1.0, "status_quo": 0.0}
    scenario = tiny_scenario(
        {
            "issues.p": {"name": "p", **binary},
            "issues.r": {"name": "r", **binary},
            "actors.a.rapport": {},
            "actors.b.rapport": {},
            "tables.ab.issues": ["r", "y", "p"],
            "tables.ab.deadline": 1,
            "tables.ab.preferences.a": {
                "weights": {"r": 1.0, "y": 0.0, "p": 0.0},
                "ideal": {"r": "increase", "y": "decrease", "p": "increase"},
                "reservation": 0.0,
            },
            "tables.ab.preferences.b": {
                "weights": {"r": 5e-324, "y": 1.0, "p": 0.0},
                "ideal": {"r": "decrease", "y": "increase", "p": "increase"},
                "reservation": 0.5,
            },
        }
    )
    outcome = run_model(scenario, seed=0).outcomes()[0]
    assert not outcome.deal or outcome.utilities["b"] >= 0.5 - 1e-9, outcome


@given(random_scenarios(), st.integers(0, 2**32 - 1))
def test_agreed_values_stay_inside_the_issue_ranges(scenario: Scenario, seed: int) -> None:
    outcomes = run_model(scenario, seed=seed).outcomes()
    for outcome in outcomes:
        for issue, value in outcome.values.items():
            low, high = scenario.issue_range(outcome.table, issue)
            slack = 1e-9 * (high - low)
            assert low - slack <= value <= high + slack, (outcome.table, issue, value, low, high)
            if scenario.issues[issue].kind == "binary":
                assert value in (0.0, 1.0)
            if not outcome.deal:
                assert value == pytest.approx(scenario.status_quo(outcome.table, issue))


@pytest.mark.parametrize("ideal", [0.0, 1.0, "increase"])
def test_binary_issue_deals_never_give_less_than_reservation(ideal: object) -> None:
    # interior ideals on binary issues are rejected when the scenario loads (test_scenario)
    scenario = tiny_scenario(
        {
            "issues.s": {
                "name": "s",
                "unit": "yes/no",
                "kind": "binary",
                "low": 0.0,
                "high": 1.0,
                "status_quo": 0.0,
            },
            "tables.ab.issues": ["x", "y", "s"],
            "tables.ab.preferences.a.weights": {"s": 1.0},
            "tables.ab.preferences.a.ideal": {"s": ideal},
            "tables.ab.preferences.b.weights": {"x": 1.0},
            "tables.ab.preferences.b.ideal": {"x": "decrease"},
        }
    )
    outcome = run_model(scenario, seed=1).outcomes()[0]
    assert not outcome.deal or outcome.utilities["a"] >= outcome.reservation["a"] - 1e-9, outcome


# --- (c) symmetry -------------------------------------------------------------------------------

MIRROR_WEIGHTS = st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4).map(tuple)
TIME_DEPENDENT = st.builds(lambda e: {"kind": "time_dependent", "e": e}, st.floats(0.1, 8.0))


def both_orders(**kwargs: Any) -> tuple[NegotiationModel, NegotiationModel]:
    """The same mirror scenario run with ``a`` opening and with ``b`` opening."""
    return tuple(run_model(mirror_scenario(opener=opener, **kwargs), seed=0) for opener in ("a", "b"))  # type: ignore[return-value]


@given(
    weights=MIRROR_WEIGHTS,
    strategy=st.one_of(TIME_DEPENDENT, strategies_()),
    reservation=st.floats(0.0, 0.6),
    deadline=st.integers(2, 30),
    rapport=UNIT,
)
def test_symmetric_agents_split_symmetrically(
    weights: tuple[float, ...], strategy: dict, reservation: float, deadline: int, rapport: float
) -> None:
    """Two identical agents with mirror-image preferences split the surplus evenly.

    Alternating offers favour one side by turn order alone (the opener in Rubinstein's model; here
    whoever proposes in the round the deal is struck), so one run cannot split exactly evenly. The
    property is checked in the form that is exactly true of a fair protocol: swapping who opens
    swaps the utilities (the model has no bias by party other than turn order), hence each agent's
    utility averaged over both opening orders is the same. And for time-dependent agents the
    turn-order advantage in a single run is bounded: the proposer gets its target f(t), the responder
    1 - f(t) (u_a + u_b = 1 for mirror preferences), and AC_next gives |u_a - u_b| <= the larger of
    the concession steps f(t-1) - f(t) and f(t) - f(t+1) around the agreement round t.
    """
    a_opens, b_opens = both_orders(
        weights=weights,
        strategy_a=strategy,
        strategy_b=strategy,
        reservation=reservation,
        deadline=deadline,
        rapport=rapport,
    )
    first, second = a_opens.outcomes()[0], b_opens.outcomes()[0]
    note(f"a opens: {first}\nb opens: {second}")
    assert (first.status, first.round) == (second.status, second.round)
    assert first.utilities["a"] == pytest.approx(second.utilities["b"], abs=1e-9)
    assert first.utilities["b"] == pytest.approx(second.utilities["a"], abs=1e-9)
    mean_a = (first.utilities["a"] + second.utilities["a"]) / 2
    mean_b = (first.utilities["b"] + second.utilities["b"]) / 2
    assert mean_a == pytest.approx(mean_b, abs=1e-9)

    if first.deal and strategy["kind"] in ("time_dependent", "boulware", "linear", "conceder"):
        exponent = a_opens.negotiation.derived.exponent[0, 0]
        r = a_opens.negotiation.reservation[0, 0]
        t = first.round
        rounds = np.array([max(t - 1, 0), t, t + 1])
        f = time_dependent_target(rounds, np.full(3, deadline), np.full(3, exponent), np.full(3, r))
        step = max(f[0] - f[1], f[1] - f[2])
        assert first.utilities["a"] + first.utilities["b"] == pytest.approx(1.0)
        assert abs(first.utilities["a"] - first.utilities["b"]) <= step + 1e-9


# --- (d) Boulware against Conceder ----------------------------------------------------------------


@given(
    weights=MIRROR_WEIGHTS,
    boulware_e=st.floats(0.05, 0.5),
    conceder_e=st.floats(2.0, 10.0),
    reservation=st.floats(0.0, 0.45),
    deadline=st.integers(4, 30),
    opener=st.sampled_from(["a", "b"]),
)
def test_boulware_gets_the_larger_share_against_a_conceder(
    weights: tuple[float, ...],
    boulware_e: float,
    conceder_e: float,
    reservation: float,
    deadline: int,
    opener: str,
) -> None:
    """a is Boulware, b Conceder; preferences mirror each other; everything else is equal."""
    scenario = mirror_scenario(
        weights=weights,
        strategy_a={"kind": "time_dependent", "e": boulware_e},
        strategy_b={"kind": "time_dependent", "e": conceder_e},
        reservation=reservation,
        deadline=deadline,
        opener=opener,
    )
    outcome = run_model(scenario, seed=0).outcomes()[0]
    note(str(outcome))
    assert outcome.deal, "with reservations below one half, the two always find a deal"
    assert outcome.utilities["a"] > outcome.utilities["b"]


# --- (e) reservation monotonicity -------------------------------------------------------------------


TIME_DEPENDENT_OR_HARDLINER = ("time_dependent", "boulware", "linear", "conceder", "hardliner")


@st.composite
def reservation_pairs(draw: st.DrawFn) -> tuple[Scenario, Scenario, str]:
    """A random one-table scenario without walk-outs, and the same with one side's reservation raised.

    Strategies are time-dependent or hardliner: the property fails against tit-for-tat, as the
    explicit xfail test below shows.
    """
    scenario = draw(random_scenarios(walkouts=False, second_table=False, kinds=TIME_DEPENDENT_OR_HARDLINER))
    data = scenario.model_dump(mode="python")
    side = draw(st.sampled_from(["a", "b"]))
    preference = data["tables"]["t1"]["preferences"][side]
    low = preference["reservation"]
    assume(low < 0.95)
    preference["reservation"] = draw(st.floats(low, 1.0).filter(lambda v: v > low))
    return scenario, scenario_from_dict(data, "<raised>"), side


@given(reservation_pairs(), st.integers(0, 2**32 - 1))
def test_raising_a_reservation_never_raises_the_opponents_utility_in_an_agreement(
    pair: tuple[Scenario, Scenario, str], seed: int
) -> None:
    base, raised, side = pair
    opponent = "b" if side == "a" else "a"
    before = run_model(base, seed=seed).outcomes()[0]
    after = run_model(raised, seed=seed).outcomes()[0]
    note(f"before: {before}\nafter:  {after}")
    event(f"deal before: {before.deal}, after: {after.deal}")
    if before.deal and after.deal:
        assert after.utilities[opponent] <= before.utilities[opponent] + 1e-9


def one_issue(b_reservation: float, a_strategy: dict, deadline: int) -> Scenario:
    """One issue x that a wants high and b low; b is linear; a's strategy and b's reservation vary."""
    return tiny_scenario(
        {
            "tables.ab.issues": ["x"],
            "tables.ab.deadline": deadline,
            "tables.ab.preferences.a": {
                "weights": {"x": 1.0},
                "ideal": {"x": "increase"},
                "reservation": 0.0,
            },
            "tables.ab.preferences.b": {
                "weights": {"x": 1.0},
                "ideal": {"x": "decrease"},
                "reservation": b_reservation,
            },
            "actors.a.strategy": a_strategy,
        }
    )


def test_raising_a_reservation_against_a_linear_opponent_minimal_case() -> None:
    """The passing counterpart of the tit-for-tat case below: the same table with a linear too."""
    linear = {"kind": "linear"}
    before = run_model(one_issue(0.0, linear, 5), seed=0).outcomes()[0]
    after = run_model(one_issue(0.1, linear, 5), seed=0).outcomes()[0]
    assert before.deal and after.deal
    assert after.utilities["a"] <= before.utilities["a"] + 1e-9


def test_property_e_is_stated_without_tit_for_tat_because_reciprocity_rewards_a_tougher_opponent() -> None:
    """Why property (e) excludes tit-for-tat: this is reciprocity working, not a bug.

    b (linear, deadline 5) raises its reservation 0 -> 0.1, so it concedes less each round; a
    (tit-for-tat, no opening concession) mirrors those smaller concessions, keeps a higher target, and
    the deal moves from round 3 (b proposes) to round 4 (a proposes): a ends better off. The test pins
    this documented behaviour (docs/model-odd.md), so a change to it is noticed.
    """
    tit_for_tat = {"kind": "tit_for_tat", "initial_concession": 0.0, "reciprocity": 1.0}
    before = run_model(one_issue(0.0, tit_for_tat, 5), seed=0).outcomes()[0]
    after = run_model(one_issue(0.1, tit_for_tat, 5), seed=0).outcomes()[0]
    assert before.deal and after.deal
    assert after.utilities["a"] > before.utilities["a"] + 0.01, (before.utilities, after.utilities)


def binary_pair(b_reservation: float) -> Scenario:
    """Two binary issues: a cares only about q (wants 1), b only about r (wants 0); deadline 1."""
    issue = {"unit": "yes/no", "kind": "binary", "low": 0.0, "high": 1.0, "status_quo": 0.0}
    return tiny_scenario(
        {
            "issues.q": {"name": "q", **issue},
            "issues.r": {"name": "r", **issue},
            "tables.ab.issues": ["q", "r"],
            "tables.ab.deadline": 1,
            "tables.ab.preferences.a": {
                "weights": {"q": 1.0, "r": 0.0},
                "ideal": {"q": "increase", "r": "increase"},
                "reservation": 0.0,
            },
            "tables.ab.preferences.b": {
                "weights": {"q": 0.0, "r": 1.0},
                "ideal": {"q": "decrease", "r": "decrease"},
                "reservation": b_reservation,
            },
        }
    )


def test_raising_a_reservation_with_binary_issues_never_helps_the_opponent() -> None:
    before = run_model(binary_pair(0.3), seed=0).outcomes()[0]
    after = run_model(binary_pair(1.0), seed=0).outcomes()[0]
    assert before.deal and after.deal
    assert after.utilities["a"] <= before.utilities["a"] + 1e-9, (before.values, after.values)


def test_binary_rounding_never_offers_a_dominated_package() -> None:
    model = run_model(binary_pair(0.3), seed=0, trace=True)
    offers = model.datacollector.get_table_dataframe("offers")
    b_offers = offers[offers["proposer"] == "b"]
    assert len(b_offers) == 1
    assert b_offers["offer"].iloc[0]["q"] == 1.0, b_offers["offer"].iloc[0]  # b does not care; a wants 1
