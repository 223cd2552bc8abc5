"""Who decides at each seat: negotiator kinds from entry points, classes from the Python API.

A scenario names a kind for an actor (``actors.<id>.negotiator``) or for an actor at one table
(``tables.<id>.negotiators.<actor>``); the kind is a name in the entry-point group
``negotiation.negotiators``, loaded here when a run seats it. The Python API may pass classes (or
any callable that returns a negotiator) instead, by actor or by ``(actor, table)``. A seat named by
neither keeps the actor's scenario strategy: on the fast path when no seat of the run has a
negotiator, else by its reference negotiator (:class:`negotiation.negotiators.reference.BuiltinStrategy`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from negotiation.bargaining.compiled import CompiledScenario
from negotiation.errors import ScenarioError
from negotiation.negotiators.interface import Negotiator
from negotiation.negotiators.reference import BuiltinStrategy
from negotiation.scenario.kinds import NEGOTIATOR_GROUP, registered_kinds
from negotiation.scenario.schema import NegotiatorSpec

Factory = Callable[..., Negotiator]
"""A negotiator class, or any callable that returns a new negotiator."""
NegotiatorChoice = Mapping[str | tuple[str, str], Factory] | str | None
"""What the Python API accepts: None (the scenario's choice), ``"reference"`` (every seat by its
reference negotiator), or a mapping from an actor id or an ``(actor, table)`` pair to a factory."""
REFERENCE = "reference"
"""Play every seat that names no negotiator by its reference negotiator (the per-run path)."""


def load_kind(kind: str, source: str = "", field: str = "") -> Factory:
    """The factory registered under a kind.

    Args:
        kind: The kind's name in the entry-point group.
        source: The scenario it was named in (for errors).
        field: The field that named it (for errors).

    Returns:
        The factory (a class or callable).

    Raises:
        ScenarioError: No installed package registers the kind, or it cannot be loaded.
    """
    points: dict[str, EntryPoint] = {p.name: p for p in entry_points(group=NEGOTIATOR_GROUP)}
    if kind not in points:
        kinds = ", ".join(registered_kinds()) or "none is installed"
        raise ScenarioError(source, field, kind, f"a registered negotiator kind: {kinds}")
    try:
        factory = points[kind].load()
    except Exception as exc:  # a broken plugin is named, not shown as a traceback
        raise ScenarioError(
            source, field, kind, f"a kind whose package loads ({points[kind].value}: {exc})"
        ) from None
    if not callable(factory):
        raise ScenarioError(source, field, kind, f"a kind registered as a class ({points[kind].value})")
    return factory


def make(factory: Factory, params: Mapping[str, Any], source: str, field: str) -> Negotiator:
    """A new negotiator from its factory and parameters; a bad parameter is one clear error."""
    try:
        negotiator = factory(**params)
    except (TypeError, ValueError) as exc:
        try:
            accepted = str(inspect.signature(factory))
        except (TypeError, ValueError):
            accepted = "its documented parameters"
        raise ScenarioError(source, field, dict(params), f"parameters {accepted} ({exc})") from None
    if not isinstance(negotiator, Negotiator):
        raise ScenarioError(source, field, type(negotiator).__name__, "a negotiation.negotiators Negotiator")
    return negotiator


def seat_negotiators(
    compiled: CompiledScenario, choice: NegotiatorChoice = None
) -> dict[tuple[int, int], Negotiator] | None:
    """A negotiator for every seat of a run, or None when every seat keeps the fast path.

    Tables of more than two (SAOP) get no seats: they play the built-in strategies.

    Precedence at a seat: the API's ``(actor, table)``, the API's actor, the scenario's table entry,
    the scenario's actor entry; other seats get their reference negotiator.

    Args:
        compiled: The compiled scenario.
        choice: See :data:`NegotiatorChoice`.

    Returns:
        ``{(table index, side): negotiator}``, or None.
    """
    scenario = compiled.scenario
    source = f"scenario {scenario.name!r}"
    api: Mapping[str | tuple[str, str], Factory] = choice if isinstance(choice, Mapping) else {}
    if isinstance(choice, str) and choice != REFERENCE:
        raise ValueError(f"negotiators={choice!r}: expected None, {REFERENCE!r} or a mapping")
    seats: dict[tuple[int, int], Negotiator] = {}
    chosen = choice == REFERENCE
    for t, table_id in enumerate(compiled.table_ids):
        table = scenario.tables[table_id]
        if compiled.stacked[t]:  # tables of more than two play the built-in strategies (SAOP)
            continue
        for side, actor_id in enumerate(table.parties):
            actor = scenario.actors[actor_id]
            if (actor_id, table_id) in api:
                seats[t, side] = make(api[actor_id, table_id], {}, source, f"({actor_id}, {table_id})")
            elif actor_id in api:
                seats[t, side] = make(api[actor_id], {}, source, actor_id)
            elif actor_id in table.negotiators:
                field = f"tables.{table_id}.negotiators.{actor_id}"
                seats[t, side] = _from_spec(table.negotiators[actor_id], source, field)
            elif actor.negotiator is not None:
                seats[t, side] = _from_spec(actor.negotiator, source, f"actors.{actor_id}.negotiator")
            else:
                continue
            chosen = True
    if not chosen:
        return None
    for t in (t for t in range(compiled.n_tables) if not compiled.stacked[t]):
        for side in (0, 1):
            seats.setdefault((t, side), BuiltinStrategy())
    return seats


def _from_spec(spec: NegotiatorSpec, source: str, field: str) -> Negotiator:
    return make(load_kind(spec.kind, source, f"{field}.kind"), spec.params, source, field)


def uses_negotiators(compiled: CompiledScenario) -> bool:
    """True when the scenario names a negotiator at some seat (its runs take the per-run path)."""
    scenario = compiled.scenario
    return any(a.negotiator is not None for a in scenario.actors.values()) or any(
        t.negotiators for t in scenario.tables.values()
    )
