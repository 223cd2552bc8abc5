"""Pictures of one run at tables of two and of more: the offers they read and the lines they draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from negotiation.bargaining.compiled import CompiledScenario
from negotiation.charts.run_charts import (
    concession_figure,
    parties_of,
    run_offers,
    utility_space,
    write_run_plots,
)
from negotiation.model import NegotiationModel
from tests.helpers import run_model

SUMMIT = "us-asean"


@pytest.fixture(scope="module")
def traced(default_compiled: CompiledScenario) -> NegotiationModel:
    return run_model(default_compiled, seed=2025, trace=True)


def test_parties_of_a_table_are_all_its_parties_in_table_order(traced: NegotiationModel) -> None:
    for table_id, table in traced.compiled.scenario.tables.items():
        assert parties_of(traced, table_id) == tuple(table.parties)
    assert len(parties_of(traced, SUMMIT)) == 7


def test_offers_of_a_table_of_two_are_its_trace_rows_with_each_sides_utility(
    traced: NegotiationModel,
) -> None:
    trace = traced.datacollector.get_table_dataframe("offers")
    rows = trace[trace["table"] == "us-china"].reset_index(drop=True)
    offers = run_offers(traced, "us-china")
    assert offers[list(rows.columns)].equals(rows)
    by_us = offers["proposer"] == "us"
    np.testing.assert_array_equal(
        offers["utility_0"], np.where(by_us, rows["proposer_utility"], rows["responder_utility"])
    )
    np.testing.assert_array_equal(
        offers["utility_1"], np.where(by_us, rows["responder_utility"], rows["proposer_utility"])
    )


def test_offers_of_a_table_of_n_are_one_row_per_offer_with_its_utility_to_every_party(
    traced: NegotiationModel,
) -> None:
    full = traced.datacollector.get_table_dataframe("offers")
    trace = full[full["table"] == SUMMIT]
    parties = parties_of(traced, SUMMIT)
    offers = run_offers(traced, SUMMIT)
    assert offers["round"].tolist() == sorted(set(trace["round"]))
    for _, offer in offers.iterrows():
        answers = trace[trace["round"] == offer["round"]]
        to = {
            offer["proposer"]: answers["proposer_utility"].iloc[0],
            **dict(zip(answers["responder"], answers["responder_utility"], strict=True)),
        }
        assert [offer[f"utility_{i}"] for i in range(len(parties))] == [to[p] for p in parties]
        assert offer["responder"] == "+".join(answers["responder"])
        assert offer["responder_utility"] == pytest.approx(answers["responder_utility"].mean())
    # with every table: utility columns as wide as the widest table, NaN past a table of two's parties
    every = run_offers(traced)
    assert len(every) == len(full) - len(trace) + len(offers)
    assert every.loc[every["table"] == "us-china", "utility_2"].isna().all()


def test_the_concession_figure_of_a_table_of_n_draws_each_partys_offers(traced: NegotiationModel) -> None:
    parties = parties_of(traced, SUMMIT)
    offers = run_offers(traced, SUMMIT)
    _, ax = concession_figure(traced, SUMMIT)
    labelled = [line for line in ax.lines if not line.get_label().startswith("_")]
    own = labelled[: len(parties)]
    assert len(own) == len(parties)  # a line per party, in table order
    for seat, (party, line) in enumerate(zip(parties, own, strict=True)):
        assert line.get_label().startswith(party)
        mine = offers[offers["proposer"] == party]
        np.testing.assert_array_equal(line.get_xydata(), mine[["round", f"utility_{seat}"]].to_numpy(float))
    dashed = [line for line in ax.lines if line.get_label() == "_nolegend_"]
    assert len(dashed) == len(parties)
    for seat, (party, line) in enumerate(zip(parties, dashed, strict=True)):
        mine = offers[offers["proposer"] == party]
        others = [f"utility_{i}" for i in range(len(parties)) if i != seat]
        np.testing.assert_allclose(line.get_ydata(), mine[others].mean(axis=1).to_numpy(float))
    assert {label.get_text() for label in ax.get_legend().get_texts()} >= {own[0].get_label()}


def test_a_table_of_two_keeps_its_four_lines(traced: NegotiationModel) -> None:
    _, ax = concession_figure(traced, "us-china")
    assert len(ax.lines) == 4


def test_no_utility_space_is_drawn_for_a_table_of_n(traced: NegotiationModel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="us-asean has 7 parties"):
        utility_space(traced, SUMMIT)
    assert utility_space(traced, "us-china").parties == ("us", "china")
    written = {path.name for path in write_run_plots(traced, tmp_path / "plots")}
    assert f"{SUMMIT}-concession.png" in written and f"{SUMMIT}-utility-space.png" not in written
    assert "us-china-utility-space.png" in written
