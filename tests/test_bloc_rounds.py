"""The bloc wired into scenarios and runs: common position, pull on the members' tables, defection.

Issue 15, part 2, at the level of the scenario and its runs (the building block's own tests are in
tests/test_bloc.py): Black's median, consensus ranges, a bloc of one, the rise of the values of no
deal (its exact size), defection, the paired design, and bad input.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from faults import assert_refused, run_main

from negotiation.bargaining.bloc_rounds import NEVER, bloc_columns
from negotiation.bargaining.compiled import compile_scenario
from negotiation.bargaining.engine import Runs, run_many
from negotiation.bargaining.reach import tables_reached
from negotiation.bargaining.status import OPEN
from negotiation.bargaining.streams import run_keys
from negotiation.batch.rows import simulate
from negotiation.model import NegotiationModel
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.schema import Scenario

DEFAULT = load_scenario(None)
MEMBERS = tuple(DEFAULT.blocs["asean"].members)
SEEDS = np.arange(24) * 101 + 5
TARIFF_SPAN = DEFAULT.issues["tariff"].high - DEFAULT.issues["tariff"].low
BLACK_TOLERANCE = 1e-7 * TARIFF_SPAN
"""The building block's tolerance for Black's median (1e-7 of an issue's range, tests/test_bloc.py),
in the tariff's real units."""
NO_MEMBER_TABLES = ("us-china", "us-japan", "us-korea", "us-north-korea", "thailand-cambodia")
"""Tables where no ASEAN member faces a non-member (Thailand and Cambodia are both members)."""
BLOC_TABLES = tuple(
    t
    for t, table in DEFAULT.tables.items()
    if set(table.parties) & set(MEMBERS) and not set(table.parties) <= set(MEMBERS)
)
"""Tables where an ASEAN member faces a non-member: the six bilaterals (and the summit table, if any)."""
MULTILATERAL = tuple(t for t in BLOC_TABLES if len(set(DEFAULT.tables[t].parties) & set(MEMBERS)) >= 2)
"""The bloc's multilateral tables (the summit table of seven, once the scenario has it)."""


def with_bloc(changes: dict | None = None, **members: dict) -> Scenario:
    """The default scenario with the ASEAN bloc's fields and members' fields replaced.

    A member given a new position loses the default's acceptable range unless it is given one too.
    """
    data = DEFAULT.model_dump(mode="python")
    bloc = data["blocs"]["asean"]
    bloc.update(changes or {})
    for member, fields in members.items():
        if "position" in fields and "acceptable" not in fields:
            fields = {**fields, "acceptable": {}}
        bloc["members"][member].update(fields)
    data["uncertainty"] = {k: v for k, v in data["uncertainty"].items() if not k.startswith("blocs.")}
    return Scenario.model_validate(data)


def without_bloc(scenario: Scenario = DEFAULT) -> Scenario:
    """The scenario without its blocs (and their uncertain parameters)."""
    data = copy.deepcopy(scenario.model_dump(mode="python"))
    data["blocs"] = {}
    data["uncertainty"] = {k: v for k, v in data["uncertainty"].items() if not k.startswith("blocs.")}
    return Scenario.model_validate(data)


def columns(scenario: Scenario, seeds: np.ndarray = SEEDS) -> dict[str, np.ndarray]:
    """The runs' bloc outputs by column name."""
    compiled = compile_scenario(scenario)
    arrays = run_many(compiled, seeds)
    names = [name for name, _ in bloc_columns(compiled.blocs)]
    return {name: arrays.bloc[:, i] for i, name in enumerate(names)}


def traced(model: NegotiationModel, round_: int, actor: str) -> float:
    """A position in the Mesa model's bloc trace (the common one, or a member's)."""
    frame = model.datacollector.get_table_dataframe("bloc")
    return float(frame[(frame["round"] == round_) & (frame["actor"] == actor)]["position"].iloc[0])


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, weights.sum() / 2.0, side="right")])


# --- the common position in runs -------------------------------------------------------------------

POSITIONS = {
    "malaysia": 12.0,
    "thailand": 31.0,
    "cambodia": 22.0,
    "vietnam": 15.0,
    "indonesia": 27.0,
    "singapore": 18.0,
}
CAPABILITIES = {
    "malaysia": 0.3,
    "thailand": 0.1,
    "cambodia": 0.15,
    "vietnam": 0.2,
    "indonesia": 0.35,
    "singapore": 0.12,
}


def test_majority_with_equal_salience_converges_to_the_capability_weighted_median_in_every_run():
    scenario = with_bloc(
        {"rule": "majority"},
        **{
            m: {
                "position": {"tariff": POSITIONS[m]},
                "salience": {"tariff": 1.0},
                "capability": CAPABILITIES[m],
            }
            for m in MEMBERS
        },
    )
    out = columns(scenario)
    positions = np.array([POSITIONS[m] for m in MEMBERS])
    capability = np.array([CAPABILITIES[m] for m in MEMBERS])
    checked = 0
    for run in range(len(SEEDS)):
        stayed = np.array([out[f"bloc_asean_{m}_defected"][run] == 0.0 for m in MEMBERS])
        if not stayed.any():
            assert np.isnan(out["bloc_asean_position_tariff"][run])
            continue
        median = weighted_median(positions[stayed], capability[stayed])
        assert abs(out["bloc_asean_position_tariff"][run] - median) <= BLACK_TOLERANCE
        checked += 1
    # before round 0 every member is in (defection 0): the whole bloc's median, in the trace
    model = NegotiationModel(
        with_bloc(
            {"rule": "majority"},
            **{
                m: {
                    "position": {"tariff": POSITIONS[m]},
                    "salience": {"tariff": 1.0},
                    "capability": CAPABILITIES[m],
                    "defection": 0.0,
                }
                for m in MEMBERS
            },
        ),
        seed=3,
        trace=True,
    )
    model.step()
    common = traced(model, 0, "common")
    assert abs(common - weighted_median(positions, capability)) <= BLACK_TOLERANCE
    assert checked > 0


def test_under_consensus_the_position_lies_in_every_remaining_members_range_or_none_exists():
    ranges = {
        "malaysia": (10.0, 25.0),
        "thailand": (15.0, 40.0),
        "cambodia": (12.0, 30.0),
        "vietnam": (14.0, 22.0),
        "indonesia": (10.0, 35.0),
        "singapore": (10.0, 21.0),
    }
    positions = {
        "malaysia": 19.0,
        "thailand": 19.0,
        "cambodia": 19.0,
        "vietnam": 20.0,
        "indonesia": 19.0,
        "singapore": 16.0,
    }
    scenario = with_bloc(
        {"rule": "consensus"},
        **{m: {"acceptable": {"tariff": ranges[m]}, "position": {"tariff": positions[m]}} for m in MEMBERS},
    )
    out = columns(scenario)
    for run in range(len(SEEDS)):
        stayed = [m for m in MEMBERS if out[f"bloc_asean_{m}_defected"][run] == 0.0]
        position = out["bloc_asean_position_tariff"][run]
        if stayed:
            assert out["bloc_asean_exists"][run] == 1.0
            for m in stayed:
                assert ranges[m][0] - 1e-9 <= position <= ranges[m][1] + 1e-9, (run, m, position)
    # ranges with no common point: no common position while both are in, so no pull and no rise
    apart = with_bloc(
        {"rule": "consensus", "leverage": 0.5},
        malaysia={"acceptable": {"tariff": (10.0, 19.0)}, "defection": 0.0},
        vietnam={"acceptable": {"tariff": (20.0, 40.0)}, "defection": 0.0},
    )
    out = columns(apart)
    both_in = (out["bloc_asean_malaysia_defected"] == 0.0) & (out["bloc_asean_vietnam_defected"] == 0.0)
    assert (out["bloc_asean_exists"][both_in] == 0.0).all()
    assert np.isnan(out["bloc_asean_position_tariff"][both_in]).all()
    assert (out["bloc_asean_strength"][both_in] == 0.0).all()
    before, plain = (
        Runs(compile_scenario(apart), run_keys(SEEDS)),
        Runs(compile_scenario(without_bloc(apart)), run_keys(SEEDS)),
    )
    np.testing.assert_array_equal(before.negotiation.reservation, plain.negotiation.reservation)
    np.testing.assert_array_equal(before.negotiation.derived.ideal, plain.negotiation.derived.ideal)


def test_a_bloc_of_one_reduces_to_that_member():
    data = DEFAULT.model_dump(mode="python")
    singapore = data["blocs"]["asean"]["members"]["singapore"]
    # its position is its own ideal at its US table (the bottom of the tariff range there, 10%)
    data["blocs"]["asean"].update(members={"singapore": {**singapore, "defection": 0.0}}, leverage=0.0)
    data["uncertainty"] = {k: v for k, v in data["uncertainty"].items() if not k.startswith("blocs.")}
    alone = Scenario.model_validate(data)
    assert _same_tables(alone, without_bloc(alone), DEFAULT.tables)
    model = NegotiationModel(alone, seed=1, trace=True)
    model.step()
    assert traced(model, 0, "common") == 10.0 == traced(model, 0, "singapore")
    # with leverage its value of no deal at its US table rises by exactly leverage * cohesion * 1
    data["blocs"]["asean"]["leverage"] = 0.2
    firm = Runs(compile_scenario(Scenario.model_validate(data)), run_keys([1]))
    alone_runs = Runs(compile_scenario(alone), run_keys([1]))
    t = list(DEFAULT.tables).index("us-singapore")
    rise = firm.negotiation.reservation[t, 1] - alone_runs.negotiation.reservation[t, 1]
    assert rise == pytest.approx(0.2 * singapore["cohesion"], abs=1e-12)


def _same_tables(left: Scenario, right: Scenario, tables, seeds: np.ndarray = SEEDS) -> bool:
    """Every outcome array is bit-identical at these tables on the same seeds."""
    a, b = run_many(compile_scenario(left), seeds), run_many(compile_scenario(right), seeds)
    index = [list(left.tables).index(t) for t in tables]
    return all(
        np.array_equal(getattr(a, f)[:, index], getattr(b, f)[:, index], equal_nan=True)
        for f in (
            "status",
            "end_round",
            "values",
            "utilities",
            "reservation",
            "pareto_distance",
            "nash_distance",
        )
    )


# --- the pull on the tables ------------------------------------------------------------------------


def _seat_reservation(scenario: Scenario) -> np.ndarray:
    """(N, members) each member's value of no deal at its US table before round 0."""
    runs = Runs(compile_scenario(scenario), run_keys(SEEDS))
    by_table = runs.negotiation.reservation.reshape(len(SEEDS), -1, 2)
    return np.stack([by_table[:, list(DEFAULT.tables).index(f"us-{m}"), 1] for m in MEMBERS], axis=1)


def test_a_firm_cohesive_bloc_raises_members_values_of_no_deal_by_leverage_times_cohesion_times_strength():
    # every member's position is its own ideal at its US table (10%), so only the rise is left
    own = {"position": {"tariff": 10.0}, "defection": 0.0}
    base = _seat_reservation(without_bloc())
    previous = base
    for leverage in (0.0, 0.05, 0.2, 0.5):
        for cohesion in (0.0, 0.3, 0.9):
            scenario = with_bloc(
                {"leverage": leverage}, **{m: {**own, "cohesion": cohesion} for m in MEMBERS}
            )
            value = _seat_reservation(scenario)
            np.testing.assert_allclose(value - base, leverage * cohesion, atol=1e-12)
            assert (value >= previous - 1e-12).all() or cohesion == 0.0
            previous = value


def test_cohesion_pulls_members_tariff_ideals_toward_the_common_position():
    # without red lines the consensus position is the compromise (17.8%), above every table ideal
    free = {m: {"defection": 0.0, "cohesion": 0.5, "acceptable": {}} for m in MEMBERS}
    compiled = compile_scenario(with_bloc(**free))
    runs = Runs(compiled, run_keys([7]))
    common = compiled.blocs[0].real(compiled.blocs[0].decision(np.ones(6, bool)).position)[0]
    assert 17.0 < common < 18.0
    for m in MEMBERS:
        t = list(DEFAULT.tables).index(f"us-{m}")
        low, high = DEFAULT.issue_range(f"us-{m}", "tariff")
        ideal = runs.negotiation.derived.ideal[t, 1, DEFAULT.tables[f"us-{m}"].issues.index("tariff")]
        own = 0.0  # every member's tariff ideal is "decrease": the bottom of its table's range
        assert ideal == pytest.approx(own + 0.5 * ((common - low) / (high - low) - own), abs=1e-12)


# --- defection -------------------------------------------------------------------------------------


def test_a_member_that_signs_with_an_outsider_while_the_bloc_negotiates_defects_the_round_after():
    out = columns(DEFAULT)
    compiled = compile_scenario(DEFAULT)
    arrays = run_many(compiled, SEEDS)
    tables = list(DEFAULT.tables)
    summit = list(MULTILATERAL)
    if summit:  # the bloc negotiates while its multilateral table is open
        s = tables.index(summit[0])
        until = np.where(arrays.status[:, s] != OPEN, arrays.end_round[:, s], np.iinfo(np.int64).max)
    else:  # until the last deadline of its members' tables with outsiders
        until = np.full(len(SEEDS), max(DEFAULT.tables[f"us-{m}"].deadline for m in MEMBERS))
    signed_somewhere = False
    for m in MEMBERS:
        t = tables.index(f"us-{m}")
        signed = (arrays.status[:, t] == 1) & (arrays.end_round[:, t] < until)
        signed_somewhere |= signed.any()
        left = out[f"bloc_asean_{m}_defected_round"]
        assert (out[f"bloc_asean_{m}_defected"][signed] == 1.0).all()
        # it left no later than the round after its deal (earlier only by its own propensity)
        assert (left[signed] <= arrays.end_round[signed, t] + 1).all()
    assert signed_somewhere


def test_a_defectors_tables_no_longer_get_the_bloc_effect():
    firm = with_bloc({"leverage": 0.3}, malaysia={"defection": 1.0})
    left = columns(firm)["bloc_asean_malaysia_defected_round"]
    assert (left < 6).all()  # a propensity of 1: it leaves before the bloc's close in every run
    plain = run_many(compile_scenario(without_bloc(firm)), SEEDS)
    blocked = run_many(compile_scenario(firm), SEEDS)
    t = list(DEFAULT.tables).index("us-malaysia")
    at_start = left == 0  # out before round 0: its table plays exactly as without the bloc
    assert at_start.any()
    for f in ("status", "end_round", "values", "utilities", "reservation"):
        np.testing.assert_array_equal(getattr(blocked, f)[at_start, t], getattr(plain, f)[at_start, t])
    # later leavers: from the round they leave, their ideal and value of no deal are as without the bloc
    seed = int(SEEDS[np.flatnonzero(left > 0)[0]])
    with_ = NegotiationModel(firm, seed=seed)
    plain_model = NegotiationModel(without_bloc(firm), seed=seed)
    for _ in range(int(left[np.flatnonzero(left > 0)[0]]) + 1):
        with_.step(), plain_model.step()
    assert with_.runs.blocs.left[0, MEMBERS.index("malaysia")] < NEVER
    np.testing.assert_array_equal(
        with_.negotiation.derived.ideal[t], plain_model.negotiation.derived.ideal[t]
    )
    np.testing.assert_allclose(
        with_.negotiation.reservation[t], plain_model.negotiation.reservation[t], atol=1e-12
    )


def test_defection_propensity_is_drawn_from_its_own_stream_and_one_always_defects():
    always = columns(with_bloc(**{m: {"defection": 1.0} for m in MEMBERS}))
    never = columns(with_bloc(**{m: {"defection": 0.0} for m in MEMBERS}))
    for m in MEMBERS:
        assert (always[f"bloc_asean_{m}_defected"] == 1.0).all()
    # without a propensity, only deals make defectors, and every one of them signed
    assert (
        never["bloc_asean_malaysia_defected_round"][never["bloc_asean_malaysia_defected"] == 1.0] >= 1
    ).all()


# --- the paired design -----------------------------------------------------------------------------


def test_adding_the_bloc_leaves_every_table_without_a_member_facing_an_outsider_untouched():
    with_, without = (
        simulate(compile_scenario(DEFAULT), 48, 11),
        simulate(compile_scenario(without_bloc()), 48, 11),
    )
    a, b = with_.to_pandas(), without.to_pandas()
    shared = [c for c in b.columns if c in a.columns]
    for table in NO_MEMBER_TABLES:
        left, right = (
            a[a.table == table][shared].reset_index(drop=True),
            b[b.table == table][shared].reset_index(drop=True),
        )
        assert left.equals(right), table
    moved = a[a.table.str.startswith("us-") & ~a.table.isin(NO_MEMBER_TABLES)]
    assert (
        not moved[shared]
        .reset_index(drop=True)
        .equals(b[b.table.isin(moved.table.unique())][shared].reset_index(drop=True))
    )


def test_a_bloc_reaches_its_members_tables_with_outsiders_and_couples_them():
    asean = BLOC_TABLES
    assert {f"us-{m}" for m in MEMBERS} <= set(asean)
    assert tables_reached(DEFAULT, "blocs.asean.members.malaysia.cohesion") == asean
    assert tables_reached(DEFAULT, "blocs.asean.leverage") == asean
    # a member's deal is a defection that weakens the bloc: its table reaches the others
    assert set(tables_reached(DEFAULT, "actors.malaysia.resolve")) == set(asean)
    alone = set(tables_reached(without_bloc(), "actors.malaysia.resolve"))
    assert "us-malaysia" in alone and alone <= set(asean)
    assert tables_reached(DEFAULT, "actors.japan.resolve") == ("us-japan", "us-korea")


def test_an_event_cannot_change_a_defection_propensity(tmp_path: Path, capsys):
    from helpers import TINY_TOML

    text = (
        TINY_TOML
        + BLOC
        + '\n[[events]]\nname = "e"\nround = 1\nshift = { "blocs.b.members.a.defection" = 0.1 }\n'
    )
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    assert_refused(run_main(capsys, "validate", path), "events.0.shift", "defection propensity")


# --- the scenario format ---------------------------------------------------------------------------


BLOC = """
[blocs.b]
issues = ["y"]
rule = "consensus"
leverage = 0.1

[blocs.b.members.a]
position = { y = 0.2 }
salience = { y = 0.5 }
capability = 1.0
"""


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("[blocs.b.members.a]", "[blocs.b.members.zz]", ["blocs.b.members", "zz", "declared actor"]),
        ('issues = ["y"]\nrule', 'issues = ["nope"]\nrule', ["blocs.b.issues", "nope", "declared issue"]),
        (
            "position = { y = 0.2 }",
            "position = { y = 7.0 }",
            ["blocs.b.members.a.position.y", "7.0", "[0.0, 1.0]"],
        ),
        ("salience = { y = 0.5 }", "salience = { y = 0.0 }", ["blocs.b.members.a.salience.y", "0.0"]),
        ("salience = { y = 0.5 }", "salience = { y = 1.5 }", ["blocs.b.members.a.salience.y", "1.5"]),
        ("capability = 1.0", "capability = 0.0", ["blocs.b.members.a.capability", "0.0"]),
        ("capability = 1.0", "capability = 1.0\ncohesion = 1.2", ["blocs.b.members.a.cohesion", "1.2"]),
        ("capability = 1.0", "capability = 1.0\ndefection = -0.1", ["blocs.b.members.a.defection", "-0.1"]),
        ('rule = "consensus"', 'rule = "qualified_majority"\nquota = 0.5', ["blocs.b.quota", "0.5"]),
        ('rule = "consensus"', 'rule = "qualified_majority"\nquota = 1.1', ["blocs.b.quota", "1.1"]),
        ('rule = "consensus"', 'rule = "qualified_majority"', ["blocs.b.quota", "a quota in (0.5, 1]"]),
        ('rule = "consensus"', 'rule = "unanimity"', ["blocs.b.rule", "unanimity"]),
        (
            "position = { y = 0.2 }",
            "position = { y = 0.2, x = 5.0 }",
            ["blocs.b.members.a.position.x", "bloc issue"],
        ),
        (
            "capability = 1.0",
            "capability = 1.0\nacceptable = { y = [0.3, 0.9] }",
            ["acceptable.y", "position (0.2)"],
        ),
        (
            "capability = 1.0",
            "capability = 1.0\n\n[blocs.b.members.a]\ncapability = 2.0",
            ["blocs", "members"],
        ),
    ],
    ids=[
        "unknown-member",
        "undeclared-issue",
        "position-out-of-range",
        "salience-zero",
        "salience-above-one",
        "capability-zero",
        "cohesion-above-one",
        "defection-negative",
        "quota-half",
        "quota-above-one",
        "quota-missing",
        "unknown-rule",
        "position-off-the-bloc-issues",
        "range-without-position",
        "member-listed-twice",
    ],
)
def test_bad_bloc_input_is_one_line_and_exit_2(tmp_path: Path, capsys, old: str, new: str, words: list[str]):
    from helpers import TINY_TOML

    text = (TINY_TOML + BLOC).replace(old, new, 1)
    path = tmp_path / "bloc.toml"
    path.write_text(text, encoding="utf-8")
    assert_refused(run_main(capsys, "validate", path), str(path), *words)


def test_ranges_without_a_common_point_are_valid_input(tmp_path: Path, capsys):
    from helpers import TINY_TOML

    text = TINY_TOML + BLOC.replace("capability = 1.0", "capability = 1.0\nacceptable = { y = [0.1, 0.3] }")
    text += (
        "\n[blocs.b.members.b]\nposition = { y = 0.8 }\nsalience = { y = 1.0 }\ncapability = 1.0\n"
        "acceptable = { y = [0.6, 1.0] }\n"
    )
    path = tmp_path / "apart.toml"
    path.write_text(text, encoding="utf-8")
    assert run_main(capsys, "validate", path).code == 0


def test_cohesion_and_defection_are_parameters_reachable_by_set_and_uncertainty(capsys):
    fixed = load_scenario(None, {"blocs.asean.members.malaysia.cohesion": 0.8})
    assert fixed.blocs["asean"].members["malaysia"].cohesion == 0.8
    assert "blocs.asean.members.malaysia.cohesion" not in fixed.uncertainty
    compiled = compile_scenario(DEFAULT)
    params = compiled.draw(run_keys(SEEDS))
    assert np.ptp(params["bloc_cohesion"], axis=0).min() > 0.0  # drawn per run
    assert np.ptp(params["bloc_defection"], axis=0).min() > 0.0
    assert (compile_scenario(fixed).draw(run_keys(SEEDS))["bloc_cohesion"][:, 0] == 0.8).all()
    outcome = run_main(capsys, "run", "--set", "blocs.asean.members.malaysia.cohesion=1.5")
    assert_refused(outcome, "blocs.asean.members.malaysia.cohesion", "1.5")


# --- what users see --------------------------------------------------------------------------------

NO_BLOC = Path(__file__).resolve().parents[1] / "experiments" / "variants" / "no-bloc.toml"


def test_the_no_bloc_variant_plays_every_table_exactly_as_a_scenario_without_the_bloc():
    from negotiation.tuning.compare import load_side

    variant = load_side(NO_BLOC).scenario
    assert variant.blocs["asean"].leverage == 0.0
    assert all(m.cohesion == 0.0 for m in variant.blocs["asean"].members.values())
    assert not any(path.endswith(".cohesion") for path in variant.uncertainty)
    assert _same_tables(variant, without_bloc(variant), DEFAULT.tables)


def test_compare_with_the_no_bloc_variant_shows_each_members_stake_and_leaves_the_rest_untouched(capsys):
    outcome = run_main(capsys, "compare", "default", NO_BLOC, "--runs", "40")
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    for table in NO_MEMBER_TABLES:
        line = next(x for x in lines if x.startswith(f"{table} "))
        assert "+0.0pp" in line and "+0 / -0" in line and "out of reach" in line
    stake = lines.index(next(x for x in lines if x.startswith("change in what the outcome")))
    rows = [x.split()[:2] for x in lines[stake + 3 :] if x.strip()]
    assert {(m, f"us-{m}") for m in MEMBERS} <= {tuple(r) for r in rows}
    assert {r[1] for r in rows} == set(BLOC_TABLES)


def test_member_utilities_are_measured_by_the_members_own_preferences():
    from negotiation.tuning.compare import paired_member_utilities, simulate_pair

    base, variant = simulate_pair(DEFAULT, without_bloc(), 30, 4)
    frame = paired_member_utilities(base, variant, (DEFAULT, without_bloc()))
    assert set(frame["member"]) == set(MEMBERS) and set(frame["table"]) == set(BLOC_TABLES)
    # the same outcome is worth the same on both sides: a run whose terms did not change adds 0
    same = paired_member_utilities(base, base, (DEFAULT,))
    assert (same["change"] == 0.0).all() and (same["low"] == 0.0).all()
    # by hand for one run: Singapore's tariff and market access by its declared weights and ideals
    row = variant[(variant["table"] == "us-singapore")].iloc[0]
    weights = {"tariff": 0.6, "market_access": 0.4}
    by_hand = weights["tariff"] * (1 - (row["tariff"] - 10.0) / 30.0) + weights["market_access"] * (
        1 - row["market_access"]
    )
    alone = variant[variant["replication"] == row["replication"]]
    mine = paired_member_utilities(alone, alone, (DEFAULT,))
    at_home = (mine["member"] == "singapore") & (mine["table"] == "us-singapore")
    assert mine.loc[at_home, "base_utility"].iloc[0] == pytest.approx(by_hand, abs=1e-12)


def test_a_batch_reports_defection_rates_with_intervals_and_draws_the_bloc(tmp_path: Path, capsys):
    out = tmp_path / "batch"
    assert (
        run_main(capsys, "batch", "--runs", "60", "--workers", "1", "--out", out, "--no-progress").code == 0
    )
    blocs = pd.read_csv(out / "blocs.csv")
    assert list(blocs["member"]) == list(MEMBERS)
    assert (
        (blocs["defection_low"] <= blocs["defection_rate"])
        & (blocs["defection_rate"] <= blocs["defection_high"])
    ).all()
    results = pd.read_parquet(out / "results")
    first = results[results["table"] == "us-china"]
    for m in MEMBERS:
        assert blocs.loc[blocs["member"] == m, "defected"].iloc[0] == first[f"bloc_asean_{m}_defected"].sum()
    assert "## Blocs" in (out / "summary.md").read_text(encoding="utf-8")
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="blocs"' in report and 'id="bloc"' in report
    assert (out / "charts" / "bloc.png").stat().st_size > 0


def test_a_traced_run_draws_the_blocs_position_over_the_rounds(tmp_path: Path, capsys):
    outcome = run_main(capsys, "run", "--seed", "3", "--plot", tmp_path / "plots")
    assert outcome.code == 0, outcome.err
    assert (tmp_path / "plots" / "bloc-asean.png").stat().st_size > 0
    model = NegotiationModel(seed=3, trace=True)
    model.run()
    frame = model.datacollector.get_table_dataframe("bloc")
    assert set(frame["actor"]) >= set(MEMBERS)
    left = columns(DEFAULT, np.array([3]))
    for m in MEMBERS:
        rows = frame[frame["actor"] == m]
        out_from = left[f"bloc_asean_{m}_defected_round"][0]
        if not np.isnan(out_from):
            assert (~rows[rows["round"] >= out_from]["in_bloc"]).all() and rows[rows["round"] < out_from][
                "in_bloc"
            ].all()


@pytest.mark.skipif(not MULTILATERAL, reason="the scenario has no multilateral table")
def test_the_bloc_pulls_each_members_seat_at_the_summit_table_too():
    own = {m: {"position": {"tariff": 10.0}, "defection": 0.0, "cohesion": 0.5} for m in MEMBERS}
    firm, none = with_bloc({"leverage": 0.3}, **own), with_bloc({"leverage": 0.0}, **own)
    summit = list(DEFAULT.tables).index(MULTILATERAL[0])
    a, b = Runs(compile_scenario(firm), run_keys(SEEDS)), Runs(compile_scenario(none), run_keys(SEEDS))
    assert a.stacked.count and summit in a.stacked.tables.tolist()
    parties = DEFAULT.tables[MULTILATERAL[0]].parties
    seats = [parties.index(m) for m in MEMBERS]
    rise = a.stacked.reservation[:, seats] - b.stacked.reservation[:, seats]
    np.testing.assert_allclose(rise, 0.3 * 0.5, atol=1e-12)  # the whole bloc in: strength 1
    outsider = [i for i, p in enumerate(parties) if p not in MEMBERS]
    np.testing.assert_array_equal(a.stacked.reservation[:, outsider], b.stacked.reservation[:, outsider])
