"""What one run reports per table: compact arrays for batches, readable records for people."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.protocol import DEADLINE, DEAL, OPEN, STATUS_NAMES, Negotiation
from negotiation.bargaining.saop import StackedTables

MOVE_TOLERANCE = 0.01
"""An issue counts as moved off its status quo when it shifts by more than this share of its range."""


@dataclass(frozen=True)
class RunArrays:
    """Runs' outcomes as small arrays (what crosses process boundaries in a batch).

    Shapes below are for one run; arrays of a batch have a leading run axis.
    """

    status: np.ndarray
    """(T,) int8 status code: 1 deal, 2 deadline, 3 walk-out."""
    end_round: np.ndarray
    """(T,) round the table ended in."""
    values: np.ndarray
    """(T, K) agreed (or status-quo) value of each issue, real units; NaN padding."""
    utilities: np.ndarray
    """(T, P) utility of the outcome to each party when the table ended (reservation if no deal); P is
    the most parties at any table (2 unless a table has more), NaN at the empty seats of smaller tables."""
    reservation: np.ndarray
    """(T, P) effective reservation (disagreement) utility when the table ended."""
    pareto_distance: np.ndarray
    """(T,) distance in utility space from the agreement to the Pareto frontier; NaN if no deal (at a
    table of more than two, the Chebyshev gap to the n-party frontier, :mod:`analysis_n`)."""
    nash_distance: np.ndarray
    """(T,) distance in utility space from the agreement to the Nash point; NaN if no deal."""
    bloc: np.ndarray
    """(C,) the run's bloc outputs as floats, one per column of
    :func:`negotiation.bargaining.bloc_rounds.bloc_columns` (empty without a bloc)."""


def run_arrays(
    compiled: CompiledScenario,
    negotiation: Negotiation,
    stacked: StackedTables | None = None,
    bloc: np.ndarray | None = None,
) -> RunArrays:
    """Summarise finished runs.

    Args:
        compiled: The compiled scenario.
        negotiation: The runs' table state after their last round.
        stacked: The runs' SAOP tables (tables of more than two), if any.
        bloc: (N, C) the runs' bloc outputs (none by default).

    Returns:
        Outcome arrays with a leading run axis (N, T, ...).
    """
    n_runs, n_tables = negotiation.n_runs, compiled.n_tables
    still_open = negotiation.status == OPEN
    status = np.where(still_open, DEADLINE, negotiation.status).astype(np.int8)
    x = negotiation.agreement
    low, high = np.tile(compiled.low, (n_runs, 1)), np.tile(compiled.high, (n_runs, 1))
    values = np.where(np.tile(compiled.issue_mask, (n_runs, 1)), low + x * (high - low), np.nan)
    reservation = np.where(still_open[:, None], negotiation.reservation, negotiation.closing_reservation)
    utilities = np.where(still_open[:, None], negotiation.reservation, negotiation.outcome_utility)
    pareto, nash = negotiation.pareto_distance.copy(), negotiation.nash_distance.copy()
    n_seats = compiled.seats.shape[1]
    if n_seats > 2:
        pad = np.full((reservation.shape[0], n_seats - 2), np.nan)
        reservation, utilities = np.hstack([reservation, pad]), np.hstack([utilities, pad])
    if stacked is not None and stacked.count:
        rows, open_ = stacked.rows, (stacked.status == OPEN)[:, None]
        seated = stacked.derived.present
        reservation[rows] = np.where(
            open_, np.where(seated, stacked.reservation, np.nan), stacked.closing_reservation
        )
        utilities[rows] = np.where(open_, reservation[rows], stacked.outcome_utility)
        pareto[rows], nash[rows] = stacked.pareto_distance, stacked.nash_distance

    def shaped(array: np.ndarray) -> np.ndarray:
        return array.reshape(n_runs, n_tables, *array.shape[1:])

    return RunArrays(
        shaped(status),
        shaped(negotiation.end_round.copy()),
        shaped(values),
        shaped(utilities),
        shaped(reservation),
        shaped(pareto),
        shaped(nash),
        np.zeros((n_runs, 0)) if bloc is None else bloc,
    )


def single_run(arrays: RunArrays, run: int = 0) -> RunArrays:
    """The arrays of one run out of a batch (drops the run axis)."""
    return RunArrays(*(getattr(arrays, f.name)[run] for f in fields(RunArrays)))


@dataclass(frozen=True)
class TableOutcome:
    """How one table ended, in real units."""

    table: str
    """Table id."""
    parties: tuple[str, ...]
    """The parties, opener first."""
    status: str
    """'deal', 'deadline' or 'walkout'."""
    round: int
    """Round in which the table ended."""
    values: dict[str, float]
    """Agreed value of each issue (the status quo where there is no deal)."""
    moved: dict[str, bool]
    """Whether each issue moved off its status quo."""
    utilities: dict[str, float]
    """Utility of the outcome to each party (its reservation value if there is no deal)."""
    reservation: dict[str, float]
    """Each party's effective reservation value at the end."""
    pareto_distance: float | None
    """Distance from the agreement to the Pareto frontier (utility space); None if no deal."""
    nash_distance: float | None
    """Distance from the agreement to the Nash bargaining point; None if no deal."""

    @property
    def deal(self) -> bool:
        """True if the table reached an agreement."""
        return self.status == "deal"

    @property
    def partial(self) -> bool:
        """True for a deal that leaves at least one issue at its status quo."""
        return self.deal and not all(self.moved.values())


def table_outcomes(compiled: CompiledScenario, arrays: RunArrays) -> tuple[TableOutcome, ...]:
    """Turn a run's arrays into readable per-table records.

    Args:
        compiled: The compiled scenario.
        arrays: The run's outcome arrays.

    Returns:
        One record per table, in scenario order.
    """
    records = []
    span = compiled.high - compiled.low
    moved_all = np.abs(arrays.values - (compiled.low + compiled.status_quo * span)) > MOVE_TOLERANCE * span
    for t, table_id in enumerate(compiled.table_ids):
        issues = compiled.table_issues[t]
        parties = tuple(compiled.actor_ids[a] for a in compiled.seats[t] if a >= 0)
        deal = int(arrays.status[t]) == DEAL
        records.append(
            TableOutcome(
                table=table_id,
                parties=parties,  # type: ignore[arg-type]
                status=STATUS_NAMES[int(arrays.status[t])],
                round=int(arrays.end_round[t]),
                values={issue: float(arrays.values[t, k]) for k, issue in enumerate(issues)},
                moved={issue: bool(deal and moved_all[t, k]) for k, issue in enumerate(issues)},
                utilities={p: float(arrays.utilities[t, s]) for s, p in enumerate(parties)},
                reservation={p: float(arrays.reservation[t, s]) for s, p in enumerate(parties)},
                pareto_distance=_optional(arrays.pareto_distance[t]),
                nash_distance=_optional(arrays.nash_distance[t]),
            )
        )
    return tuple(records)


def _optional(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def outcomes_to_dict(outcomes: tuple[TableOutcome, ...]) -> list[dict[str, Any]]:
    """JSON-ready list of table outcomes."""
    return [{**asdict(o), "partial": o.partial} for o in outcomes]
