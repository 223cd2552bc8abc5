"""The Mesa model: builds country agents and tables from a scenario, steps rounds, links tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from negotiation.agents import CountryAgent
from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.engine import Runs
from negotiation.bargaining.outcomes import RunArrays, TableOutcome, run_arrays, single_run, table_outcomes
from negotiation.bargaining.protocol import DEAL, OPEN, STATUS_NAMES
from negotiation.bargaining.streams import run_key
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.schema import Scenario

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

    Each run draws the scenario's uncertain parameters from streams keyed by its seed, then plays
    rounds until every table has ended. Parameters are flat keyword arguments named by their paths, so
    ``NegotiationModel(**{"actors.china.resolve": 0.8}, seed=1)`` and ``mesa.batch_run`` both work.

    Args:
        scenario: A scenario file path, a Scenario, a CompiledScenario, or None for the default.
        trace: Collect the per-round trace of offers and utilities in ``datacollector``.
        seed: Seed for the model's generator (Mesa's ``seed``); pass this or ``rng``.
        rng: A numpy Generator, SeedSequence or seed (Mesa's ``rng``). An integer here or in ``seed``
            reproduces ``negotiation run --seed N`` and batch rows (the run's random streams are keyed
            by ``SeedSequence(N)``, see ``negotiation.bargaining.streams``); a SeedSequence keys them
            directly; from a Generator (or none), the run's key is drawn from Mesa's generator.
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
        self.runs = Runs(self.compiled, run_key_of(seed if seed is not None else rng, self.rng)[None])
        self.negotiation = self.runs.negotiation
        self.horizon = self.runs.horizon
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

    @property
    def params(self) -> dict[str, np.ndarray]:
        """This run's parameter arrays (after its draw and any events), with a run axis of length 1."""
        return self.runs.params

    @property
    def fired_events(self) -> list[str]:
        """Names of the scheduled events that have fired so far in this run."""
        return self.runs.fired_events()

    def step(self) -> None:
        """Play one round at every open table, then let agents react to tables that ended."""
        trace, ended = self.runs.play(self.round, trace=self.trace)
        if ended.size and len(self.compiled.link_source):
            self.agents.do("react", self.negotiation.linkage_shifts(ended))
        if self.datacollector is not None:
            self._record(trace)
        self.round += 1
        if self.round >= self.horizon or self.negotiation.finished:
            self.running = False

    def run(self) -> tuple[TableOutcome, ...]:
        """Step until every table has ended and return the outcomes."""
        while self.running:
            self.step()
        return self.outcomes()

    def arrays(self) -> RunArrays:
        """Outcome arrays of the run so far (what batches store)."""
        self.negotiation.measure_agreements()
        return single_run(run_arrays(self.compiled, self.negotiation))

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
        from negotiation.scenario.paths import apply_overrides

        scenario = apply_overrides(scenario, overrides)
    return compile_scenario(scenario)


def run_key_of(seed: Any, rng: np.random.Generator) -> np.ndarray:
    """The run's (2,) key: from an integer seed or a SeedSequence, else drawn from the model's generator.

    An integer gives the same key as the batch fast path gives that run seed, so ``seed=N`` reproduces
    the batch row with seed N.
    """
    if isinstance(seed, int | np.integer | np.random.SeedSequence):
        return run_key(seed)
    return rng.integers(0, 2**64, size=2, dtype=np.uint64)


def run_once(compiled: CompiledScenario, rng: Any) -> RunArrays:
    """Run one negotiation through the Mesa model, without tracing, and return its outcome arrays.

    Batches use the equivalent, faster :func:`negotiation.bargaining.engine.run_many`.

    Args:
        compiled: The compiled scenario (or design point).
        rng: Seed for this run (an int reproduces the batch row with that seed), or a SeedSequence
            or Generator.

    Returns:
        The run's outcome arrays.
    """
    model = NegotiationModel(compiled, rng=rng)
    while model.running:
        model.step()
    return model.arrays()
