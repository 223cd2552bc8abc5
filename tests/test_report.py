"""write_outputs and `negotiation plot`: files, a self-contained report, one-line errors, nothing damaged."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from outdirs import make_outdir, seal

from negotiation.batch.chunks import chunk_name
from negotiation.batch.reader import load_metadata
from negotiation.charts import report as report_module
from negotiation.charts.report import markdown_table, write_outputs
from negotiation.commands.main import main
from negotiation.errors import ExperimentError
from negotiation.stats import summarise

TABLES = ("us-korea", "us-north-korea")
PARAMETER = "actors.us.resolve"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    points = [{PARAMETER: 0.3}, {PARAMETER: 0.7}]
    return make_outdir(tmp_path_factory.mktemp("batch"), points, replications=15, tables=TABLES)


@pytest.fixture(scope="module")
def rendered(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    outdir = tmp_path_factory.mktemp("rendered") / "out"
    shutil.copytree(source, outdir)
    return outdir, write_outputs(outdir)


@pytest.fixture
def outdir(source: Path, tmp_path: Path) -> Path:
    """A fresh copy of the batch folder, without outputs, that a test may damage."""
    return Path(shutil.copytree(source, tmp_path / "out"))


def test_every_output_is_written_and_not_empty(rendered: tuple[Path, list[Path]]) -> None:
    outdir, written = rendered
    names = {p.relative_to(outdir).as_posix() for p in written}
    assert {"summary.csv", "summary.md", "issues.csv", "report.html"} <= names
    charts = sorted(n for n in names if n.startswith("charts/"))
    stems = {Path(n).stem for n in charts}
    assert stems == {f"sweep-{kind}actors-us-resolve" for kind in ("", "rounds-", "terms-")}
    # PNG only: SVG copies only when asked for
    assert all(f"charts/{s}.png" in names and f"charts/{s}.svg" not in names for s in stems)
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    assert not list(outdir.rglob("*.tmp")), "temporary files left behind"


def test_report_is_self_contained_and_embeds_every_chart(rendered: tuple[Path, list[Path]]) -> None:
    outdir, written = rendered
    page = (outdir / "report.html").read_text(encoding="utf-8")
    stems = {p.stem for p in written if p.parent.name == "charts"}
    for stem in stems:
        assert f'<figure id="{stem}">' in page
    assert page.count("data:image/png;base64,") == len(stems)
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page), "external resource"
    assert "<script src" not in page and "<link" not in page
    metadata = load_metadata(outdir)
    for fact in (metadata["experiment"], metadata["scenario_hash"], str(metadata["master_seed"]), PARAMETER):
        assert fact in page
    for table in TABLES:
        assert f"<td>{table}</td>" in page
    assert page.count("<tr>") >= 4 + 1  # header + one row per point and table


def test_summary_files_match_summarise(rendered: tuple[Path, list[Path]]) -> None:
    outdir, _ = rendered
    expected = summarise(outdir)
    csv = pd.read_csv(outdir / "summary.csv")
    assert list(csv.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(csv, expected, check_dtype=False, check_exact=False)
    text = (outdir / "summary.md").read_text(encoding="utf-8")
    pivot, rows = text.split("## Every design point and table")
    table_lines = [line for line in rows.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(expected)
    assert table_lines[0].split("|")[1].strip() == "point"
    # the pivot: one row per value of the swept parameter, one column per table
    pivot_lines = [line.split("|")[1:-1] for line in pivot.splitlines() if line.startswith("|")]
    assert [c.strip() for c in pivot_lines[0]] == ["point", PARAMETER, *TABLES]
    assert len(pivot_lines) == 2 + 2


def test_issues_csv_has_units_and_move_probabilities(rendered: tuple[Path, list[Path]]) -> None:
    outdir, _ = rendered
    issues = pd.read_csv(outdir / "issues.csv")
    korea = issues[(issues["table"] == "us-korea") & (issues["point"] == 0)]
    assert list(korea["issue"]) == ["tariff", "investment", "upfront"]
    assert list(korea["unit"]) == ["%", "$bn", "share"]
    assert list(issues.columns[:4]) == ["point", PARAMETER, "table", "issue"]
    assert (issues["move_low"] <= issues["move_probability"]).all()
    assert (issues["moved"] <= issues["deals"]).all()


def test_plot_command_rerenders_identical_files_without_running(
    rendered: tuple[Path, list[Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    outdir, written = rendered
    before = {p: p.read_bytes() for p in written}
    results_before = {p: p.read_bytes() for p in (outdir / "results").iterdir()}
    assert main(["plot", str(outdir)]) == 0
    out = capsys.readouterr().out
    assert f"{len(written)} files written" in out and "report:" in out
    changed = [p.name for p in written if p.read_bytes() != before[p]]
    assert not changed
    assert {p: p.read_bytes() for p in (outdir / "results").iterdir()} == results_before


def test_only_the_outputs_asked_for_are_written(outdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # two charts are enough to see where they go (every chart is drawn in test_every_output...)
    plan = report_module.plan_charts
    monkeypatch.setattr(report_module, "plan_charts", lambda *args: plan(*args)[:2])
    written = write_outputs(outdir, ["summary"])
    assert [p.name for p in written] == ["summary.csv", "summary.md", "issues.csv"]
    assert not (outdir / "charts").exists() and not (outdir / "report.html").exists()
    _set_metadata(outdir, outputs=["report"])
    written = write_outputs(outdir)
    assert [p.name for p in written] == ["report.html"] and not (outdir / "charts").exists()
    page = written[0].read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert 'id="sweep-actors-us-resolve"' in page and "File: charts/" not in page
    with pytest.raises(ExperimentError, match="outputs"):
        write_outputs(outdir, ["pdf"])


def test_markdown_table_escapes_pipes_and_leaves_nan_empty() -> None:
    text = markdown_table(pd.DataFrame({"name": ["a|b", "c"], "x": [0.25, float("nan")]}))
    assert text.splitlines() == ["| name | x |", "| --- | ---: |", "| a\\|b | 0.250 |", "| c |  |"]


def _drop_column(outdir: Path, column: str) -> None:
    """Rewrite the chunks without a column, and record them anew (a folder that checks out)."""
    for part in (outdir / "results").glob("*.parquet"):
        pq.write_table(pq.read_table(part).drop_columns([column]), part)
    seal(outdir)


def _set_metadata(outdir: Path, **changes: object) -> None:
    path = outdir / "metadata.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | changes))


BAD = {
    "no such folder": (lambda d: shutil.rmtree(d), "batch output folder"),
    "metadata missing": (lambda d: (d / "metadata.json").unlink(), "metadata"),
    "metadata not JSON": (lambda d: (d / "metadata.json").write_text("{oops"), "JSON"),
    "scenario missing": (lambda d: (d / "scenario.json").unlink(), "scenario"),
    "results missing": (lambda d: shutil.rmtree(d / "results"), "results folder"),
    "column missing": (lambda d: _drop_column(d, "utility_1"), "column utility_1"),
    "parameter column missing": (lambda d: _drop_column(d, PARAMETER), f"column {PARAMETER}"),
    "unknown parameter in metadata": (
        lambda d: _set_metadata(d, parameters=["actors.x.y"]),
        "column actors.x.y",
    ),
    "corrupt chunk file": (
        lambda d: (d / "results" / chunk_name(0, 0, 15)).write_bytes(b"PAR1junk"),
        "damaged chunk",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_folders_give_one_line_and_exit_2(
    outdir: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    damage, words = BAD[case]
    damage(outdir)
    assert main(["plot", str(outdir)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("negotiation plot: "), captured.err
    assert words in lines[0]
    assert captured.out == ""


def test_bad_results_leave_earlier_outputs_untouched(
    rendered: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = Path(shutil.copytree(rendered[0], tmp_path / "out"))
    report = (outdir / "report.html").read_bytes()
    summary = (outdir / "summary.csv").read_bytes()
    _drop_column(outdir, "deal")
    assert main(["plot", str(outdir)]) == 2
    assert (outdir / "report.html").read_bytes() == report
    assert (outdir / "summary.csv").read_bytes() == summary
    capsys.readouterr()


def test_plot_without_a_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["plot"])
    assert info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_movers_list_real_changes_with_intervals_and_leave_flat_tables_out() -> None:
    """Issue item 6: the headline names the biggest movers of a sweep, each with its interval."""
    import numpy as np
    from helpers import results_frame

    from negotiation.stats.designs import movers, pivot

    points, runs = np.arange(5), 200
    rng = np.random.default_rng(1)
    rows = []
    for point in points:
        rows.append(("rising", point, rng.random(runs) < 0.2 + 0.15 * point))
        rows.append(("flat", point, np.arange(runs) % 2 == 0))  # the same runs at every point
    frame = results_frame(
        point=np.concatenate([np.full(runs, p) for _, p, _ in rows]),
        replication=np.concatenate([np.arange(runs) for _ in rows]),
        table=np.concatenate([[t] * runs for t, _, _ in rows]),
        deal=np.concatenate([d for _, _, d in rows]),
        x=np.concatenate([np.full(runs, 0.1 * p) for _, p, _ in rows]),
    )
    moved = movers(frame, ["x"])
    assert list(moved["table"]) == ["rising"]
    row = moved.iloc[0]
    assert row["from x"] < row["to x"] and row["low"] > 0 and row["low"] < row["change"] < row["high"]
    wide = pivot(frame, ["x"])
    assert list(wide["x"]) == sorted(wide["x"]) and (wide["flat"] == 0.5).all()


def test_report_headline_names_tables_most_and_least_likely_with_intervals(
    rendered: tuple[Path, list[Path]],
) -> None:
    page = (rendered[0] / "report.html").read_text(encoding="utf-8")
    headline = page[page.index('id="headline"') : page.index("Contents</h2>")]
    assert "Most likely to settle" in headline and "Least likely to settle" in headline
    assert "Biggest movers across the design" in headline
    assert headline.count("95% interval") >= 2
