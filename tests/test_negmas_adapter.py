"""NegMAS negotiators at a table (optional extra ``negmas``; skipped where NegMAS is not installed).

The matched-protocol test: a table with NegMAS negotiators on both sides, played here through the
adapter, reaches the same agreement as NegMAS's own ``SAOMechanism`` on the same problem (outcome
space and utility functions from the adapter), at the matched step: NegMAS counts the step of the
acceptance (one after the offer) and ends one past it, so its final ``state.step`` is the round
here (counted from the table's opening) plus 2.
"""

from __future__ import annotations

import pytest

from negotiation.batch.rows import simulate
from negotiation.model import NegotiationModel, prepare
from tests.helpers import tiny_scenario

negmas = pytest.importorskip("negmas")

from negotiation.negotiators.negmas_adapter import (  # noqa: E402 - only with NegMAS installed
    NegmasNegotiator,
    outcome_space,
    sao_class,
    utility_function,
)

PAIRS = [
    ("AspirationNegotiator", "AspirationNegotiator"),
    ("BoulwareTBNegotiator", "ConcederTBNegotiator"),
    ("AspirationNegotiator", "NiceTitForTatNegotiator"),
    ("NaiveTitForTatNegotiator", "AspirationNegotiator"),
    ("MiCRONegotiator", "MiCRONegotiator"),
]


@pytest.mark.parametrize("deadline", [10, 40])
@pytest.mark.parametrize(("opener", "responder"), PAIRS)
def test_negmas_pair_here_matches_negmas_own_mechanism(opener: str, responder: str, deadline: int) -> None:
    scenario = tiny_scenario({"tables.ab.deadline": deadline})
    seats = {"a": lambda: NegmasNegotiator(opener), "b": lambda: NegmasNegotiator(responder)}
    model = NegotiationModel(scenario, seed=3, negotiators=seats)
    first, second = (model.seats.state(0, side, 0, 0.5) for side in (0, 1))
    space = outcome_space(first)
    mechanism = negmas.sao.SAOMechanism(
        outcome_space=space, n_steps=first.n_steps + 2, one_offer_per_step=True
    )
    mechanism.add(sao_class(opener)(), preferences=utility_function(first, space))
    mechanism.add(sao_class(responder)(), preferences=utility_function(second, space))
    theirs = mechanism.run()
    ours = model.run()[0]
    if theirs.agreement is None:
        assert ours.status == "deadline"
        assert theirs.step == first.n_steps + 2
    else:
        assert ours.status == "deal"
        assert tuple(ours.values.values()) == pytest.approx(tuple(theirs.agreement))
        assert theirs.step == ours.round - first.opens + 2


def test_the_matched_pairs_include_agreements() -> None:
    """Guard against a test that only compares timeouts: some pair agrees on the long table."""
    scenario = tiny_scenario({"tables.ab.deadline": 40})
    seats = {
        "a": lambda: NegmasNegotiator("BoulwareTBNegotiator"),
        "b": lambda: NegmasNegotiator("ConcederTBNegotiator"),
    }
    assert NegotiationModel(scenario, seed=3, negotiators=seats).run()[0].status == "deal"


def test_a_negmas_negotiator_against_a_builtin_strategy_in_a_batch() -> None:
    spec = {"kind": "negmas", "params": {"negotiator": "AspirationNegotiator", "levels": 5}}
    compiled = prepare(None, {"tables.us-china.negotiators": {"china": spec}})
    rows = simulate(compiled, 3, master_seed=1).to_pandas()
    assert len(rows) == 3 * compiled.n_tables
    again = simulate(compiled, 3, master_seed=1).to_pandas()
    assert rows.equals(again)


def test_an_unknown_negmas_class_is_named() -> None:
    with pytest.raises(ValueError, match="'NoSuchNegotiator' is not a NegMAS SAO negotiator; one of"):
        NegmasNegotiator("NoSuchNegotiator")


def test_the_one_documented_difference_an_offer_below_its_proposers_value_of_no_deal() -> None:
    """NegMAS lets an offer worth less to its proposer than its reserved value be accepted; here such
    an offer does not bind. WARNegotiator (responder) offers the outcome worth 0 to itself, CAB
    accepts it in NegMAS's own mechanism; here the table goes on."""
    scenario = tiny_scenario()
    seats = {"a": lambda: NegmasNegotiator("CABNegotiator"), "b": lambda: NegmasNegotiator("WARNegotiator")}
    model = NegotiationModel(scenario, seed=3, negotiators=seats)
    first, second = (model.seats.state(0, side, 0, 0.5) for side in (0, 1))
    space = outcome_space(first)
    mechanism = negmas.sao.SAOMechanism(
        outcome_space=space, n_steps=first.n_steps + 2, one_offer_per_step=True
    )
    mechanism.add(sao_class("CABNegotiator")(), preferences=utility_function(first, space))
    responder_ufun = utility_function(second, space)
    mechanism.add(sao_class("WARNegotiator")(), preferences=responder_ufun)
    theirs = mechanism.run()
    assert theirs.agreement is not None
    assert responder_ufun(theirs.agreement) < second.reserved_value  # proposed below its own value
    ours = model.run()[0]
    assert not (ours.status == "deal" and tuple(ours.values.values()) == tuple(theirs.agreement))
