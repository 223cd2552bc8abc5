"""Calibration: search an experiment's parameter ranges for values that reproduce target probabilities.

A targets file (TOML) gives a target probability of a deal per table, and optionally of an issue
moving off its status quo, each with a weight (default 1)::

    description = "where the targets come from"

    [tables.us-china]
    probability = 0.6
    weight = 2.0

    [tables.us-china.issues.rare_earths]
    probability = 0.45

The search space is the experiment's ``[[parameters]]``: a range (``low``/``high``) is searched as a
float (or integer), a list of ``values`` as a categorical choice. Optuna's TPE sampler, seeded from
the master seed, proposes points one at a time (``n_jobs=1``), so the same seed gives the same
calibration.

Each trial runs the scenario at the proposed point ``runs`` times with the *same* run seeds as every
other trial (common random numbers): two trials differ only by their parameters, never by luck, so
the objective is a smooth-ish function of the parameters that the sampler can follow. The objective
is the weighted mean squared error ``sum w (p_sim - p_target)^2 / sum w`` (the Brier distance between
the simulated and target probabilities).

The best point is then checked with fresh, independent seeds (``check_runs`` runs); the achieved
probabilities reported with Wilson intervals come from that check, not from the runs the search
optimised over, so they are not flattered by the selection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.batch.spec import ExperimentSpec
from negotiation.errors import MISSING, ExperimentError
from negotiation.scenario.schema import Scenario
from negotiation.tuning.files import read_tables_file

SEARCH_STREAM = 0xCA11B
"""SeedSequence spawn key of the sampler and the check runs (run seeds use replication keys)."""


@dataclass(frozen=True)
class Target:
    """A target probability of one event: a table's deal, or an issue moving at a table."""

    table: str
    """Table id."""
    issue: str | None
    """Issue id, or None for the table's deal."""
    probability: float
    """Target probability in [0, 1]."""
    weight: float = 1.0
    """Weight in the objective (>= 0)."""

    @property
    def name(self) -> str:
        """``table`` or ``table/issue``."""
        return self.table if self.issue is None else f"{self.table}/{self.issue}"


@dataclass(frozen=True)
class CalibrationResult:
    """What a calibration found."""

    best: dict[str, Any]
    """Best parameter values by path."""
    best_value: float
    """Objective at the best point (on the search runs)."""
    trials: pd.DataFrame
    """One row per trial: ``trial``, each parameter path, ``objective``, ``best_so_far``."""
    achieved: pd.DataFrame
    """Per target: ``target``, ``table``, ``issue``, ``weight``, ``target_p``, ``search_p`` (on the
    search runs), ``n``, ``hits``, ``p``, ``low``, ``high`` (fresh check runs, Wilson 95%)."""
    noise_floor: float
    """Expected objective from sampling noise alone at the best point: sum w p(1-p)/runs / sum w."""


def read_targets(path: str | Path, scenario: Scenario) -> tuple[Target, ...]:
    """Read and check a targets file against the scenario's tables and issues.

    Raises:
        ExperimentError: The file is missing or not TOML; a table or issue is unknown; a probability
            lies outside [0, 1]; a weight is negative; or all weights are zero.
    """
    source = str(path)
    _, tables = read_tables_file(path, {"description"}, "probability = P")
    targets: list[Target] = []
    for table, entry in tables.items():
        where = f"tables.{table}"
        if table not in scenario.tables:
            raise ExperimentError(
                source, where, table, f"a table of the scenario: {', '.join(scenario.tables)}"
            )
        if not isinstance(entry, dict):
            raise ExperimentError(source, where, entry, "a table with probability = P")
        _only(source, where, entry, {"probability", "weight", "issues"})
        if "probability" in entry:
            targets.append(Target(table, None, *_probability_weight(source, where, entry)))
        issues = entry.get("issues", {})
        if not isinstance(issues, dict):
            raise ExperimentError(source, f"{where}.issues", issues, "[tables.<id>.issues.<issue>] tables")
        for issue, item in issues.items():
            at = f"{where}.issues.{issue}"
            if issue not in scenario.tables[table].issues:
                on_table = ", ".join(scenario.tables[table].issues)
                raise ExperimentError(source, at, issue, f"an issue on table {table}: {on_table}")
            if not isinstance(item, dict):
                raise ExperimentError(source, at, item, "a table with probability = P")
            _only(source, at, item, {"probability", "weight"})
            targets.append(Target(table, issue, *_probability_weight(source, at, item)))
    if not targets:
        raise ExperimentError(source, "tables", list(tables), "at least one probability = P")
    if sum(t.weight for t in targets) <= 0:
        raise ExperimentError(source, "weight", 0, "at least one target with a positive weight")
    return tuple(targets)


def simulated_probabilities(results: pd.DataFrame, targets: tuple[Target, ...]) -> np.ndarray:
    """Frequency of each target's event in a results table (deal, or ``moved_<issue>``)."""
    out = np.empty(len(targets))
    for i, target in enumerate(targets):
        rows = results[results["table"] == target.table]
        column = "deal" if target.issue is None else f"moved_{target.issue}"
        out[i] = float(rows[column].astype(bool).mean())
    return out


def weighted_squared_error(simulated: np.ndarray, targets: tuple[Target, ...]) -> float:
    """``sum w (p_sim - p_target)^2 / sum w``.

    >>> t = (Target("a", None, 0.5, 1.0), Target("b", None, 0.2, 3.0))
    >>> round(weighted_squared_error(np.array([0.7, 0.2]), t), 6)
    0.01
    """
    w = np.array([t.weight for t in targets])
    p = np.array([t.probability for t in targets])
    return float(np.sum(w * (np.asarray(simulated) - p) ** 2) / np.sum(w))


def search_space(spec: ExperimentSpec) -> list[tuple[str, Callable[[Any], Any]]]:
    """Per varied parameter, its path and a function ``trial -> suggested value``.

    Raises:
        ExperimentError: The experiment varies no parameter.
    """
    if not spec.parameters:
        raise ExperimentError(
            spec.source,
            "parameters",
            MISSING,
            "at least one [[parameters]] entry (a range or values) to search",
        )
    space = []
    for p in spec.parameters:
        if p.values is not None:
            choices = list(p.values)
            space.append((p.path, lambda trial, path=p.path, c=choices: trial.suggest_categorical(path, c)))
        elif p.is_integer:
            lo, hi = int(p.low), int(p.high)
            space.append((p.path, lambda trial, path=p.path, lo=lo, hi=hi: trial.suggest_int(path, lo, hi)))
        else:
            lo, hi = float(p.low), float(p.high)
            space.append((p.path, lambda trial, path=p.path, lo=lo, hi=hi: trial.suggest_float(path, lo, hi)))
    return space


def derived_seed(master_seed: int, *key: int) -> int:
    """A 32-bit seed derived from the master seed for a named stream (sampler, check runs)."""
    return int(np.random.SeedSequence(master_seed, spawn_key=(SEARCH_STREAM, *key)).generate_state(1)[0])


def estimate(scenario: Scenario, values: dict[str, Any], targets: tuple[Target, ...], runs: int, seed: int):
    """Simulate one parameter point and return the results rows and each target's frequency."""
    from negotiation.bargaining.compiled import compile_scenario
    from negotiation.batch.rows import simulate
    from negotiation.scenario.paths import apply_overrides

    point = apply_overrides(scenario, values, "calibration") if values else scenario
    results = simulate(compile_scenario(point), runs, seed).to_pandas()
    return results, simulated_probabilities(results, targets)


def calibrate(
    spec: ExperimentSpec,
    targets: tuple[Target, ...],
    trials: int,
    runs: int,
    seed: int | None = None,
    check_runs: int | None = None,
    progress: Callable[[int, float, float], None] | None = None,
) -> CalibrationResult:
    """Search the experiment's parameters for the point whose probabilities best match the targets.

    Args:
        spec: The experiment: its base scenario, and its ``[[parameters]]`` as the search space.
        targets: The targets (see :func:`read_targets`).
        trials: Number of points to try.
        runs: Runs per trial (the same run seeds in every trial).
        seed: Master seed (default: the experiment's).
        check_runs: Runs of the independent check of the best point (default ``4 * runs``).
        progress: Called after each trial with (trial index, objective, best so far).

    Returns:
        The best point, the trial history and the check of the best point.
    """
    import optuna

    seed = spec.seed if seed is None else seed
    space = search_space(spec)
    base = spec.base_scenario()
    history: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        values = {path: suggest(trial) for path, suggest in space}
        _, simulated = estimate(base, values, targets, runs, seed)
        value = weighted_squared_error(simulated, targets)
        best = min([value, *(h["objective"] for h in history)])
        history.append({"trial": trial.number, **values, "objective": value, "best_so_far": best})
        if progress is not None:
            progress(trial.number, value, best)
        return value

    sampler = optuna.samplers.TPESampler(seed=derived_seed(seed, 0))
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.optimize(objective, n_trials=trials, n_jobs=1)
    finally:
        optuna.logging.set_verbosity(previous)
    best = {path: study.best_params[path] for path, _ in space}
    _, search_p = estimate(base, best, targets, runs, seed)
    check = check_runs if check_runs is not None else 4 * runs
    check_results, _ = estimate(base, best, targets, check, derived_seed(seed, 1))
    achieved = _achieved_table(check_results, targets, search_p)
    w = np.array([t.weight for t in targets])
    noise = float(np.sum(w * search_p * (1 - search_p) / runs) / np.sum(w))
    return CalibrationResult(best, float(study.best_value), pd.DataFrame(history), achieved, noise)


def _achieved_table(results: pd.DataFrame, targets: tuple[Target, ...], search_p: np.ndarray) -> pd.DataFrame:
    from negotiation.intervals import wilson_interval

    rows = []
    for target, p_search in zip(targets, search_p, strict=True):
        table_rows = results[results["table"] == target.table]
        column = "deal" if target.issue is None else f"moved_{target.issue}"
        hits, n = int(table_rows[column].astype(bool).sum()), len(table_rows)
        low, high = wilson_interval(hits, n)
        rows.append(
            {
                "target": target.name,
                "table": target.table,
                "issue": target.issue or "",
                "weight": target.weight,
                "target_p": target.probability,
                "search_p": float(p_search),
                "n": n,
                "hits": hits,
                "p": hits / n if n else math.nan,
                "low": low,
                "high": high,
            }
        )
    return pd.DataFrame(rows)


def format_calibration(result: CalibrationResult) -> str:
    """Readable text: the best point, then target vs achieved per target."""
    lines = ["best parameters:"]
    lines += [
        f"  {path} = {value:.4g}" if isinstance(value, float) else f"  {path} = {value}"
        for path, value in result.best.items()
    ]
    lines += [
        f"objective (weighted mean squared error) {result.best_value:.5f}; "
        f"sampling-noise floor at this many runs ~{result.noise_floor:.5f}",
        "",
        f"{'target':<32} {'weight':>6} {'target':>7} {'achieved':>9}   {'95% interval':<16} {'runs':>6}",
    ]
    for row in result.achieved.itertuples(index=False):
        interval = f"[{row.low:.3f}, {row.high:.3f}]"
        lines.append(
            f"{row.target:<32} {row.weight:>6.2f} {row.target_p:>7.3f} {row.p:>9.3f}   "
            f"{interval:<16} {row.n:>6}"
        )
    return "\n".join(lines)


def plot_convergence(trials: pd.DataFrame):
    """Objective of every trial and the best so far, by trial.

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(trials["trial"], trials["objective"], s=14, alpha=0.6, label="trial")
    ax.step(trials["trial"], trials["best_so_far"], where="post", color="tab:red", label="best so far")
    positive = trials["objective"][trials["objective"] > 0]
    if len(positive) and positive.max() / max(positive.min(), 1e-12) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("weighted mean squared error")
    ax.set_title("Calibration convergence (TPE, common random numbers)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, ax


def plot_targets(achieved: pd.DataFrame):
    """Target vs achieved probability per target, achieved with its Wilson interval.

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = np.arange(len(achieved))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(achieved) + 1.6))
    p = achieved["p"].to_numpy()
    errors = np.vstack([p - achieved["low"].to_numpy(), achieved["high"].to_numpy() - p])
    ax.errorbar(p, y, xerr=errors, fmt="o", capsize=3, label="achieved (check runs, 95% Wilson)")
    ax.scatter(achieved["target_p"], y, marker="x", color="tab:red", s=60, zorder=3, label="target")
    ax.set_yticks(y, achieved["target"].tolist())
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("probability")
    ax.set_title("Calibrated model vs targets", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig, ax


def write_calibration(
    result: CalibrationResult, spec: ExperimentSpec, outdir: str | Path, command: str
) -> list[Path]:
    """Write the overlay, the trials and targets tables, and the two charts.

    Files: ``calibrated.toml`` (overlay: the experiment's fixed overrides plus the best values),
    ``calibrated-experiment.toml`` (the experiment with every parameter fixed at its best value, for
    ``negotiation batch``), ``trials.csv``, ``targets.csv``, ``convergence.png/.svg``,
    ``targets.png/.svg``.
    """
    from negotiation.atomic import write_text_atomic
    from negotiation.scenario.overlay import write_overlay
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    scenario = "the default scenario" if spec.scenario == "default" else f"the scenario {spec.scenario}"
    comment = (
        f"Calibrated parameters for {scenario} (experiment {spec.name}).\n"
        f"Made by: {command}\n"
        f"Objective (weighted mean squared error vs targets): {result.best_value:.6g}\n"
        "Includes the experiment's [fixed] overrides. Use: negotiation run --overlay THIS_FILE"
    )
    overrides = {**{k: v for k, v in spec.fixed.items() if not isinstance(v, dict | list)}, **result.best}
    batch_spec = calibrated_experiment(spec, result.best)
    batch_note = (
        f"# The experiment {spec.name} at its calibrated point: no parameter varies, every one is fixed.\n"
        f"# Made by: {command}\n# Run it with: negotiation batch THIS_FILE\n"
    )
    written = [
        write_overlay(folder / "calibrated.toml", overrides, comment),
        write_text_atomic(folder / "calibrated-experiment.toml", batch_note + batch_spec.to_toml()),
        write_text_atomic(folder / "trials.csv", result.trials.to_csv(index=False)),
        write_text_atomic(folder / "targets.csv", result.achieved.to_csv(index=False)),
    ]
    fig, _ = plot_convergence(result.trials)
    written += save_figure(fig, folder, "convergence")
    fig, _ = plot_targets(result.achieved)
    return written + save_figure(fig, folder, "targets")


def calibrated_experiment(spec: ExperimentSpec, best: dict[str, Any]) -> ExperimentSpec:
    """The experiment with its varied parameters fixed at ``best``: one design point, for a batch.

    Args:
        spec: The calibrated experiment.
        best: Best value per varied parameter path.

    Returns:
        A validated spec named ``<name>-calibrated`` with the same scenario, seed and replications.
    """
    from negotiation.batch.spec import experiment_from_dict

    head: dict[str, Any] = {
        "name": f"{spec.name}-calibrated",
        "description": f"{spec.name} at its calibrated point",
        "scenario": spec.scenario,
        "seed": spec.seed,
        "block": spec.block,
        "outputs": list(spec.outputs),
    }
    if spec.adaptive:
        head |= {"precision": spec.precision, "max_replications": spec.max_replications}
    else:
        head["replications"] = spec.replications
    data = {"experiment": head, "fixed": {**spec.fixed, **best}}
    return experiment_from_dict(data, f"{spec.source} (calibrated)")


def _only(source: str, where: str, entry: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ExperimentError(
            source, f"{where}.{extra[0]}", entry[extra[0]], "one of " + ", ".join(sorted(allowed))
        )


def _probability_weight(source: str, where: str, entry: dict[str, Any]) -> tuple[float, float]:
    p = entry.get("probability", MISSING)
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise ExperimentError(source, f"{where}.probability", p, "a probability in [0, 1]")
    w = entry.get("weight", 1.0)
    if isinstance(w, bool) or not isinstance(w, int | float) or not (w >= 0 and math.isfinite(w)):
        raise ExperimentError(source, f"{where}.weight", w, "a non-negative number")
    return float(p), float(w)
