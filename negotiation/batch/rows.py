"""The results table: one row per run and table, as a pyarrow Table (written to Parquet by batches).

Columns, in order:

- ``point`` (int32): design-point index; ``replication`` (int32); ``seed`` (int64): the run's seed;
- one column per varied parameter, named by its path (float64), added by the batch runner;
- ``table`` (string): table id; ``party_0``, ``party_1`` (string): opener and responder;
- ``status`` (string): 'deal', 'deadline' or 'walkout'; ``deal`` (bool); ``round`` (int16): the
  round the table ended in;
- for every issue of the scenario, ``<issue>`` (float64): the agreed value in real units (the status
  quo when there is no deal; null when the issue is not on that table), and ``moved_<issue>``
  (bool; null when not on the table): whether a deal moved it off its status quo;
- ``utility_0``, ``utility_1`` (float64): each side's utility of the outcome (reservation if no deal);
- ``reservation_0``, ``reservation_1`` (float64): effective reservation values at the end;
- ``pareto_distance``, ``nash_distance`` (float64): agreement's distance to the Pareto frontier and
  to the Nash point in utility space; null if no deal (at a table of more than two, the Chebyshev gap
  to the n-party frontier and the distance to the n-party Nash point, :mod:`analysis_n`);
- for a scenario with blocs, per-run columns repeated on every row of the run (see
  :func:`negotiation.bargaining.bloc_rounds.bloc_columns`): ``bloc_<id>_exists`` (bool),
  ``bloc_<id>_strength`` and ``bloc_<id>_position_<issue>`` (float64; the position null where none
  exists), ``bloc_<id>_<member>_defected`` (bool) and ``bloc_<id>_<member>_defected_round`` (float64,
  null if the member stayed).

A scenario whose largest table has P > 2 parties adds ``party_2 .. party_{P-1}`` after ``party_1``
and ``utility_i``, ``reservation_i`` for i >= 2 after ``utility_1`` and ``reservation_1``; they are
null at tables with fewer parties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from negotiation.bargaining.bloc_rounds import bloc_columns
from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.engine import run_many
from negotiation.bargaining.outcomes import MOVE_TOLERANCE, RunArrays
from negotiation.bargaining.protocol import DEAL, STATUS_NAMES
from negotiation.batch.seeding import run_seeds
from negotiation.model import run_once
from negotiation.negotiators.registry import uses_negotiators

KEY_COLUMNS = ("point", "replication", "seed")
"""Columns that identify a run."""
BLOCK = 1024
"""Runs played together by the fast path; a run's outcome does not depend on its block. About a
thousand runs share NumPy's fixed cost per call well (a run costs a fifth less than in blocks of 256)
while the block's arrays (about 50 MB for the default scenario) still stay small; larger blocks
gain nothing (docs/performance.md)."""


def issue_columns(compiled: CompiledScenario) -> list[str]:
    """Issue ids of the scenario, in declaration order (each is a value column)."""
    return list(compiled.scenario.issues)


def results_schema(compiled: CompiledScenario, parameters: Sequence[str] = ()) -> pa.Schema:
    """The Arrow schema of a results table for this scenario and these varied parameters."""
    fields = [pa.field("point", pa.int32()), pa.field("replication", pa.int32())]
    fields += [pa.field("seed", pa.int64())]
    fields += [pa.field(p, pa.float64()) for p in parameters]
    seats = range(compiled.seats.shape[1])
    fields += [pa.field(n, pa.string()) for n in ("table", *(f"party_{i}" for i in seats), "status")]
    fields += [pa.field("deal", pa.bool_()), pa.field("round", pa.int16())]
    for issue in issue_columns(compiled):
        fields += [pa.field(issue, pa.float64()), pa.field(f"moved_{issue}", pa.bool_())]
    names = [f"utility_{i}" for i in seats] + [f"reservation_{i}" for i in seats]
    fields += [pa.field(n, pa.float64()) for n in (*names, "pareto_distance", "nash_distance")]
    fields += [pa.field(name, _BLOC_TYPES[kind]) for name, kind in bloc_columns(compiled.blocs)]
    return pa.schema(fields)


_BLOC_TYPES = {"bool": pa.bool_(), "float": pa.float64(), "round": pa.float64()}
"""Arrow types of the bloc columns. A defection round is a float64 (null if the member stayed): an
int16 column with nulls reads into pandas as float64 but as int16 without, so a block of runs in
which every member defected would read differently from one in which some stayed."""


def runs_to_table(
    compiled: CompiledScenario,
    point: int,
    replications: np.ndarray,
    seeds: np.ndarray,
    runs: RunArrays | Sequence[RunArrays],
    parameters: dict[str, float] | None = None,
) -> pa.Table:
    """Build the rows of a block of runs at one design point.

    Args:
        compiled: The design point's compiled scenario.
        point: Design-point index.
        replications: (R,) replication indices.
        seeds: (R,) run seeds.
        runs: Outcome arrays with a leading run axis of length R (or a sequence of R single runs).
        parameters: The design point's varied parameter values, by path.

    Returns:
        A table with R * T rows (run-major, tables in scenario order).
    """
    if not isinstance(runs, RunArrays):
        runs = RunArrays(*(np.stack([getattr(r, f.name) for r in runs]) for f in fields(RunArrays)))
    n_runs, n_tables = runs.status.shape
    status, values, utilities, reservation = runs.status, runs.values, runs.utilities, runs.reservation
    span = compiled.high - compiled.low
    status_quo_real = compiled.low + compiled.status_quo * span
    moved = (np.abs(values - status_quo_real) > MOVE_TOLERANCE * span) & (status == DEAL)[..., None]
    table_idx = np.tile(np.arange(n_tables), n_runs)
    columns: dict[str, pa.Array] = {
        "point": pa.array(np.full(n_runs * n_tables, point, np.int32)),
        "replication": pa.array(np.repeat(np.asarray(replications, np.int32), n_tables)),
        "seed": pa.array(np.repeat(np.asarray(seeds, np.int64), n_tables)),
    }
    for path, value in (parameters or {}).items():
        columns[path] = pa.array(np.full(n_runs * n_tables, value, np.float64))
    columns["table"] = _names(compiled.table_ids, table_idx)
    n_seats = compiled.seats.shape[1]
    for seat in range(n_seats):
        actor = compiled.seats[table_idx, seat]
        columns[f"party_{seat}"] = _names(compiled.actor_ids, actor, actor < 0 if seat >= 2 else None)
    flat_status = status.reshape(-1)
    columns["status"] = _names(STATUS_NAMES, flat_status)
    columns["deal"] = pa.array(flat_status == DEAL)
    columns["round"] = pa.array(runs.end_round.reshape(-1).astype(np.int16))
    flat_values = values.reshape(n_runs * n_tables, -1)
    flat_moved = moved.reshape(n_runs * n_tables, -1)
    for issue in issue_columns(compiled):
        column = np.full(n_runs * n_tables, np.nan)
        moved_col = np.zeros(n_runs * n_tables, bool)
        present = np.zeros(n_runs * n_tables, bool)
        for t, issues in enumerate(compiled.table_issues):
            if issue in issues:
                rows = table_idx == t
                k = issues.index(issue)
                column[rows] = flat_values[rows, k]
                moved_col[rows] = flat_moved[rows, k]
                present |= rows
        columns[issue] = pa.array(column, mask=~present)
        columns[f"moved_{issue}"] = pa.array(moved_col, mask=~present)
    for name, array in (("utility", utilities), ("reservation", reservation)):
        for side in range(n_seats):
            flat = array[..., side].reshape(-1)
            columns[f"{name}_{side}"] = pa.array(flat, mask=np.isnan(flat) if side >= 2 else None)
    for name in ("pareto_distance", "nash_distance"):
        flat = getattr(runs, name).reshape(-1)
        columns[name] = pa.array(flat, mask=np.isnan(flat))
    for index, (name, kind) in enumerate(bloc_columns(compiled.blocs)):
        per_run = np.repeat(runs.bloc[:, index], n_tables)
        missing = np.isnan(per_run)
        if kind == "bool":
            columns[name] = pa.array(per_run == 1.0)
        else:
            columns[name] = pa.array(per_run, mask=missing)
    schema = results_schema(compiled, list(parameters or {}))
    return pa.Table.from_pydict(columns, schema=schema)


def _names(labels: Sequence[str], index: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A text column: ``labels[index]`` per row (null where ``missing``), looked up by Arrow, not Python."""
    index = np.where(missing, 0, index) if missing is not None else index
    return pc.take(pa.array(labels, pa.string()), pa.array(index.astype(np.int32), mask=missing))


def simulate(
    compiled: CompiledScenario,
    replications: int | range,
    master_seed: int,
    point: int = 0,
    parameters: dict[str, float] | None = None,
) -> pa.Table:
    """Run seeded replications in this process (fast path, in blocks) and return their rows.

    A scenario that seats negotiators (``negotiator`` entries) takes the per-run path instead: each
    run through the Mesa model, whose agents' negotiators decide; the same seeds give the same rows
    whatever the block or worker.

    The serial building block of every batch: the batch runner hands blocks of this to workers, and
    small in-process users (the dashboard, calibration trials) call it directly.

    Args:
        compiled: The compiled scenario or design point.
        replications: How many (0..n-1), or which, replications to run.
        master_seed: The experiment's master seed.
        point: Design-point index to record.
        parameters: The design point's varied values, to record as columns.

    Returns:
        The results rows (see the module docstring).
    """
    reps = np.arange(replications) if isinstance(replications, int) else np.asarray(replications)
    seeds = run_seeds(master_seed, reps)
    if uses_negotiators(compiled):
        # user negotiators cannot be vectorised: each run through the Mesa model, same seeds and rows
        played = [run_once(compiled, int(seed)) for seed in seeds]
        if not played:
            return results_schema(compiled, list(parameters or {})).empty_table()
        return runs_to_table(compiled, point, reps, seeds, played, parameters)
    blocks = [
        runs_to_table(
            compiled,
            point,
            reps[i : i + BLOCK],
            seeds[i : i + BLOCK],
            run_many(compiled, seeds[i : i + BLOCK]),
            parameters,
        )
        for i in range(0, len(reps), BLOCK)
    ]
    if not blocks:
        return results_schema(compiled, list(parameters or {})).empty_table()
    return pa.concat_tables(blocks)
