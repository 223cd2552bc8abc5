"""Effects of sampled parameters (Latin hypercube, Sobol, random designs) on each table's deal probability.

Reading a sampled design one parameter at a time (the deal probability of the runs in the top third
of a parameter's values minus the bottom third's) mistakes chance correlations between the sampled
columns for effects: with 32 Latin-hypercube points, two columns correlate by about 0.2 by chance, so
a parameter that cannot touch a table "moves" it by as much as the parameter that does. Here every
varied parameter enters one model at once, so correlated columns do not leak into each other:

- per table, a logistic regression (a binomial GLM, fitted by iteratively reweighted least squares)
  of the deal counts at each design point on every varied parameter that can reach the table, each
  scaled to [0, 1] over its sampled range, with a linear and a quadratic term (curvature in the
  logit) when there are enough points (at least 4 per coefficient), else linear only;
- the *partial dependence* of the deal probability on each parameter: the model's mean probability
  over the sampled points with that parameter set to each value (Friedman 2001), and the *effect*:
  its change from the lowest to the highest sampled value;
- intervals from the delta method with a covariance that is robust to the model being wrong
  (the cluster sandwich, clustered by design point, with the small-sample factor G / (G - q) and a
  t quantile on G - q degrees of freedom for G points and q coefficients): runs at one point share its
  parameters, so the design point, not the run, is the unit of evidence, and whatever the model
  misses between points widens the interval instead of hiding in it.

Parameters that cannot reach a table by the scenario's structure
(:func:`negotiation.bargaining.reach.tables_reached`) are left out of that table's model and
reported as out of reach: their effect is zero by construction, not an estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from scipy.special import expit

from negotiation.stats.digest import Results, as_digest

RIDGE = 1e-3
"""Ridge penalty on the slopes (not the intercept), in units of runs: keeps fits finite when a table
always or never settles over part of the range, and is negligible next to hundreds of runs."""
GRID = 41
"""Values at which partial dependence is evaluated across each parameter's sampled range."""


@dataclass(frozen=True)
class TableFit:
    """The logistic model of one table's deal counts over the design points."""

    table: str
    parameters: list[str]
    """The parameters in the model (those that can reach the table)."""
    lows: np.ndarray
    """(P,) smallest sampled value of each parameter (scaled to 0)."""
    highs: np.ndarray
    """(P,) largest sampled value of each parameter (scaled to 1)."""
    quadratic: bool
    """Whether each parameter has a quadratic term too."""
    coefficients: np.ndarray
    """(q,) intercept, then per parameter its linear (and quadratic) term."""
    covariance: np.ndarray
    """(q, q) cluster-robust covariance of the coefficients."""
    x: np.ndarray
    """(G, P) the design points' parameter values."""
    weights: np.ndarray
    """(G,) runs of the table at each point (partial dependence averages over them)."""
    t_quantile: float
    """Two-sided 95% t quantile on G - q degrees of freedom."""

    def design(self, x: np.ndarray) -> np.ndarray:
        """The model matrix of parameter values ``x`` (..., P)."""
        scaled = (x - self.lows) / np.where(self.highs > self.lows, self.highs - self.lows, 1.0)
        columns = [np.ones(x.shape[:-1])]
        for j in range(x.shape[-1]):
            columns.append(scaled[..., j] - 0.5)
            if self.quadratic:
                columns.append((scaled[..., j] - 0.5) ** 2 - 1.0 / 12.0)
        return np.stack(columns, axis=-1)

    def partial_dependence(self, parameter: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean predicted deal probability with ``parameter`` set to each value, and its gradient.

        Returns:
            ``(pd, gradient)``: (V,) probabilities and (V, q) their derivatives by the coefficients.
        """
        j = self.parameters.index(parameter)
        x = np.repeat(self.x[None], len(values), axis=0)
        x[:, :, j] = np.asarray(values, float)[:, None]
        design = self.design(x)  # (V, G, q)
        p = expit(design @ self.coefficients)
        w = self.weights / self.weights.sum()
        pd_ = p @ w
        gradient = np.einsum("vg,vgq->vq", p * (1 - p) * w, design)
        return pd_, gradient

    def effect(self, parameter: str) -> tuple[float, float, float]:
        """Change in deal probability from the lowest to the highest sampled value, with its 95% interval."""
        j = self.parameters.index(parameter)
        values = np.array([self.lows[j], self.highs[j]])
        pd_, gradient = self.partial_dependence(parameter, values)
        change = float(pd_[1] - pd_[0])
        g = gradient[1] - gradient[0]
        half = self.t_quantile * float(np.sqrt(max(g @ self.covariance @ g, 0.0)))
        return change, max(change - half, -1.0), min(change + half, 1.0)


def design_kind(points: pd.DataFrame, parameters: Sequence[str]) -> str:
    """How a batch's design points were laid out: 'single', 'sweep', 'grid' or 'sampled'.

    A sweep or grid is a full factorial over one or two parameters (every combination of their values
    is a point); anything else (a Latin hypercube, Sobol or random sample, or a factorial over three or
    more parameters) is read as a sampled design.

    >>> frame = pd.DataFrame({"a": [1.0, 2.0, 1.0, 2.0], "b": [5.0, 5.0, 6.0, 6.0]})
    >>> design_kind(frame, ["a", "b"]), design_kind(frame.iloc[:3], ["a", "b"]), design_kind(frame, [])
    ('grid', 'sampled', 'single')
    """
    if not parameters:
        return "single"
    values = points[list(parameters)]
    levels = [values[p].nunique() for p in parameters]
    factorial = len(values.drop_duplicates()) == len(values) == int(np.prod(levels))
    if factorial and len(parameters) == 1:
        return "sweep"
    if factorial and len(parameters) == 2:
        return "grid"
    return "sampled"


def fit_table(
    table: str, x: np.ndarray, deals: np.ndarray, runs: np.ndarray, parameters: Sequence[str]
) -> TableFit:
    """Fit the logistic model of one table's deal counts at G design points.

    Args:
        table: The table id (for the result).
        x: (G, P) each point's parameter values.
        deals: (G,) deals at each point.
        runs: (G,) runs at each point.
        parameters: The P parameter paths.

    Returns:
        The fit, with its cluster-robust covariance.
    """
    x = np.asarray(x, float).reshape(len(deals), -1)
    lows, highs = x.min(axis=0), x.max(axis=0)
    n_points, n_params = x.shape
    quadratic = n_points >= 4 * (1 + 2 * n_params)
    probe = TableFit(
        table, list(parameters), lows, highs, quadratic, np.zeros(0), np.zeros((0, 0)), x, runs, 0
    )
    design = probe.design(x)
    k, n = np.asarray(deals, float), np.asarray(runs, float)
    q = design.shape[1]
    penalty = np.full(q, RIDGE)
    penalty[0] = 1e-6  # only keeps the intercept finite where a table always (or never) settles
    pooled = np.clip((k.sum() + 0.5) / (n.sum() + 1.0), 1e-6, 1 - 1e-6)
    beta = np.zeros(q)
    beta[0] = np.log(pooled / (1 - pooled))
    for _ in range(100):
        p = expit(design @ beta)
        w = n * p * (1 - p)
        hessian = design.T @ (design * w[:, None]) + np.diag(penalty)
        score = design.T @ (k - n * p) - penalty * beta
        step = np.clip(np.linalg.solve(hessian, score), -5.0, 5.0)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = expit(design @ beta)
    hessian = design.T @ (design * (n * p * (1 - p))[:, None]) + np.diag(penalty)
    bread = np.linalg.pinv(hessian)
    scores = design * (k - n * p)[:, None]  # each point's score: the sum over its runs
    dof = max(n_points - q, 1)
    meat = scores.T @ scores * (n_points / dof)
    covariance = bread @ meat @ bread
    t_quantile = float(scipy_stats.t.ppf(0.975, dof))
    return TableFit(table, list(parameters), lows, highs, quadratic, beta, covariance, x, n, t_quantile)


def fit_tables(
    results: Results, parameters: Sequence[str], reach: Mapping[str, Sequence[str]] | None = None
) -> dict[str, TableFit | None]:
    """One :class:`TableFit` per table (None where no varied parameter reaches it).

    Args:
        results: The results table or its digest (with the parameter columns).
        parameters: The varied parameter paths.
        reach: Per table, the parameters that can reach it (default: every parameter reaches every table).
    """
    digest = as_digest(results, parameters=parameters)
    points = digest.points.set_index("point")
    fits: dict[str, TableFit | None] = {}
    for table in digest.tables:
        mine = [p for p in parameters if reach is None or p in reach.get(table, ())]
        varied = [p for p in mine if points[p].nunique() > 1]
        counts = digest.counts[digest.counts["table"] == table]
        if not varied or len(counts) < 2:
            fits[table] = None
            continue
        x = points.loc[counts["point"], varied].to_numpy(float)
        fits[table] = fit_table(table, x, counts["deals"].to_numpy(), counts["n"].to_numpy(), varied)
    return fits


def parameter_effects(
    results: Results, parameters: Sequence[str], reach: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Each parameter's effect on each table's deal probability, with its 95% interval.

    Args:
        results: The results table or its digest.
        parameters: The varied parameter paths.
        reach: Per table, the parameters that can reach it (see :func:`fit_tables`).

    Returns:
        One row per table and parameter (tables in scenario order): ``table, parameter, reachable,
        low_value, high_value, effect, low, high, significant``; ``effect`` is the change in deal
        probability from ``low_value`` to ``high_value``, averaged over the other parameters; NaN and
        ``reachable = False`` where the parameter cannot reach the table.
    """
    fits = fit_tables(results, parameters, reach)
    rows = []
    for table, fit in fits.items():
        for parameter in parameters:
            if fit is not None and parameter in fit.parameters:
                j = fit.parameters.index(parameter)
                change, low, high = fit.effect(parameter)
                rows.append([table, parameter, True, fit.lows[j], fit.highs[j], change, low, high])
            else:
                reachable = reach is None or parameter in reach.get(table, ())
                rows.append([table, parameter, reachable, np.nan, np.nan, np.nan, np.nan, np.nan])
    frame = pd.DataFrame(
        rows, columns=["table", "parameter", "reachable", "low_value", "high_value", "effect", "low", "high"]
    )
    frame["significant"] = (frame["low"] > 0) | (frame["high"] < 0)
    return frame


def partial_dependence(
    results: Results,
    parameter: str,
    parameters: Sequence[str],
    reach: Mapping[str, Sequence[str]] | None = None,
    grid: int = GRID,
) -> pd.DataFrame:
    """The partial dependence of each reachable table's deal probability on one parameter, with a band.

    Returns:
        Columns ``table, value, p, low, high`` (a pointwise 95% band), ``grid`` values per table that
        the parameter reaches.
    """
    fits = fit_tables(results, parameters, reach)
    frames = []
    for table, fit in fits.items():
        if fit is None or parameter not in fit.parameters:
            continue
        j = fit.parameters.index(parameter)
        values = np.linspace(fit.lows[j], fit.highs[j], grid)
        pd_, gradient = fit.partial_dependence(parameter, values)
        sd = np.sqrt(np.maximum(np.einsum("vq,qr,vr->v", gradient, fit.covariance, gradient), 0.0))
        half = fit.t_quantile * sd
        frames.append(
            pd.DataFrame(
                {
                    "table": table,
                    "value": values,
                    "p": pd_,
                    "low": np.clip(pd_ - half, 0, 1),
                    "high": np.clip(pd_ + half, 0, 1),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["table", "value", "p", "low", "high"])
    return pd.concat(frames, ignore_index=True)
