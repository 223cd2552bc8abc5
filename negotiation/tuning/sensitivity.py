"""Global sensitivity of each table's deal probability to an experiment's parameters (SALib).

The parameters are the experiment's ``[[parameters]]``: a range is used as declared; a list of
numeric values is treated as the range from its smallest to its largest value. SALib draws the
sample (Saltelli/Sobol' sequence for ``sobol``, trajectories for ``morris``), every sample point is
run ``runs`` times with the *same* run seeds (common random numbers), and each table's deal
probability at each point is the model output that SALib analyses:

- ``sobol``: first-order (S1) and total (ST) Sobol' indices with bootstrap confidence intervals
  (``SALib.analyze.sobol``, Jansen/Saltelli estimators). ``samples`` is SALib's ``N``, a power of
  two; the model is evaluated at ``N * (D + 2)`` points for D parameters.
- ``morris``: elementary effects, ``mu_star`` (mean absolute effect, with a bootstrap interval) and
  ``sigma`` (spread: interactions or non-linearity). ``samples`` is the number of trajectories; the
  model is evaluated at ``samples * (D + 1)`` points.

Because every point uses the same seeds, a parameter that cannot affect a table leaves its output
exactly unchanged, so its indices come out at zero rather than at the level of Monte Carlo noise.
A table whose probability does not change at all over the sample has all indices set to zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.batch.spec import ExperimentSpec
from negotiation.errors import MISSING, ExperimentError
from negotiation.scenario.schema import Scenario

METHODS = ("sobol", "morris")
SENSITIVITY_STREAM = 0x5E45
"""SeedSequence spawn key of SALib's sampler and bootstrap (run seeds use replication keys)."""
MORRIS_LEVELS = 4


def problem_from(spec: ExperimentSpec) -> dict[str, Any]:
    """The SALib problem (names and bounds) of the experiment's varied parameters.

    Raises:
        ExperimentError: The experiment varies no parameter, or only one value of it.
    """
    names, bounds = [], []
    for i, p in enumerate(spec.parameters):
        if p.values is not None:
            numbers = [v for v in p.values if isinstance(v, int | float) and not isinstance(v, bool)]
            if len(numbers) != len(p.values) or min(numbers) == max(numbers):
                raise ExperimentError(
                    spec.source, f"parameters.{i}.values", list(p.values), "at least two different numbers"
                )
            low, high = float(min(numbers)), float(max(numbers))
        else:
            low, high = float(p.low), float(p.high)
        names.append(p.path)
        bounds.append([low, high])
    if not names:
        raise ExperimentError(
            spec.source, "parameters", MISSING, "at least one [[parameters]] entry with a range to vary"
        )
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def sample(problem: dict[str, Any], method: str, samples: int, seed: int) -> np.ndarray:
    """SALib's sample of the parameter space, (points, D).

    Raises:
        ExperimentError: Unknown method, or a Sobol' sample size that is not a power of two.
    """
    if method == "sobol":
        from SALib.sample import sobol

        if samples < 2 or samples & (samples - 1):
            raise ExperimentError("--samples", "", samples, "a power of two (e.g. 32, 64, 128) for sobol")
        return sobol.sample(problem, samples, calc_second_order=False, seed=_seed(seed, 0))
    if method == "morris":
        from SALib.sample import morris

        if samples < 2:
            raise ExperimentError("--samples", "", samples, "at least 2 trajectories for morris")
        return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=_seed(seed, 0))
    raise ExperimentError("--method", "", method, "sobol or morris")


def evaluate(
    scenario: Scenario,
    spec: ExperimentSpec,
    points: np.ndarray,
    runs: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Each table's deal probability at every sample point, all points on the same run seeds.

    Returns:
        One row per point: the parameter values, then one column per table.
    """
    from negotiation.bargaining.compiled import compile_scenario
    from negotiation.batch.rows import simulate
    from negotiation.scenario.paths import apply_overrides

    integer = [p.is_integer for p in spec.parameters]
    names = [p.path for p in spec.parameters]
    rows = []
    for point in points:
        values = {
            n: (round(float(v)) if is_int else float(v))
            for n, v, is_int in zip(names, point, integer, strict=True)
        }
        results = simulate(compile_scenario(apply_overrides(scenario, values, "sensitivity")), runs, seed)
        frame = results.select(["table", "deal"]).to_pandas()
        p = frame.groupby("table", sort=False)["deal"].mean()
        rows.append({**values, **p.to_dict()})
        if progress is not None:
            progress(1)
    return pd.DataFrame(rows)


def analyse(
    problem: dict[str, Any],
    points: np.ndarray,
    outputs: pd.DataFrame,
    tables: list[str],
    method: str,
    seed: int,
) -> pd.DataFrame:
    """Sensitivity indices per table and parameter.

    Returns:
        For sobol: ``table, parameter, S1, S1_conf, ST, ST_conf, p_min, p_max, constant``; for
        morris: ``table, parameter, mu_star, mu_star_conf, sigma, mu, p_min, p_max, constant``.
        ``*_conf`` is the half-width of the 95% bootstrap interval; ``p_min``/``p_max`` the range of
        the table's deal probability over the sample (Sobol' indices are shares of its variance, so
        read them together with this range); ``constant`` is True when the probability did not change
        at all (the indices are then 0).
    """
    rows = []
    for table in tables:
        y = outputs[table].to_numpy(float)
        constant = bool(np.ptp(y) == 0)
        if method == "sobol":
            from SALib.analyze import sobol

            if constant:
                result = {key: np.zeros(problem["num_vars"]) for key in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                result = sobol.analyze(
                    problem, y, calc_second_order=False, conf_level=0.95, seed=_seed(seed, 1)
                )
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            from SALib.analyze import morris

            if constant:
                result = {
                    key: np.zeros(problem["num_vars"]) for key in ("mu_star", "mu_star_conf", "sigma", "mu")
                }
            else:
                result = morris.analyze(
                    problem, points, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=_seed(seed, 1)
                )
            keys = ("mu_star", "mu_star_conf", "sigma", "mu")
        for i, name in enumerate(problem["names"]):
            indices = {k: float(result[k][i]) for k in keys}
            spread = {"p_min": float(y.min()), "p_max": float(y.max()), "constant": constant}
            rows.append({"table": table, "parameter": name, **indices, **spread})
    return pd.DataFrame(rows)


def run_sensitivity(
    spec: ExperimentSpec,
    method: str = "sobol",
    samples: int = 32,
    runs: int = 200,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sample, evaluate and analyse.

    Args:
        spec: The experiment (its base scenario and ``[[parameters]]``).
        method: ``sobol`` or ``morris``.
        samples: SALib's N (sobol, a power of two) or number of trajectories (morris).
        runs: Runs per sample point (the same seeds at every point).
        seed: Master seed (default: the experiment's).
        progress: Called with 1 after each point.

    Returns:
        The indices (see :func:`analyse`) and the evaluated points (see :func:`evaluate`).
    """
    seed = spec.seed if seed is None else seed
    problem = problem_from(spec)
    points = sample(problem, method, samples, seed)
    base = spec.base_scenario()
    outputs = evaluate(base, spec, points, runs, seed, progress)
    tables = [t for t in base.tables if t in outputs.columns]
    return analyse(problem, points, outputs, tables, method, seed), outputs


def n_points(method: str, samples: int, parameters: int) -> int:
    """How many sample points SALib draws: N (D + 2) for sobol, N (D + 1) for morris."""
    return samples * (parameters + 2) if method == "sobol" else samples * (parameters + 1)


def plot_table(indices: pd.DataFrame, table: str, method: str):
    """Bar chart ranking the parameters for one table, with 95% bootstrap intervals.

    Returns:
        ``(figure, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = indices[indices["table"] == table]
    main_key, second_key = ("ST", "S1") if method == "sobol" else ("mu_star", "sigma")
    rows = rows.sort_values(main_key, ascending=True)
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(rows) + 2.0), layout="constrained")
    height = 0.38
    ax.barh(
        y + height / 2,
        rows[main_key],
        height,
        xerr=rows[f"{main_key}_conf"],
        capsize=3,
        label=f"{main_key} (95% interval)" if method == "sobol" else "mu* (95% interval)",
    )
    if method == "sobol":
        ax.barh(
            y - height / 2, rows["S1"], height, xerr=rows["S1_conf"], capsize=3, label="S1 (95% interval)"
        )
        ax.set_xlabel("Sobol' index of the deal probability\n(share of its variance)")
    else:
        ax.barh(y - height / 2, rows[second_key], height, label="sigma")
        ax.set_xlabel("elementary effect on the deal probability")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(y, rows["parameter"].tolist())
    spread = f"{rows['p_min'].iloc[0]:.2f} to {rows['p_max'].iloc[0]:.2f}" if len(rows) else "n/a"
    ax.set_title(f"Sensitivity of the {table} deal probability\n({method}; it ranges {spread})", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig, ax


def format_indices(indices: pd.DataFrame, method: str) -> str:
    """Readable text: per table, the parameters ranked by ST (sobol) or mu* (morris)."""
    key = "ST" if method == "sobol" else "mu_star"
    lines = []
    for table, rows in indices.groupby("table", sort=False):
        if rows["constant"].all():
            lines.append(f"{table:<20} deal probability constant over the sample: no parameter moves it")
            continue
        low, high = rows["p_min"].iloc[0], rows["p_max"].iloc[0]
        lines.append(f"{table:<20} deal probability from {low:.3f} to {high:.3f} over the sample")
        for row in rows.sort_values(key, ascending=False).itertuples(index=False):
            if method == "sobol":
                lines.append(
                    f"    {row.parameter:<52} S1 {row.S1:6.3f} ± {row.S1_conf:5.3f}   "
                    f"ST {row.ST:6.3f} ± {row.ST_conf:5.3f}"
                )
            else:
                lines.append(
                    f"    {row.parameter:<52} mu* {row.mu_star:6.3f} ± {row.mu_star_conf:5.3f}   "
                    f"sigma {row.sigma:6.3f}"
                )
    return "\n".join(lines)


def write_sensitivity(
    indices: pd.DataFrame, outputs: pd.DataFrame, method: str, outdir: str | Path
) -> list[Path]:
    """Write ``sensitivity.csv`` (indices), ``samples.csv`` (points and outputs) and a chart per table.

    Tables whose probability is constant over the sample get no chart.
    """
    from negotiation.atomic import write_text_atomic
    from negotiation.tuning.files import output_folder, save_figure

    folder = output_folder(outdir)
    written = [
        write_text_atomic(folder / "sensitivity.csv", indices.to_csv(index=False)),
        write_text_atomic(folder / "samples.csv", outputs.to_csv(index=False)),
    ]
    varying = indices.loc[~indices["constant"].astype(bool), "table"]
    for table in pd.unique(varying):
        fig, _ = plot_table(indices, table, method)
        written += save_figure(fig, folder, "sensitivity-" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(table)))
    return written


def _seed(master_seed: int, key: int) -> int:
    return int(np.random.SeedSequence(master_seed, spawn_key=(SENSITIVITY_STREAM, key)).generate_state(1)[0])
