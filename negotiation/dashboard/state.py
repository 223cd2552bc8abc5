"""What the dashboard shows and does, without any user interface: parameters, one run, deal odds.

The Solara page (:mod:`negotiation.dashboard.app`) is a thin view of a :class:`DashboardState`:

- a catalogue of the key parameters of each actor and table (:func:`parameter_catalogue`), each named
  by its parameter path, exactly as ``--set`` and overlay files name it;
- the current overrides; changing one re-validates the scenario and rebuilds the seeded, traced
  run (``NegotiationModel(scenario, seed=seed, trace=True, **overrides)``);
- step, run and reset of that run, and per-table data for the panels: offers and utilities by
  round, and the utility space (Pareto frontier, Nash point, offers so far, agreement);
- deal probabilities per table from a small batch run in a background thread, in chunks so that
  progress can be shown, with Wilson intervals; the probabilities from before the last parameter
  change are kept for comparison;
- writing the overrides as an overlay file (see :mod:`negotiation.scenario.overlay`).

Nothing here imports Solara, so all of it is tested directly.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.protocol import STATUS_NAMES
from negotiation.batch.rows import simulate
from negotiation.charts.run_charts import UtilitySpace, parties_of, run_offers, utility_space
from negotiation.errors import OverrideError
from negotiation.intervals import wilson_interval
from negotiation.model import NegotiationModel
from negotiation.scenario.bounds import numeric_bounds
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.overlay import write_overlay
from negotiation.scenario.paths import apply_overrides, get_value
from negotiation.scenario.schema import STRATEGY_PRESETS, Scenario, Strategy

ParameterKind = Literal["float", "int", "choice"]

STRATEGY_KINDS = tuple(
    kind for kind in typing.get_args(Strategy.model_fields["kind"].annotation) if kind not in STRATEGY_PRESETS
)
"""Strategy kinds offered in the dashboard. The presets (boulware, ...) only pick a default ``e``,
which an override of ``kind`` alone does not change, so they would be misleading choices."""

E_SLIDER_RANGE = (0.05, 10.0)
"""Slider range of the concession exponent ``e`` (the scenario allows up to 50)."""


@dataclass(frozen=True)
class ParameterSpec:
    """One adjustable parameter: its path, how to show it and the values it may take."""

    path: str
    """Parameter path, as in ``--set`` (e.g. ``actors.china.resolve``)."""
    owner: str
    """The actor or table id it belongs to."""
    group: Literal["actor", "table", "bloc"]
    """Whether it belongs to an actor, a table or a bloc."""
    label: str
    """Short label for the input."""
    kind: ParameterKind
    """``float`` and ``int`` get sliders, ``choice`` a select box."""
    default: Any
    """The value in the scenario (the nominal value when the parameter is uncertain)."""
    low: float = 0.0
    """Slider minimum."""
    high: float = 1.0
    """Slider maximum."""
    step: float = 0.01
    """Slider step."""
    choices: tuple[str, ...] = ()
    """Allowed values of a ``choice``."""
    uncertain: bool = False
    """The scenario draws it per run; setting it fixes it."""

    def coerce(self, value: Any) -> Any:
        """Turn a value from an input into the value to store: clipped, rounded to the step.

        Raises:
            OverrideError: A choice that is not allowed, or a value that is not a number.
        """
        if self.kind == "choice":
            if value not in self.choices:
                raise OverrideError("dashboard", self.path, value, "one of " + ", ".join(self.choices))
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise OverrideError("dashboard", self.path, value, "a number") from None
        if not np.isfinite(number):
            raise OverrideError("dashboard", self.path, value, "a finite number")
        number = min(max(number, self.low), self.high)
        if self.kind == "int":
            return round(number)
        decimals = max(0, -int(np.floor(np.log10(self.step)))) if self.step < 1 else 0
        return round(round(number / self.step) * self.step, decimals + 1)


def parameter_catalogue(scenario: Scenario) -> dict[str, ParameterSpec]:
    """The key parameters of every actor and table, keyed by path.

    Per actor: ``resolve``, ``strategy.kind`` and ``strategy.e``. Per table: ``deadline`` and, for
    each party, its ``outside_option`` and the weight of every table issue. Per bloc: its
    ``leverage`` and each member's ``cohesion`` and ``defection``.

    Args:
        scenario: The base scenario (defaults and bounds come from it).

    Returns:
        Path to spec, actors first (scenario order), then tables, then blocs.
    """
    specs: list[ParameterSpec] = []

    def add(
        path: str, owner: str, group: Literal["actor", "table", "bloc"], label: str, kind: ParameterKind, **kw
    ):
        specs.append(
            ParameterSpec(
                path=path,
                owner=owner,
                group=group,
                label=label,
                kind=kind,
                default=get_value(scenario, path),
                uncertain=path in scenario.uncertainty,
                **kw,
            )
        )

    for actor_id in scenario.actors:
        base = f"actors.{actor_id}"
        add(f"{base}.resolve", actor_id, "actor", "resolve", "float")
        add(f"{base}.strategy.kind", actor_id, "actor", "strategy", "choice", choices=STRATEGY_KINDS)
        e = float(get_value(scenario, f"{base}.strategy.e"))
        low, high = E_SLIDER_RANGE
        add(
            f"{base}.strategy.e",
            actor_id,
            "actor",
            "concession exponent e",
            "float",
            low=min(low, e),
            high=max(high, e),
            step=0.05,
        )
    for table_id, table in scenario.tables.items():
        base = f"tables.{table_id}"
        low, _, _ = numeric_bounds(scenario, f"{base}.deadline")
        add(
            f"{base}.deadline",
            table_id,
            "table",
            "deadline (round)",
            "int",
            low=low,
            high=max(2 * table.deadline, table.opens + 10),
            step=1,
        )
        for party in table.parties:
            pref = f"{base}.preferences.{party}"
            add(f"{pref}.outside_option", table_id, "table", f"{party}: outside option", "float", low=-1.0)
            for issue in table.issues:
                weight = (
                    float(get_value(scenario, f"{pref}.weights.{issue}"))
                    if issue in (table.preferences[party].weights)
                    else 0.0
                )
                add(
                    f"{pref}.weights.{issue}",
                    table_id,
                    "table",
                    f"{party}: weight of {issue}",
                    "float",
                    high=max(1.0, weight),
                )
    for bloc_id, bloc in scenario.blocs.items():
        base = f"blocs.{bloc_id}"
        add(f"{base}.leverage", bloc_id, "bloc", "leverage of the bloc", "float")
        for member in bloc.members:
            add(f"{base}.members.{member}.cohesion", bloc_id, "bloc", f"{member}: cohesion", "float")
            add(f"{base}.members.{member}.defection", bloc_id, "bloc", f"{member}: defection", "float")
    return {spec.path: spec for spec in specs}


@dataclass(frozen=True)
class DealProbabilities:
    """Deal probability per table from a batch of runs, with Wilson 95% intervals."""

    tables: tuple[str, ...]
    """Table ids, in scenario order."""
    deals: np.ndarray
    """(T,) number of runs that ended in a deal."""
    runs: int
    """Runs in the batch."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """The overrides the batch ran with."""
    defections: tuple[tuple[str, str, int], ...] = ()
    """(bloc, member, runs in which the member left its bloc), for a scenario with blocs."""

    def defection_frame(self) -> pd.DataFrame:
        """One row per bloc member: bloc, member, defected, runs, rate, low, high (95% Wilson)."""
        frame = pd.DataFrame(list(self.defections), columns=["bloc", "member", "defected"])
        frame["runs"] = self.runs
        low, high = wilson_interval(frame["defected"].to_numpy(), np.full(len(frame), self.runs))
        frame["rate"] = frame["defected"] / self.runs if self.runs else np.nan
        frame["low"], frame["high"] = np.asarray(low, float), np.asarray(high, float)
        return frame

    @property
    def p(self) -> np.ndarray:
        """(T,) deal probabilities."""
        return self.deals / self.runs if self.runs else np.full(len(self.tables), np.nan)

    @property
    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        """(T,) lower and upper ends of the 95% Wilson intervals."""
        low, high = wilson_interval(self.deals, np.full(len(self.tables), self.runs))
        return np.asarray(low), np.asarray(high)

    def frame(self) -> pd.DataFrame:
        """One row per table: table, deals, runs, p, low, high."""
        low, high = self.interval
        return pd.DataFrame(
            {
                "table": list(self.tables),
                "deals": self.deals,
                "runs": self.runs,
                "p": self.p,
                "low": low,
                "high": high,
            }
        )


@dataclass(frozen=True)
class TableSummary:
    """The numbers shown for one table of the current run."""

    table: str
    """Table id."""
    status: str
    """'open', 'deal', 'deadline' or 'walkout'."""
    round: int | None
    """Round in which the table ended, None while open."""
    offers: int
    """Offers made so far."""
    utilities: tuple[float, ...] | None
    """Utilities to every party (in table order) of the agreement, or of the last offer while open."""


BatchListener = Callable[[int, int], None]
"""Called with (runs done, runs in total) after each chunk of a background batch."""


class DealBatch:
    """A batch of seeded runs played in a background thread, chunk by chunk.

    Args:
        compiled: The scenario at the parameters to estimate.
        runs: Number of runs.
        master_seed: Master seed; run ``i`` uses ``run_seed(master_seed, i)``, so batches at
            different parameters share random numbers and their difference is less noisy.
        chunk: Runs per chunk (progress is reported between chunks).
        overrides: The overrides it runs with, recorded in the result.
    """

    def __init__(
        self,
        compiled: CompiledScenario,
        runs: int,
        master_seed: int,
        chunk: int,
        overrides: dict[str, Any],
    ) -> None:
        if runs < 1 or chunk < 1:
            raise ValueError("runs and chunk must be positive")
        self.compiled = compiled
        self.runs = runs
        self.master_seed = master_seed
        self.chunk = chunk
        self.overrides = dict(overrides)
        self._done = 0
        self._lock = threading.Lock()
        self._cancel = threading.Event()

    @property
    def done(self) -> int:
        """Runs finished so far."""
        with self._lock:
            return self._done

    def cancel(self) -> None:
        """Ask the batch to stop after the current chunk."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether the batch was asked to stop."""
        return self._cancel.is_set()

    def __call__(self, listener: BatchListener | None = None) -> DealProbabilities | None:
        """Play the batch (in the calling thread) and return its probabilities, None if cancelled."""
        table_ids = self.compiled.table_ids
        deals = np.zeros(len(table_ids), dtype=np.int64)
        members = [(b.bloc_id, m) for b in self.compiled.blocs for m in b.members]
        defected = np.zeros(len(members), dtype=np.int64)
        names = [f"bloc_{b}_{m}_defected" for b, m in members]
        for start in range(0, self.runs, self.chunk):
            if self._cancel.is_set():
                return None
            stop = min(start + self.chunk, self.runs)
            rows = simulate(self.compiled, range(start, stop), self.master_seed)
            frame = rows.select(["table", "deal", *names]).to_pandas()
            first = frame[frame["table"] == table_ids[0]]  # one row per run
            defected += np.array([int(first[name].sum()) for name in names], dtype=np.int64)
            per_table = frame.groupby("table", sort=False)["deal"].sum()
            deals += per_table.reindex(table_ids, fill_value=0).to_numpy(dtype=np.int64)
            with self._lock:
                self._done = stop
            if listener is not None:
                listener(stop, self.runs)
        defections = tuple((b, m, int(n)) for (b, m), n in zip(members, defected, strict=True))
        return DealProbabilities(tuple(table_ids), deals, self.runs, self.overrides, defections)


class DashboardModel(NegotiationModel):
    """The run a dashboard session shows: its scenario and overrides, its seed, traced.

    Equivalent to ``NegotiationModel(scenario, seed=seed, trace=True, **overrides)`` (the session's
    compiled scenario already holds the overrides). Mesa's SolaraViz rebuilds its model as
    ``type(model)(**model_params)`` when Reset is pressed; with ``model_params={"session": state,
    "seed": ...}`` that rebuild goes through the session, so the overrides are kept and the session
    follows the new model.

    Args:
        session: The dashboard session.
        seed: Seed of the run.
    """

    def __init__(self, session: DashboardState, seed: int = 0) -> None:
        super().__init__(session.compiled, seed=int(seed), trace=True)
        self.session = session
        session.adopt(self, int(seed))

    def step(self) -> None:
        """Play one round; does nothing once every table has ended."""
        if self.running:
            super().step()


class DashboardState:
    """One dashboard session: the parameters, the current seeded run and the deal probabilities.

    Args:
        scenario: Scenario file, Scenario, or None for the shipped default.
        seed: Seed of the run shown.
        batch_runs: Runs per deal-probability batch.
        batch_chunk: Runs per chunk of a batch (progress granularity).
        batch_seed: Master seed of the batches.
        executor: Where batches run; a private one-thread pool by default.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | None = None,
        *,
        seed: int = 0,
        batch_runs: int = 200,
        batch_chunk: int = 25,
        batch_seed: int = 0,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.catalogue = parameter_catalogue(self.scenario)
        self.seed = int(seed)
        self.batch_runs = batch_runs
        self.batch_chunk = batch_chunk
        self.batch_seed = batch_seed
        self._executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="deal-batch")
        self._overrides: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.compiled = compile_scenario(self.scenario)
        self.model: NegotiationModel = self._build()
        self.probabilities: DealProbabilities | None = None
        """Probabilities at the current parameters (None until a batch finishes)."""
        self.previous: DealProbabilities | None = None
        """Probabilities from before the last parameter change, for comparison."""
        self.batch: DealBatch | None = None
        self._future: Future | None = None

    # --- parameters ---------------------------------------------------------------------------

    @property
    def overrides(self) -> dict[str, Any]:
        """The current overrides, parameter path to value (a copy)."""
        return dict(self._overrides)

    def value(self, path: str) -> Any:
        """The current value of a catalogue parameter (its override, else the scenario's)."""
        return self._overrides.get(path, self.catalogue[path].default)

    def set_parameter(self, path: str, value: Any) -> bool:
        """Override one parameter and rebuild the run at round 0 with the same seed.

        A value equal to the scenario's own removes the override. Probabilities computed so far
        become the "previous" ones, and a running batch is cancelled.

        Args:
            path: A catalogue path, or any other parameter path accepted by ``--set``.
            value: The new value (clipped and rounded to the catalogue's step).

        Returns:
            Whether anything changed.

        Raises:
            OverrideError: The path names no parameter or the value does not validate; the state is
                left as it was.
        """
        spec = self.catalogue.get(path)
        if spec is not None:
            value = spec.coerce(value)
        overrides = dict(self._overrides)
        if spec is not None and _same(value, spec.default) and not spec.uncertain:
            overrides.pop(path, None)
        else:
            overrides[path] = value
        return self._apply(overrides)

    def set_overrides(self, overrides: dict[str, Any]) -> bool:
        """Replace all overrides at once (e.g. from an overlay file); see :meth:`set_parameter`."""
        return self._apply(dict(overrides))

    def clear_overrides(self) -> bool:
        """Go back to the scenario's own values."""
        return self._apply({})

    def _apply(self, overrides: dict[str, Any]) -> bool:
        if overrides == self._overrides:
            return False
        compiled = compile_scenario(apply_overrides(self.scenario, overrides, source="dashboard"))
        self._overrides = overrides
        self.compiled = compiled
        with self._lock:  # a batch finishing now must not publish results for the old parameters
            self.cancel_batch()
            if self.probabilities is not None:
                self.previous = self.probabilities
            self.probabilities = None
        self.model = self._build()
        return True

    # --- the run ------------------------------------------------------------------------------

    def _build(self) -> NegotiationModel:
        return DashboardModel(self, self.seed)

    def reset(self, seed: int | None = None) -> NegotiationModel:
        """Start the run again at round 0 (with a new seed if given)."""
        if seed is not None:
            self.seed = int(seed)
        self.model = self._build()
        return self.model

    def adopt(self, model: NegotiationModel, seed: int) -> None:
        """Make a model built elsewhere from this state's parameters the current run."""
        self.seed = int(seed)
        self.model = model

    def step(self) -> bool:
        """Play one round; False (and nothing happens) when the run has already ended."""
        if not self.model.running:
            return False
        self.model.step()
        return True

    def run(self) -> None:
        """Play the run to its end."""
        while self.model.running:
            self.model.step()

    @property
    def round(self) -> int:
        """Rounds played so far."""
        return self.model.round

    @property
    def finished(self) -> bool:
        """Whether every table has ended."""
        return not self.model.running

    @property
    def table_ids(self) -> list[str]:
        """Table ids in scenario order."""
        return list(self.compiled.table_ids)

    def offers(self, table_id: str | None = None) -> pd.DataFrame:
        """The trace of offers so far, optionally for one table (see ``run_charts.run_offers``).

        One row per offer (at a table of more than two too), with ``utility_0``, ``utility_1``, ...:
        each offer's utility to the table's first, second, ... party.
        """
        return run_offers(self.model, table_id)

    def parties(self, table_id: str) -> tuple[str, ...]:
        """Every party of a table, in table order (the opener first)."""
        return parties_of(self.model, table_id)

    def status(self, table_id: str) -> str:
        """'open', 'deal', 'deadline' or 'walkout' in the current run."""
        t = self.compiled.table_ids.index(table_id)
        return STATUS_NAMES[int(self.model.negotiation.status[t])]

    def utility_space(self, table_id: str) -> UtilitySpace:
        """Pareto frontier, Nash point, offers so far and agreement of one table of two in the current run.

        Raises:
            ValueError: The table has more than two parties (see ``run_charts.utility_space``).
        """
        return utility_space(self.model, table_id)

    def bloc_trace(self) -> pd.DataFrame:
        """The run's blocs so far: the common position and every member's stance in every round."""
        return self.model.datacollector.get_table_dataframe("bloc")

    def summary(self) -> list[TableSummary]:
        """Status, end round, offers so far and utilities of every table in the current run."""
        offers = self.offers()
        outcomes = self.model.outcomes()
        rows = []
        for t, table_id in enumerate(self.table_ids):
            status = self.status(table_id)
            mine = offers[offers["table"] == table_id]
            utilities = None
            parties = self.parties(table_id)
            if status == "deal":
                utilities = tuple(float(outcomes[t].utilities[p]) for p in parties)
            elif len(mine):
                utilities = tuple(float(mine[f"utility_{i}"].iloc[-1]) for i in range(len(parties)))
            rows.append(
                TableSummary(
                    table=table_id,
                    status=status,
                    round=None if status == "open" else int(outcomes[t].round),
                    offers=len(mine),
                    utilities=utilities,
                )
            )
        return rows

    # --- deal probabilities -------------------------------------------------------------------

    def start_batch(self, listener: BatchListener | None = None) -> Future:
        """Start a deal-probability batch at the current parameters in the background.

        A batch already running is cancelled first. When the batch finishes (and the parameters
        have not changed meanwhile), its result becomes :attr:`probabilities`.

        Args:
            listener: Called from the worker thread after every chunk with (done, total).

        Returns:
            The future of the batch's :class:`DealProbabilities` (None if it was cancelled or the
            parameters changed before it finished).
        """
        with self._lock:
            self.cancel_batch()
            batch = DealBatch(
                self.compiled, self.batch_runs, self.batch_seed, self.batch_chunk, self._overrides
            )
            self.batch = batch

        def work() -> DealProbabilities | None:
            result = batch(listener)
            with self._lock:
                if result is None or self.batch is not batch or batch.cancelled:
                    return None
                self.probabilities = result
            return result

        self._future = self._executor.submit(work)
        return self._future

    def cancel_batch(self) -> None:
        """Stop a running batch (its result is dropped)."""
        if self.batch is not None:
            self.batch.cancel()

    @property
    def batch_running(self) -> bool:
        """Whether a batch is being played."""
        return self._future is not None and not self._future.done()

    @property
    def batch_progress(self) -> tuple[int, int]:
        """(runs done, runs in total) of the latest batch; (0, 0) before any."""
        if self.batch is None:
            return 0, 0
        return self.batch.done, self.batch.runs

    def close(self) -> None:
        """Cancel any batch and release the worker thread."""
        self.cancel_batch()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- overlay ------------------------------------------------------------------------------

    def write_overlay(self, path: str | Path, comment: str | None = None, overwrite: bool = False) -> Path:
        """Write the current overrides as an overlay file for ``run``, ``batch`` and ``calibrate``.

        A file that is already there is replaced only if the dashboard wrote it (its first line
        says so) or ``overwrite`` is given: a user's own file is never lost to a typo.

        Raises:
            OverrideError: The path holds a folder, or a file the dashboard did not write (and no
                ``overwrite``).
            FileSystemError: The file cannot be written (the reason is named).
        """
        path = Path(path)
        if path.is_dir():
            raise OverrideError(str(path), "", "a folder", "a file name for the overlay")
        if path.exists() and not overwrite and not _written_by_dashboard(path):
            raise OverrideError(
                str(path),
                "",
                "a file the dashboard did not write",
                "a new file name, or tick Overwrite to replace it",
            )
        if comment is None:
            comment = (
                f"{OVERLAY_HEADER} for scenario {self.scenario.name!r}.\n"
                "Use with: negotiation run --overlay FILE"
            )
        return write_overlay(path, self._overrides, comment)


OVERLAY_HEADER = "Overlay written by the negotiation dashboard"
"""First words of an overlay file the dashboard wrote (as its first comment line)."""


def _written_by_dashboard(path: Path) -> bool:
    """Whether an existing file starts with the dashboard's overlay comment."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return first.startswith(f"# {OVERLAY_HEADER}")


def summary_frame(state: DashboardState) -> pd.DataFrame:
    """The numbers of the current run, one row per table.

    Utilities are those of the agreement once a table has a deal, of the last offer while it is open.
    """
    rows = []
    for row in state.summary():
        parties = state.parties(row.table)
        utilities = "" if row.utilities is None else " / ".join(f"{u:.2f}" for u in row.utilities)
        rows.append(
            {
                "table": row.table,
                "parties": " / ".join(parties),
                "status": row.status,
                "ended in round": "" if row.round is None else str(row.round),
                "offers": row.offers,
                "utilities": utilities,
            }
        )
    return pd.DataFrame(rows)


def probability_comparison(current: DealProbabilities, previous: DealProbabilities | None) -> pd.DataFrame:
    """Deal probabilities per table with their intervals, and the previous ones and the change.

    Args:
        current: Probabilities at the current parameters.
        previous: Probabilities from before the last parameter change, or None.

    Returns:
        Columns table, p, low, high (and p before, change when ``previous`` is given).
    """
    frame = current.frame()[["table", "p", "low", "high"]]
    if previous is None:
        return frame
    before = pd.Series(previous.p, index=list(previous.tables))
    frame = frame.assign(**{"p before": frame["table"].map(before)})
    return frame.assign(change=frame["p"] - frame["p before"])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return bool(np.isclose(float(a), float(b), rtol=0.0, atol=1e-12))
    return a == b
