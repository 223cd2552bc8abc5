"""The per-round trace of tables of more than two (SAOP): one ``offers`` row per other party.

Each round a SAOP table is open, the trace holds one row per party other than the proposer: the
proposer, that responder, the proposer's target, the offer's utility to both (as SAOP values it with
the preferences in force that round), the table's status after the round and the offer. Tracing
changes no outcome, and the bilateral tables' rows are those of the bilateral protocol's round trace.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.engine import Runs
from negotiation.bargaining.preferences import utility
from negotiation.bargaining.protocol import STATUS_NAMES
from negotiation.bargaining.saop import StackedDerived
from negotiation.bargaining.streams import run_key
from negotiation.model import TRACE_COLUMNS, NegotiationModel
from tests.helpers import arrays_equal, run_model

SEEDS = (3, 7, 2025)
SUMMIT = "us-asean"


def _traced_with_preferences(
    compiled: CompiledScenario, seed: int
) -> tuple[NegotiationModel, dict[int, StackedDerived]]:
    """A traced run, and the SAOP tables' preferences in force in each round (blocs and events move them)."""
    model = NegotiationModel(compiled, seed=seed, trace=True)
    in_force = {}
    while model.running:
        played = model.round
        model.step()
        d = model.runs.stacked.derived
        in_force[played] = replace(d, ideal=d.ideal.copy(), weights=d.weights.copy())
    return model, in_force


def _normalised(compiled: CompiledScenario, t: int, offer: dict[str, float]) -> np.ndarray:
    x = np.zeros(compiled.n_issues)
    for k, issue in enumerate(compiled.table_issues[t]):
        x[k] = (offer[issue] - compiled.low[t, k]) / (compiled.high[t, k] - compiled.low[t, k])
    return x


@pytest.mark.parametrize("seed", SEEDS)
def test_the_summit_table_is_traced_round_by_round_with_a_row_per_other_party(
    default_compiled: CompiledScenario, seed: int
) -> None:
    model, in_force = _traced_with_preferences(default_compiled, seed)
    c = model.compiled
    t = c.table_ids.index(SUMMIT)
    row = model.runs.stacked.tables.tolist().index(t)  # the summit's SAOP row (a run of one)
    parties = c.scenario.tables[SUMMIT].parties
    assert len(parties) > 2
    outcome = next(o for o in model.outcomes() if o.table == SUMMIT)
    offers = model.datacollector.get_table_dataframe("offers")
    rows = offers[offers["table"] == SUMMIT]
    opens = c.scenario.tables[SUMMIT].opens
    assert rows["round"].unique().tolist() == list(range(opens, outcome.round + 1))
    for round_, played in rows.groupby("round"):
        proposer = played["proposer"].iloc[0]
        assert (played["proposer"] == proposer).all() and proposer in parties
        # the others in the order they answer: the seats after the proposer, round the table
        at = parties.index(proposer)
        assert played["responder"].tolist() == [
            parties[(at + i) % len(parties)] for i in range(1, len(parties))
        ]
        assert played["offer"].map(lambda o: tuple(o.items())).nunique() == 1
        assert played["target"].nunique() == 1 and played["status"].nunique() == 1
        x = _normalised(c, t, played["offer"].iloc[0])
        d = in_force[round_]
        values = utility(x[None, :], d.weights[row], d.ideal[row], d.curvature[row])
        seat = {party: i for i, party in enumerate(parties)}
        np.testing.assert_allclose(played["proposer_utility"], values[seat[proposer]], rtol=0, atol=1e-9)
        expected = [values[seat[p]] for p in played["responder"]]
        np.testing.assert_allclose(played["responder_utility"], expected, rtol=0, atol=1e-9)
        assert np.isfinite(played["target"].iloc[0])
    assert (rows["status"][rows["round"] < outcome.round] == "open").all()
    assert rows["status"].iloc[-1] == outcome.status == STATUS_NAMES[int(model.negotiation.status[t])]
    if outcome.deal:
        last = rows[rows["round"] == outcome.round]
        assert last["offer"].iloc[0] == pytest.approx(outcome.values)
        assert outcome.utilities[last["proposer"].iloc[0]] == pytest.approx(last["proposer_utility"].iloc[0])
        for _, answer in last.iterrows():
            assert outcome.utilities[answer["responder"]] == pytest.approx(answer["responder_utility"])


@pytest.mark.parametrize("seed", SEEDS)
def test_the_bilateral_rows_are_the_bilateral_protocols_round_trace(
    default_compiled: CompiledScenario, seed: int
) -> None:
    model = run_model(default_compiled, seed=seed, trace=True)
    offers = model.datacollector.get_table_dataframe("offers")
    c = default_compiled
    runs = Runs(c, run_key(seed)[None])
    expected = []
    for round_ in range(model.round):
        trace, ended = runs.play(round_, trace=True)
        if ended.size:  # as the model's agents react to a table that ended
            runs.negotiation.reservation = runs.negotiation.reservation + runs.negotiation.linkage_shifts(
                ended
            )
        if trace is None:
            continue
        for i, t in enumerate(trace.tables.tolist()):
            side = int(trace.proposer[i])
            expected.append(
                (
                    round_,
                    c.table_ids[t],
                    c.actor_ids[c.parties[t, side]],
                    c.actor_ids[c.parties[t, 1 - side]],
                    float(trace.targets[i]),
                    float(trace.utilities[i, side]),
                    float(trace.utilities[i, 1 - side]),
                    STATUS_NAMES[int(trace.status[i])],
                )
            )
    stacked = [table for table, saop in zip(c.table_ids, c.stacked.tolist(), strict=True) if saop]
    bilateral = offers[~offers["table"].isin(stacked)]
    columns = [column for column in TRACE_COLUMNS if column != "offer"]
    assert list(bilateral[columns].itertuples(index=False, name=None)) == expected


def test_tracing_changes_no_outcome_and_the_per_run_path_traces_the_summit_too(
    default_compiled: CompiledScenario,
) -> None:
    plain = run_model(default_compiled, seed=7)
    traced = run_model(default_compiled, seed=7, trace=True)
    assert arrays_equal(plain.arrays(), traced.arrays())
    # seated negotiators put the run on the per-run path (mechanism.play); the summit plays SAOP there too
    seated = run_model(default_compiled, seed=7, trace=True, negotiators="reference")
    frames = [m.datacollector.get_table_dataframe("offers") for m in (traced, seated)]
    summit = [f[f["table"] == SUMMIT].reset_index(drop=True) for f in frames]
    assert len(summit[0]) > 0
    pd.testing.assert_frame_equal(summit[0], summit[1])
