"""A scenario compiled to numeric arrays, and the per-run draw of its uncertain parameters.

Compiling happens once per scenario (or design point); each run then only copies the base arrays
and writes its draws into them. That keeps validation off the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from negotiation.bargaining import streams
from negotiation.bargaining.bloc_rounds import CompiledBloc, compile_blocs
from negotiation.bargaining.strategies import (
    LAST_OFFER_CODES,
    OFFER_RULE_CODES,
    OPPONENT_MODEL_CODES,
    STRATEGY_CODES,
)
from negotiation.scenario.bounds import numeric_bounds
from negotiation.scenario.checks import plays_stacked
from negotiation.scenario.schema import Scenario

PARAMETER_ARRAYS = (
    "leverage",
    "pressure",
    "resolve",
    "rapport",
    "exponent",
    "reciprocity",
    "initial_concession",
    "discount",
    "delay_cost",
    "weights",
    "ideal",
    "outside_option",
    "curvature",
    "no_deal",
    "breakdown_risk",
    "deadline",
    "link_strength",
    "coefficients",
    "bloc_leverage",
    "bloc_cohesion",
    "bloc_defection",
)
"""Arrays that uncertain parameters may be written into; each run gets its own copy."""

COEFFICIENTS = ("leverage_effect", "urgency_gain", "resolve_gain", "mediation_strength", "learning_prior")
_DIST_CODES = {"uniform": 0, "normal": 1, "triangular": 2}


@dataclass(frozen=True)
class Slot:
    """Where one uncertain parameter lands: an array, a flat index and an affine transform."""

    path: str
    array: str
    index: int
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class CompiledEvent:
    """A scheduled shock as slot writes."""

    name: str
    round: int
    probability: float
    slots: tuple[Slot, ...]
    values: np.ndarray
    """New value (or increment) per slot, in the parameter's own units."""
    shift: np.ndarray
    """True where the value is an increment rather than a new value."""
    bounds: np.ndarray
    """(n, 2) clip bounds per slot, in the parameter's own units."""

    def apply(self, params: dict[str, np.ndarray], hit: np.ndarray) -> None:
        """Write the event's changes into the parameter arrays of the runs it hits, in place.

        Args:
            params: Parameter arrays with a leading run axis.
            hit: (N,) True for runs in which the event happens.
        """
        n_runs = hit.shape[0]
        changes = zip(self.slots, self.values, self.shift, self.bounds, strict=True)
        for slot, value, shift, (lo, hi) in changes:
            array = params[slot.array].reshape(n_runs, -1)
            current = (array[hit, slot.index] - slot.offset) / slot.scale
            new = np.clip(current + value if shift else np.full_like(current, value), lo, hi)
            array[hit, slot.index] = slot.scale * new + slot.offset


@dataclass(frozen=True, eq=False)
class CompiledScenario:
    """Static structure and base parameter arrays of a scenario.

    Shapes: A actors, T tables, K = the most issues at any table (shorter tables are padded with
    zero-weight issues), P = the most parties at any table (2 unless a table has more; per-party
    preference arrays are padded to P), L linkages. Side 0 of a table is its first party (the opener).
    """

    scenario: Scenario
    actor_ids: tuple[str, ...]
    table_ids: tuple[str, ...]
    table_issues: tuple[tuple[str, ...], ...]
    parties: np.ndarray
    """(T, 2) actor index of each side (the first two parties of a table of more)."""
    seats: np.ndarray
    """(T, P) actor index of each party, P the most parties at any table; -1 pads smaller tables."""
    stacked: np.ndarray
    """(T,) True where a table plays the stacked alternating offers protocol (:mod:`saop`)."""
    quota: np.ndarray
    """(T,) share of the parties other than the proposer who must accept (1 under unanimity)."""
    mediator: np.ndarray
    """(T,) actor index of the mediator, -1 for none."""
    opens: np.ndarray
    """(T,) first round of offers."""
    issue_mask: np.ndarray
    """(T, K) True where a real issue sits."""
    binary: np.ndarray
    """(T, K) True for binary issues."""
    low: np.ndarray
    """(T, K) lower end of each issue's range, real units."""
    high: np.ndarray
    """(T, K) upper end of each issue's range, real units."""
    status_quo: np.ndarray
    """(T, K) normalised status quo."""
    strategy: np.ndarray
    """(A,) strategy code (see strategies.STRATEGY_CODES)."""
    offer_rule: np.ndarray
    """(A,) offer-rule code (strategies.OFFER_RULE_CODES)."""
    last_offer: np.ndarray
    """(A,) last-round code of time-dependent tactics (strategies.LAST_OFFER_CODES)."""
    opponent_model: np.ndarray
    """(A,) opponent-model code (strategies.OPPONENT_MODEL_CODES)."""
    link_kind: np.ndarray
    """(L,) 0 precedent, 1 escalation."""
    link_source: np.ndarray
    """(L,) source table index."""
    link_targets: tuple[np.ndarray, ...]
    """Per linkage, target table indices."""
    link_issue: tuple[np.ndarray, ...]
    """Per precedent linkage, (source column, target columns...) of its issue; empty otherwise."""
    base: dict[str, np.ndarray]
    """Parameter arrays named in PARAMETER_ARRAYS, before any draw."""
    slots: tuple[Slot, ...]
    """One per uncertain parameter, in scenario order."""
    draw_spec: np.ndarray = field(repr=False)
    """(U, 6): dist code, a, b, c, clip low, clip high; for vectorised sampling."""
    integer_draws: np.ndarray = field(repr=False)
    """(U,) True where the parameter is an integer (rounded after the draw)."""
    events: tuple[CompiledEvent, ...] = ()
    """Scheduled shocks, in scenario order."""
    blocs: tuple[CompiledBloc, ...] = ()
    """Blocs of actors (see :mod:`negotiation.bargaining.bloc_rounds`), in scenario order."""

    @property
    def n_tables(self) -> int:
        """Number of tables."""
        return len(self.table_ids)

    @property
    def n_parties(self) -> np.ndarray:
        """(T,) number of parties at each table."""
        return (self.seats >= 0).sum(axis=1)

    @property
    def n_issues(self) -> int:
        """Width K of the padded issue axis."""
        return self.issue_mask.shape[1]

    def draw(self, keys: np.ndarray) -> dict[str, np.ndarray]:
        """Copy the base arrays once per run and write each run's draw of the uncertain parameters.

        Each parameter's uniform number comes from its own stream, keyed by the run and the parameter's
        path (:mod:`negotiation.bargaining.streams`), so a run's draw of one parameter does not depend
        on which other parameters are uncertain, nor on the other runs.

        Args:
            keys: (N, 2) run keys (``streams.run_keys``), one per run.

        Returns:
            Parameter arrays with a leading run axis of length N.
        """
        n_runs = len(keys)
        params = {name: np.repeat(array[None], n_runs, axis=0) for name, array in self.base.items()}
        if not self.slots:
            return params
        names = tuple(f"parameter:{slot.path}" for slot in self.slots)
        uniforms = streams.uniforms(keys, streams.stream_ids(names), 1)[..., 0]
        values = sample_quantiles(self.draw_spec, uniforms)
        values = np.where(self.integer_draws, np.round(values), values)
        for j, slot in enumerate(self.slots):
            params[slot.array].reshape(n_runs, -1)[:, slot.index] = slot.scale * values[:, j] + slot.offset
        return params


def sample_quantiles(spec: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Map uniform numbers to draws by inverse CDF, then clip to each parameter's bounds.

    Args:
        spec: (U, 6) rows of dist code, a, b, c, clip low, clip high, where (a, b, c) is
            (low, high, -) for uniform, (mean, sd, -) for normal, (low, mode, high) for triangular.
        u: (..., U) numbers in [0, 1).

    Returns:
        (..., U) draws.

    >>> spec = np.array([[0, 2.0, 4.0, 0, -9, 9], [2, 0.0, 1.0, 1.0, -9, 9]])
    >>> sample_quantiles(spec, np.array([0.5, 0.25])).tolist()
    [3.0, 0.5]
    """
    code, a, b, c, lo, hi = spec.T
    uniform = a + u * (b - a)
    normal = a + b * ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    span = np.where(code == 2, c - a, 1.0)
    cut = np.where(span > 0, (b - a) / span, 0.0)
    tri_left = a + np.sqrt(np.maximum(u * span * (b - a), 0.0))
    tri_right = c - np.sqrt(np.maximum((1.0 - u) * span * (c - b), 0.0))
    triangular = np.where(u < cut, tri_left, tri_right)
    values = np.select([code == 0, code == 1], [uniform, normal], triangular)
    return np.clip(values, lo, hi)


def compile_scenario(scenario: Scenario) -> CompiledScenario:
    """Compile a validated scenario into arrays.

    Args:
        scenario: The scenario.

    Returns:
        The compiled scenario.
    """
    actor_ids = tuple(scenario.actors)
    table_ids = tuple(scenario.tables)
    actor_index = {actor: i for i, actor in enumerate(actor_ids)}
    table_index = {table: i for i, table in enumerate(table_ids)}
    n_actors, n_tables = len(actor_ids), len(table_ids)
    width = max(len(table.issues) for table in scenario.tables.values())
    n_seats = max(len(table.parties) for table in scenario.tables.values())

    actors = [scenario.actors[a] for a in actor_ids]
    rapport = np.zeros((n_actors, n_actors))
    for i, actor in enumerate(actors):
        for other, value in actor.rapport.items():
            rapport[i, actor_index[other]] = value

    shape = (n_tables, width)
    mask, binary = np.zeros(shape, bool), np.zeros(shape, bool)
    low, high, status_quo = np.zeros(shape), np.ones(shape), np.zeros(shape)
    no_deal = np.zeros(shape)
    weights, ideal = np.zeros((n_tables, n_seats, width)), np.zeros((n_tables, n_seats, width))
    outside_option = np.zeros((n_tables, n_seats))
    curvature = np.ones((n_tables, n_seats))
    seats = np.full((n_tables, n_seats), -1, np.intp)
    mediator = np.full(n_tables, -1, np.intp)
    for t, table_id in enumerate(table_ids):
        table = scenario.tables[table_id]
        seats[t, : len(table.parties)] = [actor_index[p] for p in table.parties]
        if table.mediator is not None:
            mediator[t] = actor_index[table.mediator]
        for k, issue_id in enumerate(table.issues):
            lo, hi = scenario.issue_range(table_id, issue_id)
            mask[t, k], binary[t, k] = True, scenario.issues[issue_id].kind == "binary"
            low[t, k], high[t, k] = lo, hi
            status_quo[t, k] = (scenario.status_quo(table_id, issue_id) - lo) / (hi - lo)
            no_deal[t, k] = (scenario.no_deal(table_id, issue_id) - lo) / (hi - lo)
        for side, party in enumerate(table.parties):
            pref = table.preferences[party]
            outside_option[t, side] = pref.outside_option
            curvature[t, side] = pref.curvature
            for k, issue_id in enumerate(table.issues):
                weights[t, side, k] = pref.weights.get(issue_id, 0.0)
                ideal[t, side, k] = _normalised_ideal(pref.ideal.get(issue_id), low[t, k], high[t, k])

    links = scenario.linkages
    link_issue = []
    for link in links:
        if link.kind == "precedent":
            cols = [scenario.tables[tid].issues.index(link.issue) for tid in (link.source, *link.targets)]
            link_issue.append(np.array(cols, np.intp))
        else:
            link_issue.append(np.zeros(0, np.intp))

    base = {
        "leverage": np.array([a.leverage for a in actors]),
        "pressure": np.array([a.domestic_pressure for a in actors]),
        "resolve": np.array([a.resolve for a in actors]),
        "rapport": rapport,
        "discount": np.array([a.discount for a in actors]),
        "delay_cost": np.array([a.delay_cost for a in actors]),
        "exponent": np.array([a.strategy.e for a in actors]),
        "reciprocity": np.array([a.strategy.reciprocity for a in actors]),
        "initial_concession": np.array([a.strategy.initial_concession for a in actors]),
        "weights": weights,
        "ideal": ideal,
        "outside_option": outside_option,
        "curvature": curvature,
        "no_deal": no_deal,
        "breakdown_risk": np.array([scenario.tables[t].breakdown_risk for t in table_ids]),
        "deadline": np.array([float(scenario.tables[t].deadline) for t in table_ids]),
        "link_strength": np.array([link.strength for link in links]),
        "coefficients": np.array([getattr(scenario.model, name) for name in COEFFICIENTS]),
    }
    blocs, bloc_base = compile_blocs(scenario, actor_index, table_ids)
    base.update(bloc_base)
    slots, spec, integer = [], [], []
    for path, dist in scenario.uncertainty.items():
        lo, hi, is_int = numeric_bounds(scenario, path)
        slots.append(_slot(path, actor_index, table_index, scenario, base))
        if dist.dist == "uniform":
            spec.append((0, dist.low, dist.high, 0.0, lo, hi))
        elif dist.dist == "normal":
            spec.append((1, dist.mean, dist.sd, 0.0, lo, hi))
        else:
            spec.append((2, dist.low, dist.mode, dist.high, lo, hi))
        integer.append(is_int)
    events = []
    for event in scenario.events:
        changes = [(path, value, False) for path, value in event.set.items()]
        changes += [(path, value, True) for path, value in event.shift.items()]
        events.append(
            CompiledEvent(
                name=event.name,
                round=event.round,
                probability=event.probability,
                slots=tuple(_slot(path, actor_index, table_index, scenario, base) for path, _, _ in changes),
                values=np.array([value for _, value, _ in changes], float),
                shift=np.array([shift for _, _, shift in changes], bool),
                bounds=np.array([numeric_bounds(scenario, path)[:2] for path, _, _ in changes], float),
            )
        )
    return CompiledScenario(
        events=tuple(events),
        blocs=blocs,
        scenario=scenario,
        actor_ids=actor_ids,
        table_ids=table_ids,
        table_issues=tuple(scenario.tables[t].issues for t in table_ids),
        parties=np.ascontiguousarray(seats[:, :2]),
        seats=seats,
        stacked=np.array([plays_stacked(scenario.tables[t]) for t in table_ids], bool),
        quota=np.array([scenario.tables[t].quota or 1.0 for t in table_ids]),
        mediator=mediator,
        opens=np.array([scenario.tables[t].opens for t in table_ids], np.int64),
        issue_mask=mask,
        binary=binary,
        low=low,
        high=high,
        status_quo=status_quo,
        strategy=np.array([STRATEGY_CODES[a.strategy.kind] for a in actors], np.int8),
        offer_rule=np.array([OFFER_RULE_CODES[a.strategy.offers] for a in actors], np.int8),
        last_offer=np.array([LAST_OFFER_CODES[a.strategy.last_offer] for a in actors], np.int8),
        opponent_model=np.array([OPPONENT_MODEL_CODES[a.strategy.opponent_model] for a in actors], np.int8),
        link_kind=np.array([0 if link.kind == "precedent" else 1 for link in links], np.int8),
        link_source=np.array([table_index[link.source] for link in links], np.intp),
        link_targets=tuple(np.array([table_index[t] for t in link.targets], np.intp) for link in links),
        link_issue=tuple(link_issue),
        base=base,
        slots=tuple(slots),
        draw_spec=np.array(spec, float).reshape(-1, 6),
        integer_draws=np.array(integer, bool),
    )


def _normalised_ideal(ideal: float | str | None, low: float, high: float) -> float:
    if ideal is None:
        return 0.5
    if ideal == "increase":
        return 1.0
    if ideal == "decrease":
        return 0.0
    return (float(ideal) - low) / (high - low)


def _slot(
    path: str,
    actor_index: dict[str, int],
    table_index: dict[str, int],
    scenario: Scenario,
    base: dict[str, np.ndarray],
) -> Slot:
    parts = path.split(".")
    if parts[0] == "actors":
        a = actor_index[parts[1]]
        tail = parts[2:]
        if tail[0] == "rapport":
            return Slot(path, "rapport", a * len(actor_index) + actor_index[tail[1]])
        name = {
            "leverage": "leverage",
            "domestic_pressure": "pressure",
            "resolve": "resolve",
            "discount": "discount",
            "delay_cost": "delay_cost",
            "e": "exponent",
            "reciprocity": "reciprocity",
            "initial_concession": "initial_concession",
        }[tail[-1]]
        return Slot(path, name, a)
    if parts[0] == "tables":
        t = table_index[parts[1]]
        table = scenario.tables[parts[1]]
        if parts[2] in ("breakdown_risk", "deadline"):
            return Slot(path, parts[2], t)
        if parts[2] == "no_deal":
            k = table.issues.index(parts[3])
            lo, hi = scenario.issue_range(parts[1], parts[3])
            flat = np.ravel_multi_index((t, k), base["no_deal"].shape)
            return Slot(path, "no_deal", int(flat), 1.0 / (hi - lo), -lo / (hi - lo))
        side = table.parties.index(parts[3])
        if parts[4] in ("outside_option", "curvature"):
            return Slot(path, parts[4], t * base[parts[4]].shape[1] + side)
        k = table.issues.index(parts[5])
        flat = np.ravel_multi_index((t, side, k), base[parts[4]].shape)
        if parts[4] == "weights":
            return Slot(path, "weights", int(flat))
        lo, hi = scenario.issue_range(parts[1], parts[5])
        return Slot(path, "ideal", int(flat), 1.0 / (hi - lo), -lo / (hi - lo))
    if parts[0] == "linkages":
        return Slot(path, "link_strength", int(parts[1]))
    if parts[0] == "blocs":
        blocs = list(scenario.blocs)
        if parts[2] == "leverage":
            return Slot(path, "bloc_leverage", blocs.index(parts[1]))
        first = sum(len(scenario.blocs[b].members) for b in blocs[: blocs.index(parts[1])])
        member = list(scenario.blocs[parts[1]].members).index(parts[3])
        return Slot(path, f"bloc_{parts[4]}", first + member)
    return Slot(path, "coefficients", COEFFICIENTS.index(parts[1]))
