"""Everything the summary, charts and report need from a results table, in memory bounded by its design.

:func:`read_digest` streams a batch's Parquet part files in record batches of at most
:data:`BATCH_ROWS` rows, reading only the columns it needs, and folds each batch into fixed-size
accumulators. Its memory depends on the number of design points, tables, issues and rounds, never on
the number of runs:

- additive counts and sums per design point and table (runs, deals, walk-outs, deadlines, deals per
  round, sums of rounds, utilities and distances), and per design point, table and issue (runs,
  moves, deals, sum, minimum and maximum of the agreed value);
- per design point, table and issue, a histogram of the agreed value over the issue's range at the
  table: exact counts at the two ends of the range and :data:`HISTOGRAM_BINS` equal bins between
  them (quantiles are read off it, within one bin of the exact value), and the
  :data:`CHART_BINS`-bin counts the agreed-terms chart draws (exactly ``numpy.histogram``'s);
- per table, a sample of at most :data:`MAX_DOTS` agreements for the utility-space cloud: those with
  the smallest replication indices (then design points), so it does not depend on how the results
  were chunked or read.

Float sums are accumulated row by row in file order (``numpy.add.at``), so they do not depend on
where the record batches break either. :meth:`ResultsDigest.from_frame` builds the same digest from
a results DataFrame already in memory, which is how the chart functions accept either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from negotiation.batch.reader import _NULLABLE_BOOL, RESULT_COLUMNS, RESULTS_DIR, SCENARIO_FILE, result_files
from negotiation.errors import MISSING, ExperimentError, reason
from negotiation.scenario.schema import Scenario
from negotiation.stats.bloc_digest import BlocAccumulator, bloc_specs

BATCH_ROWS = 65_536
"""Rows per record batch read from the Parquet files."""
HISTOGRAM_BINS = 400
"""Bins between the ends of an issue's range in the quantile histograms (0.25% of the range each)."""
CHART_BINS = 25
"""Bins of the agreed-terms chart's histograms over the issue's range."""
MAX_DOTS = 5000
"""Most agreements kept per table for the utility-space cloud."""
COUNT_COLUMNS = (
    "n",
    "deals",
    "walkouts",
    "deadlines",
    "round_max",
    "deal_round_sum",
    "utility_0_sum",
    "utility_1_sum",
    "pareto_sum",
    "pareto_n",
    "nash_sum",
    "nash_n",
    "deal_utility_0_sum",
    "deal_utility_1_sum",
)
"""Columns of :attr:`ResultsDigest.counts` besides ``point, table, party_0, party_1``."""


@dataclass(frozen=True)
class ResultsDigest:
    """The additive summaries of a results table (see the module docstring)."""

    tables: list[str]
    """Table ids present, in the scenario's order."""
    issues: list[str]
    """Issue ids with a ``moved_<issue>`` column, in the scenario's order."""
    parameters: list[str]
    """Varied parameter paths (columns of :attr:`points`)."""
    points: pd.DataFrame
    """One row per design point present: ``point``, each parameter's value (at the point's smallest
    replication), ``runs`` (most rows of any table at the point) and ``rows``."""
    counts: pd.DataFrame
    """One row per design point and table: ``point, table, party_0, party_1`` and :data:`COUNT_COLUMNS`."""
    rounds: np.ndarray
    """(len(counts), last round + 1) deals made in each round, aligned with :attr:`counts`."""
    moves: pd.DataFrame
    """One row per design point, table and issue on it: ``point, table, issue, low, high, n, moved,
    deals, value_sum, value_min, value_max, at_low, at_high``."""
    histograms: np.ndarray
    """(len(moves), HISTOGRAM_BINS) deals with a value strictly inside the range, per bin."""
    chart_bins: np.ndarray
    """(len(moves), CHART_BINS) ``numpy.histogram`` counts over ``linspace(low, high, CHART_BINS + 1)``."""
    binary: np.ndarray
    """(len(moves), 2) deals with a value below 0.5 and at least 0.5."""
    cloud: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Per table, the sampled agreements: ``point, replication, utility_0, utility_1``, sorted; empty
    when no cloud was sampled."""
    cloud_point: int | None = None
    """The design point the cloud was sampled from, or None for every point."""
    bloc_members: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per design point and bloc member: ``point, bloc, member, runs, defected`` (empty
    without a bloc; see :mod:`negotiation.stats.bloc_digest`)."""
    bloc_rounds: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.int64))
    """(len(bloc_members), last round + 2) defections by the first round the member was out."""
    bloc_positions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per design point, bloc and bloc issue: ``point, bloc, issue, low, high, runs, exists,
    value_sum`` (the final common position, where one exists)."""
    bloc_position_bins: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.int64))
    """(len(bloc_positions), POSITION_BINS) the final common positions over the issue's range."""

    @classmethod
    def from_frame(
        cls,
        results: pd.DataFrame,
        parameters: Sequence[str] = (),
        scenario: Scenario | None = None,
        cloud_point: int | None = None,
    ) -> ResultsDigest:
        """The digest of a results DataFrame in memory (tables in order of first appearance).

        Args:
            results: The results table (``negotiation.batch.reader.load_results``).
            parameters: Varied parameter columns to keep per design point.
            scenario: The batch's scenario, whose issue ranges give the histograms; without it, the
                smallest and largest value of each issue in ``results`` do.
            cloud_point: Sample the utility cloud from this design point only (None: every point).
        """
        issues = [c.removeprefix("moved_") for c in results.columns if c.startswith("moved_")]
        tables = [str(t) for t in pd.unique(results["table"])]
        on_table = (
            results[[f"moved_{issue}" for issue in issues]]
            .notna()
            .groupby(results["table"].astype(str).to_numpy(), sort=False)
            .any()
        )
        pairs = [(t, issue) for t in tables for issue in issues if on_table.loc[t, f"moved_{issue}"]]
        builder = _Builder(
            tables,
            issues,
            list(parameters),
            np.unique(results["point"].to_numpy(dtype=np.int64)),
            int(results["round"].max()) if len(results) else 0,
            pairs,
            _frame_ranges(results, pairs) if scenario is None else scenario_ranges(scenario, pairs),
            cloud_point,
        )
        builder.blocs = BlocAccumulator(
            bloc_specs(list(results.columns), scenario),
            builder.point_ids,
            int(results["round"].max()) if len(results) else 0,
        )
        builder.add(results)
        return builder.finish()

    def select(self, point: int | None) -> ResultsDigest:
        """The digest of one design point (None: this digest, every point pooled)."""
        if point is None:
            return self
        keep_counts = (self.counts["point"] == point).to_numpy()
        keep_moves = (self.moves["point"] == point).to_numpy()
        keep_members = (self.bloc_members["point"] == point).to_numpy() if len(self.bloc_members) else None
        keep_positions = (
            (self.bloc_positions["point"] == point).to_numpy() if len(self.bloc_positions) else None
        )
        return replace(
            self,
            points=self.points[self.points["point"] == point].reset_index(drop=True),
            counts=self.counts[keep_counts].reset_index(drop=True),
            rounds=self.rounds[keep_counts],
            moves=self.moves[keep_moves].reset_index(drop=True),
            histograms=self.histograms[keep_moves],
            chart_bins=self.chart_bins[keep_moves],
            binary=self.binary[keep_moves],
            cloud={t: c[c["point"] == point] for t, c in self.cloud.items()},
            bloc_members=self.bloc_members[keep_members].reset_index(drop=True)
            if len(self.bloc_members)
            else self.bloc_members,
            bloc_rounds=self.bloc_rounds[keep_members] if len(self.bloc_members) else self.bloc_rounds,
            bloc_positions=self.bloc_positions[keep_positions].reset_index(drop=True)
            if len(self.bloc_positions)
            else self.bloc_positions,
            bloc_position_bins=self.bloc_position_bins[keep_positions]
            if len(self.bloc_positions)
            else self.bloc_position_bins,
        )

    @property
    def runs(self) -> int:
        """Runs in this digest (for each point, the most rows of any table)."""
        return int(self.points["runs"].sum())

    def table_counts(self, by: Sequence[str], keys: pd.DataFrame | None = None) -> pd.DataFrame:
        """:attr:`counts` with the design-point columns of ``by`` joined, summed over ``by``.

        Args:
            by: Grouping columns: ``point``, ``table``, parameters, or columns of ``keys``.
            keys: Extra per-point columns (``point`` plus the derived keys), e.g. binned parameters.
        """
        frame = self._with_point_keys(self.counts, by, keys)
        grouped = frame.groupby(list(by), sort=False, observed=True)
        return grouped[list(COUNT_COLUMNS)].agg(
            {c: ("max" if c == "round_max" else "sum") for c in COUNT_COLUMNS}
        )

    def _with_point_keys(
        self, frame: pd.DataFrame, by: Sequence[str], keys: pd.DataFrame | None
    ) -> pd.DataFrame:
        """Join the per-point columns that ``by`` names and ``frame`` lacks."""
        wanted = [c for c in by if c not in frame.columns]
        if not wanted:
            return frame
        source = self.points if keys is None else self.points.merge(keys, on="point", how="left")
        return frame.merge(source[["point", *wanted]], on="point", how="left")


Results = pd.DataFrame | ResultsDigest
"""What the statistics and chart functions take: a results DataFrame, or the digest of one."""


class _Builder:
    """Accumulates record batches into the arrays behind a :class:`ResultsDigest`."""

    def __init__(
        self,
        tables: list[str],
        issues: list[str],
        parameters: list[str],
        points: np.ndarray,
        last_round: int,
        pairs: list[tuple[str, str]],
        ranges: np.ndarray,
        cloud_point: int | None,
    ) -> None:
        self.tables, self.issues, self.parameters = tables, issues, parameters
        self.point_ids = points
        self.cloud_point = cloud_point
        self.sample_cloud = True
        p, t, r = len(points), len(tables), last_round + 1
        g = p * t
        self.table_code = {name: i for i, name in enumerate(tables)}
        self.ints = {c: np.zeros(g, np.int64) for c in ("n", "deals", "walkouts", "deadlines")}
        self.ints |= {c: np.zeros(g, np.int64) for c in ("pareto_n", "nash_n")}
        self.round_max = np.full(g, -1, np.int64)
        self.sums = {c: np.zeros(g) for c in COUNT_COLUMNS if c.endswith("_sum")}
        self.parties = np.full((g, 2), None, dtype=object)
        self.rounds = np.zeros((g, r), np.int64)
        self.first_rep = np.full(p, np.iinfo(np.int64).max, np.int64)
        self.values = np.full((p, len(parameters)), np.nan)
        # issue pairs (table, issue) on a table, and their ranges
        self.pairs = pairs
        self.pair_of = {pair: i for i, pair in enumerate(pairs)}
        self.ranges = np.asarray(ranges, dtype=float).reshape(len(pairs), 2)
        q = len(pairs)
        self.m_ints = {c: np.zeros((p, q), np.int64) for c in ("n", "moved", "deals", "at_low", "at_high")}
        self.m_sum = np.zeros((p, q))
        self.m_min = np.full((p, q), np.inf)
        self.m_max = np.full((p, q), -np.inf)
        self.hist = np.zeros((p, q, HISTOGRAM_BINS), np.int32)  # 1.6 kB per point, table and issue
        self.chart = np.zeros((p, q, CHART_BINS), np.int64)
        self.binary = np.zeros((p, q, 2), np.int64)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        self.cloud = {t: empty for t in tables}  # (point, replication, utility_0, utility_1) arrays
        self.blocs = BlocAccumulator([], points, last_round)

    def add(self, frame: pd.DataFrame) -> None:
        """Fold one batch of result rows in."""
        if not len(frame):
            return
        tcount = len(self.tables)
        pi = np.searchsorted(self.point_ids, frame["point"].to_numpy(dtype=np.int64))
        ti = pd.Categorical(frame["table"].astype(str), categories=self.tables).codes.astype(np.int64)
        g = pi * tcount + ti
        size = len(self.point_ids) * tcount
        deal = _bools(frame["deal"])
        status = frame["status"].astype(str).to_numpy()
        rounds = frame["round"].to_numpy(dtype=np.int64)
        self.ints["n"] += np.bincount(g, minlength=size)
        self.ints["deals"] += np.bincount(g[deal], minlength=size)
        self.ints["walkouts"] += np.bincount(g[status == "walkout"], minlength=size)
        self.ints["deadlines"] += np.bincount(g[status == "deadline"], minlength=size)
        np.maximum.at(self.round_max, g, rounds)
        _count_into(self.rounds.reshape(-1), g[deal] * self.rounds.shape[1] + rounds[deal])
        np.add.at(self.sums["deal_round_sum"], g[deal], rounds[deal].astype(float))
        for side in ("0", "1"):
            utility = frame[f"utility_{side}"].to_numpy(dtype=float)
            np.add.at(self.sums[f"utility_{side}_sum"], g, utility)
            np.add.at(self.sums[f"deal_utility_{side}_sum"], g[deal], utility[deal])
        for name in ("pareto", "nash"):
            distance = frame[f"{name}_distance"].to_numpy(dtype=float, na_value=np.nan)
            present = ~np.isnan(distance)
            np.add.at(self.sums[f"{name}_sum"], g[present], distance[present])
            self.ints[f"{name}_n"] += np.bincount(g[present], minlength=size)
        unset = self.parties[:, 0] == None  # noqa: E711 (object array)
        if unset.any():
            first = pd.Series(np.arange(len(g))).groupby(g).first()
            for group, row in first.items():
                if unset[group]:
                    self.parties[group] = (str(frame["party_0"].iat[row]), _others(frame, row))
        self._add_points(frame, pi)
        self.blocs.add(frame, pi, ti == 0)
        self._add_issues(frame, pi, ti, deal)
        self._add_cloud(frame, pi, ti, deal)

    def _add_points(self, frame: pd.DataFrame, pi: np.ndarray) -> None:
        """Keep each point's parameter values at its smallest replication."""
        if not self.parameters:
            return
        reps = frame["replication"].to_numpy(dtype=np.int64) if "replication" in frame else np.zeros(len(pi))
        order = np.lexsort((reps, pi))
        first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
        for row in first:
            p = pi[row]
            if reps[row] < self.first_rep[p]:
                self.first_rep[p] = reps[row]
                self.values[p] = [float(frame[c].iat[row]) for c in self.parameters]

    def _add_issues(self, frame: pd.DataFrame, pi: np.ndarray, ti: np.ndarray, deal: np.ndarray) -> None:
        """Moves, sums, extremes and histograms of each issue on each table."""
        for issue in self.issues:
            pair_index = np.array([self.pair_of.get((t, issue), -1) for t in self.tables], np.int64)
            q = pair_index[ti]
            moved = frame[f"moved_{issue}"]
            present = (q >= 0) & moved.notna().to_numpy()
            if not present.any():
                continue
            cell = pi * len(self.pairs) + q
            _count_into(self.m_ints["n"].reshape(-1), cell[present])
            hit = present & _bools(moved)
            _count_into(self.m_ints["moved"].reshape(-1), cell[hit])
            value = frame[issue].to_numpy(dtype=float, na_value=np.nan)
            rows = present & deal & ~np.isnan(value)
            if not rows.any():
                continue
            c, v, pq_ = cell[rows], value[rows], q[rows]
            _count_into(self.m_ints["deals"].reshape(-1), c)
            np.add.at(self.m_sum.reshape(-1), c, v)
            np.minimum.at(self.m_min.reshape(-1), c, v)
            np.maximum.at(self.m_max.reshape(-1), c, v)
            below = v < 0.5
            _count_into(self.binary.reshape(-1), c * 2 + ~below)
            low, high = self.ranges[pq_, 0], self.ranges[pq_, 1]
            if np.isnan(low).all():
                continue
            at_low = v == low
            at_high = (v == high) & ~at_low  # a range of one value counts once
            _count_into(self.m_ints["at_low"].reshape(-1), c[at_low])
            _count_into(self.m_ints["at_high"].reshape(-1), c[at_high])
            inside = ~at_low & ~at_high
            width = np.where(high > low, high - low, 1.0)
            b = np.clip(np.floor((v - low) / width * HISTOGRAM_BINS), 0, HISTOGRAM_BINS - 1).astype(np.int64)
            _count_into(self.hist.reshape(-1), c[inside] * HISTOGRAM_BINS + b[inside])
            _count_into(self.chart.reshape(-1), _chart_cells(c, v, pq_, self.ranges))

    def _add_cloud(self, frame: pd.DataFrame, pi: np.ndarray, ti: np.ndarray, deal: np.ndarray) -> None:
        """Keep, per table, the agreements with the smallest (replication, point)."""
        if not self.sample_cloud:
            return
        rows = deal.copy()
        points = frame["point"].to_numpy(dtype=np.int64)
        if self.cloud_point is not None:
            rows &= points == self.cloud_point
        if not rows.any():
            return
        reps = (
            frame["replication"].to_numpy(dtype=np.int64)
            if "replication" in frame
            else np.zeros(len(pi), np.int64)
        )
        utility_0 = frame["utility_0"].to_numpy(dtype=float)
        utility_1 = frame["utility_1"].to_numpy(dtype=float)
        for t in np.unique(ti[rows]):
            kept = self.cloud[self.tables[t]]
            mine = rows & (ti == t)
            if len(kept[0]) >= MAX_DOTS:  # full: only rows before the last kept one can enter
                last_rep, last_point = kept[1][-1], kept[0][-1]
                mine &= (reps < last_rep) | ((reps == last_rep) & (points < last_point))
                if not mine.any():
                    continue
            merged = [
                np.concatenate([old, new[mine]])
                for old, new in zip(kept, (points, reps, utility_0, utility_1), strict=True)
            ]
            order = np.lexsort((merged[0], merged[1]))[:MAX_DOTS]
            self.cloud[self.tables[t]] = tuple(array[order] for array in merged)

    def finish(self) -> ResultsDigest:
        """The digest of every batch added, keeping only design points and tables that have rows."""
        p, t = len(self.point_ids), len(self.tables)
        counts = pd.DataFrame(
            {
                "point": np.repeat(self.point_ids, t),
                "table": np.tile(np.array(self.tables, dtype=object), p),
                "party_0": self.parties[:, 0],
                "party_1": self.parties[:, 1],
                **self.ints,
                "round_max": self.round_max,
                **self.sums,
            }
        )
        keep = (counts["n"] > 0).to_numpy()
        counts = counts[keep][["point", "table", "party_0", "party_1", *COUNT_COLUMNS]].reset_index(drop=True)
        present = [name for name in self.tables if name in set(counts["table"])]
        last = int(counts["round_max"].max()) if len(counts) else 0
        rounds = self.rounds[keep][:, : last + 1]
        rows = counts.groupby("point", sort=True)["n"].agg(runs="max", rows="sum").reset_index()
        points = pd.DataFrame({"point": self.point_ids})
        for j, name in enumerate(self.parameters):
            points[name] = self.values[:, j]
        points = rows.merge(points, on="point", how="left")[["point", *self.parameters, "runs", "rows"]]
        q = len(self.pairs)
        moves = pd.DataFrame(
            {
                "point": np.repeat(self.point_ids, q),
                "table": np.tile(np.array([a for a, _ in self.pairs], dtype=object), p),
                "issue": np.tile(np.array([b for _, b in self.pairs], dtype=object), p),
                "low": np.tile(self.ranges[:, 0], p),
                "high": np.tile(self.ranges[:, 1], p),
                **{c: a.reshape(-1) for c, a in self.m_ints.items()},
                "value_sum": self.m_sum.reshape(-1),
                "value_min": self.m_min.reshape(-1),
                "value_max": self.m_max.reshape(-1),
            }
        )
        mkeep = (moves["n"] > 0).to_numpy()
        cloud = {}
        for name in present if self.sample_cloud else ():
            point, replication, utility_0, utility_1 = self.cloud[name]
            order = np.lexsort((replication, point))
            cloud[name] = pd.DataFrame(
                {
                    "point": point[order],
                    "replication": replication[order],
                    "utility_0": utility_0[order],
                    "utility_1": utility_1[order],
                }
            )
        bloc_members, bloc_rounds, bloc_positions, bloc_bins = self.blocs.finish()
        return ResultsDigest(
            bloc_members=bloc_members,
            bloc_rounds=bloc_rounds,
            bloc_positions=bloc_positions,
            bloc_position_bins=bloc_bins,
            tables=present,
            issues=self.issues,
            parameters=self.parameters,
            points=points,
            counts=counts,
            rounds=rounds,
            moves=moves[mkeep].reset_index(drop=True),
            histograms=self.hist.reshape(-1, HISTOGRAM_BINS)[mkeep],
            chart_bins=self.chart.reshape(-1, CHART_BINS)[mkeep],
            binary=self.binary.reshape(-1, 2)[mkeep],
            cloud=cloud,
            cloud_point=self.cloud_point,
        )


def _count_into(flat: np.ndarray, cells: np.ndarray) -> None:
    """Add one to ``flat`` at each of ``cells`` (repeats add up), touching only those cells."""
    if len(flat) <= 4 * len(cells):  # a small array: one pass over it is cheaper than sorting
        flat += np.bincount(cells, minlength=len(flat)).astype(flat.dtype)
    elif len(cells):
        unique, counts = np.unique(cells, return_counts=True)
        flat[unique] += counts.astype(flat.dtype)


def _chart_cells(cell: np.ndarray, value: np.ndarray, pair: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Flat chart-histogram cells of values, binned as ``numpy.histogram`` over each pair's edges.

    A value falls in bin i when ``edges[i] <= value < edges[i + 1]``, the last bin also taking the
    top edge; values outside the range are not counted.
    """
    slots = np.full(len(value), -1, np.int64)
    for p in np.unique(pair):
        mine = pair == p
        edges = np.linspace(ranges[p, 0], ranges[p, 1], CHART_BINS + 1)
        index = np.searchsorted(edges, value[mine], side="right") - 1
        index[value[mine] == edges[-1]] = CHART_BINS - 1
        slots[mine] = np.where((index >= 0) & (index < CHART_BINS), index, -1)
    keep = slots >= 0
    return cell[keep] * CHART_BINS + slots[keep]


def _bools(column: pd.Series) -> np.ndarray:
    """A boolean column as a numpy bool array, missing values as False."""
    if isinstance(column.dtype, pd.BooleanDtype):
        return column.to_numpy(dtype=bool, na_value=False)
    return column.fillna(False).to_numpy(dtype=bool)


def quantiles_from_histogram(
    histogram: np.ndarray,
    at_low: int,
    at_high: int,
    low: float,
    high: float,
    minimum: float,
    maximum: float,
    quantiles: Sequence[float],
) -> np.ndarray:
    """Linear-interpolation quantiles (numpy's default) read off a range histogram.

    The values are ``at_low`` values equal to ``low``, ``at_high`` equal to ``high`` and
    ``histogram[i]`` values in the i-th of the equal bins between them; inside a bin they are taken
    as evenly spread, so each quantile is within one bin width of the exact one; it is exact where it
    falls on either end of the range, on the smallest or largest value, or where every value is the
    same. Results are clipped to the exact ``[minimum, maximum]``.

    >>> quantiles_from_histogram(np.array([0, 2, 0, 0]), 1, 1, 0.0, 4.0, 0.0, 4.0, [0.0, 0.5, 1.0]).tolist()
    [0.0, 1.5, 4.0]
    """
    counts = np.concatenate([[at_low], histogram, [at_high]]).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.full(len(quantiles), np.nan)
    bins = len(histogram)
    width = (high - low) / bins
    ends = np.cumsum(counts)  # ranks < ends[k] lie in slot k (0: the low end, bins + 1: the high end)

    def value(rank: np.ndarray) -> np.ndarray:
        slot = np.searchsorted(ends, rank, side="right")
        before = np.where(slot > 0, ends[np.maximum(slot - 1, 0)], 0)
        inside = low + (slot - 1 + (rank - before + 0.5) / np.maximum(counts[slot], 1)) * width
        inside = np.where(slot == 0, low, np.where(slot == bins + 1, high, inside))
        return np.where(rank == 0, minimum, np.where(rank == total - 1, maximum, inside))

    h = (total - 1) * np.asarray(quantiles, dtype=float)
    below = np.floor(h)
    a, b = value(below), value(np.minimum(below + 1, total - 1))
    t = h - below
    result = np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)  # numpy's lerp
    return np.clip(result, minimum, maximum)


def read_digest(
    outdir: str | Path,
    scenario: Scenario,
    parameters: Sequence[str] = (),
    cloud_point: int | str | None = "first",
    sample_cloud: bool = True,
) -> ResultsDigest:
    """Stream a batch folder's results into a digest, in memory bounded by the design.

    Args:
        outdir: The batch output folder.
        scenario: The batch's scenario (``scenario.json``): table order and issue ranges.
        parameters: Varied parameter columns, which must be present.
        cloud_point: Sample the utility cloud from this design point, from the smallest one
            ("first"), or from every point (None).
        sample_cloud: Whether to sample the cloud at all (the digest's ``cloud`` is empty if not).

    Returns:
        The digest.

    Raises:
        ExperimentError: The results are missing or unreadable, lack a required column, have part
            files of clashing schemas, or name a table or issue the scenario does not have.
    """
    files = result_files(outdir)
    source = str(Path(outdir) / RESULTS_DIR)
    schemas = []
    for path in files:
        try:
            schemas.append(pq.read_schema(path))
        except (OSError, pa.ArrowException) as exc:
            raise ExperimentError(str(path), "", reason(exc), "a readable Parquet file") from None
    try:
        schema = pa.unify_schemas(schemas, promote_options="default")
    except pa.ArrowException as exc:
        raise ExperimentError(source, "", reason(exc), "part files with one schema") from None
    missing = [name for name in [*RESULT_COLUMNS, *parameters] if name not in schema.names]
    if missing:
        also = f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else ""
        raise ExperimentError(
            source, f"column {missing[0]}", MISSING, f"a results column (see negotiation.batch.rows){also}"
        )
    issues = [n.removeprefix("moved_") for n in schema.names if n.startswith("moved_")]
    for issue in issues:
        if issue not in scenario.issues:
            raise ExperimentError(
                source, f"column moved_{issue}", MISSING, f"an issue of the scenario in {SCENARIO_FILE}"
            )
        if issue not in schema.names:
            raise ExperimentError(source, f"column {issue}", MISSING, "the agreed-value column of the issue")
    # a first, light pass: which points, tables and rounds there are
    points: set[int] = set()
    tables: set[str] = set()
    last_round = 0
    for batch in _batches(files, schema, ["point", "table", "round"]):
        points.update(np.unique(batch.column("point").to_numpy(zero_copy_only=False)).tolist())
        tables.update(batch.column("table").unique().to_pylist())
        if batch.num_rows:
            last_round = max(last_round, int(pa.compute.max(batch.column("round")).as_py()))
    for table in sorted(tables, key=str):
        if table not in scenario.tables:
            raise ExperimentError(source, "table", table, f"a table of the scenario in {SCENARIO_FILE}")
    order = [t for t in scenario.tables if t in tables]
    pairs = [(t, i) for t in order for i in issues if i in scenario.tables[t].issues]
    point_ids = np.array(sorted(points), dtype=np.int64)
    if cloud_point == "first":
        cloud_point = int(point_ids[0]) if len(point_ids) else None
    ranges = scenario_ranges(scenario, pairs)
    builder = _Builder(order, issues, list(parameters), point_ids, last_round, pairs, ranges, cloud_point)
    builder.sample_cloud = sample_cloud
    builder.blocs = BlocAccumulator(bloc_specs(schema.names, scenario), point_ids, last_round)
    bloc_columns = set(builder.blocs.columns()) & set(schema.names)
    columns = [
        n
        for n in schema.names
        if n in {*RESULT_COLUMNS, *parameters} or _is_issue(n, issues) or n in bloc_columns
    ]
    for batch in _batches(files, schema, columns):
        builder.add(batch.to_pandas(types_mapper=_NULLABLE_BOOL.get))
    return builder.finish()


def scenario_ranges(scenario: Scenario, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """The ``(low, high)`` range of each (table, issue) pair, as a (pairs, 2) array."""
    return np.array([scenario.issue_range(*pair) for pair in pairs], dtype=float).reshape(len(pairs), 2)


def _frame_ranges(results: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """The smallest and largest value of each (table, issue) pair in a results table in memory."""
    tables = results["table"].astype(str).to_numpy()
    ranges = np.zeros((len(pairs), 2))
    for i, (table, issue) in enumerate(pairs):
        values = results[issue].to_numpy(dtype=float, na_value=np.nan)[tables == table]
        values = values[~np.isnan(values)]
        if values.size:
            ranges[i] = values.min(), values.max()
    return ranges


def as_digest(
    results: Results,
    point: int | None = None,
    parameters: Sequence[str] = (),
    scenario: Scenario | None = None,
) -> ResultsDigest:
    """A digest of ``results`` (returned as it is when it already is one).

    Args:
        results: A results DataFrame or a digest.
        point: For a DataFrame, the design point whose agreements the utility cloud samples.
        parameters: For a DataFrame, the varied parameter columns to keep.
        scenario: For a DataFrame, the scenario whose issue ranges give the agreed-term histograms.
    """
    if isinstance(results, ResultsDigest):
        return results
    return ResultsDigest.from_frame(results, parameters, scenario, cloud_point=point)


def _is_issue(name: str, issues: list[str]) -> bool:
    """Whether a column is an issue's value or its moved flag."""
    return name in issues or name.removeprefix("moved_") in issues


def _batches(files: list[Path], schema: pa.Schema, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Record batches of ``columns``, one file and one row group at a time, in file order.

    A column that a file lacks (allowed by the unified ``schema``) comes as nulls; an unreadable
    file is a one-line error naming it.
    """
    for path in files:
        try:
            reader = pq.ParquetFile(path)
            names = set(reader.schema_arrow.names)
            present = [c for c in columns if c in names]
            for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=present, use_threads=False):
                arrays = [
                    batch.column(c) if c in names else pa.nulls(batch.num_rows, schema.field(c).type)
                    for c in columns
                ]
                yield pa.RecordBatch.from_arrays(arrays, names=columns)
        except (OSError, pa.ArrowException) as exc:
            raise ExperimentError(str(path), "", reason(exc), "a readable Parquet file") from None


def _others(frame: pd.DataFrame, row: int) -> str:
    """``party_1``, or at a table of more than two every party after the first, joined by ``+``."""
    names = [str(frame["party_1"].iat[row])]
    seat = 2
    while f"party_{seat}" in frame.columns and not pd.isna(frame[f"party_{seat}"].iat[row]):
        names.append(str(frame[f"party_{seat}"].iat[row]))
        seat += 1
    return "+".join(names)
