"""The streamed digest: batches add up to the whole table, statistics match the DataFrames, memory is flat."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from outdirs import hand_made_outdir, make_outdir, make_repeated_outdir

from negotiation.batch.reader import load_metadata, load_results, load_scenario_json
from negotiation.charts.report import write_outputs
from negotiation.errors import ExperimentError
from negotiation.stats import digest as digest_module
from negotiation.stats import summary as stats
from negotiation.stats.digest import HISTOGRAM_BINS, ResultsDigest, quantiles_from_histogram, read_digest

TABLES = ("us-china", "us-korea", "us-north-korea", "thailand-cambodia")
RESOLVE = "actors.china.resolve"
US_RESOLVE = "actors.us.resolve"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    points = [{RESOLVE: a, US_RESOLVE: b} for a in (0.2, 0.5, 0.8) for b in (0.3, 0.7)]
    return make_outdir(tmp_path_factory.mktemp("sweep"), points, replications=30, tables=TABLES)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Table and issue columns as plain strings, a fresh index: for comparing frames."""
    frame = frame.reset_index(drop=True)
    return frame.astype({c: str for c in ("table", "issue") if c in frame.columns})


def test_batches_add_up_to_the_whole_table(sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario, parameters = load_scenario_json(sweep), [RESOLVE, US_RESOLVE]
    whole = ResultsDigest.from_frame(
        load_results(sweep, [*parameters]), parameters, scenario, cloud_point=None
    )
    monkeypatch.setattr(digest_module, "BATCH_ROWS", 37)  # batches break inside runs and design points
    monkeypatch.setattr(digest_module, "MAX_DOTS", 25)
    small = ResultsDigest.from_frame(
        load_results(sweep, [*parameters]), parameters, scenario, cloud_point=None
    )
    batched = read_digest(sweep, scenario, parameters, cloud_point=None)
    assert batched.tables == list(TABLES) and len(batched.points) == 6
    pd.testing.assert_frame_equal(batched.counts, whole.counts)  # sums too: added row by row, in order
    pd.testing.assert_frame_equal(batched.moves, whole.moves)
    pd.testing.assert_frame_equal(batched.points, whole.points)
    for name in ("rounds", "histograms", "chart_bins", "binary"):
        assert np.array_equal(getattr(batched, name), getattr(whole, name)), name
    assert int(whole.counts["n"].sum()) == 6 * 30 * len(TABLES)
    assert int(whole.histograms.sum() + whole.moves[["at_low", "at_high"]].to_numpy().sum()) == int(
        whole.moves["deals"].sum()
    )
    # the cloud keeps the agreements with the smallest replication indices, however it was read
    results = load_results(sweep)
    for table in TABLES:
        deals = results[(results["table"] == table) & results["deal"]]
        expected = deals.sort_values(["replication", "point"]).head(25).sort_values(["point", "replication"])
        for sample in (batched.cloud[table], small.cloud[table]):
            assert list(sample["replication"]) == list(expected["replication"])
            assert np.array_equal(sample["utility_0"], expected["utility_0"].to_numpy())


def test_a_streamed_folder_and_its_rows_in_memory_give_the_same_statistics(sweep: Path) -> None:
    scenario, metadata = load_scenario_json(sweep), load_metadata(sweep)
    results = load_results(sweep, metadata["parameters"])
    digest = read_digest(sweep, scenario, metadata["parameters"], cloud_point=None)
    for by in (("point", "table"), ("table",), (RESOLVE, "table")):
        for name in ("deal_probability", "issue_movement", "time_to_deal"):
            in_memory = getattr(stats, name)(results, by=by)
            streamed = getattr(stats, name)(digest, by=by)
            pd.testing.assert_frame_equal(_plain(streamed), _plain(in_memory), check_dtype=False)
    pd.testing.assert_frame_equal(
        stats.summary_table(digest, metadata), stats.summary_table(results, metadata), rtol=1e-12
    )


def test_agreed_terms_are_within_one_histogram_bin_of_the_exact_quantiles(sweep: Path) -> None:
    scenario, metadata = load_scenario_json(sweep), load_metadata(sweep)
    results = load_results(sweep, metadata["parameters"])
    table = stats.issue_table(read_digest(sweep, scenario, metadata["parameters"]), metadata)
    deals = results[results["deal"].astype(bool)]
    checked = 0
    for row in table.dropna(subset=["q50"]).itertuples():
        values = deals.loc[(deals["point"] == row.point) & (deals["table"] == row.table), row.issue].dropna()
        exact = np.quantile(values.to_numpy(dtype=float), [0.05, 0.25, 0.5, 0.75, 0.95])
        low, high = scenario.issue_range(row.table, row.issue)
        shown = np.array([row.q05, row.q25, row.q50, row.q75, row.q95])
        assert np.all(np.abs(shown - exact) <= (high - low) / HISTOGRAM_BINS + 1e-12), (row.table, row.issue)
        assert row.deals == len(values) and row.mean == pytest.approx(values.mean(), rel=1e-12)
        checked += 1
    assert checked > 10


def test_histogram_quantiles_are_within_one_bin_and_exact_at_the_ends() -> None:
    rng = np.random.default_rng(11)
    low, high, bins = 10.0, 40.0, 50
    values = np.concatenate([rng.uniform(low, high, 300), np.full(40, low), rng.normal(25, 0.01, 20)])
    inside = values[(values > low) & (values < high)]
    histogram = np.histogram(inside, bins=np.linspace(low, high, bins + 1))[0]
    qs = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
    estimate = quantiles_from_histogram(
        histogram, int(np.sum(values == low)), 0, low, high, values.min(), values.max(), qs
    )
    assert np.all(np.abs(estimate - np.quantile(values, qs)) <= (high - low) / bins)
    assert estimate[0] == values.min() and estimate[-1] == values.max()
    assert estimate[1] == low  # 5% of the values sit exactly on the low end: exact
    one = quantiles_from_histogram(np.zeros(bins, int), 0, 7, low, high, high, high, qs)
    assert np.all(one == high)


def test_bad_results_are_one_line_errors(sweep: Path, tmp_path: Path) -> None:
    scenario = load_scenario_json(sweep)
    rows = pq.read_table(next((sweep / "results").glob("*.parquet")))
    renamed = rows.set_column(
        rows.schema.get_field_index("table"), "table", pa.array(["atlantis"] * len(rows))
    )
    with pytest.raises(ExperimentError, match="atlantis") as info:
        read_digest(hand_made_outdir(tmp_path / "renamed", [renamed], like=sweep), scenario)
    assert "\n" not in info.value.one_line()
    clash = rows.set_column(rows.schema.get_field_index("round"), "round", pa.array(["x"] * len(rows)))
    with pytest.raises(ExperimentError, match="one schema"):
        read_digest(hand_made_outdir(tmp_path / "clash", [rows, clash], like=sweep), scenario)


def _peaks(action: Callable[[], object]) -> tuple[int, int]:
    """Peak Python-traced bytes (numpy and pandas included) and peak Arrow-allocated bytes of ``action``."""
    arrow, done = [pa.total_allocated_bytes()], threading.Event()

    def sample() -> None:
        while not done.is_set():
            arrow[0] = max(arrow[0], pa.total_allocated_bytes())
            done.wait(0.0005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    tracemalloc.start()
    try:
        action()
        _, traced = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        done.set()
        sampler.join()
    return traced, arrow[0]


def test_memory_of_the_outputs_does_not_grow_with_the_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = 1000
    small = make_repeated_outdir(tmp_path / "small", runs, block=250)
    large = make_repeated_outdir(tmp_path / "large", 4 * runs, block=250)
    assert sum(pq.read_metadata(p).num_rows for p in (large / "results").iterdir()) == 4 * runs * len(
        load_scenario_json(large).tables
    )
    monkeypatch.setattr(digest_module, "MAX_DOTS", 50)  # the cloud's own bound, reached in both
    scenario = load_scenario_json(small)

    def outputs(folder: Path) -> Callable[[], object]:
        def run() -> None:
            write_outputs(folder, ["summary"])  # the digest (streamed) and every statistic
            read_digest(folder, scenario, cloud_point=None)  # and the charts' sample of agreements

        return run

    outputs(small)()  # warm caches and imports
    small_peaks = _peaks(outputs(small))
    large_peaks = _peaks(outputs(large))
    # the whole results table of the large folder alone would be about 4 x 6,000 x 11 x 200 bytes
    for name, few, many in zip(("traced", "arrow"), small_peaks, large_peaks, strict=True):
        assert many <= 1.3 * few + 1_000_000, f"{name} peak grew from {few:,} to {many:,} bytes"


def test_memory_of_scoring_does_not_grow_with_the_runs(tmp_path: Path) -> None:
    # `negotiation score` streams the folder (it once loaded every run: 946 MB at 100,000 runs)
    from negotiation.tuning.scoring import score_batch

    runs = 1000
    small = make_repeated_outdir(tmp_path / "small", runs, block=250)
    large = make_repeated_outdir(tmp_path / "large", 4 * runs, block=250)
    outcomes = tmp_path / "outcomes.toml"
    outcomes.write_text("[tables.us-china]\ndeal = true\n[tables.us-japan]\ndeal = false\n")
    score_batch(small, outcomes)  # warm caches and imports
    small_peaks = _peaks(lambda: score_batch(small, outcomes))
    large_peaks = _peaks(lambda: score_batch(large, outcomes))
    for name, few, many in zip(("traced", "arrow"), small_peaks, large_peaks, strict=True):
        assert many <= 1.3 * few + 1_000_000, f"{name} peak grew from {few:,} to {many:,} bytes"
    # the same forecasts as from the whole table in memory
    events = score_batch(large, outcomes)[1].set_index("event")["model"]
    frame = load_results(large)
    for table in ("us-china", "us-japan"):
        assert events[table] == pytest.approx(frame[frame["table"] == table]["deal"].astype(bool).mean())


def test_chart_histograms_are_numpy_histograms_of_the_deals(sweep: Path) -> None:
    results = load_results(sweep)
    digest = read_digest(sweep, load_scenario_json(sweep), cloud_point=None)
    assert len(digest.moves) > 0
    for i, row in enumerate(digest.moves.itertuples()):
        rows = results[(results["point"] == row.point) & (results["table"] == row.table) & results["deal"]]
        values = rows[row.issue].dropna().to_numpy(dtype=float)
        edges = np.linspace(row.low, row.high, digest_module.CHART_BINS + 1)
        assert np.array_equal(digest.chart_bins[i], np.histogram(values, bins=edges)[0])
        assert list(digest.binary[i]) == [np.sum(values < 0.5), np.sum(values >= 0.5)]
        assert row.at_low == np.sum(values == row.low) and row.deals == len(values)
