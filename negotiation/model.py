"""The Mesa model: builds country agents and tables from a scenario, steps rounds, links tables."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from negotiation.agents import CountryAgent
from negotiation.bargaining.bloc_rounds import bloc_columns
from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.engine import Runs
from negotiation.bargaining.outcomes import RunArrays, TableOutcome, run_arrays, single_run, table_outcomes
from negotiation.bargaining.protocol import DEAL, OPEN, STATUS_NAMES
from negotiation.bargaining.streams import run_key
from negotiation.negotiators import mechanism
from negotiation.negotiators.registry import NegotiatorChoice, seat_negotiators
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

BLOC_TRACE_COLUMNS = ("round", "bloc", "issue", "actor", "position", "in_bloc")
"""Columns of the per-round ``bloc`` table in the DataCollector (only when tracing a scenario with
blocs): each bloc's common position (``actor = "common"``, absent while none exists) and each
member's stance on each bloc issue, in real units, during the round."""


class NegotiationModel(mesa.Model):
    """The Asia-tour negotiations: country agents bargaining at linked tables, round by round.

    Each run draws the scenario's uncertain parameters from streams keyed by its seed, then plays
    rounds until every table has ended. Parameters are flat keyword arguments named by their paths, so
    ``NegotiationModel(**{"actors.china.resolve": 0.8}, seed=1)`` and ``mesa.batch_run`` both work
    (see :func:`batch_run_kwargs` for seeded replications on any Mesa 3 release).

    Args:
        scenario: A scenario file path, a Scenario, a CompiledScenario, or None for the default.
        trace: Collect the per-round trace of offers and utilities in ``datacollector``.
        seed: Integer seed of the run; pass this or ``rng``. It is handed to Mesa as ``rng`` (Mesa
            3.5 deprecates its own ``seed`` keyword), which seeds the model's generator exactly as
            Mesa's ``seed`` did, so ``seed=N`` is ``rng=N``. Mesa 3.5's ``batch_run`` passes its
            seeds under this name because the model declares it.
        rng: A numpy Generator, SeedSequence or seed (Mesa's ``rng``). An integer here or in ``seed``
            reproduces ``negotiation run --seed N`` and batch rows (the run's random streams are keyed
            by ``SeedSequence(N)``, see ``negotiation.bargaining.streams``); a SeedSequence keys them
            directly; from a Generator (or none), the run's key is drawn from Mesa's generator.
        negotiators: Who decides at the seats: None (the scenario's ``negotiator`` entries, else
            each actor's strategy on the fast path), ``"reference"`` (every seat by the reference
            negotiator of its strategy), or a mapping from an actor id or an ``(actor, table)`` pair
            to a negotiator class (see docs/negotiators.md). Any negotiator at a seat puts the run
            on the per-run path, where the agents' negotiators make every offer and answer.
        **overrides: Parameter path to value, e.g. ``{"tables.us-china.deadline": 10}``.

    Raises:
        ValueError: Both ``seed`` and ``rng`` were given.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | CompiledScenario | None = None,
        *,
        trace: bool = False,
        seed: int | None = None,
        rng: Any = None,
        negotiators: NegotiatorChoice = None,
        **overrides: Any,
    ) -> None:
        if seed is not None and rng is not None:
            raise ValueError("pass either seed or rng, not both")
        super().__init__(rng=rng if seed is None else seed)
        self.compiled = prepare(scenario, overrides)
        self.trace = trace
        self.runs = Runs(self.compiled, run_key_of(seed if seed is not None else rng, self.rng)[None])
        self.negotiation = self.runs.negotiation
        self.horizon = self.runs.horizon
        self.round = 0
        seats = seat_negotiators(self.compiled, negotiators)
        self.seats = mechanism.Seats(self.negotiation, seats) if seats is not None else None
        """The seated negotiators (the per-run path), or None (the vectorised core decides)."""
        for actor_id in self.compiled.actor_ids:
            CountryAgent(self, actor_id)
        self.datacollector = (
            mesa.DataCollector(
                model_reporters={
                    "open_tables": lambda m: int(np.sum(m.negotiation.status == OPEN)),
                    "deals": lambda m: int(np.sum(m.negotiation.status == DEAL)),
                },
                tables={"offers": list(TRACE_COLUMNS), "bloc": list(BLOC_TRACE_COLUMNS)},
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
        if self.seats is None:
            trace, ended = self.runs.play(self.round, trace=self.trace)
        else:
            trace, ended = mechanism.play(self.runs, self.seats, self.round, trace=self.trace)
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
        self.runs.measure_agreements()
        return single_run(run_arrays(self.compiled, self.negotiation, self.runs.stacked, self.runs.outputs()))

    def bloc_outcomes(self) -> dict[str, float | bool | int | None]:
        """The run's bloc columns so far (``bloc_rounds.bloc_columns``), by name; empty without a bloc."""
        values = self.arrays().bloc
        out: dict[str, float | bool | int | None] = {}
        for (name, kind), value in zip(bloc_columns(self.compiled.blocs), values, strict=True):
            if np.isnan(value):
                out[name] = None
            else:
                out[name] = bool(value) if kind == "bool" else int(value) if kind == "round" else float(value)
        return out

    def outcomes(self) -> tuple[TableOutcome, ...]:
        """Readable per-table outcomes of the run so far."""
        return table_outcomes(self.compiled, self.arrays())

    def agent(self, actor_id: str) -> CountryAgent:
        """The country agent with this actor id."""
        return next(a for a in self.agents if a.actor_id == actor_id)

    def _record(self, trace: Any) -> None:
        self.datacollector.collect(self)
        for row in self.runs.blocs.snapshot():
            self.datacollector.add_table_row("bloc", {"round": self.round, **row})
        if trace is not None:
            self._record_bilateral(trace)
        if self.runs.stacked.round_trace is not None:
            self._record_stacked(self.runs.stacked.round_trace)

    def _record_bilateral(self, trace: Any) -> None:
        """One ``offers`` row per bilateral table played this round."""
        c = self.compiled
        for i, t in enumerate(trace.tables.tolist()):
            side = int(trace.proposer[i])
            self._add_offer(
                trace.round,
                t,
                c.parties[t, side],
                c.parties[t, 1 - side],
                trace.targets[i],
                trace.utilities[i, side],
                trace.utilities[i, 1 - side],
                trace.status[i],
                trace.offers[i],
            )

    def _record_stacked(self, trace: Any) -> None:
        """One ``offers`` row per SAOP table played this round and party other than the proposer.

        The responders come in the order they answer: the seats after the proposer, round the table.
        """
        c = self.compiled
        for i, t in enumerate(trace.tables.tolist()):
            proposer, seats = int(trace.proposer[i]), c.seats[t][c.seats[t] >= 0]
            for step in range(1, seats.size):
                responder = (proposer + step) % seats.size
                self._add_offer(
                    trace.round,
                    t,
                    seats[proposer],
                    seats[responder],
                    trace.targets[i],
                    trace.utilities[i, proposer],
                    trace.utilities[i, responder],
                    trace.status[i],
                    trace.offers[i],
                )

    def _add_offer(
        self,
        round_: int,
        t: int,
        proposer: int,
        responder: int,
        target: float,
        proposer_utility: float,
        responder_utility: float,
        status: int,
        offer: np.ndarray,
    ) -> None:
        """Add one row to the ``offers`` table (actors by index, the offer normalised)."""
        c = self.compiled
        real = c.low[t] + offer * (c.high[t] - c.low[t])
        self.datacollector.add_table_row(
            "offers",
            {
                "round": round_,
                "table": c.table_ids[t],
                "proposer": c.actor_ids[proposer],
                "responder": c.actor_ids[responder],
                "target": float(target),
                "proposer_utility": float(proposer_utility),
                "responder_utility": float(responder_utility),
                "status": STATUS_NAMES[int(status)],
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


def run_once(compiled: CompiledScenario, rng: Any, negotiators: NegotiatorChoice = None) -> RunArrays:
    """Run one negotiation through the Mesa model, without tracing, and return its outcome arrays.

    Batches use the equivalent, faster :func:`negotiation.bargaining.engine.run_many`, except for
    scenarios that seat negotiators, whose runs are played here one at a time.

    Args:
        compiled: The compiled scenario (or design point).
        rng: Seed for this run (an int reproduces the batch row with that seed), or a SeedSequence
            or Generator.
        negotiators: Who decides at the seats (see :class:`NegotiationModel`).

    Returns:
        The run's outcome arrays.
    """
    model = NegotiationModel(compiled, rng=rng, negotiators=negotiators)
    while model.running:
        model.step()
    return model.arrays()


def batch_run_kwargs(parameters: Mapping[str, Any], seeds: Iterable[int]) -> dict[str, Any]:
    """Keyword arguments for ``mesa.batch_run`` that run every parameter combination once per seed.

    Mesa changed how ``batch_run`` takes seeds, and which Mesa is installed depends on the Python:

    - Mesa 3.4 and later (Python 3.12+) take them as ``rng=[...]`` and deprecate ``iterations``;
      on Mesa 3.5 ``iterations`` seeds nothing (every row gets ``seed = None``) and a ``seed``
      entry in ``parameters`` is overwritten.
    - Mesa 3.3 (the newest for Python 3.11) has no ``rng``: the seeds are swept as the model's
      ``seed`` parameter, once each (``iterations=1``).

    This returns whichever the installed ``mesa.batch_run`` accepts. Either way each row has a
    ``seed`` column holding its seed, and the row equals ``NegotiationModel(seed=row["seed"], ...)``
    run to the end, so the rows are reproducible::

        rows = mesa.batch_run(
            NegotiationModel,
            **batch_run_kwargs({"actors.china.resolve": [0.5, 0.9], "trace": True}, seeds=range(20)),
            max_steps=100,
            number_processes=1,
            data_collection_period=-1,
        )

    Args:
        parameters: Model keyword arguments for ``batch_run`` (values or lists of values to sweep),
            without ``seed`` or ``rng``.
        seeds: Integer seeds, one run of every combination each.

    Returns:
        ``{"parameters": ..., "rng": [seeds]}`` for Mesa 3.4+, or
        ``{"parameters": {..., "seed": [seeds]}, "iterations": 1}`` for Mesa 3.3.

    Raises:
        ValueError: ``parameters`` names ``seed`` or ``rng``, or there are no seeds.
        TypeError: A seed is not an integer.
    """
    clash = sorted({"seed", "rng"} & set(parameters))
    if clash:
        raise ValueError(f"pass the seeds as `seeds`, not as parameter {clash[0]!r}")
    seed_list = [operator.index(seed) for seed in seeds]
    if not seed_list:
        raise ValueError("seeds is empty: give at least one seed")
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        return {"parameters": dict(parameters), "rng": seed_list}
    return {"parameters": {**parameters, "seed": seed_list}, "iterations": 1}
