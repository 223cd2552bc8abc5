"""Every chart renders for baseline, sweep, grid and sampled folders, and shows what stats computes."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from helpers import results_frame
from outdirs import make_outdir
from scipy.stats import qmc

from negotiation import stats
from negotiation.batch.reader import load_metadata, load_results, load_scenario_json
from negotiation.charts import batch_charts as plots
from negotiation.charts.plan import plan_charts
from negotiation.model import prepare
from negotiation.stats import summary

TABLES = ("us-china", "us-north-korea")
RESOLVE = "actors.china.resolve"
US_RESOLVE = "actors.us.resolve"
LEVERAGE = "model.leverage_effect"


def _lhs_points() -> list[dict[str, float]]:
    sample = qmc.LatinHypercube(d=3, seed=np.random.default_rng(5)).random(12)
    return [{RESOLVE: 0.1 + 0.8 * a, US_RESOLVE: 0.1 + 0.8 * b, LEVERAGE: 0.3 * c} for a, b, c in sample]


DESIGNS = {
    "baseline": ([{}], 40),
    "sweep": ([{RESOLVE: v} for v in (0.2, 0.5, 0.8)], 12),
    "grid": ([{RESOLVE: a, US_RESOLVE: b} for a in (0.2, 0.8) for b in (0.3, 0.7)], 10),
    "lhs": (_lhs_points(), 4),
}
EXPECTED_DESIGN_CHARTS = {
    "baseline": set(),
    "sweep": {"sweep-actors-china-resolve"},
    "grid": {"heatmap"},
    "lhs": {
        "sensitivity",
        "effect-actors-china-resolve",
        "effect-actors-us-resolve",
        "effect-model-leverage-effect",
    },
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("designs")
    return {
        name: make_outdir(root / name, points, replications=reps, tables=TABLES)
        for name, (points, reps) in DESIGNS.items()
    }


def _render(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    plt.close(fig)
    return buffer.getvalue()


@pytest.mark.parametrize("design", list(DESIGNS))
def test_every_planned_chart_renders(folders: dict[str, Path], design: str) -> None:
    outdir = folders[design]
    results, metadata, scenario = load_results(outdir), load_metadata(outdir), load_scenario_json(outdir)
    charts = plan_charts(results, metadata, scenario)
    per_table = {f"{kind}-{t}" for kind in ("terms", "utility") for t in TABLES}
    expected = (
        {"deal-probability", "issue-moves", "time-to-deal"} | per_table | EXPECTED_DESIGN_CHARTS[design]
    )
    assert {c.name for c in charts} == expected
    for chart in charts:
        fig, _ = chart.draw()
        texts = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
        assert any(t.strip() for t in texts), f"{chart.name} has no title"
        assert chart.caption and chart.title
        # the per-table charts differ between designs only in which rows they take: lay out and
        # rasterise them once (baseline), the design's own charts every time
        if design == "baseline" or chart.name not in per_table:
            assert _render(fig).startswith(b"\x89PNG"), chart.name
        plt.close(fig)


def test_deal_probability_chart_plots_the_stats(folders: dict[str, Path]) -> None:
    results = load_results(folders["baseline"])
    fig, ax = plots.deal_probability_chart(results)
    expected = stats.deal_probability(results, by=("table",))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(expected["table"])
    dots = ax.lines[0].get_xdata()
    assert np.allclose(dots, expected["p"])
    assert "95%" in ax.get_xlabel()
    plt.close(fig)


def test_issue_movement_chart_lists_every_issue_on_every_table(folders: dict[str, Path]) -> None:
    results = load_results(folders["baseline"])
    fig, ax = plots.issue_movement_chart(results)
    expected = stats.issue_movement(results, by=("table",))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{row.table}: {row.issue}" for row in expected.itertuples()]
    assert "us-china: rare_earths" in labels and "us-north-korea: summit" in labels
    assert np.allclose(ax.lines[0].get_xdata(), expected["p"])
    plt.close(fig)


def test_heatmap_cells_are_the_deal_probabilities(folders: dict[str, Path]) -> None:
    results = load_results(folders["grid"])
    fig, axes = plots.heatmap_chart(results, [RESOLVE, US_RESOLVE])
    by_cell = stats.deal_probability(results, by=(RESOLVE, US_RESOLVE, "table")).set_index(
        [RESOLVE, US_RESOLVE, "table"]
    )
    grid = axes.flat[0].images[0].get_array()
    assert grid.shape == (2, 2)
    assert axes.flat[0].get_title() == TABLES[0]
    for iy, y in enumerate((0.3, 0.7)):
        for ix, x in enumerate((0.2, 0.8)):
            assert grid[iy, ix] == pytest.approx(by_cell.loc[(x, y, TABLES[0]), "p"])
    plt.close(fig)


def test_sweep_lines_have_one_point_per_value_and_bands(folders: dict[str, Path]) -> None:
    results = load_results(folders["sweep"])
    fig, axes = plots.parameter_effect_chart(results, RESOLVE)
    line = axes.flat[0].lines[0]
    assert list(line.get_xdata()) == [0.2, 0.5, 0.8]
    expected = stats.deal_probability(results[results["table"] == TABLES[0]])["p"]
    assert np.allclose(line.get_ydata(), expected)
    assert axes.flat[0].collections, "no interval band"
    plt.close(fig)


def test_agreed_terms_use_real_units_and_mark_the_status_quo(folders: dict[str, Path]) -> None:
    outdir = folders["baseline"]
    results, scenario = load_results(outdir), load_scenario_json(outdir)
    fig, axes = plots.agreed_terms_chart(results, scenario, "us-china")
    visible = [ax for ax in axes.flat if ax.get_visible()]
    issues = ["tariff", "rare_earths", "ai_chips", "agriculture", "taiwan"]
    assert len(visible) == len(issues)
    for ax, issue in zip(visible, issues, strict=True):
        assert f"({scenario.issues[issue].unit})" in ax.get_xlabel().replace("\n", " ")
        status_quo = next(ln for ln in ax.lines if ln.get_label() == "status quo")
        assert status_quo.get_xdata()[0] == pytest.approx(scenario.status_quo("us-china", issue))
    plt.close(fig)


def test_utility_space_shows_frontier_nash_and_every_agreement(folders: dict[str, Path]) -> None:
    outdir = folders["baseline"]
    results, scenario = load_results(outdir), load_scenario_json(outdir)
    compiled = prepare(scenario, {})
    fig, ax = plots.utility_space_chart(results, compiled, "us-china")
    frontiers, nash, _ = plots.base_frontier(compiled)
    t = compiled.table_ids.index("us-china")
    by_label = {ln.get_label(): ln for ln in ax.lines}
    assert np.allclose(by_label["Pareto frontier"].get_xydata(), frontiers[t])
    assert np.allclose(by_label["Nash point"].get_xydata()[0], nash[t])
    deals = results[(results["table"] == "us-china") & results["deal"]]
    assert len(ax.collections[0].get_offsets()) == len(deals)
    assert ax.get_xlabel() == "utility to us (0-1)" and ax.get_ylabel() == "utility to china (0-1)"
    plt.close(fig)


def test_utility_cloud_is_capped(folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    outdir = folders["baseline"]
    results = load_results(outdir)
    monkeypatch.setattr(plots, "MAX_DOTS", 7)
    fig, ax = plots.utility_space_chart(results, prepare(load_scenario_json(outdir), {}), "us-china")
    assert len(ax.collections[0].get_offsets()) == 7
    assert "7 shown" in ax.collections[0].get_label()
    plt.close(fig)


def test_time_to_deal_chart_ends_at_the_deal_probability(folders: dict[str, Path]) -> None:
    results = load_results(folders["baseline"])
    fig, ax = plots.time_to_deal_chart(results)
    expected = stats.deal_probability(results, by=("table",))["p"]
    assert [ln.get_ydata()[-1] for ln in ax.lines] == pytest.approx(list(expected))
    plt.close(fig)


def test_a_table_without_any_deal_still_draws(folders: dict[str, Path]) -> None:
    outdir = folders["baseline"]
    results, scenario = load_results(outdir), load_scenario_json(outdir)
    never = results["table"] == "us-north-korea"
    results.loc[never, "deal"] = False
    results.loc[never, "status"] = "walkout"
    fig, axes = plots.agreed_terms_chart(results, scenario, "us-north-korea")
    assert "no deal in any run" in [t.get_text() for t in axes.flat[0].texts]
    assert _render(fig).startswith(b"\x89PNG")
    fig, ax = plots.utility_space_chart(results, prepare(scenario, {}), "us-north-korea")
    assert len(ax.collections[0].get_offsets()) == 0
    assert _render(fig).startswith(b"\x89PNG")


def _levels(values: list[float] | np.ndarray, max_levels: int) -> tuple[np.ndarray, bool]:
    frame = results_frame(point=np.arange(len(values)), p=values)
    levels, binned = summary.parameter_levels(stats.as_digest(frame, parameters=["p"]), "p", max_levels)
    return levels.to_numpy(), binned


def test_parameter_levels_bin_only_many_values() -> None:
    few = [0.1, 0.2, 0.15, 0.3]
    levels, binned = _levels(few, plots.MAX_LEVELS)
    assert not binned and list(levels) == few
    levels, binned = _levels(np.linspace(0, 1, 100), max_levels=4)
    assert binned and len(np.unique(levels)) == 4
    assert np.allclose(np.unique(levels), [0.12, 0.37, 0.62, 0.87], atol=0.01)


def test_sensitivity_finds_the_parameter_that_decides_the_deal() -> None:
    x = np.linspace(0, 1, 90)
    frame = results_frame(
        point=np.arange(180) // 2,
        table=["a", "b"] * 90,
        p=np.repeat(x, 2),
        q=np.repeat(x[::-1], 2),
        deal=np.ravel(np.column_stack([x > 0.5, np.arange(90) % 2 == 0])),
    )
    effect = summary.sensitivity(frame, ["p", "q"])
    assert effect.loc["a", "p"] == pytest.approx(1.0)
    assert effect.loc["a", "q"] == pytest.approx(-1.0)
    assert abs(effect.loc["b", "p"]) < 0.1


def test_long_parameter_paths_wrap_at_dots() -> None:
    path = "tables.us-north-korea.preferences.north_korea.weights.nuclear_recognition"
    wrapped = plots.wrap_path(path, 30)
    assert wrapped.replace("\n", "") == path
    assert max(len(line) for line in wrapped.split("\n")) <= 30
    assert plots.short_path(path) == "weights.nuclear_recognition"
