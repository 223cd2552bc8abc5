"""Runs of a compiled scenario advancing round by round: draws, events, offers, linkages. No Mesa.

:class:`Runs` holds one or many runs in lockstep. The Mesa model drives a single run through it (its
agents apply the linkage shifts at their own seats); :func:`run_many` is the batch fast path that
plays hundreds of runs at once through the same code. Every random number of a run comes from a
stream keyed by the run's seed and a name (:mod:`negotiation.bargaining.streams`): one per
uncertain parameter (``parameter:<path>``), one per event (``event:<name>``: whether it happens) and
one per table (``walkout:<table>``: the uniform number each round compares with the walk-out
hazard, the round's index in the stream). So a run's outcome depends only on its seed, never on
which other runs share its block; and fixing, adding or removing an uncertain parameter or an event
leaves every other stream as it was, so paired comparisons stay paired: a table the change cannot
reach plays exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace

import numpy as np

from negotiation.bargaining import streams
from negotiation.bargaining.bloc_rounds import BLOC_PARAMETERS, BlocRounds
from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.outcomes import RunArrays, run_arrays
from negotiation.bargaining.preferences import utility
from negotiation.bargaining.protocol import OPEN, Derived, Negotiation, RoundTrace, derive, derive_again
from negotiation.bargaining.saop import StackedDerived, StackedTables, derive_stacked, values_of_no_deal

WALKOUT_BLOCK = 4
"""Rounds of walk-out numbers drawn at a time (Philox makes four numbers per block)."""


class Runs:
    """One or more runs of a scenario, each with its own key (its random numbers)."""

    def __init__(self, compiled: CompiledScenario, keys: np.ndarray) -> None:
        """Draw every run's uncertain parameters and events, and set up its tables.

        Args:
            compiled: The compiled scenario (or design point).
            keys: (N, 2) run keys (``streams.run_keys(seeds)``), one per run.
        """
        self.compiled = compiled
        self.keys = np.asarray(keys, np.uint64).reshape(-1, 2)
        self.n_runs = len(self.keys)
        self.params = compiled.draw(self.keys)
        self.blocs = BlocRounds(compiled.blocs, self.params, self.keys)
        """The runs' blocs: who is still in them, their common positions (before round 0 here)."""
        self._bloc_close = int(self.blocs.close.max(initial=-1))
        derived, reservation = self._derive()
        self.negotiation = Negotiation(compiled, derived, reservation)
        pulled, rises = self.blocs.effective(self.params)
        self.stacked = StackedTables(compiled, pulled, self.n_runs)
        """The tables of more than two (or declaring ``protocol = "saop"``), played by SAOP."""
        self._stacked_rises(rises, np.arange(self.n_runs))
        self.negotiation.hand_over(self.stacked.rows)
        self._base_reservation = reservation.copy()
        probabilities = np.array([event.probability for event in compiled.events])
        draws = streams.uniforms(self.keys, streams.stream_ids(event_stream_names(compiled)), 1)[..., 0]
        self.event_happens = draws < probabilities
        """(N, E) whether each event happens in each run."""
        self.event_fired = np.zeros_like(self.event_happens)
        """(N, E) whether each event has fired so far."""
        self.horizon = int(derived.deadline.max()) + 1 if self.n_runs else 0
        """Rounds needed for every table of every run to reach its deadline."""
        self._walkout_ids = streams.stream_ids(tuple(f"walkout:{table}" for table in compiled.table_ids))
        self._table_opens = np.tile(compiled.opens, self.n_runs)
        self._walkout_block = -1
        self._walkout_numbers = np.empty((0, WALKOUT_BLOCK))
        few = 0 < self.n_runs * compiled.n_tables <= streams.NATIVE_STREAMS
        self._walkout_all = (
            streams.uniforms(self.keys, self._walkout_ids, self.horizon).reshape(-1, self.horizon)
            if few
            else None
        )
        """(R, H) a run of few tables: every round's walk-out numbers, drawn at once by numpy's own Philox
        (tens of microseconds, what the blocks' vectorised arithmetic costs every four rounds)."""

    def walkout(self, round_: int) -> np.ndarray:
        """(R,) the uniform number each table compares with its walk-out hazard in this round.

        Number ``round_`` of the table's stream ``walkout:<table>`` in each run. They are drawn four
        rounds at a time (a Philox block) and only for the tables still open then, which is about a
        fifth of all: a table not yet open or already ended gets NaN, which no hazard exceeds. A run
        of few tables has them all from the start.
        """
        if self._walkout_all is not None:
            return self._walkout_all[:, round_]
        block = round_ // WALKOUT_BLOCK
        if block != self._walkout_block:
            self._walkout_block = block
            last = (block + 1) * WALKOUT_BLOCK - 1
            rows = np.flatnonzero((self.negotiation.status == OPEN) & (self._table_opens <= last))
            n_tables = self.compiled.n_tables
            self._walkout_numbers = np.full((self._table_opens.size, WALKOUT_BLOCK), np.nan)
            self._walkout_numbers[rows] = streams.block_uniforms(
                self.keys[rows // n_tables], self._walkout_ids[rows % n_tables], block
            )
        return self._walkout_numbers[:, round_ % WALKOUT_BLOCK]

    def play(self, round_: int, trace: bool = False) -> tuple[RoundTrace | None, np.ndarray]:
        """Update the blocs and fire this round's events, then play the round at every open table.

        Args:
            round_: The round number.
            trace: Return the round's trace of the bilateral tables, and keep the SAOP tables' in
                ``self.stacked.round_trace`` (a :class:`RoundTrace` by seat).

        Returns:
            The bilateral tables' trace (or None) and the rows that ended in this round.
        """
        self.before_round(round_)
        uniforms = self.walkout(round_)
        round_trace = self.negotiation.play_round(round_, uniforms, trace)
        self.play_stacked(round_, trace)
        return round_trace, self.negotiation.ended

    def before_round(self, round_: int) -> None:
        """What happens between rounds before offers: members leave blocs, then events fire."""
        if self.compiled.blocs:
            self.update_blocs(round_)
        if self.compiled.events:
            self.fire_events(round_)

    def update_blocs(self, round_: int) -> None:
        """Take out of their blocs the members that defected, and re-derive their bloc's tables.

        Only the rows of tables where a member faces a non-member are re-derived (in the runs whose
        membership changed), so every other table plays exactly as without the bloc.
        """
        if round_ > self._bloc_close:
            return
        negotiation = self.negotiation
        changed = self.blocs.update(round_, negotiation.status, negotiation.end_round)
        if changed.any():
            negotiation.measure_agreements()  # the SAOP tables measure theirs if they re-derive
            self._repull(changed)

    def _derive(self) -> tuple[Derived, np.ndarray]:
        """Derive the runs' fixed quantities from their parameters and the blocs' pull on the tables."""
        params, rises = self.blocs.effective(self.params)
        derived, reservation = derive(self.compiled, params)
        self._add_rises(reservation, rises, np.arange(self.n_runs))
        return derived, reservation

    def _derive_again(self, hit: np.ndarray) -> tuple[Derived, np.ndarray, dict, list]:
        """:func:`derive_again` for the runs an event hit, with the blocs' pull on the tables.

        Returns:
            The derived quantities and values of no deal of every run, and the hit runs' parameters
            with the blocs' pull and the blocs' rises (:meth:`BlocRounds.effective`).
        """
        runs = np.flatnonzero(hit)
        params, rises = self.blocs.effective({name: array[runs] for name, array in self.params.items()}, runs)
        derived, reservation = derive_again(
            self.compiled, params, hit, self.negotiation.derived, self._base_reservation
        )
        self._add_rises(reservation, rises, runs)
        return derived, reservation, params, rises

    def _add_rises(self, reservation: np.ndarray, rises: list, runs: np.ndarray) -> None:
        """Add the blocs' rises to the members' values of no deal (R, 2) in these runs.

        Args:
            reservation: (R, 2) values of no deal of every run.
            rises: The blocs' rises for ``runs`` only, as :meth:`BlocRounds.effective` gives them.
            runs: The runs the rises belong to, in order.
        """
        by_table = reservation.reshape(self.n_runs, self.compiled.n_tables, -1)
        for tables, sides, rise in rises:
            bilateral = ~self.compiled.stacked[tables]  # SAOP tables have their own values of no deal
            tables, sides = tables[bilateral], sides[bilateral]
            by_table[runs[:, None], tables[None, :], sides[None, :]] += rise[:, bilateral]

    def _stacked_rises(self, rises: list, runs: np.ndarray) -> None:
        """Add the blocs' rises to the members' values of no deal at the SAOP tables of these runs.

        Args:
            rises: The blocs' rises for ``runs`` only, as :meth:`BlocRounds.effective` gives them.
            runs: The runs the rises belong to, in order.
        """
        if not self.stacked.count:
            return
        position = np.full(self.compiled.n_tables, -1, np.intp)
        position[self.stacked.tables] = np.arange(self.stacked.tables.size)
        for tables, sides, rise in rises:
            seats = self.compiled.stacked[tables]
            if not seats.any():
                continue
            rows = runs[:, None] * self.stacked.tables.size + position[tables[seats]][None, :]
            self.stacked.reservation[rows, sides[seats][None, :]] += rise[:, seats]

    def _refresh_stacked(self, hit: np.ndarray, pulled: dict, rises: list) -> None:
        """Re-derive the SAOP tables of the runs an event hit, with the blocs' pull.

        Only those runs are derived (each run is derived on its own numbers, so a subset gives exactly
        those runs' rows): open tables move to their new values of no deal; tables that ended keep the
        outcome measured with the preferences in force when they ended.

        Args:
            hit: (N,) True for the runs the event hit.
            pulled: The hit runs' parameters with the blocs' pull (:meth:`BlocRounds.effective`).
            rises: The blocs' rises for the hit runs.
        """
        stacked = self.stacked
        if not stacked.count:
            return
        rows_hit = np.repeat(hit, stacked.tables.size)
        still_open = rows_hit & (stacked.status == OPEN)
        if not still_open.any():
            return
        stacked.measure_agreements()
        runs = np.flatnonzero(hit)
        fresh, reservation = derive_stacked(self.compiled, pulled, stacked.tables)
        rows = np.flatnonzero(rows_hit)
        merged = {}
        for item in fields(StackedDerived):
            array, values = getattr(stacked.derived, item.name), getattr(fresh, item.name)
            if not np.array_equal(array[rows], values):
                array = array.copy()
                array[rows] = values
            merged[item.name] = array
        stacked.derived = StackedDerived(**merged)
        values = stacked.reservation.copy()
        values[rows] = reservation
        stacked.reservation = values
        stacked.agreement[still_open] = stacked.derived.disagreement[still_open]
        self._stacked_rises(rises, runs)

    def _repull(self, hit: np.ndarray) -> None:
        """Apply the blocs' new pull at their members' seats in the runs that ``hit`` marks.

        A bloc moves only a member's ideal and its value of no deal at the seats where it faces a
        non-member, so only those are recomputed (the ideal from the blocs, the value of no deal as
        :func:`negotiation.bargaining.protocol.derive` has it: the utility of the no-deal outcome,
        plus the outside option and the public outside term, plus the bloc's rise). Shifts that
        linkages made earlier are kept on top, as after an event.
        """
        negotiation, d = self.negotiation, self.negotiation.derived
        n_tables = self.compiled.n_tables
        runs = np.flatnonzero(hit)
        params = {name: self.params[name][runs] for name in BLOC_PARAMETERS}
        pulled, rises = self.blocs.effective(params, runs)
        ideal = d.ideal.copy()
        outside = self.params["outside_option"][runs]
        for all_tables, all_sides, all_rise in rises:
            bilateral = ~self.compiled.stacked[all_tables]  # SAOP tables: `_repull_stacked` below
            tables, sides, rise = all_tables[bilateral], all_sides[bilateral], all_rise[:, bilateral]
            rows = (runs[:, None] * n_tables + tables[None, :]).reshape(-1)
            side = np.tile(sides, runs.size)
            ideal[rows, side] = pulled["ideal"][:, tables, sides].reshape(rows.size, -1)
            no_deal = utility(
                d.disagreement[rows], d.weights[rows, side], ideal[rows, side], d.curvature[rows, side]
            )
            value = no_deal + outside[:, tables, sides].reshape(-1) + d.public_outside[rows, side]
            value = value + rise.reshape(-1)
            shift = negotiation.reservation[rows, side] - self._base_reservation[rows, side]
            self._base_reservation[rows, side] = value
            negotiation.reservation[rows, side] = value + shift
        negotiation.derived = replace(d, ideal=ideal)
        self._repull_stacked(runs, pulled, rises)

    def _repull_stacked(self, runs: np.ndarray, pulled: dict, rises: list) -> None:
        """The blocs' new pull at the SAOP tables of these runs: members' ideals and values of no deal.

        Only the ideals move, so only they and the values of no deal are recomputed (as
        :func:`derive_stacked` computes them), in place of re-deriving the tables: the same numbers.
        Every row of these runs moves when any of them is still open; a table that ended keeps the
        outcome measured with the preferences in force when it ended.
        """
        stacked = self.stacked
        if not stacked.count:
            return
        n_stacked = stacked.tables.size
        rows = (runs[:, None] * n_stacked + np.arange(n_stacked)[None, :]).reshape(-1)
        if not (stacked.status[rows] == OPEN).any():
            return
        stacked.measure_agreements()
        d = stacked.derived
        moved = pulled["ideal"][:, stacked.tables].reshape(rows.size, *d.ideal.shape[1:])
        ideal = d.ideal.copy()
        ideal[rows] = moved
        reservation = stacked.reservation.copy()
        reservation[rows] = values_of_no_deal(d, rows, moved)
        stacked.derived = replace(d, ideal=ideal)
        stacked.reservation = reservation
        self._stacked_rises(rises, runs)

    def outputs(self) -> np.ndarray:
        """(N, C) the runs' bloc outputs so far (:func:`negotiation.bargaining.bloc_rounds.bloc_columns`)."""
        return self.blocs.outputs(self.negotiation.status, self.negotiation.end_round)

    def play_stacked(self, round_: int, trace: bool = False) -> None:
        """Play the round at the SAOP tables (after the bilateral ones; each has its own numbers).

        With ``trace``, the round's trace is kept in ``self.stacked.round_trace``.
        """
        if self.stacked.count:
            uniforms = self.walkout(round_)
            rows, status, agreement = self.stacked.play_round(round_, uniforms, trace)
            self.negotiation.record_ended(rows, status, round_, agreement)

    def measure_agreements(self) -> None:
        """Measure the agreements not yet measured, at every table (before an event and at the end)."""
        self.negotiation.measure_agreements()
        if self.stacked.count:
            self.stacked.measure_agreements()

    def fire_events(self, round_: int) -> None:
        """Apply events scheduled for this round in the runs where they happen and that are still going.

        Parameters change from this round on (outcomes of tables that already ended keep the
        preferences in force when they ended); shifts that linkages made earlier in a run to the
        values of no deal are kept on top of the re-derived values, open tables move to the new
        no-deal outcome, and a side whose prior belief the event changed starts learning afresh.
        """
        n_tables = self.compiled.n_tables
        negotiation = self.negotiation
        running = (negotiation.status == OPEN).reshape(self.n_runs, n_tables).any(axis=1)
        for index, event in enumerate(self.compiled.events):
            hit = self.event_happens[:, index] & running
            if event.round != round_ or not hit.any():
                continue
            self.measure_agreements()
            event.apply(self.params, hit)
            self.event_fired[:, index] |= hit
            derived, reservation, pulled, rises = self._derive_again(hit)
            rows = np.repeat(hit, n_tables)
            linkage_shift = negotiation.reservation[rows] - self._base_reservation[rows]
            self._base_reservation[rows] = reservation[rows]
            before, negotiation.derived = negotiation.derived, derived
            negotiation.reservation[rows] = reservation[rows] + linkage_shift
            still_open = np.flatnonzero(rows & (negotiation.status == OPEN))
            negotiation.agreement[still_open] = derived.disagreement[still_open]
            # beliefs start afresh only where the event changed what a side believes before offers
            # (derive_again keeps the arrays of quantities the event left alone)
            if not (
                before.prior is derived.prior
                and before.prior_strength is derived.prior_strength
                and before.learns is derived.learns
            ):
                hit_rows = np.flatnonzero(rows)
                changed = (
                    (before.prior[hit_rows] != derived.prior[hit_rows]).any(axis=-1)
                    | (before.prior_strength[hit_rows] != derived.prior_strength[hit_rows])
                    | (before.learns[hit_rows] != derived.learns[hit_rows])
                )
                refreshed, sides = np.nonzero(changed)
                negotiation.refresh_beliefs(hit_rows[refreshed], sides)
            self._refresh_stacked(hit, pulled, rises)

    def fired_events(self, run: int = 0) -> list[str]:
        """Names of the events that have fired so far in one run."""
        return [e.name for e, fired in zip(self.compiled.events, self.event_fired[run], strict=True) if fired]


def run_many(compiled: CompiledScenario, seeds: Sequence[int] | np.ndarray) -> RunArrays:
    """Play many runs in lockstep (the batch fast path) and return their outcome arrays.

    Gives exactly the outcomes that running :class:`negotiation.model.NegotiationModel` once per
    seed gives (a test checks this).

    Args:
        compiled: The compiled scenario (or design point).
        seeds: One integer seed per run.

    Returns:
        Outcome arrays with a leading run axis.
    """
    runs = Runs(compiled, streams.run_keys(seeds))
    negotiation = runs.negotiation
    for round_ in range(runs.horizon):
        _, ended = runs.play(round_)
        if ended.size:
            negotiation.reservation = negotiation.reservation + negotiation.linkage_shifts(ended)
        if negotiation.finished:
            break
    runs.measure_agreements()
    return run_arrays(compiled, negotiation, runs.stacked, runs.outputs())


def event_stream_names(compiled: CompiledScenario) -> tuple[str, ...]:
    """The stream name of each event: ``event:<name>``, ``event:<name>#2`` for a second of that name."""
    seen: dict[str, int] = {}
    names = []
    for event in compiled.events:
        seen[event.name] = seen.get(event.name, 0) + 1
        names.append(f"event:{event.name}" + (f"#{seen[event.name]}" if seen[event.name] > 1 else ""))
    return tuple(names)
