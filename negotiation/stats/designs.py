"""Statistics of a whole design: every design point at once, for sweeps, grids and the report's headline.

- :func:`deal_rounds`: the quartiles of the round in which deals are made, per design point and table;
- :func:`pivot`: deal probabilities as parameter values (rows) by tables (columns);
- :func:`difference_interval`: Newcombe's interval for the difference of two independent proportions;
- :func:`movers`: the tables whose deal probability changes most across a sweep or grid;
- :func:`baseline_point`: the design point nearest the scenario's own values (a grid's reference).

Everything works on a :class:`~negotiation.stats.digest.ResultsDigest`, so on saved batches of any size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from negotiation.intervals import wilson_interval
from negotiation.stats.digest import Results, as_digest
from negotiation.stats.summary import deal_probability

ROUND_QUANTILES = (0.25, 0.5, 0.75)


def deal_rounds(results: Results, by: Sequence[str] = ("point", "table")) -> pd.DataFrame:
    """Quartiles of the round in which deals are made (among runs with a deal), per group.

    Returns:
        Columns ``*by, deals, q25, q50, q75`` (rounds are whole numbers; NaN without a deal), numpy's
        linear quantiles of the deal rounds.
    """
    digest = as_digest(results)
    counts = digest._with_point_keys(digest.counts, by, None)
    rows = []
    for key, index in counts.groupby(list(by), sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        histogram = digest.rounds[index].sum(axis=0)
        deals = int(histogram.sum())
        if deals:
            ends = np.cumsum(histogram)
            h = (deals - 1) * np.asarray(ROUND_QUANTILES)
            below = np.floor(h)
            a = np.searchsorted(ends, below, side="right")
            b = np.searchsorted(ends, np.minimum(below + 1, deals - 1), side="right")
            qs = a + (b - a) * (h - below)
        else:
            qs = np.full(len(ROUND_QUANTILES), np.nan)
        rows.append([*key, deals, *qs])
    return pd.DataFrame(rows, columns=[*by, "deals", "q25", "q50", "q75"])


def pivot(results: Results, parameters: Sequence[str]) -> pd.DataFrame:
    """Deal probability of each table at each design point: parameter values by tables.

    Returns:
        One row per design point (``point`` and each parameter's value), then for each table three
        columns ``<table>``, ``<table> low``, ``<table> high`` (the 95% Wilson interval).
    """
    digest = as_digest(results, parameters=parameters)
    data = deal_probability(digest, by=("point", "table"))
    wide = data.pivot(index="point", columns="table", values=["p", "low", "high"])
    frame = digest.points[["point", *parameters]].set_index("point")
    for table in digest.tables:
        frame[table] = wide[("p", table)]
        frame[f"{table} low"] = wide[("low", table)]
        frame[f"{table} high"] = wide[("high", table)]
    return frame.sort_values(list(parameters), kind="stable").reset_index()


def difference_interval(
    k1: np.ndarray | int,
    n1: np.ndarray | int,
    k2: np.ndarray | int,
    n2: np.ndarray | int,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for ``k2/n2 - k1/n1``, two independent proportions.

    Newcombe (1998), Statistics in Medicine 17:873, method 10 (its example: 56/70 against 48/80
    gives 0.2, [0.0524, 0.3339]). Paired runs make the true interval
    narrower, so this one is conservative for the paired points of a batch.

    >>> low, high = difference_interval(56, 70, 48, 80)
    >>> round(float(low), 4), round(float(high), 4)
    (-0.3339, -0.0524)
    """
    k1, n1, k2, n2 = (np.asarray(v, float) for v in (k1, n1, k2, n2))
    l1, u1 = (np.asarray(v) for v in wilson_interval(k1, n1, confidence))
    l2, u2 = (np.asarray(v) for v in wilson_interval(k2, n2, confidence))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    d = p2 - p1
    low = d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return np.clip(low, -1, 1), np.clip(high, -1, 1)


def movers(results: Results, parameters: Sequence[str], count: int = 3) -> pd.DataFrame:
    """The tables whose deal probability changes most between two design points of a sweep or grid.

    For each table, the points with the lowest and highest deal probability, and the change between
    them with Newcombe's interval (conservative for paired points). Picking the two extremes among G
    points favours large differences, so the interval's level is Bonferroni-corrected for the G - 1
    comparisons with the lowest point (95% overall); tables by the size of the change.

    Returns:
        Columns ``table, from_point, to_point, from_p, to_p, change, low, high`` plus the two points'
        parameter values as ``from <path>`` and ``to <path>``; ``count`` rows at most.
    """
    digest = as_digest(results, parameters=parameters)
    data = deal_probability(digest, by=("point", "table"))
    values = digest.points.set_index("point")
    rows = []
    for table, group in data.groupby("table", sort=False):
        if len(group) < 2:
            continue
        low_row, high_row = group.loc[group["p"].idxmin()], group.loc[group["p"].idxmax()]
        first, second = sorted([low_row, high_row], key=lambda r: tuple(values.loc[r["point"], parameters]))
        confidence = 1 - 0.05 / max(len(group) - 1, 1)
        lo, hi = difference_interval(first["deals"], first["n"], second["deals"], second["n"], confidence)
        row: dict[str, Any] = {
            "table": table,
            "from_point": int(first["point"]),
            "to_point": int(second["point"]),
            "from_p": float(first["p"]),
            "to_p": float(second["p"]),
            "change": float(second["p"] - first["p"]),
            "low": float(lo),
            "high": float(hi),
        }
        for p in parameters:
            row[f"from {p}"] = values.loc[first["point"], p]
            row[f"to {p}"] = values.loc[second["point"], p]
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame[(frame["low"] > 0) | (frame["high"] < 0)]  # only changes beyond the noise
    return frame.reindex(frame["change"].abs().sort_values(ascending=False).index).head(count)


def baseline_point(points: pd.DataFrame, parameters: Sequence[str], base: Mapping[str, float]) -> int:
    """The design point nearest the scenario's own values, each parameter scaled by its range."""
    distance = np.zeros(len(points))
    for p in parameters:
        values = points[p].to_numpy(float)
        span = values.max() - values.min() or 1.0
        distance += ((values - float(base[p])) / span) ** 2 if p in base else 0.0
    return int(points["point"].iloc[int(np.argmin(distance))])
