"""The Mesa model: builds country agents and tables from a scenario, steps rounds, links tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from negotiation.agents import CountryAgent, TableNews
from negotiation.compiled import CompiledScenario, compile_scenario
from negotiation.outcomes import RunArrays, TableOutcome, run_arrays, table_outcomes
from negotiation.protocol import DEAL, OPEN, STATUS_NAMES, Negotiation, derive
from negotiation.scenario import Scenario, load_scenario

TRACE_COLUMNS = (
    "round",
    "table",
    "proposer",
    "responder",
    "target",
    "proposer_utility",
    "responder_utility",
    "status",
    "offer",
)
"""Columns of the per-round ``offers`` table in the DataCollector (only when tracing)."""


class NegotiationModel(mesa.Model):
    """The Asia-tour negotiations: country agents bargaining at linked tables, round by round.

    Each run draws the scenario's uncertain parameters from the model's generator, then plays rounds
    until every table has ended. Parameters are flat keyword arguments named by their paths, so
    ``NegotiationModel(**{"actors.china.resolve": 0.8}, seed=1)`` and ``mesa.batch_run`` both work.

    Args:
        scenario: A scenario file path, a Scenario, a CompiledScenario, or None for the default.
        trace: Collect the per-round trace of offers and utilities in ``datacollector``.
        seed: Seed for the model's generator (Mesa's ``seed``); pass this or ``rng``.
        rng: A numpy Generator, SeedSequence or seed (Mesa's ``rng``).
        **overrides: Parameter path to value, e.g. ``{"tables.us-china.deadline": 10}``.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | CompiledScenario | None = None,
        *,
        trace: bool = False,
        seed: int | None = None,
        rng: Any = None,
        **overrides: Any,
    ) -> None:
        super().__init__(seed=seed, rng=rng)
        self.compiled = prepare(scenario, overrides)
        self.trace = trace
        self.params = self.compiled.draw(self.rng)
        derived, reservation = derive(self.compiled, self.params)
        self.negotiation = Negotiation(self.compiled, derived, reservation)
        self._base_reservation = reservation.copy()
        happens = self.rng.random(len(self.compiled.events)) < [e.probability for e in self.compiled.events]
        self.pending_events = [e for e, h in zip(self.compiled.events, happens, strict=True) if h]
        """Events that will fire in this run, not yet fired."""
        self.fired_events: list[str] = []
        """Names of events that have fired so far."""
        self.horizon = int(derived.deadline.max()) + 1
        self.round = 0
        for actor_id in self.compiled.actor_ids:
            CountryAgent(self, actor_id)
        self.datacollector = (
            mesa.DataCollector(
                model_reporters={
                    "open_tables": lambda m: int(np.sum(m.negotiation.status == OPEN)),
                    "deals": lambda m: int(np.sum(m.negotiation.status == DEAL)),
                },
                tables={"offers": list(TRACE_COLUMNS)},
            )
            if trace
            else None
        )

    def step(self) -> None:
        """Play one round at every open table, then let agents react to tables that ended."""
        if self.pending_events:
            self._fire_events()
        before = self.negotiation.status.copy()
        trace = self.negotiation.play_round(self.round, self.rng, trace=self.trace)
        ended = np.flatnonzero((before == OPEN) & (self.negotiation.status != OPEN))
        if ended.size and len(self.compiled.link_source):
            news = [
                TableNews(int(t), int(self.negotiation.status[t]), self.negotiation.agreement[t])
                for t in ended
            ]
            self.agents.do("react", news)
        if self.datacollector is not None:
            self._record(trace)
        self.round += 1
        if self.round >= self.horizon or not np.any(self.negotiation.status == OPEN):
            self.running = False

    def _fire_events(self) -> None:
        """Apply events scheduled for this round and re-derive what depends on the parameters.

        Reservation shifts that linkages made earlier in the run are kept on top of the new values.
        """
        due = [e for e in self.pending_events if e.round == self.round]
        if not due:
            return
        for event in due:
            event.apply(self.params)
            self.fired_events.append(event.name)
            self.pending_events.remove(event)
        derived, reservation = derive(self.compiled, self.params)
        linkage_shift = self.negotiation.reservation - self._base_reservation
        self._base_reservation = reservation.copy()
        self.negotiation.derived = derived
        self.negotiation.reservation = np.clip(reservation + linkage_shift, 0.0, 1.0)

    def run(self) -> tuple[TableOutcome, ...]:
        """Step until every table has ended and return the outcomes."""
        while self.running:
            self.step()
        return self.outcomes()

    def arrays(self) -> RunArrays:
        """Outcome arrays of the run so far (what batches store)."""
        return run_arrays(self.compiled, self.negotiation)

    def outcomes(self) -> tuple[TableOutcome, ...]:
        """Readable per-table outcomes of the run so far."""
        return table_outcomes(self.compiled, self.arrays())

    def agent(self, actor_id: str) -> CountryAgent:
        """The country agent with this actor id."""
        return next(a for a in self.agents if a.actor_id == actor_id)

    def _record(self, trace: Any) -> None:
        self.datacollector.collect(self)
        if trace is None:
            return
        c = self.compiled
        for i, t in enumerate(trace.tables.tolist()):
            side = int(trace.proposer[i])
            real = c.low[t] + trace.offers[i] * (c.high[t] - c.low[t])
            self.datacollector.add_table_row(
                "offers",
                {
                    "round": trace.round,
                    "table": c.table_ids[t],
                    "proposer": c.actor_ids[c.parties[t, side]],
                    "responder": c.actor_ids[c.parties[t, 1 - side]],
                    "target": float(trace.targets[i]),
                    "proposer_utility": float(trace.utilities[i, side]),
                    "responder_utility": float(trace.utilities[i, 1 - side]),
                    "status": STATUS_NAMES[int(trace.status[i])],
                    "offer": {issue: float(real[k]) for k, issue in enumerate(c.table_issues[t])},
                },
            )


def prepare(
    scenario: str | Path | Scenario | CompiledScenario | None, overrides: dict[str, Any]
) -> CompiledScenario:
    """Turn any accepted scenario argument plus overrides into a compiled scenario.

    Args:
        scenario: A path, Scenario, CompiledScenario or None (the default scenario).
        overrides: Parameter path to value.

    Returns:
        The compiled scenario.
    """
    if isinstance(scenario, CompiledScenario):
        if not overrides:
            return scenario
        scenario = scenario.scenario
    if scenario is None or isinstance(scenario, str | Path):
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        from negotiation.paths import apply_overrides

        scenario = apply_overrides(scenario, overrides)
    return compile_scenario(scenario)


def run_once(compiled: CompiledScenario, rng: Any) -> RunArrays:
    """Run one negotiation without tracing and return its outcome arrays (the batch hot path).

    Args:
        compiled: The compiled scenario (or design point).
        rng: Seed, SeedSequence or Generator for this run.

    Returns:
        The run's outcome arrays.
    """
    model = NegotiationModel(compiled, rng=rng)
    while model.running:
        model.step()
    return model.arrays()
