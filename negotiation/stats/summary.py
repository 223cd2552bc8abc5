"""The statistics of :mod:`negotiation.stats.frames`, computed from a results digest.

Same columns, same order, same numbers as the DataFrame functions, with two documented exceptions:
agreed-value quantiles are read off histograms (within 1/400 of the issue's range of the exact
value), and float means may differ from pandas' in the last bits (a different summation order).
Grouping columns ``by`` may be ``point``, ``table`` and any per-point column: a varied parameter,
or a column of ``keys`` (one row per point, e.g. binned parameter values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from negotiation.stats.digest import ResultsDigest, quantiles_from_histogram
from negotiation.stats.frames import (
    BY_POINT,
    QUANTILES,
    SUMMARY_COLUMNS,
    _ordered,
    _quantile_name,
    with_interval,
)


def deal_probability(
    digest: ResultsDigest,
    by: Sequence[str] = BY_POINT,
    confidence: float = 0.95,
    keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Columns ``*by, n, deals, p, low, high`` (see :func:`negotiation.stats.frames.deal_probability`)."""
    by = list(by)
    counts = digest.table_counts(by, keys)[["n", "deals"]].reset_index()
    return _ordered(with_interval(counts, "deals", "n", confidence=confidence), by, digest.tables)


def issue_movement(
    digest: ResultsDigest, by: Sequence[str] = BY_POINT, confidence: float = 0.95
) -> pd.DataFrame:
    """Columns ``*by, issue, n, moved, p, low, high`` (see :func:`.frames.issue_movement`)."""
    by = list(by)
    moves = digest._with_point_keys(digest.moves, by, None)
    counts = moves.groupby([*by, "issue"], sort=False)[["n", "moved"]].sum().reset_index()
    counts = counts[[*by, "issue", "n", "moved"]]
    frame = with_interval(counts, "moved", "n", confidence=confidence)
    return _ordered(frame, by, digest.tables, digest.issues)


def agreed_terms(
    digest: ResultsDigest, by: Sequence[str] = BY_POINT, quantiles: Sequence[float] = QUANTILES
) -> pd.DataFrame:
    """Columns ``*by, issue, deals, mean, q05, ...`` (see :func:`negotiation.stats.frames.agreed_terms`).

    The quantiles come from :func:`negotiation.stats.digest.quantiles_from_histogram`.
    """
    by = list(by)
    names = [_quantile_name(q) for q in quantiles]
    moves = digest._with_point_keys(digest.moves, by, None)
    rows = []
    for key, index in moves.groupby([*by, "issue"], sort=False).indices.items():
        part = moves.iloc[index]
        deals = int(part["deals"].sum())
        if deals == 0:
            continue
        first = part.iloc[0]
        qs = quantiles_from_histogram(
            digest.histograms[index].sum(axis=0),
            int(part["at_low"].sum()),
            int(part["at_high"].sum()),
            float(first["low"]),
            float(first["high"]),
            float(part["value_min"].min()),
            float(part["value_max"].max()),
            quantiles,
        )
        rows.append([*key, deals, float(part["value_sum"].sum()) / deals, *qs])
    frame = pd.DataFrame(rows, columns=[*by, "issue", "deals", "mean", *names])
    return _ordered(frame, by, digest.tables, digest.issues)


def time_to_deal(
    digest: ResultsDigest, by: Sequence[str] = BY_POINT, confidence: float = 0.95
) -> pd.DataFrame:
    """Columns ``*by, round, n, deals, p, low, high`` (see :func:`negotiation.stats.frames.time_to_deal`)."""
    by = list(by)
    counts = digest._with_point_keys(digest.counts, by, None)
    last = int(counts["round_max"].max()) if len(counts) else 0
    frames = []
    for key, index in counts.groupby(by, sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        cumulative = np.cumsum(digest.rounds[index].sum(axis=0)[: last + 1])
        cumulative = np.pad(cumulative, (0, last + 1 - len(cumulative)), mode="edge")
        frame = pd.DataFrame(
            {"round": np.arange(last + 1), "n": int(counts["n"].iloc[index].sum()), "deals": cumulative}
        )
        for name, value in zip(by, key, strict=True):
            frame[name] = value
        frames.append(frame[[*by, "round", "n", "deals"]])
    if not frames:
        return pd.DataFrame(columns=[*by, "round", "n", "deals", "p", "low", "high"])
    frame = pd.concat(frames, ignore_index=True).astype({"round": int, "deals": int})
    return _ordered(with_interval(frame, "deals", "n", confidence=confidence), by, digest.tables)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Numpy's linear quantiles of ``values`` each repeated ``weights`` times, without repeating them.

    >>> weighted_quantiles(np.array([1.0, 2.0]), np.array([3, 1]), [0.5, 1.0]).tolist()
    [1.0, 2.0]
    """
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, np.int64)[order]
    keep = w > 0
    v, ends = v[keep], np.cumsum(w[keep])
    total = int(ends[-1])
    h = (total - 1) * np.asarray(quantiles, dtype=float)
    below = np.floor(h)
    a = v[np.searchsorted(ends, below, side="right")]
    b = v[np.searchsorted(ends, np.minimum(below + 1, total - 1), side="right")]
    t = h - below
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)


def parameter_levels(digest: ResultsDigest, parameter: str, max_levels: int) -> tuple[pd.Series, bool]:
    """Each design point's x position: its value, or its bin's row-weighted mean over many values.

    The bins are ``pandas.qcut``'s over every row's value (edges at equal-count quantiles, right-closed,
    duplicates dropped), as :func:`negotiation.charts.batch_charts.parameter_levels` computes them from rows.

    Returns:
        The positions indexed by point, and whether the values were binned.
    """
    points = digest.points
    values = points[parameter].to_numpy(dtype=float)
    weights = points["rows"].to_numpy(dtype=np.int64)
    index = pd.Index(points["point"], name="point")
    if len(np.unique(values[weights > 0])) <= max_levels:
        return pd.Series(values, index=index), False
    edges = np.unique(weighted_quantiles(values, weights, np.linspace(0, 1, max_levels + 1)))
    bins = pd.cut(values, edges, include_lowest=True, labels=False)
    frame = pd.DataFrame({"bin": bins, "vw": values * weights, "w": weights})
    sums = frame.groupby("bin")[["vw", "w"]].transform("sum")
    return pd.Series((sums["vw"] / sums["w"]).to_numpy(), index=index), True


def sensitivity(digest: ResultsDigest, parameters: Sequence[str]) -> pd.DataFrame:
    """Tables x parameters: P(deal | top third) - P(deal | bottom third) (see ``stats.sensitivity``)."""
    tables = digest.tables
    effect = pd.DataFrame(np.nan, index=pd.Index(tables, name="table"), columns=list(parameters))
    points = digest.points
    counts = digest.counts
    for parameter in parameters:
        values = points[parameter].to_numpy(dtype=float)
        weights = points["rows"].to_numpy(dtype=np.int64)
        if len(np.unique(values[weights > 0])) < 2:
            continue
        low, high = weighted_quantiles(values, weights, [1 / 3, 2 / 3])
        value_of = pd.Series(values, index=points["point"])
        at = counts["point"].map(value_of)
        bottom = counts[at <= low].groupby("table", sort=False)[["deals", "n"]].sum()
        top = counts[at >= high].groupby("table", sort=False)[["deals", "n"]].sum()
        if high > low:
            effect[parameter] = (top["deals"] / top["n"] - bottom["deals"] / bottom["n"]).reindex(tables)
    return effect


def summary_table(digest: ResultsDigest, metadata: dict[str, Any]) -> pd.DataFrame:
    """One row per design point and table (see :func:`negotiation.stats.frames.summary_table`)."""
    parameters = list(metadata.get("parameters", []))
    c = digest.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        summary = pd.DataFrame(
            {
                "point": c["point"].to_numpy(),
                "table": c["table"].astype(str),
                "party_0": c["party_0"].astype(str),
                "party_1": c["party_1"].astype(str),
                "runs": c["n"].to_numpy(),
                "deals": c["deals"].astype(int).to_numpy(),
                "walkout_share": c["walkouts"] / c["n"],
                "deadline_share": c["deadlines"] / c["n"],
                "mean_deal_round": _mean(c["deal_round_sum"], c["deals"]),
                "mean_utility_0": _mean(c["utility_0_sum"], c["n"]),
                "mean_utility_1": _mean(c["utility_1_sum"], c["n"]),
                "mean_pareto_distance": _mean(c["pareto_sum"], c["pareto_n"]),
                "mean_nash_distance": _mean(c["nash_sum"], c["nash_n"]),
            }
        )
    summary = summary.merge(digest.points[["point", *parameters]], on="point", how="left")
    summary = with_interval(summary, "deals", "runs", prefix="deal_")
    summary = summary.rename(columns={"deal_p": "deal_probability"})
    order = ["point", *parameters, *SUMMARY_COLUMNS]
    return _ordered(summary[order], ["point", "table"], digest.tables)


def issue_table(digest: ResultsDigest, metadata: dict[str, Any]) -> pd.DataFrame:
    """One row per design point, table and issue (see :func:`negotiation.stats.frames.issue_table`)."""
    parameters = list(metadata.get("parameters", []))
    by = ["point", "table"]
    moves = issue_movement(digest, by).rename(
        columns={"n": "runs", "p": "move_probability", "low": "move_low", "high": "move_high"}
    )
    terms = agreed_terms(digest, by)
    table = moves.merge(terms, on=[*by, "issue"], how="left")
    table["deals"] = table["deals"].fillna(0).astype(int)
    if parameters:
        table = table.merge(digest.points[["point", *parameters]], on="point", how="left")
    table = table.astype({"table": str, "issue": str})
    rest = [c for c in table.columns if c not in ("point", *parameters, "table", "issue")]
    return table[["point", *parameters, "table", "issue", *rest]]


def _mean(total: pd.Series, count: pd.Series) -> np.ndarray:
    """Total / count, NaN where count is 0."""
    n = count.to_numpy(dtype=float)
    return np.where(n > 0, total.to_numpy(dtype=float) / np.where(n > 0, n, 1.0), np.nan)
