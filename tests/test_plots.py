"""Every chart renders for baseline, sweep, grid and sampled folders, and shows what stats computes."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from outdirs import make_outdir
from scipy.stats import qmc

from negotiation import stats
from negotiation.batch.reader import load_metadata, load_results, load_scenario_json
from negotiation.charts import batch_charts as plots
from negotiation.charts import design_charts
from negotiation.charts.plan import plan_charts
from negotiation.model import prepare

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
TABLE_CHARTS = {"deal-probability", "issue-moves", "time-to-deal", "terms", "utility"}
EXPECTED_CHARTS = {
    "baseline": TABLE_CHARTS,
    "sweep": {f"sweep-{kind}actors-china-resolve" for kind in ("", "rounds-", "terms-")},
    "grid": {"grid", "grid-difference"},
    "lhs": {"effects"} | TABLE_CHARTS,
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
    names = {c.name for c in charts}
    partial = {n for n in names if n.startswith("partial-")}
    assert names - partial == EXPECTED_CHARTS[design]
    assert all(n.removeprefix("partial-") in {"actors-china-resolve", "actors-us-resolve"} for n in partial)
    for chart in charts:
        fig, _ = chart.draw()
        texts = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
        assert any(t.strip() for t in texts), f"{chart.name} has no title"
        assert chart.caption and chart.title
        # the per-table charts differ between designs only in which rows they take: lay out and
        # rasterise them once (baseline), the design's own charts every time
        if design == "baseline" or chart.name not in TABLE_CHARTS:
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


def test_grid_cells_are_the_deal_probabilities_and_their_half_widths(folders: dict[str, Path]) -> None:
    results = load_results(folders["grid"])
    fig, axes = design_charts.grid_chart(results, [RESOLVE, US_RESOLVE], ["us-china"], ["us-north-korea"])
    by_cell = stats.deal_probability(results, by=(RESOLVE, US_RESOLVE, "table")).set_index(
        [RESOLVE, US_RESOLVE, "table"]
    )
    grid, half = axes.flat[0].images[0].get_array(), axes.flat[1].images[0].get_array()
    assert grid.shape == (2, 2)
    assert axes.flat[0].get_title() == "us-china: deal probability"
    for iy, y in enumerate((0.3, 0.7)):
        for ix, x in enumerate((0.2, 0.8)):
            cell = by_cell.loc[(x, y, "us-china")]
            assert grid[iy, ix] == pytest.approx(cell["p"])
            assert half[iy, ix] == pytest.approx((cell["high"] - cell["low"]) / 2)
    assert "us-north-korea" in fig._supxlabel.get_text()  # named, not drawn
    assert sum(ax.get_visible() for ax in axes.flat) == 2
    plt.close(fig)


def test_every_level_of_a_20_by_20_grid_is_drawn(tmp_path: Path) -> None:
    """Issue item 3: a 20 x 20 grid was drawn as 10 binned levels."""
    xs, ys = np.linspace(0.1, 0.9, 20), np.linspace(0.3, 0.95, 20)
    points = [{RESOLVE: float(x), US_RESOLVE: float(y)} for x in xs for y in ys]
    outdir = make_outdir(tmp_path / "big", points, replications=2, tables=("us-china",))
    results = load_results(outdir)
    for draw in (design_charts.grid_chart, design_charts.grid_difference_chart):
        args = (results, [RESOLVE, US_RESOLVE], ["us-china"])
        fig, axes = draw(*args) if draw is design_charts.grid_chart else draw(*args, 0)
        assert axes.flat[0].images[0].get_array().shape == (20, 20)
        assert len(axes.flat[0].get_xticks()) == 20
        plt.close(fig)


def test_grid_difference_is_zero_at_the_baseline_cell(folders: dict[str, Path]) -> None:
    results = load_results(folders["grid"])
    fig, axes = design_charts.grid_difference_chart(results, [RESOLVE, US_RESOLVE], ["us-china"], 0)
    grid = axes.flat[0].images[0].get_array()
    by_point = stats.deal_probability(results, by=("point", "table")).set_index(["point", "table"])["p"]
    assert grid[0, 0] == 0.0  # point 0 is (0.2, 0.3), the first cell
    assert grid[1, 1] == pytest.approx(100 * (by_point[(3, "us-china")] - by_point[(0, "us-china")]))
    plt.close(fig)


def test_sweep_lines_have_one_point_per_value_and_bands(folders: dict[str, Path]) -> None:
    """Issue item 3: the sweep's charts showed design point 0 only."""
    results = load_results(folders["sweep"])
    fig, axes = design_charts.sweep_chart(results, RESOLVE, ["us-china"], ["us-north-korea"])
    line = axes.flat[0].lines[0]
    assert list(line.get_xdata()) == [0.2, 0.5, 0.8]
    expected = stats.deal_probability(results[results["table"] == "us-china"])["p"]
    assert np.allclose(line.get_ydata(), expected)
    assert axes.flat[0].collections, "no interval band"
    assert "us-north-korea" in fig._supxlabel.get_text() and "cannot reach" in fig._supxlabel.get_text()
    plt.close(fig)
    fig, axes = design_charts.sweep_rounds_chart(results, RESOLVE, ["us-china"])
    rounds = results[(results["table"] == "us-china") & results["deal"]].groupby(RESOLVE)["round"].median()
    assert np.allclose(axes.flat[0].lines[0].get_ydata(), rounds.to_numpy())
    plt.close(fig)
    fig, axes = design_charts.sweep_terms_chart(
        results, RESOLVE, load_scenario_json(folders["sweep"]), ["us-china"]
    )
    titles = [ax.get_title() for ax in axes.flat if ax.get_visible()]
    assert any("tariff" in t.lower() for t in titles)
    plt.close(fig)


def test_a_sweep_plans_no_per_point_chart_and_names_unreachable_tables(folders: dict[str, Path]) -> None:
    outdir = folders["sweep"]
    charts = plan_charts(load_results(outdir), load_metadata(outdir), load_scenario_json(outdir))
    assert not any(c.name in TABLE_CHARTS for c in charts)
    sweep = next(c for c in charts if c.name == "sweep-actors-china-resolve")
    assert sweep.args[2] == ["us-china"] and sweep.args[3] == ["us-north-korea"]


def test_effects_chart_labels_full_paths_and_says_out_of_reach(folders: dict[str, Path]) -> None:
    """Issue item 2: columns read preferences.*.reservation without the table or the party."""
    from negotiation.stats.effects import parameter_effects

    results = load_results(folders["lhs"])
    reach = {"us-china": [RESOLVE, US_RESOLVE, LEVERAGE], "us-north-korea": [US_RESOLVE, LEVERAGE]}
    effects = parameter_effects(results, [RESOLVE, US_RESOLVE, LEVERAGE], reach)
    fig, axes = design_charts.effects_chart(effects, list(TABLES), 48)
    titles = [ax.get_title().replace("\n", "") for ax in axes.flat if ax.get_visible()]
    assert titles == [RESOLVE, US_RESOLVE, LEVERAGE]
    assert any(t.get_text().strip() == "out of reach" for t in axes.flat[0].texts)
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


def test_long_parameter_paths_wrap_at_dots() -> None:
    path = "tables.us-north-korea.preferences.north_korea.weights.nuclear_recognition"
    wrapped = plots.wrap_path(path, 30)
    assert wrapped.replace("\n", "") == path
    assert max(len(line) for line in wrapped.split("\n")) <= 30
    assert plots.short_path(path) == "weights.nuclear_recognition"
