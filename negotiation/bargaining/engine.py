"""Runs of a compiled scenario advancing round by round: draws, events, offers, linkages. No Mesa.

:class:`Runs` holds one or many runs in lockstep. The Mesa model drives a single run through it (its
agents apply the linkage shifts at their own seats); :func:`run_many` is the batch fast path that
plays hundreds of runs at once through the same code. Each run has its own generator and consumes
it in the same order either way, so a run's outcome depends only on its seed, never on which other
runs share its block. Each run draws, in order: its uncertain parameters, whether each event
happens, then one uniform number per table and round of its own horizon (compared with the
walk-out hazard). Tying the
walk-out draw to (table, round) keeps random numbers aligned across design points, which makes
paired comparisons sharper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.outcomes import RunArrays, run_arrays
from negotiation.bargaining.protocol import OPEN, Negotiation, RoundTrace, derive


class Runs:
    """One or more runs of a scenario, each with its own generator."""

    def __init__(self, compiled: CompiledScenario, generators: Sequence[np.random.Generator]) -> None:
        """Draw every run's uncertain parameters and events, and set up its tables.

        Args:
            compiled: The compiled scenario (or design point).
            generators: One numpy generator per run.
        """
        self.compiled = compiled
        self.generators = list(generators)
        self.n_runs = len(self.generators)
        self.params = compiled.draw(self.generators)
        derived, reservation = derive(compiled, self.params)
        self.negotiation = Negotiation(compiled, derived, reservation)
        self._base_reservation = reservation.copy()
        n_events = len(compiled.events)
        probabilities = np.array([event.probability for event in compiled.events])
        draws = np.stack([g.random(n_events) for g in self.generators])
        self.event_happens = draws < probabilities
        """(N, E) whether each event happens in each run."""
        self.event_fired = np.zeros_like(self.event_happens)
        """(N, E) whether each event has fired so far."""
        n_tables = compiled.n_tables
        own_horizon = derived.deadline.reshape(self.n_runs, n_tables).max(axis=1) + 1
        self.horizon = int(own_horizon.max())
        """Rounds needed for every table of every run to reach its deadline."""
        self.walkout_uniforms = np.ones((self.n_runs, self.horizon * n_tables))
        """(N, H * T) the uniform number each (round, table) compares with its walk-out hazard."""
        for run, (generator, rounds) in enumerate(zip(self.generators, own_horizon, strict=True)):
            self.walkout_uniforms[run, : rounds * n_tables] = generator.random(rounds * n_tables)

    def play(self, round_: int, trace: bool = False) -> tuple[RoundTrace | None, np.ndarray]:
        """Fire this round's events, then play the round at every open table.

        Args:
            round_: The round number.
            trace: Return the round's trace.

        Returns:
            The trace (or None) and the rows that ended in this round.
        """
        if self.compiled.events:
            self.fire_events(round_)
        was_open = self.negotiation.status == OPEN
        n_tables = self.compiled.n_tables
        uniforms = self.walkout_uniforms[:, round_ * n_tables : (round_ + 1) * n_tables].reshape(-1)
        round_trace = self.negotiation.play_round(round_, uniforms, trace)
        ended = np.flatnonzero(was_open & (self.negotiation.status != OPEN))
        return round_trace, ended

    def fire_events(self, round_: int) -> None:
        """Apply events scheduled for this round in the runs where they happen and that are still going.

        Parameters change from this round on (outcomes of tables that already ended keep the
        preferences in force when they ended); shifts that linkages made earlier in a run to the
        values of no deal are kept on top of the re-derived values, open tables move to the new
        no-deal outcome, and beliefs are recomputed from the new priors and the evidence so far.
        """
        n_tables = self.compiled.n_tables
        negotiation = self.negotiation
        running = (negotiation.status == OPEN).reshape(self.n_runs, n_tables).any(axis=1)
        for index, event in enumerate(self.compiled.events):
            hit = self.event_happens[:, index] & running
            if event.round != round_ or not hit.any():
                continue
            negotiation.measure_agreements()
            event.apply(self.params, hit)
            self.event_fired[:, index] |= hit
            derived, reservation = derive(self.compiled, self.params)
            rows = np.repeat(hit, n_tables)
            linkage_shift = negotiation.reservation[rows] - self._base_reservation[rows]
            self._base_reservation[rows] = reservation[rows]
            negotiation.derived = derived
            negotiation.reservation[rows] = reservation[rows] + linkage_shift
            still_open = np.flatnonzero(rows & (negotiation.status == OPEN))
            negotiation.agreement[still_open] = derived.disagreement[still_open]
            negotiation.refresh_beliefs(np.flatnonzero(rows))

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
    runs = Runs(compiled, [np.random.default_rng(int(seed)) for seed in seeds])
    negotiation = runs.negotiation
    for round_ in range(runs.horizon):
        _, ended = runs.play(round_)
        if ended.size:
            negotiation.reservation = negotiation.reservation + negotiation.linkage_shifts(ended)
        if negotiation.finished:
            break
    negotiation.measure_agreements()
    return run_arrays(compiled, negotiation)
