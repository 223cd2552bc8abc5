"""Statistics of a results folder: counts by hand, intervals against scipy, errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from outdirs import hand_made_outdir, make_outdir
from scipy.stats import binomtest

from negotiation import stats
from negotiation.batch.reader import load_metadata, load_results, load_scenario_json, require_columns
from negotiation.errors import ExperimentError
from negotiation.intervals import wilson_interval
from negotiation.stats.digest import HISTOGRAM_BINS

TABLES = ("us-china", "us-korea", "us-north-korea", "thailand-cambodia")
PARAMETER = "actors.china.resolve"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    points = [{PARAMETER: 0.2}, {PARAMETER: 0.9}]
    return make_outdir(tmp_path_factory.mktemp("sweep"), points, replications=25, tables=TABLES)


@pytest.fixture(scope="module")
def results(outdir: Path) -> pd.DataFrame:
    return load_results(outdir)


@pytest.mark.parametrize("n", [1, 2, 5, 17, 100, 1000, 9600])
def test_wilson_matches_scipy_for_many_counts(n: int) -> None:
    k = np.unique([0, 1, n // 3, n // 2, n - 1, n])
    low, high = wilson_interval(k, np.full_like(k, n))
    for i, successes in enumerate(k):
        expected = binomtest(int(successes), n).proportion_ci(0.95, method="wilson")
        assert low[i] == pytest.approx(expected.low, abs=1e-12)
        assert high[i] == pytest.approx(expected.high, abs=1e-12)


def test_deal_probability_equals_a_hand_count(results: pd.DataFrame) -> None:
    table = stats.deal_probability(results)
    assert len(table) == 2 * len(TABLES)
    assert list(table["table"][: len(TABLES)]) == list(TABLES)
    for row in table.itertuples():
        runs = [r for r in results.itertuples() if r.point == row.point and r.table == row.table]
        assert row.n == len(runs) == 25
        assert row.deals == sum(1 for r in runs if r.status == "deal")
        assert row.p == pytest.approx(row.deals / row.n)


def test_deal_intervals_match_scipy(results: pd.DataFrame) -> None:
    for row in stats.deal_probability(results).itertuples():
        expected = binomtest(int(row.deals), int(row.n)).proportion_ci(0.95, method="wilson")
        assert (row.low, row.high) == pytest.approx((expected.low, expected.high), abs=1e-12)
        assert row.low <= row.p <= row.high


def test_pooling_over_points_adds_the_counts(results: pd.DataFrame) -> None:
    by_point = stats.deal_probability(results)
    pooled = stats.deal_probability(results, by=("table",)).set_index("table")
    sums = by_point.groupby("table")[["n", "deals"]].sum()
    assert (pooled.loc[sums.index, ["n", "deals"]] == sums).all().all()


def test_issue_moves_only_with_a_deal_and_match_a_hand_count(results: pd.DataFrame) -> None:
    moves = stats.issue_movement(results)
    deals = stats.deal_probability(results).set_index(["point", "table"])
    assert set(moves["issue"][moves["table"] == "us-china"]) == {
        "tariff",
        "rare_earths",
        "ai_chips",
        "agriculture",
        "taiwan",
    }
    for row in moves.itertuples():
        rows = results[(results["point"] == row.point) & (results["table"] == row.table)]
        assert row.moved == int(rows[f"moved_{row.issue}"].astype(bool).sum())
        assert row.moved <= deals.loc[(row.point, row.table), "deals"]
        assert row.n == len(rows)


def test_agreed_terms_are_quantiles_of_the_deals(outdir: Path, results: pd.DataFrame) -> None:
    scenario = load_scenario_json(outdir)
    terms = stats.agreed_terms(results)
    for row in terms.itertuples():
        rows = results[(results["point"] == row.point) & (results["table"] == row.table) & results["deal"]]
        values = rows[row.issue].to_numpy()
        assert row.deals == len(values)
        low, high = scenario.issue_range(row.table, row.issue)
        # read off a histogram over the values' range: within one of its bins of the exact median
        assert abs(row.q50 - np.median(values)) <= (high - low) / HISTOGRAM_BINS + 1e-12
        assert low - 1e-9 <= row.q05 <= row.q50 <= row.q95 <= high + 1e-9


def test_cumulative_deal_probability_is_monotone_and_ends_at_the_deal_share(results: pd.DataFrame) -> None:
    curve = stats.time_to_deal(results)
    last = int(results["round"].max())
    deals = stats.deal_probability(results).set_index(["point", "table"])
    for (point, table), group in curve.groupby(["point", "table"]):
        assert list(group["round"]) == list(range(last + 1))
        assert np.all(np.diff(group["p"].to_numpy()) >= 0)
        assert group["p"].iloc[-1] == pytest.approx(deals.loc[(point, table), "p"])
        rows = results[(results["point"] == point) & (results["table"] == table)]
        by_round_5 = int((rows["deal"] & (rows["round"] <= 5)).sum())
        assert int(group.loc[group["round"] == 5, "deals"].iloc[0]) == by_round_5


def test_summary_table_rows_parameters_and_shares(outdir: Path, results: pd.DataFrame) -> None:
    summary = stats.summary_table(results, load_metadata(outdir))
    assert len(summary) == 2 * len(TABLES)
    assert list(summary.columns[:3]) == ["point", PARAMETER, "table"]
    assert sorted(set(summary[PARAMETER])) == [0.2, 0.9]
    shares = summary["deal_probability"] + summary["walkout_share"] + summary["deadline_share"]
    assert np.allclose(shares, 1.0)
    china = summary[(summary["point"] == 0) & (summary["table"] == "us-china")].iloc[0]
    rows = results[(results["point"] == 0) & (results["table"] == "us-china")]
    assert china["mean_deal_round"] == pytest.approx(rows.loc[rows["deal"], "round"].mean())
    assert china["mean_utility_1"] == pytest.approx(rows["utility_1"].mean())
    # summarise streams the folder (bounded memory): the same table as from the rows in memory
    streamed = stats.summarise(outdir)
    assert list(streamed.columns) == list(summary.columns)
    assert (
        streamed[["point", "table", "runs", "deals"]].to_numpy()
        == summary[["point", "table", "runs", "deals"]].to_numpy()
    ).all()
    pd.testing.assert_frame_equal(streamed, summary, check_dtype=False, rtol=1e-12)


def test_issue_table_joins_moves_and_terms(outdir: Path, results: pd.DataFrame) -> None:
    table = stats.issue_table(results, load_metadata(outdir))
    moves, terms = stats.issue_movement(results), stats.agreed_terms(results)
    assert len(table) == len(moves)
    assert list(table.columns[:4]) == ["point", PARAMETER, "table", "issue"]
    assert np.allclose(table["move_probability"], moves["p"])
    merged = table.dropna(subset=["q50"])
    assert np.allclose(merged["q50"], terms["q50"]) and len(merged) == len(terms)


def test_missing_inputs_are_one_line_errors(tmp_path: Path, outdir: Path) -> None:
    with pytest.raises(ExperimentError, match="batch output folder"):
        load_metadata(tmp_path / "nowhere")
    with pytest.raises(ExperimentError, match="metadata"):
        load_metadata(tmp_path)
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(ExperimentError, match="JSON"):
        load_metadata(tmp_path)
    (tmp_path / "metadata.json").write_text(json.dumps({"parameters": "x"}))
    with pytest.raises(ExperimentError, match="parameters"):
        load_metadata(tmp_path)
    table = pq.read_table(next((outdir / "results").glob("*.parquet"))).drop_columns(["deal", "round"])
    hand_made = hand_made_outdir(tmp_path / "hand-made", [table], like=outdir)
    with pytest.raises(ExperimentError) as info:
        load_results(hand_made)
    assert "column deal" in str(info.value) and "round" in str(info.value)
    chunk = next((hand_made / "results").glob("*.parquet"))
    chunk_bytes = chunk.read_bytes()
    chunk.unlink()
    with pytest.raises(ExperimentError, match=f"{chunk.name}: missing"):
        load_results(hand_made)
    (hand_made / "results").rmdir()
    with pytest.raises(ExperimentError, match="results folder"):
        load_results(hand_made)
    assert "\n" not in info.value.one_line()
    (hand_made / "results").mkdir()
    (hand_made / "results" / chunk.name).write_bytes(chunk_bytes)
    (hand_made / "results" / "part-1.parquet").write_text("not parquet")
    with pytest.raises(ExperimentError, match=r"part-1\.parquet: got 'a file that metadata\.json does not"):
        load_results(hand_made)


def test_bad_scenario_json_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="scenario"):
        load_scenario_json(tmp_path)
    (tmp_path / "scenario.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(ExperimentError) as info:
        load_scenario_json(tmp_path)
    assert "\n" not in info.value.one_line()


def test_require_columns_names_the_source() -> None:
    with pytest.raises(ExperimentError, match=r"summary\.csv: field column p"):
        require_columns(pd.DataFrame({"a": [1]}), ["a", "p"], "summary.csv")
