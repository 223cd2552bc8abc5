"""Statistics of a results table: deal probabilities, issue moves, agreed terms, time to deal.

Every function is pure: a results DataFrame (one row per run and table, the schema of
``negotiation.batch.rows``) in, a tidy DataFrame out. ``by`` names the grouping columns: the default
``("point", "table")`` gives one estimate per design point and table; ``("table",)`` pools every
design point (the probability over a whole Latin-hypercube sample, say). Probabilities come with a
Wilson score interval (``negotiation.intervals``). Tables keep the scenario's order.

These hold the whole table in memory. For a saved batch, :func:`summarise` (and the report) stream
the results into a :class:`~negotiation.stats.digest.ResultsDigest` instead, whose statistics
(:mod:`negotiation.stats.summary`) have the same names and columns, in memory that does not grow with
the number of runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from negotiation.batch.reader import load_metadata, require_columns
from negotiation.intervals import wilson_interval

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


def issue_ids(results: pd.DataFrame) -> list[str]:
    """Issues that have a ``moved_<issue>`` column, in column (scenario) order."""
    return [c.removeprefix("moved_") for c in results.columns if c.startswith("moved_")]


def table_ids(results: pd.DataFrame) -> list[str]:
    """Table ids in order of first appearance (the scenario's order)."""
    return list(pd.unique(results["table"]))


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
    results: pd.DataFrame, by: Sequence[str] = BY_POINT, confidence: float = 0.95
) -> pd.DataFrame:
    """Probability of a deal with its Wilson interval.

    Args:
        results: The results table.
        by: Grouping columns.
        confidence: Confidence level of the interval.

    Returns:
        Columns ``*by, n, deals, p, low, high``.

    >>> frame = pd.DataFrame({"point": 0, "table": ["a", "a", "b", "b"], "deal": [True, False, True, True]})
    >>> deal_probability(frame)[["table", "n", "deals", "p"]].to_dict("list")
    {'table': ['a', 'b'], 'n': [2, 2], 'deals': [1, 2], 'p': [0.5, 1.0]}
    """
    by = list(by)
    counts = (
        results.assign(deal=results["deal"].astype(bool))
        .groupby(by, sort=False, observed=True)["deal"]
        .agg(n="size", deals="sum")
        .reset_index()
    )
    counts["deals"] = counts["deals"].astype(int)
    return _ordered(with_interval(counts, "deals", "n", confidence=confidence), by, table_ids(results))


def issue_movement(
    results: pd.DataFrame, by: Sequence[str] = BY_POINT, confidence: float = 0.95
) -> pd.DataFrame:
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
    frames = []
    for issue in issue_ids(results):
        column = results[f"moved_{issue}"]
        present = column.notna()
        if not present.any():
            continue
        rows = results.loc[present, by].assign(moved=column[present].astype(bool).to_numpy())
        counts = rows.groupby(by, sort=False, observed=True)["moved"].agg(n="size", moved="sum").reset_index()
        counts.insert(len(by), "issue", issue)
        frames.append(counts)
    if not frames:
        return pd.DataFrame(columns=[*by, "issue", "n", "moved", "p", "low", "high"])
    counts = pd.concat(frames, ignore_index=True)
    counts["moved"] = counts["moved"].astype(int)
    frame = with_interval(counts, "moved", "n", confidence=confidence)
    return _ordered(frame, by, table_ids(results), issue_ids(results))


def agreed_terms(
    results: pd.DataFrame, by: Sequence[str] = BY_POINT, quantiles: Sequence[float] = QUANTILES
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
    deals = results[results["deal"].astype(bool)]
    names = [_quantile_name(q) for q in quantiles]
    frames = []
    for issue in issue_ids(results):
        rows = deals.loc[deals[issue].notna(), [*by, issue]]
        if rows.empty:
            continue
        grouped = rows.groupby(by, sort=False, observed=True)[issue]
        stats = grouped.agg(deals="size", mean="mean")
        qs = grouped.quantile(list(quantiles)).unstack()
        qs.columns = names
        frame = stats.join(qs).reset_index()
        frame.insert(len(by), "issue", issue)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*by, "issue", "deals", "mean", *names])
    return _ordered(pd.concat(frames, ignore_index=True), by, table_ids(results), issue_ids(results))


def time_to_deal(
    results: pd.DataFrame, by: Sequence[str] = BY_POINT, confidence: float = 0.95
) -> pd.DataFrame:
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
    last = int(results["round"].max()) if len(results) else 0
    rounds = np.arange(last + 1)
    keys = results[by].drop_duplicates()
    n = results.groupby(by, sort=False, observed=True).size().rename("n")
    deals = results[results["deal"].astype(bool)]
    per_round = deals.groupby([*by, "round"], observed=True).size().unstack("round", fill_value=0)
    per_round = per_round.reindex(columns=rounds, fill_value=0)
    index = pd.MultiIndex.from_frame(keys) if len(by) > 1 else pd.Index(keys[by[0]], name=by[0])
    cumulative = per_round.reindex(index, fill_value=0).cumsum(axis=1)
    frame = cumulative.stack().rename("deals").reset_index()
    frame.columns = [*by, "round", "deals"]
    frame = frame.merge(n.reset_index(), on=by)
    frame = frame[[*by, "round", "n", "deals"]].astype({"round": int, "deals": int})
    return _ordered(with_interval(frame, "deals", "n", confidence=confidence), by, table_ids(results))


def sensitivity(results: pd.DataFrame, parameters: Sequence[str]) -> pd.DataFrame:
    """Change in each table's deal probability from the bottom to the top third of each parameter.

    A one-at-a-time reading of a sampled design (Latin hypercube, Sobol, random): runs are split
    into thirds by each parameter's value, and the cell is P(deal | top third) - P(deal | bottom
    third). It measures a main effect averaged over the other parameters, not an interaction.

    Args:
        results: The results table, with a column per parameter path.
        parameters: The parameter paths.

    Returns:
        One row per table (scenario order), one column per parameter; probabilities in [-1, 1]
        (NaN when a parameter takes a single value).
    """
    tables = table_ids(results)
    effect = pd.DataFrame(np.nan, index=pd.Index(tables, name="table"), columns=list(parameters))
    deal = results["deal"].astype(bool)
    for parameter in parameters:
        values = results[parameter]
        if values.nunique() < 2:
            continue
        low, high = values.quantile([1 / 3, 2 / 3])
        bottom = deal[values <= low].groupby(results["table"][values <= low], observed=True).mean()
        top = deal[values >= high].groupby(results["table"][values >= high], observed=True).mean()
        if high > low:
            effect[parameter] = (top - bottom).reindex(tables)
    return effect


def summary_table(results: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
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
    require_columns(results, parameters, "results")
    frame = results.assign(
        deal=results["deal"].astype(bool),
        walkout=results["status"].eq("walkout"),
        deadline=results["status"].eq("deadline"),
        deal_round=results["round"].where(results["deal"].astype(bool)).astype(float),
    )
    by = ["point", "table"]
    grouped = frame.groupby(by, sort=False, observed=True)
    summary = grouped.agg(
        **{p: (p, "first") for p in parameters},
        party_0=("party_0", "first"),
        party_1=("party_1", "first"),
        runs=("deal", "size"),
        deals=("deal", "sum"),
        walkout_share=("walkout", "mean"),
        deadline_share=("deadline", "mean"),
        mean_deal_round=("deal_round", "mean"),
        mean_utility_0=("utility_0", "mean"),
        mean_utility_1=("utility_1", "mean"),
        mean_pareto_distance=("pareto_distance", "mean"),
        mean_nash_distance=("nash_distance", "mean"),
    ).reset_index()
    summary["deals"] = summary["deals"].astype(int)
    summary = summary.astype({name: str for name in ("table", "party_0", "party_1")})
    summary = with_interval(summary, "deals", "runs", prefix="deal_")
    summary = summary.rename(columns={"deal_p": "deal_probability"})
    order = ["point", *parameters, *SUMMARY_COLUMNS]
    return _ordered(summary[order], by, table_ids(results))


def issue_table(results: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
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
    require_columns(results, parameters, "results")
    by = ["point", "table"]
    moves = issue_movement(results, by).rename(
        columns={"n": "runs", "p": "move_probability", "low": "move_low", "high": "move_high"}
    )
    terms = agreed_terms(results, by)
    table = moves.merge(terms, on=[*by, "issue"], how="left")
    table["deals"] = table["deals"].fillna(0).astype(int)
    values = results.groupby("point", sort=False, observed=True)[parameters].first().reset_index()
    table = table.merge(values, on="point", how="left") if parameters else table
    table = table.astype({"table": str, "issue": str})
    rest = [c for c in table.columns if c not in ("point", *parameters, "table", "issue")]
    return table[["point", *parameters, "table", "issue", *rest]]


def summarise(outdir: str | Path) -> pd.DataFrame:
    """The summary table of a batch output folder (see :func:`summary_table`), in bounded memory.

    The results are streamed into a :class:`~negotiation.stats.digest.ResultsDigest`; the numbers equal
    :func:`summary_table` of the whole table (means to the last bits of a float).

    Args:
        outdir: The batch output folder.

    Returns:
        One row per design point and table.

    Raises:
        ExperimentError: The folder, its metadata, its scenario, its results or a column is missing.
    """
    from negotiation.batch.reader import load_scenario_json
    from negotiation.stats.digest import read_digest  # here: streamstats imports this module
    from negotiation.stats.summary import summary_table as digest_summary

    metadata = load_metadata(outdir)
    digest = read_digest(outdir, load_scenario_json(outdir), metadata["parameters"], sample_cloud=False)
    return digest_summary(digest, metadata)


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
