"""Statistics of a batch's results: deal probabilities, issue moves, agreed terms, time to deal.

One implementation, over a :class:`~negotiation.stats.digest.ResultsDigest`: every function takes
a results DataFrame (one row per run and table, the schema of ``negotiation.batch.rows``) or its
digest, and gives a tidy DataFrame. A DataFrame is digested first; a saved batch is streamed into
a digest by :func:`summarise` (and the report) in memory that does not grow with the runs.

``by`` names the grouping columns: the default ``("point", "table")`` gives one estimate per design
point and table; ``("table",)`` pools every design point (the probability over a whole
Latin-hypercube sample, say); any varied parameter, or a column of ``keys`` (one row per point),
may be added. Probabilities come with a Wilson score interval (``negotiation.intervals``). Tables
keep the scenario's order. Agreed-value quantiles are read off the digest's histograms, within
1/400 of the issue's range of the exact value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.batch.reader import load_metadata, load_scenario_json, require_columns
from negotiation.intervals import wilson_interval
from negotiation.stats.digest import Results, ResultsDigest, as_digest, quantiles_from_histogram, read_digest

BY_POINT = ("point", "table")
"""Default grouping: one row per design point and table."""

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles reported for the agreed value of each issue."""

SUMMARY_COLUMNS = (
    "table",
    "party_0",
    "party_1",
    "runs",
    "deals",
    "deal_probability",
    "deal_low",
    "deal_high",
    "walkout_share",
    "deadline_share",
    "mean_deal_round",
    "mean_utility_0",
    "mean_utility_1",
    "mean_pareto_distance",
    "mean_nash_distance",
)
"""Columns of the summary table after the design point and its parameter values."""


def with_interval(
    frame: pd.DataFrame, successes: str, n: str, prefix: str = "", confidence: float = 0.95
) -> pd.DataFrame:
    """Add a proportion ``successes / n`` and its Wilson interval as three columns.

    Args:
        frame: Has integer columns ``successes`` and ``n``.
        successes: Name of the count of successes.
        n: Name of the count of trials.
        prefix: Prefix of the new columns ``<prefix>p``, ``<prefix>low``, ``<prefix>high``.
        confidence: Confidence level of the interval.

    Returns:
        A copy of ``frame`` with the three columns added.
    """
    k = frame[successes].to_numpy(dtype=float)
    trials = frame[n].to_numpy(dtype=float)
    low, high = wilson_interval(k, trials, confidence)
    out = frame.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out[f"{prefix}p"] = np.where(trials > 0, k / np.where(trials > 0, trials, 1.0), np.nan)
    # exact ends where all or none succeed (as scipy does), so that low <= p <= high despite rounding
    out[f"{prefix}low"] = np.where(k == 0, 0.0, np.asarray(low, dtype=float))
    out[f"{prefix}high"] = np.where((k == trials) & (trials > 0), 1.0, np.asarray(high, dtype=float))
    return out


def deal_probability(
    results: Results,
    by: Sequence[str] = BY_POINT,
    confidence: float = 0.95,
    keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Probability of a deal with its Wilson interval.

    Args:
        results: The results table.
        by: Grouping columns.
        confidence: Confidence level of the interval.
        keys: Extra per-point grouping columns, one row per design point (``point`` and the columns
            that ``by`` names), e.g. binned parameter values.

    Returns:
        Columns ``*by, n, deals, p, low, high``.
    """
    by = list(by)
    digest = _digest_with(results, _per_point(by, keys))
    counts = digest.table_counts(by, keys)[["n", "deals"]].reset_index()
    return _ordered(with_interval(counts, "deals", "n", confidence=confidence), by, digest.tables)


def issue_movement(results: Results, by: Sequence[str] = BY_POINT, confidence: float = 0.95) -> pd.DataFrame:
    """Probability that each issue on a table moves off its status quo (a deal that changes it).

    Runs without a deal count as "not moved", so this is the unconditional probability, e.g. that
    China eases its rare-earth controls in a run.

    Args:
        results: The results table.
        by: Grouping columns (besides the issue).
        confidence: Confidence level of the interval.

    Returns:
        Columns ``*by, issue, n, moved, p, low, high``; only issues that are on the table.
    """
    by = list(by)
    digest = _digest_with(results, _per_point(by))
    moves = digest._with_point_keys(digest.moves, by, None)
    counts = moves.groupby([*by, "issue"], sort=False)[["n", "moved"]].sum().reset_index()
    counts = counts[[*by, "issue", "n", "moved"]]
    frame = with_interval(counts, "moved", "n", confidence=confidence)
    return _ordered(frame, by, digest.tables, digest.issues)


def agreed_terms(
    results: Results, by: Sequence[str] = BY_POINT, quantiles: Sequence[float] = QUANTILES
) -> pd.DataFrame:
    """Distribution of each issue's agreed value (real units) among the runs that reached a deal.

    Args:
        results: The results table.
        by: Grouping columns (besides the issue).
        quantiles: Quantiles to report, in [0, 1].

    Returns:
        Columns ``*by, issue, deals, mean, q05, q25, q50, ...`` (``qNN`` for each quantile); only
        issues on the table and groups with at least one deal.
    """
    by = list(by)
    digest = _digest_with(results, _per_point(by))
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


def time_to_deal(results: Results, by: Sequence[str] = BY_POINT, confidence: float = 0.95) -> pd.DataFrame:
    """Cumulative probability of a deal by each round (from round 0 to the last round seen).

    Args:
        results: The results table.
        by: Grouping columns.
        confidence: Confidence level of the interval.

    Returns:
        Columns ``*by, round, n, deals, p, low, high``: ``deals`` is the number of runs with a deal
        made in this round or earlier; ``p`` rises with the round to the deal probability.
    """
    by = list(by)
    digest = _digest_with(results, _per_point(by))
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


def summary_table(results: Results, metadata: dict[str, Any]) -> pd.DataFrame:
    """One row per design point and table: parameters, deal probability and how talks ended.

    Args:
        results: The results table.
        metadata: The batch metadata; its ``parameters`` name the varied parameter columns.

    Returns:
        Columns ``point, <parameters>, table, party_0, party_1, runs, deals, deal_probability,
        deal_low, deal_high, walkout_share, deadline_share, mean_deal_round, mean_utility_0,
        mean_utility_1, mean_pareto_distance, mean_nash_distance``. Round, Pareto and Nash means are
        over deals only; utilities over all runs (a run without a deal counts its reservation
        utility). NaN where there is no deal.
    """
    parameters = list(metadata.get("parameters", []))
    digest = _digest_with(results, parameters)
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


def issue_table(results: Results, metadata: dict[str, Any]) -> pd.DataFrame:
    """One row per design point, table and issue: how often it moves, and where deals put it.

    Args:
        results: The results table.
        metadata: The batch metadata; its ``parameters`` name the varied parameter columns.

    Returns:
        Columns ``point, <parameters>, table, issue, runs, moved, move_probability, move_low,
        move_high, deals, mean, q05, q25, q50, q75, q95``: :func:`issue_movement` joined with
        :func:`agreed_terms` (the value columns are real units, NaN where no deal was made).
    """
    parameters = list(metadata.get("parameters", []))
    digest = _digest_with(results, parameters)
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


def bloc_table(results: Results, metadata: dict[str, Any], confidence: float = 0.95) -> pd.DataFrame:
    """One row per design point and bloc member: how often it defected, with the Wilson interval.

    Args:
        results: The results table (with a scenario's bloc columns).
        metadata: The batch metadata; its ``parameters`` name the varied parameter columns.
        confidence: Confidence level of the interval.

    Returns:
        Columns ``point, <parameters>, bloc, member, runs, defected, defection_rate, defection_low,
        defection_high, mean_defection_round`` (the mean of the first round the member was out, over
        the runs where it defected); empty without a bloc.
    """
    parameters = list(metadata.get("parameters", []))
    digest = _digest_with(results, parameters)
    members = digest.bloc_members
    columns = ["point", *parameters, "bloc", "member", "runs", "defected"]
    columns += ["defection_rate", "defection_low", "defection_high", "mean_defection_round"]
    if not len(members):
        return pd.DataFrame(columns=columns)
    table = with_interval(members, "defected", "runs", prefix="defection_", confidence=confidence)
    table = table.rename(columns={"defection_p": "defection_rate"})
    rounds = np.arange(digest.bloc_rounds.shape[1])
    table["mean_defection_round"] = _mean(
        pd.Series((digest.bloc_rounds * rounds).sum(axis=1).astype(float)), table["defected"]
    )
    if parameters:
        table = table.merge(digest.points[["point", *parameters]], on="point", how="left")
    return table.astype({"bloc": str, "member": str})[columns]


def bloc_position_table(results: Results, confidence: float = 0.95) -> pd.DataFrame:
    """One row per design point, bloc and bloc issue: how often a common position holds at the end.

    Returns:
        Columns ``point, bloc, issue, runs, exists, exists_p, exists_low, exists_high, mean_position``
        (the final common position's mean, real units, over the runs where one exists).
    """
    positions = as_digest(results).bloc_positions
    if not len(positions):
        return pd.DataFrame(
            columns=[
                "point",
                "bloc",
                "issue",
                "runs",
                "exists",
                "exists_p",
                "exists_low",
                "exists_high",
                "mean_position",
            ]
        )
    table = with_interval(positions, "exists", "runs", prefix="exists_", confidence=confidence)
    table["mean_position"] = _mean(table["value_sum"], table["exists"])
    return table.astype({"bloc": str, "issue": str})[
        ["point", "bloc", "issue", "runs", "exists", "exists_p", "exists_low", "exists_high", "mean_position"]
    ]


def summarise(outdir: str | Path) -> pd.DataFrame:
    """The summary table of a batch output folder (see :func:`summary_table`), in bounded memory.

    The results are streamed into a :class:`~negotiation.stats.digest.ResultsDigest`, one record batch
    at a time; the numbers equal :func:`summary_table` of the whole table in memory.

    Args:
        outdir: The batch output folder.

    Returns:
        One row per design point and table.

    Raises:
        ExperimentError: The folder, its metadata, its scenario, its results or a column is missing.
    """
    metadata = load_metadata(outdir)
    digest = read_digest(outdir, load_scenario_json(outdir), metadata["parameters"], sample_cloud=False)
    return summary_table(digest, metadata)


def _per_point(by: Sequence[str], keys: pd.DataFrame | None = None) -> list[str]:
    """The grouping columns that are per-point parameter columns of the results (not keys)."""
    return [c for c in by if c not in ("point", "table") and (keys is None or c not in keys.columns)]


def _digest_with(results: Results, parameters: Sequence[str]) -> ResultsDigest:
    """The digest of ``results``, keeping the varied ``parameters`` (which a DataFrame must have)."""
    if isinstance(results, pd.DataFrame):
        require_columns(results, parameters, "results")
    return as_digest(results, parameters=parameters)


def _quantile_name(q: float) -> str:
    """Column name of a quantile: 0.05 -> 'q05', 0.5 -> 'q50', 0.975 -> 'q97.5'."""
    percent = round(q * 100, 6)
    return f"q{int(percent):02d}" if float(percent).is_integer() else f"q{percent:g}"


def _ordered(
    frame: pd.DataFrame, by: Sequence[str], tables: Sequence[str], issues: Sequence[str] = ()
) -> pd.DataFrame:
    """Sort rows by point, then the scenario's table order, then issue order; reset the index."""
    keys, columns = [], []
    if "point" in by:
        columns.append("point")
    if "table" in frame.columns:
        keys.append(("_table_rank", frame["table"].map({t: i for i, t in enumerate(tables)})))
    if issues and "issue" in frame.columns:
        keys.append(("_issue_rank", frame["issue"].map({s: i for i, s in enumerate(issues)})))
    extra = [c for c in by if c not in ("point", "table")]
    ranked = frame.assign(**dict(keys))
    sort_by = columns + extra + [name for name, _ in keys]
    if "round" in frame.columns and "round" not in by:
        sort_by.append("round")
    if not sort_by:
        return frame.reset_index(drop=True)
    ranked = ranked.sort_values(sort_by, kind="stable")
    return ranked.drop(columns=[name for name, _ in keys]).reset_index(drop=True)


def _mean(total: pd.Series, count: pd.Series) -> np.ndarray:
    """Total / count, NaN where count is 0."""
    n = count.to_numpy(dtype=float)
    return np.where(n > 0, total.to_numpy(dtype=float) / np.where(n > 0, n, 1.0), np.nan)
