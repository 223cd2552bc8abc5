"""Invariants of the negotiation model, checked with hypothesis on random small scenarios.

(a) no side ever agrees to terms worth less to it than its value of no deal at that moment, and a
    table without a deal ends at its no-deal outcome, worth exactly the values of no deal;
(b) agreed values stay inside the issue ranges, in real units;
(c) symmetric agents with symmetric preferences split symmetrically;
(d) a Boulware agent against a Conceder gets the larger share;
(e) raising a side's value of no deal never raises its opponent's utility in an agreement;
(f) raising a side's value of no deal never lowers its own utility in an agreement (efficient offers,
    time-dependent tactics, true beliefs, no walk-outs).

Each example runs whole models, so example counts are modest (conftest.py sets the profile).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import mirror_scenario, run_model, tiny_scenario
from hypothesis import assume, event, given, note, settings
from hypothesis import strategies as st

from negotiation.bargaining.preferences import utility
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


ALL_KINDS = ("time_dependent", "boulware", "linear", "conceder", "tit_for_tat", "hardliner", "equilibrium")


@st.composite
def strategies_(draw: st.DrawFn, kinds: tuple[str, ...] = ALL_KINDS, options: bool = True) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds))
    strategy: dict[str, Any] = {"kind": kind}
    if kind == "time_dependent":
        strategy["e"] = draw(st.floats(0.05, 10.0))
    if kind == "tit_for_tat":
        strategy["reciprocity"] = draw(st.floats(0.0, 3.0))
        strategy["initial_concession"] = draw(st.floats(0.0, 0.3))
    if options:
        strategy["offers"] = draw(st.sampled_from(["efficient", "similarity"]))
        strategy["last_offer"] = draw(st.sampled_from(["ultimatum", "concede"]))
        strategy["opponent_model"] = draw(st.sampled_from(["bayesian", "fixed"]))
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
        "outside_option": draw(st.floats(-0.6, 0.6)),
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
            "discount": draw(st.one_of(st.just(1.0), st.floats(0.5, 1.0))),
            "delay_cost": draw(st.one_of(st.just(0.0), st.floats(0.0, 0.05))),
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
            "no_deal": _no_deal(draw, issues, table_issues, ranges),
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


def _no_deal(draw: st.DrawFn, issues: dict, table_issues: list[str], ranges: dict) -> dict[str, float]:
    """A threat point on some issues of a table (the status quo on the others)."""
    threat = {}
    for i in table_issues:
        if not draw(st.booleans()):
            continue
        if issues[i].get("kind") == "binary":
            threat[i] = float(draw(st.integers(0, 1)))
        else:
            low, high = ranges.get(i, (issues[i]["low"], issues[i]["high"]))
            threat[i] = min(max(low + draw(UNIT) * (high - low), low), high)
    return threat


# --- (a) individual rationality, (b) ranges ---------------------------------------------------


@given(random_scenarios(), st.integers(0, 2**32 - 1))
def test_nobody_ever_agrees_below_its_value_of_no_deal_at_that_moment(scenario: Scenario, seed: int) -> None:
    assert_individually_rational(scenario, seed)


def assert_individually_rational(scenario: Scenario, seed: int) -> None:
    """No agreement below a value of no deal; without one, each side has exactly its value of no deal."""
    model = run_model(scenario, seed=seed)
    arrays = model.arrays()
    deal = arrays.status == DEAL
    event(f"deals: {int(deal.sum())} of {deal.size} tables")
    note(f"status {arrays.status}, utilities {arrays.utilities}, values of no deal {arrays.reservation}")
    assert np.all(np.isfinite(arrays.utilities))
    # `reservation` is each side's value of no deal when the table ended: the moment of agreement
    assert np.all(arrays.utilities[deal] >= arrays.reservation[deal] - 1e-9)
    # without a deal each side is left with exactly its value of no deal ...
    np.testing.assert_array_equal(arrays.utilities[~deal], arrays.reservation[~deal])
    # ... which is the utility of the recorded no-deal outcome plus the outside term (no linkage
    # touched these tables, and there are no events)
    compiled, d = model.compiled, model.negotiation.derived
    targets = {int(t) for link_targets in compiled.link_targets for t in link_targets}
    for t in range(compiled.n_tables):
        if deal[t] or t in targets:
            continue
        x = (arrays.values[t] - compiled.low[t]) / (compiled.high[t] - compiled.low[t])
        x = np.where(compiled.issue_mask[t], x, 0.0)
        np.testing.assert_allclose(
            x[compiled.issue_mask[t]], d.disagreement[t][compiled.issue_mask[t]], atol=1e-12
        )
        for side, party in enumerate(scenario.tables[compiled.table_ids[t]].parties):
            outside = scenario.tables[compiled.table_ids[t]].preferences[party].outside_option
            expected = utility(x, d.weights[t, side], d.ideal[t, side], d.curvature[t, side]) + outside
            expected += d.public_outside[t, side]
            assert arrays.utilities[t, side] == pytest.approx(expected, abs=1e-12)


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
def test_weights_of_any_allowed_magnitude_never_give_a_deal_below_the_value_of_no_deal(
    scenario: Scenario, seed: int
) -> None:
    assert_individually_rational(scenario, seed)


def test_a_weight_above_the_bound_is_refused_not_overflowed() -> None:
    # 1e308 once overflowed the normalising sum to infinity: a "deal" at utility 0 below the value of no deal
    with pytest.raises(OverrideError, match=r"weights\.x: got 1e\+308; expected less than or equal to"):
        apply_overrides(tiny_scenario(), {"tables.ab.preferences.a.weights.x": 1e308})


def test_a_subnormal_weight_never_gives_a_deal_below_the_value_of_no_deal() -> None:
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
                "outside_option": 0.0,
            },
            "tables.ab.preferences.b": {
                "weights": {"r": 5e-324, "y": 1.0, "p": 0.0},
                "ideal": {"r": "decrease", "y": "increase", "p": "increase"},
                "outside_option": 0.5,
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
                # the disagreement point: the declared threat, or the status quo
                assert value == pytest.approx(scenario.no_deal(outcome.table, issue))


@pytest.mark.parametrize("ideal", [0.0, 1.0, "increase"])
def test_binary_issue_deals_never_give_less_than_the_value_of_no_deal(ideal: object) -> None:
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
TIME_DEPENDENT = st.builds(
    lambda e, last: {"kind": "time_dependent", "e": e, "last_offer": last},
    st.floats(0.1, 8.0),
    st.sampled_from(["ultimatum", "concede"]),
)


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
    the concession steps f(t-1) - f(t) and f(t) - f(t+1) around the agreement round t, unless the
    last round's ultimatum is in play: then a deal in the last round gives the last proposer all but
    the responder's value of no deal r (its guaranteed offer leaves the responder exactly r).
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
        assert first.utilities["a"] + first.utilities["b"] == pytest.approx(1.0)
        ultimatum = strategy.get("last_offer", "ultimatum") == "ultimatum"
        if ultimatum and t == deadline and r <= 0.5:
            last_proposer = "a" if deadline % 2 == 0 else "b"
            assert first.utilities[last_proposer] == pytest.approx(1.0 - r, abs=1e-9)
        elif not ultimatum or t < deadline - 1:
            rounds = np.array([max(t - 1, 0), t, t + 1])
            f = time_dependent_target(rounds, np.full(3, deadline), np.full(3, exponent), np.full(3, r))
            step = max(f[0] - f[1], f[1] - f[2])
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
    """a is Boulware, b Conceder; preferences mirror each other; everything else is equal.

    Both concede to their value of no deal in the last round (``last_offer = "concede"``): with
    ultimatums the last proposer's power decides a negotiation that reaches the deadline, whoever
    concedes faster before (property (c) pins that case).
    """
    scenario = mirror_scenario(
        weights=weights,
        strategy_a={"kind": "time_dependent", "e": boulware_e, "last_offer": "concede"},
        strategy_b={"kind": "time_dependent", "e": conceder_e, "last_offer": "concede"},
        reservation=reservation,
        deadline=deadline,
        opener=opener,
    )
    outcome = run_model(scenario, seed=0).outcomes()[0]
    note(str(outcome))
    assert outcome.deal, "with reservations below one half, the two always find a deal"
    assert outcome.utilities["a"] > outcome.utilities["b"]


# --- (e), (f) monotonicity in the value of no deal ----------------------------------------------------


TIME_DEPENDENT_OR_HARDLINER = ("time_dependent", "boulware", "linear", "conceder", "hardliner")
TIME_DEPENDENT_KINDS = ("time_dependent", "boulware", "linear", "conceder")


def raise_outside_option(draw: st.DrawFn, scenario: Scenario) -> tuple[Scenario, Scenario, str]:
    """The scenario and a copy in which one side's outside option (so its value of no deal) is higher."""
    data = scenario.model_dump(mode="python")
    side = draw(st.sampled_from(["a", "b"]))
    preference = data["tables"]["t1"]["preferences"][side]
    low = preference["outside_option"]
    assume(low < 0.95)
    preference["outside_option"] = draw(st.floats(low, 1.0).filter(lambda v: v > low))
    return scenario, scenario_from_dict(data, "<raised>"), side


def patient_and_conceding(scenario: Scenario) -> Scenario:
    """The scenario with no discounting, no cost of delay and every tactic conceding in the last round.

    The heuristic tactics' monotonicity (properties (e) and (f)) needs both: an impatient side accepts
    offers below its own next target, so a demand raised by a higher value of no deal can lose a
    deal the impatient opponent would have taken and meet a worse one later; and a last-round
    ultimatum, which a heuristic responder does not see coming, can leave a side that held out with
    only its value of no deal (test below). The equilibrium strategy needs neither (property (g)).
    """
    data = scenario.model_dump(mode="python")
    for actor in data["actors"].values():
        actor["discount"], actor["delay_cost"] = 1.0, 0.0
        actor["strategy"]["last_offer"] = "concede"
    return scenario_from_dict(data, "<patient>")


@st.composite
def raised_pairs(draw: st.DrawFn) -> tuple[Scenario, Scenario, str]:
    """A random one-table scenario without walk-outs, and the same with one side's value of no deal raised.

    Strategies are time-dependent or hardliner, patient, conceding in the last round and keeping their
    prior beliefs: the property fails against tit-for-tat, as the explicit test below shows, and, rarely,
    against a learner, whose beliefs (so offers) depend on the schedule it fits, which ends at the
    other side's value of no deal.
    """
    scenario = draw(random_scenarios(walkouts=False, second_table=False, kinds=TIME_DEPENDENT_OR_HARDLINER))
    data = patient_and_conceding(scenario).model_dump(mode="python")
    for actor in data["actors"].values():
        actor["strategy"]["opponent_model"] = "fixed"
    return raise_outside_option(draw, scenario_from_dict(data, "<fixed>"))


@given(raised_pairs(), st.integers(0, 2**32 - 1))
def test_raising_a_value_of_no_deal_never_raises_the_opponents_utility_in_an_agreement(
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


@st.composite
def informed_pairs(draw: st.DrawFn) -> tuple[Scenario, Scenario, str]:
    """As ``raised_pairs``, with time-dependent tactics making efficient offers and full rapport."""
    scenario = draw(random_scenarios(walkouts=False, second_table=False, kinds=TIME_DEPENDENT_KINDS))
    data = patient_and_conceding(scenario).model_dump(mode="python")
    for actor, other in (("a", "b"), ("b", "a"), ("a", "c"), ("c", "a")):
        data["actors"][actor]["rapport"][other] = 1.0
        data["actors"][actor]["strategy"]["offers"] = "efficient"
    data["tables"]["t1"].pop("mediator", None)
    return raise_outside_option(draw, scenario_from_dict(data, "<informed>"))


@given(informed_pairs(), st.integers(0, 2**32 - 1))
@settings(max_examples=200)
def test_raising_own_value_of_no_deal_never_lowers_own_utility_in_an_agreement(
    pair: tuple[Scenario, Scenario, str], seed: int
) -> None:
    """Property (f): with efficient offers and time-dependent tactics (true beliefs, no walk-outs,
    patient, conceding in the last round).

    Efficient offers do not depend on the opponent's last offer, so a higher value of no deal only
    raises one's own targets: one's own offers are worth less to the opponent and accepted no
    earlier, and the opponent's offers, which improve for oneself as it concedes, are accepted no
    earlier either; whichever deal comes later is worth at least what the earlier one was.
    """
    base, raised, side = pair
    before = run_model(base, seed=seed).outcomes()[0]
    after = run_model(raised, seed=seed).outcomes()[0]
    note(f"before: {before}\nafter:  {after}")
    event(f"deal before: {before.deal}, after: {after.deal}")
    if before.deal and after.deal:
        assert after.utilities[side] >= before.utilities[side] - 1e-9


@st.composite
def equilibrium_pairs(draw: st.DrawFn) -> tuple[Scenario, Scenario, str]:
    """A random one-table scenario where both sides play the equilibrium strategy, raised as above.

    Gains are linear: with curved gains the frontier is a polyline through sampled points, whose
    small errors (about 1e-4 in utility) can move the split either way.
    """
    scenario = draw(random_scenarios(walkouts=False, second_table=False, kinds=("equilibrium",)))
    data = scenario.model_dump(mode="python")
    for preference in data["tables"]["t1"]["preferences"].values():
        preference["curvature"] = 1.0
    return raise_outside_option(draw, scenario_from_dict(data, "<linear>"))


def present_values(model: NegotiationModel) -> dict[str, float]:
    """Each party's value, at the table's opening, of how its (only) table ended.

    A table that ends ``n`` rounds after opening, with terms worth ``u`` (``u = r`` without a deal), is
    worth ``r + d^n (u - r) - c (1 + d + .. + d^(n-1))`` then (value of no deal ``r``, discount ``d``,
    cost of delay ``c``): the backward induction's own accounting.
    """
    outcome = model.outcomes()[0]
    d = model.negotiation.derived
    n = outcome.round - int(model.compiled.opens[0])
    values = {}
    for side, party in enumerate(outcome.parties):
        r, u = outcome.reservation[party], outcome.utilities[party]
        discount, cost = float(d.discount[0, side]), float(d.delay_cost[0, side])
        costs = cost * (n if discount == 1.0 else (1.0 - discount**n) / (1.0 - discount))
        values[party] = r + discount**n * (u - r) - costs
    return values


@given(equilibrium_pairs(), st.integers(0, 2**32 - 1))
def test_in_equilibrium_a_higher_value_of_no_deal_helps_oneself_and_never_the_opponent(
    pair: tuple[Scenario, Scenario, str], seed: int
) -> None:
    """Property (g): the benchmark obeys both monotonicities exactly, with discounting and delay costs.

    By backward induction: a higher value of no deal raises a side's continuation value in every
    round (``r + d (W - r) - c`` rises with ``r``), so what it must be offered rises, and what it must
    offer the other falls. The values compared are those at the table's opening: a patient proposer
    may prefer to strike its deal a round later, and the terms of deals struck in different rounds
    are only comparable once discounted.
    """
    base, raised, side = pair
    opponent = "b" if side == "a" else "a"
    before, after = run_model(base, seed=seed), run_model(raised, seed=seed)
    note(f"before: {before.outcomes()[0]}\nafter:  {after.outcomes()[0]}")
    event(f"deal before: {before.outcomes()[0].deal}, after: {after.outcomes()[0].deal}")
    if before.outcomes()[0].deal and after.outcomes()[0].deal:
        # (a value of no deal that rules out any deal only makes the talks run to the deadline, delay
        # costs and all: the protocol has no walking out on purpose)
        first, second = present_values(before), present_values(after)
        assert second[side] >= first[side] - 1e-9
        assert second[opponent] <= first[opponent] + 1e-9


def split_the_pie(a_value: float, b_value: float, deadline: int, changes: dict[str, Any]) -> Scenario:
    """One issue x (status quo 50 of 0-100, worth 0.5 to each) that a wants high and b low.

    The outside options make a's value of no deal ``a_value`` and b's ``b_value``; ``changes`` sets
    the rest (strategies, rapport, discounting).
    """
    return tiny_scenario(
        {
            "tables.ab.issues": ["x"],
            "tables.ab.deadline": deadline,
            "tables.ab.preferences.a": {
                "weights": {"x": 1.0},
                "ideal": {"x": "increase"},
                "outside_option": a_value - 0.5,
            },
            "tables.ab.preferences.b": {
                "weights": {"x": 1.0},
                "ideal": {"x": "decrease"},
                "outside_option": b_value - 0.5,
            },
            **changes,
        }
    )


FULL_RAPPORT = {"actors.a.rapport": {"b": 1.0}, "actors.b.rapport": {"a": 1.0}}


def pie_with_an_ultimatum(a_value: float) -> Scenario:
    """a (linear) against b (linear, making an ultimatum last), deadline 3: b proposes in rounds 1 and 3.

    Full rapport; b's value of no deal is 0.
    """
    return split_the_pie(
        a_value, 0.0, 3, {**FULL_RAPPORT, "actors.b.strategy": {"kind": "linear", "last_offer": "ultimatum"}}
    )


def test_property_f_needs_the_last_offer_to_concede_as_an_unforeseen_ultimatum_punishes_holding_out() -> None:
    """Why property (f) is stated for tactics that concede in the last round.

    a's value of no deal 0: in round 1 b offers a 1/3, which is a's next target (0 + 1/3), so a
    accepts. With 0.05, a's next target is 0.05 + 0.95/3 > 1/3, so a holds out; but a's offer in round
    2 is refused by b, who is about to make the last offer, and b's ultimatum in round 3 leaves a its
    value of no deal, 0.05. AC_next does not see the ultimatum coming; the test pins this behaviour.
    """
    before = run_model(pie_with_an_ultimatum(0.0), seed=0).outcomes()[0]
    after = run_model(pie_with_an_ultimatum(0.05), seed=0).outcomes()[0]
    assert (before.round, after.round) == (1, 3)
    assert before.utilities["a"] == pytest.approx(1 / 3)
    assert after.utilities["a"] == pytest.approx(0.05)


def pie_against_an_impatient_conceder(a_value: float) -> Scenario:
    """a (linear) against b (Conceder, e = 2, discount 0.8), deadline 7; b's value of no deal is 0."""
    return split_the_pie(
        a_value,
        0.0,
        7,
        {
            **FULL_RAPPORT,
            "actors.a.strategy": {"kind": "linear", "last_offer": "concede"},
            "actors.b.strategy": {"kind": "time_dependent", "e": 2.0, "last_offer": "concede"},
            "actors.b.discount": 0.8,
        },
    )


def test_property_f_needs_patience_because_an_impatient_opponent_takes_less_than_its_next_offer() -> None:
    """Why properties (e) and (f) are stated without discounting.

    b's own next offer (round 3) would be worth 1 - (3/7)^(1/2) = 0.345 to it, but waiting a round
    costs it a fifth of that, so in round 2 it accepts anything worth 0.8 * 0.345 = 0.276. With a
    value of no deal of 0, a's round-2 offer leaves b 2/7 = 0.286: a deal at 0.714 for a. With 0.1,
    a asks for 0.1 + 0.9 * 5/7 = 0.743, which leaves b too little; b's round-3 offer then gives a
    only 0.655, which a takes (its next target is 0.486).
    """
    before = run_model(pie_against_an_impatient_conceder(0.0), seed=0).outcomes()[0]
    after = run_model(pie_against_an_impatient_conceder(0.1), seed=0).outcomes()[0]
    assert (before.round, after.round) == (2, 3)
    assert before.utilities["a"] == pytest.approx(5 / 7)
    assert after.utilities["a"] == pytest.approx(1.0 - (1.0 - (3 / 7) ** 0.5))


def one_issue(b_value: float, a_strategy: dict, deadline: int) -> Scenario:
    """The pie with b linear, a's strategy and b's value of no deal varying; a's value of no deal 0."""
    # b concedes to its value of no deal in the last round (no ultimatum), as before the last-round
    # rule existed: these tests are about the concession curves
    b_strategy = {"kind": "linear", "last_offer": "concede"}
    return split_the_pie(
        0.0, b_value, deadline, {"actors.a.strategy": a_strategy, "actors.b.strategy": b_strategy}
    )


def test_raising_a_value_of_no_deal_against_a_linear_opponent_minimal_case() -> None:
    """The passing counterpart of the tit-for-tat case below: the same table with a linear too."""
    linear = {"kind": "linear", "last_offer": "concede"}
    before = run_model(one_issue(0.0, linear, 5), seed=0).outcomes()[0]
    after = run_model(one_issue(0.1, linear, 5), seed=0).outcomes()[0]
    assert before.deal and after.deal
    assert after.utilities["a"] <= before.utilities["a"] + 1e-9


def test_property_e_is_stated_without_tit_for_tat_because_reciprocity_rewards_a_tougher_opponent() -> None:
    """Why property (e) excludes tit-for-tat: this is reciprocity working, not a bug.

    b (linear, deadline 5) raises its value of no deal 0 -> 0.1, so it concedes less each round; a
    (tit-for-tat, no opening concession) mirrors those smaller concessions, keeps a higher target, and
    the deal moves from round 3 (b proposes) to round 4 (a proposes): a ends better off. The test pins
    this documented behaviour (docs/model-odd.md), so a change to it is noticed.
    """
    tit_for_tat = {"kind": "tit_for_tat", "initial_concession": 0.0, "reciprocity": 1.0}
    before = run_model(one_issue(0.0, tit_for_tat, 5), seed=0).outcomes()[0]
    after = run_model(one_issue(0.1, tit_for_tat, 5), seed=0).outcomes()[0]
    assert before.deal and after.deal
    assert after.utilities["a"] > before.utilities["a"] + 0.01, (before.utilities, after.utilities)


def binary_pair(b_value: float) -> Scenario:
    """Two binary issues: a cares only about q (wants 1), b only about r (wants 0); deadline 1.

    The status quo (both 0) is worth 0 to a and 1 to b; b's outside option makes its value of no deal
    ``b_value``.
    """
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
                "outside_option": 0.0,
            },
            "tables.ab.preferences.b": {
                "weights": {"q": 0.0, "r": 1.0},
                "ideal": {"q": "decrease", "r": "decrease"},
                "outside_option": b_value - 1.0,
            },
        }
    )


def test_raising_a_value_of_no_deal_with_binary_issues_never_helps_the_opponent() -> None:
    before = run_model(binary_pair(0.3), seed=0).outcomes()[0]
    after = run_model(binary_pair(1.0), seed=0).outcomes()[0]
    assert before.deal and after.deal
    assert after.utilities["a"] <= before.utilities["a"] + 1e-9, (before.values, after.values)


def test_an_ultimatum_gives_away_what_the_proposer_does_not_weigh() -> None:
    # b makes the last offer (round 1), an ultimatum: it claims r, which it weighs, and leaves q to a
    similarity = {"kind": "linear", "offers": "similarity"}
    scenario = apply_overrides(
        binary_pair(0.3), {"actors.a.strategy": similarity, "actors.b.strategy": similarity}
    )
    offers = run_model(scenario, seed=0, trace=True).datacollector.get_table_dataframe("offers")
    last = offers.iloc[-1]
    assert (last["proposer"], last["offer"]) == ("b", {"q": 1.0, "r": 0.0})


def test_efficient_offers_with_binary_issues_give_away_what_the_proposer_does_not_weigh() -> None:
    model = run_model(binary_pair(0.3), seed=0, trace=True)
    offers = model.datacollector.get_table_dataframe("offers")
    first = offers.iloc[0]
    # a cares only about q: its opening offer gives b its ideal on r (efficient), and b takes it
    assert (first["proposer"], first["offer"]) == ("a", {"q": 1.0, "r": 0.0})
    assert first["status"] == "deal"


def test_binary_rounding_never_offers_a_dominated_package() -> None:
    """With Faratin's similarity rule, binary issues are rounded without giving up a free issue."""
    similarity = {"kind": "linear", "offers": "similarity", "last_offer": "concede"}
    scenario = apply_overrides(
        binary_pair(0.3), {"actors.a.strategy": similarity, "actors.b.strategy": similarity}
    )
    model = run_model(scenario, seed=0, trace=True)
    offers = model.datacollector.get_table_dataframe("offers")
    b_offers = offers[offers["proposer"] == "b"]
    assert len(b_offers) == 1
    assert b_offers["offer"].iloc[0]["q"] == 1.0, b_offers["offer"].iloc[0]  # b does not care; a wants 1
