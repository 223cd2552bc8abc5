"""Forecast scoring: how well a batch's probabilities predicted what actually happened.

An outcomes file (TOML) records, per table, whether a deal was made and optionally whether each
issue moved off its status quo, plus any reference forecasts (prediction markets, expert panels) to
compare against::

    description = "what these outcomes are and where they come from"

    [tables.us-china]
    deal = true
    reference = { markets = 0.62, experts = 0.5 }     # optional reference forecasts of a deal

    [tables.us-china.issues.rare_earths]
    moved = true
    reference = { markets = 0.55 }                      # optional

Each table deal and each issue move is one binary *event*. The model's forecast of an event is the
batch's frequency of it, pooled over all rows of the results folder (every design point and
replication; see :func:`model_forecasts`), or over one design point's rows (``point``). Scores,
lower is better:

- Brier score: mean of ``(p - o)^2``; 0.25 for the always-50% baseline.
- Log loss: mean of ``-[o ln p + (1 - o) ln(1 - p)]`` with ``p`` clipped to ``[clip, 1 - clip]``
  (a simulated frequency of exactly 0 or 1 would otherwise score infinity); ``ln 2`` for the baseline.

Tables and issues are scored separately (``level``). Reference forecasters are scored on the events
they cover, and the model is scored on the same events beside them, so the comparison is like for
like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.errors import MISSING, ExperimentError
from negotiation.stats.digest import Results, as_digest, read_digest
from negotiation.tuning.files import read_tables_file

MODEL = "model"
BASELINE = "baseline 50%"
DEFAULT_CLIP = 0.001
"""Default clipping of probabilities for the log loss: [0.001, 0.999]."""

LEVELS = ("table", "issue")


@dataclass(frozen=True)
class Event:
    """One binary event with its observed outcome and reference forecasts."""

    table: str
    """Table id."""
    issue: str | None
    """Issue id for an issue-move event; None for the table's deal."""
    outcome: bool
    """What happened: a deal (or the issue moved)."""
    references: dict[str, float] = field(default_factory=dict)
    """Reference forecaster name to its probability of the event."""

    @property
    def level(self) -> str:
        """'table' or 'issue'."""
        return "table" if self.issue is None else "issue"

    @property
    def name(self) -> str:
        """``table`` or ``table/issue``."""
        return self.table if self.issue is None else f"{self.table}/{self.issue}"


@dataclass(frozen=True)
class Outcomes:
    """A parsed outcomes file."""

    source: str
    """The file it came from."""
    description: str
    """Free text: what the outcomes are and where they come from."""
    events: tuple[Event, ...]
    """Every table deal and issue move recorded, in file order."""
    made_up: bool = False
    """True when the file says its outcomes are invented (an example, not a record)."""

    @property
    def forecasters(self) -> list[str]:
        """Names of the reference forecasters, in order of first appearance."""
        return list(dict.fromkeys(name for e in self.events for name in e.references))


def brier_score(probabilities: np.ndarray, outcomes: np.ndarray) -> float:
    """Mean squared difference between probabilities and 0/1 outcomes.

    >>> brier_score(np.array([0.8, 0.3, 0.5]), np.array([1, 0, 1]))
    0.12666666666666668
    """
    p, o = np.asarray(probabilities, float), np.asarray(outcomes, float)
    return float(np.mean((p - o) ** 2))


def log_loss(probabilities: np.ndarray, outcomes: np.ndarray, clip: float = DEFAULT_CLIP) -> float:
    """Mean negative log-likelihood (natural log) of 0/1 outcomes, probabilities clipped.

    >>> round(log_loss(np.array([0.8, 0.3, 0.5]), np.array([1, 0, 1])), 6)
    0.424322
    """
    p = np.clip(np.asarray(probabilities, float), clip, 1.0 - clip)
    o = np.asarray(outcomes, float)
    return float(-np.mean(o * np.log(p) + (1.0 - o) * np.log(1.0 - p)))


def read_outcomes(path: str | Path) -> Outcomes:
    """Read and check an outcomes file (format in the module docstring).

    Raises:
        ExperimentError: The file is missing or not TOML, has no tables, or a field has the wrong
            type, or a probability lies outside [0, 1].
    """
    source = str(path)
    data, tables = read_tables_file(path, {"description", "made_up"}, "deal = true/false")
    events: list[Event] = []
    for table, entry in tables.items():
        where = f"tables.{table}"
        if not isinstance(entry, dict):
            raise ExperimentError(source, where, entry, "a table with deal = true/false")
        _only(source, where, entry, {"deal", "reference", "issues"})
        events.append(
            Event(
                table,
                None,
                _boolean(source, f"{where}.deal", entry.get("deal", MISSING)),
                _references(source, f"{where}.reference", entry.get("reference", {})),
            )
        )
        issues = entry.get("issues", {})
        if not isinstance(issues, dict):
            raise ExperimentError(source, f"{where}.issues", issues, "[tables.<id>.issues.<issue>] tables")
        for issue, item in issues.items():
            at = f"{where}.issues.{issue}"
            if not isinstance(item, dict):
                raise ExperimentError(source, at, item, "a table with moved = true/false")
            _only(source, at, item, {"moved", "reference"})
            events.append(
                Event(
                    table,
                    issue,
                    _boolean(source, f"{at}.moved", item.get("moved", MISSING)),
                    _references(source, f"{at}.reference", item.get("reference", {})),
                )
            )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ExperimentError(source, "description", description, "a string")
    made_up = data.get("made_up", False)
    if not isinstance(made_up, bool):
        raise ExperimentError(source, "made_up", made_up, "true or false")
    return Outcomes(source, description, tuple(events), made_up)


def model_forecasts(results: Results, outcomes: Outcomes, results_source: str) -> dict[str, float]:
    """The batch's frequency of every event in ``outcomes``, keyed by :attr:`Event.name`.

    Args:
        results: The results, pooled over all design points: their digest (streamed from a folder
            by :func:`negotiation.stats.digest.read_digest`, in memory that does not grow with the
            runs), or a results DataFrame.
        outcomes: The events to forecast.
        results_source: Name of the results folder, for error messages.

    Raises:
        ExperimentError: An event names a table that is not in the results, or an issue that is not
            on its table.
    """
    digest = as_digest(results)
    counts = digest.counts.groupby("table", sort=False)[["n", "deals"]].sum()
    moves = digest.moves.groupby(["table", "issue"], sort=False)[["n", "moved"]].sum()
    known = [t for t in digest.tables if t in counts.index and counts.loc[t, "n"] > 0]
    forecasts: dict[str, float] = {}
    for event in outcomes.events:
        if event.table not in known:
            raise ExperimentError(
                outcomes.source,
                f"tables.{event.table}",
                event.table,
                f"a table of the results: {', '.join(known)}",
            )
        if event.issue is None:
            forecasts[event.name] = float(counts.loc[event.table, "deals"] / counts.loc[event.table, "n"])
            continue
        key = (event.table, event.issue)
        if key not in moves.index or moves.loc[key, "n"] == 0:
            on_table = [i for (t, i), n in moves["n"].items() if t == event.table and n > 0]
            raise ExperimentError(
                outcomes.source,
                f"tables.{event.table}.issues.{event.issue}",
                event.issue,
                f"an issue on table {event.table}: {', '.join(on_table)}",
            )
        forecasts[event.name] = float(moves.loc[key, "moved"] / moves.loc[key, "n"])
    return forecasts


def event_table(outcomes: Outcomes, forecasts: dict[str, float]) -> pd.DataFrame:
    """One row per event: level, table, issue, outcome, the model's and every forecaster's probability."""
    rows = []
    for event in outcomes.events:
        row: dict[str, Any] = {
            "level": event.level,
            "event": event.name,
            "table": event.table,
            "issue": event.issue or "",
            "outcome": int(event.outcome),
            MODEL: forecasts[event.name],
            BASELINE: 0.5,
        }
        for name in outcomes.forecasters:
            row[name] = event.references.get(name, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def score_table(events: pd.DataFrame, forecasters: list[str], clip: float = DEFAULT_CLIP) -> pd.DataFrame:
    """Brier score and log loss per level and forecaster.

    Args:
        events: Output of :func:`event_table`.
        forecasters: Reference forecaster names (columns of ``events``).
        clip: Probability clipping for the log loss.

    Returns:
        Columns ``level, forecaster, events, brier, log_loss, model_brier, model_log_loss``: the last
        two score the model on the same events as the forecaster.
    """
    rows = []
    for level in LEVELS:
        block = events[events["level"] == level]
        if block.empty:
            continue
        for name in [MODEL, BASELINE, *forecasters]:
            covered = block[block[name].notna()]
            if covered.empty:
                continue
            outcome = covered["outcome"].to_numpy()
            rows.append(
                {
                    "level": level,
                    "forecaster": name,
                    "events": len(covered),
                    "brier": brier_score(covered[name].to_numpy(), outcome),
                    "log_loss": log_loss(covered[name].to_numpy(), outcome, clip),
                    "model_brier": brier_score(covered[MODEL].to_numpy(), outcome),
                    "model_log_loss": log_loss(covered[MODEL].to_numpy(), outcome, clip),
                }
            )
    return pd.DataFrame(rows)


def reliability_table(events: pd.DataFrame, forecaster: str = MODEL, bins: int = 5) -> pd.DataFrame:
    """Bin a forecaster's probabilities and compare each bin's mean forecast with its hit rate.

    Args:
        events: Output of :func:`event_table`.
        forecaster: Column of ``events`` to bin.
        bins: Number of equal-width bins on [0, 1].

    Returns:
        Columns ``bin_low, bin_high, events, mean_forecast, observed, low, high`` (Wilson interval of
        the observed frequency); only non-empty bins.
    """
    from negotiation.intervals import wilson_interval

    covered = events[events[forecaster].notna()]
    p = covered[forecaster].to_numpy(float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        if not inside.any():
            continue
        hits = int(covered["outcome"].to_numpy()[inside].sum())
        low, high = wilson_interval(hits, int(inside.sum()))
        rows.append(
            {
                "bin_low": b / bins,
                "bin_high": (b + 1) / bins,
                "events": int(inside.sum()),
                "mean_forecast": float(p[inside].mean()),
                "observed": hits / inside.sum(),
                "low": low,
                "high": high,
            }
        )
    return pd.DataFrame(rows)


def plot_reliability(events: pd.DataFrame, forecasters: list[str], bins: int = 5):
    """Reliability (calibration) diagram of the model and every reference forecaster.

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="black", linewidth=0.8, linestyle="--", label="perfect calibration")
    markers = "sD^vP*X"
    for i, name in enumerate([MODEL, *forecasters]):
        table = reliability_table(events, name, bins)
        if table.empty:
            continue
        if name == MODEL:  # the model with its intervals and counts; references as markers only
            errors = np.vstack([table["observed"] - table["low"], table["high"] - table["observed"]])
            ax.errorbar(
                table["mean_forecast"],
                table["observed"],
                yerr=errors,
                fmt="o-",
                color="tab:blue",
                capsize=3,
                label=f"{MODEL} (95% interval)",
            )
            for row in table.itertuples():
                ax.annotate(
                    f"n={row.events}",
                    (row.mean_forecast, row.observed),
                    textcoords="offset points",
                    xytext=(6, 4),
                    fontsize=7,
                    color="tab:blue",
                )
        else:
            ax.scatter(
                table["mean_forecast"],
                table["observed"],
                s=20 + 12 * table["events"],
                marker=markers[(i - 1) % len(markers)],
                alpha=0.6,
                label=f"{name} (size: events)",
            )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability (mean in bin)")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"Reliability diagram ({len(events)} events, {bins} bins)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, ax


def score_batch(
    outdir: str | Path, outcomes_path: str | Path, clip: float = DEFAULT_CLIP, point: int | None = None
) -> tuple[Outcomes, pd.DataFrame, pd.DataFrame]:
    """Score a batch output folder against an outcomes file.

    Args:
        outdir: The batch output folder.
        outcomes_path: The outcomes TOML file.
        clip: Probability clipping for the log loss, in (0, 0.5).
        point: Score only this design point's runs (default: pool every row of the batch).

    Returns:
        The outcomes, the per-event table and the score table.

    Raises:
        ExperimentError: Bad outcomes file, results folder, clip value or design point.
    """
    from negotiation.batch.reader import load_scenario_json

    if not 0.0 < clip < 0.5:
        raise ExperimentError("--clip", "", clip, "a number in (0, 0.5)")
    outcomes = read_outcomes(outcomes_path)
    # streamed: memory does not grow with the number of runs
    results = read_digest(outdir, load_scenario_json(outdir), sample_cloud=False)
    if point is not None:
        points = sorted(int(p) for p in results.points["point"])
        if point not in points:
            raise ExperimentError("--point", "", point, f"a design point of the batch: 0 to {points[-1]}")
        results = results.select(point)
    events = event_table(outcomes, model_forecasts(results, outcomes, str(Path(outdir) / "results")))
    return outcomes, events, score_table(events, outcomes.forecasters, clip)


def format_scores(scores: pd.DataFrame, events: pd.DataFrame) -> str:
    """Readable text: the score table, then each event's outcome and forecasts."""
    lines = [
        f"{'level':<6} {'forecaster':<16} {'events':>6} {'Brier':>7} {'log loss':>9}   "
        f"{'model on same events':>20}"
    ]
    for row in scores.itertuples(index=False):
        same = "" if row.forecaster == MODEL else f"{row.model_brier:.3f} / {row.model_log_loss:.3f}"
        lines.append(
            f"{row.level:<6} {row.forecaster:<16} {row.events:>6} {row.brier:>7.3f} "
            f"{row.log_loss:>9.3f}   {same:>20}"
        )
    names = [c for c in events.columns if c not in ("level", "event", "table", "issue", "outcome")]
    lines += ["", f"{'event':<34} {'outcome':>7} " + " ".join(f"{n[:12]:>12}" for n in names)]
    probabilities = events[names].to_numpy(float)
    for event, outcome, row in zip(events["event"], events["outcome"], probabilities, strict=True):
        values = " ".join(f"{'-':>12}" if math.isnan(v) else f"{v:>12.3f}" for v in row)
        lines.append(f"{event:<34} {'yes' if outcome else 'no':>7} {values}")
    return "\n".join(lines)


def write_scores(
    outdir: str | Path, events: pd.DataFrame, scores: pd.DataFrame, forecasters: list[str]
) -> list[Path]:
    """Write ``scores.csv``, ``score_events.csv`` and ``reliability.png``/``.svg`` into a folder."""
    from negotiation.atomic import write_text_atomic
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    written = [
        write_text_atomic(folder / "scores.csv", scores.to_csv(index=False)),
        write_text_atomic(folder / "score_events.csv", events.to_csv(index=False)),
    ]
    fig, _ = plot_reliability(events, forecasters)
    return written + save_figure(fig, folder, "reliability")


def _only(source: str, where: str, entry: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ExperimentError(
            source, f"{where}.{extra[0]}", entry[extra[0]], "one of " + ", ".join(sorted(allowed))
        )


def _boolean(source: str, where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExperimentError(source, where, value, "true or false")
    return value


def _references(source: str, where: str, value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ExperimentError(
            source, where, value, "a table of forecaster = probability, e.g. { markets = 0.6 }"
        )
    checked = {}
    for name, p in value.items():
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ExperimentError(source, f"{where}.{name}", p, "a probability in [0, 1]")
        if name in (MODEL, BASELINE):
            raise ExperimentError(source, f"{where}.{name}", name, "a forecaster name other than 'model'")
        checked[name] = float(p)
    return checked
