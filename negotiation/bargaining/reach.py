"""Which tables a parameter can reach, from the scenario's structure alone.

A parameter reaches a table when the core reads it there: an actor's fields reach the tables where
the actor sits (its leverage also where it mediates; its rapport with another actor the tables the
two share), a table's fields reach that table, a linkage's fields its targets, an issue's fields
the tables where it is on the agenda, a model coefficient every table, a bloc's fields the tables
where its members face non-members. Then linkages and blocs carry reach along: a table whose outcome
changes can change the tables it is linked to, and a table where a bloc member faces a non-member
every other such table of that bloc (a deal there is a defection, which weakens the bloc),
transitively.

Every run's random numbers are keyed by name (:mod:`negotiation.bargaining.streams`), so a table that
a change cannot reach plays exactly as before, run by run: a paired comparison shows no change there,
and a chart must not show an effect there. ``tests/test_reach.py`` checks this against the model.
"""

from __future__ import annotations

from collections.abc import Iterable

from negotiation.scenario.schema import Scenario


def tables_reached(scenario: Scenario, paths: str | Iterable[str]) -> tuple[str, ...]:
    """The tables whose outcomes a change at any of ``paths`` can move, in scenario order.

    Args:
        scenario: The scenario (its actors, tables, issues and linkages).
        paths: Parameter paths (``actors.china.resolve``, ``uncertainty.<path>``, ``events.2.probability``).

    Returns:
        Table ids; unknown paths reach every table (the safe answer).

    >>> from negotiation.scenario.loading import load_scenario
    >>> tables_reached(load_scenario(None), "tables.us-japan.preferences.japan.reservation")
    ('us-japan', 'us-korea')
    """
    if isinstance(paths, str):
        paths = [paths]
    reached: set[str] = set()
    for path in paths:
        reached |= _direct(scenario, path)
    return _closure(scenario, reached)


def unreachable_tables(scenario: Scenario, paths: str | Iterable[str]) -> tuple[str, ...]:
    """The tables that no change at ``paths`` can move, in scenario order."""
    reached = set(tables_reached(scenario, paths))
    return tuple(t for t in scenario.tables if t not in reached)


def _direct(scenario: Scenario, path: str) -> set[str]:
    """Tables that read the parameter at ``path`` themselves (before linkages)."""
    everything = set(scenario.tables)
    if path.startswith("uncertainty."):
        inner = path.removeprefix("uncertainty.")
        for field in ("dist", "low", "high", "mode", "mean", "sd"):
            inner = inner.removesuffix(f".{field}")
        return _direct(scenario, inner)
    parts = path.split(".")
    head = parts[0]
    if head == "actors" and len(parts) >= 3:
        actor, field = parts[1], parts[2]
        if field == "rapport":
            if len(parts) < 4:
                return {t for t, table in scenario.tables.items() if actor in table.parties}
            pair = {actor, parts[3]}
            return {t for t, table in scenario.tables.items() if set(table.parties) == pair}
        at_table = {t for t, table in scenario.tables.items() if actor in table.parties}
        if field == "leverage":
            at_table |= {t for t, table in scenario.tables.items() if table.mediator == actor}
        return at_table
    if head == "tables" and len(parts) >= 2:
        return {parts[1]} if parts[1] in scenario.tables else everything
    if head == "linkages" and len(parts) >= 2 and parts[1].isdigit():
        index = int(parts[1])
        return set(scenario.linkages[index].targets) if index < len(scenario.linkages) else everything
    if head == "events" and len(parts) >= 2 and parts[1].isdigit():
        index = int(parts[1])
        if index >= len(scenario.events):
            return everything
        event = scenario.events[index]
        reached: set[str] = set()
        for changed in (*event.set, *event.shift):
            reached |= _direct(scenario, changed)
        return reached
    if head == "issues" and len(parts) >= 2:
        return {t for t, table in scenario.tables.items() if parts[1] in table.issues}
    if head == "blocs" and len(parts) >= 2:
        return set(_bloc_tables(scenario, parts[1])) if parts[1] in scenario.blocs else everything
    if head in ("name", "description"):
        return set()
    return everything


def _bloc_tables(scenario: Scenario, bloc_id: str) -> tuple[str, ...]:
    """Tables where a member of the bloc faces a non-member (those the bloc pulls on)."""
    members = scenario.blocs[bloc_id].members
    return tuple(
        t
        for t, table in scenario.tables.items()
        if any(p in members for p in table.parties) and not all(p in members for p in table.parties)
    )


def _closure(scenario: Scenario, reached: set[str]) -> tuple[str, ...]:
    """Add, until nothing changes, what a reached table carries reach to.

    The targets of every linkage whose source is reached, and every table of a bloc one of whose
    tables is reached.
    """
    couplings = [(link.source, set(link.targets)) for link in scenario.linkages]
    for bloc_id in scenario.blocs:
        tables = set(_bloc_tables(scenario, bloc_id))
        couplings += [(table, tables) for table in tables]
    grew = True
    while grew:
        grew = False
        for source, targets in couplings:
            if source in reached and not targets <= reached:
                reached |= targets
                grew = True
    return tuple(t for t in scenario.tables if t in reached)


def changed_paths(base: Scenario, variant: Scenario) -> list[str]:
    """The parameter paths at which two scenarios differ (``uncertainty.<path>``, ``events.<i>``, ...).

    >>> from negotiation.scenario.loading import load_scenario
    >>> base = load_scenario(None)
    >>> changed_paths(base, load_scenario(None, {"tables.us-china.deadline": 10}))
    ['tables.us-china.deadline']
    >>> changed_paths(base, load_scenario(None, {"actors.china.resolve": 0.9}))
    ['actors.china.resolve', 'uncertainty.actors.china.resolve']
    """
    first, second = base.model_dump(mode="python"), variant.model_dump(mode="python")
    changed: list[str] = []
    for key in dict.fromkeys([*first, *second]):
        a, b = first.get(key), second.get(key)
        if a == b:
            continue
        if key in ("uncertainty", "events", "linkages"):
            a_items = _indexed(a)
            b_items = _indexed(b)
            changed += [
                f"{key}.{k}" for k in dict.fromkeys([*a_items, *b_items]) if a_items.get(k) != b_items.get(k)
            ]
        else:
            changed += _leaves(key, a, b)
    return changed


def tables_reached_by_change(base: Scenario, variant: Scenario) -> tuple[str, ...]:
    """Tables (in the base's order) that the differences between two scenarios can reach in either."""
    paths = changed_paths(base, variant)
    reached = set(tables_reached(base, paths)) | set(tables_reached(variant, paths))
    return tuple(t for t in base.tables if t in reached)


def _indexed(value: object) -> dict[str, object]:
    """A mapping or list as {key or index: item}."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list | tuple):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def _leaves(prefix: str, a: object, b: object) -> list[str]:
    """Dotted paths below ``prefix`` where two nested values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in dict.fromkeys([*a, *b]):
            if a.get(key) != b.get(key):
                out += _leaves(f"{prefix}.{key}", a.get(key), b.get(key))
        return out
    return [prefix]
