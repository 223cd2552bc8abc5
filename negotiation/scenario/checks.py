"""Cross-reference checks of a scenario: every name used is declared, every value is meetable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from negotiation.scenario.bounds import numeric_bounds
from negotiation.scenario.kinds import NEGOTIATOR_GROUP, registered_kinds

if TYPE_CHECKING:
    from negotiation.scenario.schema import Scenario


class FieldProblem(ValueError):
    """A cross-field problem that knows its own field path, value and expectation."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: {value!r}; {expected}")


MAX_EQUILIBRIUM_BINARY = 8
"""Most binary issues at a table the equilibrium strategy solves: it compares all 2**n packages."""


def check_no_reservation(data: Any) -> None:
    """Reject the ``reservation`` field of older scenarios with what replaced it.

    Args:
        data: A scenario document before validation.

    Raises:
        FieldProblem: A preference still declares a reservation value.
    """
    tables = data.get("tables") if isinstance(data, dict) else None
    for table_id, table in (tables or {}).items() if isinstance(tables, dict) else ():
        preferences = table.get("preferences") if isinstance(table, dict) else None
        for party, pref in (preferences or {}).items() if isinstance(preferences, dict) else ():
            if isinstance(pref, dict) and "reservation" in pref:
                raise FieldProblem(
                    f"tables.{table_id}.preferences.{party}.reservation",
                    pref["reservation"],
                    "no reservation: the value of no deal is derived (the utility of the table's "
                    "no-deal outcome plus outside_option, see docs/scenario-format.md); give "
                    "outside_option instead",
                )


def check_scenario(scenario: Scenario) -> None:
    """Check names and values that span several parts of a scenario.

    Args:
        scenario: A scenario whose parts have each validated on their own.

    Raises:
        FieldProblem: The first problem found.
    """
    for issue_id, issue in scenario.issues.items():
        _check_issue(issue_id, issue)
    actors = set(scenario.actors)
    for actor_id, actor in scenario.actors.items():
        for other in actor.rapport:
            _require(other in actors, f"actors.{actor_id}.rapport.{other}", other, actors, "actor")
    for table_id, _table in scenario.tables.items():
        _check_table(scenario, table_id, actors)
        _check_equilibrium(scenario, table_id)
        _check_stacked(scenario, table_id)
    for index, link in enumerate(scenario.linkages):
        _check_linkage(scenario, index, link)
    _check_negotiators(scenario)
    _check_blocs(scenario)
    for path in scenario.uncertainty:
        try:
            numeric_bounds(scenario, path)
        except KeyError as exc:
            raise FieldProblem(f"uncertainty.{path}", path, str(exc.args[0])) from None
    for index, event in enumerate(scenario.events):
        for kind in ("set", "shift"):
            for path in getattr(event, kind):
                if path.endswith(".deadline"):
                    raise FieldProblem(
                        f"events.{index}.{kind}",
                        path,
                        "a parameter other than a deadline (a run's length is fixed when it starts; "
                        "make the deadline uncertain instead)",
                    )
                if path.startswith("blocs.") and path.endswith(".defection"):
                    raise FieldProblem(
                        f"events.{index}.{kind}",
                        path,
                        "a parameter other than a defection propensity (drawn when a run starts; "
                        "make it uncertain instead)",
                    )
                try:
                    numeric_bounds(scenario, path)
                except KeyError as exc:
                    raise FieldProblem(f"events.{index}.{kind}", path, str(exc.args[0])) from None


def _check_negotiators(scenario: Scenario) -> None:
    """Every negotiator kind named is registered; a table names negotiators only for its parties."""
    named = [
        (f"actors.{actor_id}.negotiator.kind", actor.negotiator.kind)
        for actor_id, actor in scenario.actors.items()
        if actor.negotiator is not None
    ]
    for table_id, table in scenario.tables.items():
        for party, spec in table.negotiators.items():
            if party not in table.parties:
                raise FieldProblem(
                    f"tables.{table_id}.negotiators",
                    party,
                    f"a party at the table: {', '.join(table.parties)}",
                )
            named.append((f"tables.{table_id}.negotiators.{party}.kind", spec.kind))
    if not named:
        return
    kinds = registered_kinds()
    for field, kind in named:
        if kind not in kinds:
            raise FieldProblem(
                field,
                kind,
                f"a registered negotiator kind: {', '.join(kinds) or 'none is installed'} "
                f"(packages register kinds in the entry-point group {NEGOTIATOR_GROUP})",
            )


def _check_blocs(scenario: Scenario) -> None:
    """Members are declared actors in one bloc at most; positions and ranges lie in the issues' ranges.

    Acceptable ranges that share no point are not an input error: the bloc then reports that no
    common position exists.
    """
    actors, issues = set(scenario.actors), set(scenario.issues)
    seen: dict[str, str] = {}
    for bloc_id, bloc in scenario.blocs.items():
        where = f"blocs.{bloc_id}"
        if len(set(bloc.issues)) != len(bloc.issues):
            raise FieldProblem(f"{where}.issues", list(bloc.issues), "each issue listed once")
        for issue_id in bloc.issues:
            _require(issue_id in issues, f"{where}.issues", issue_id, issues, "issue")
        if bloc.rule == "qualified_majority" and bloc.quota is None:
            raise FieldProblem(f"{where}.quota", None, "a quota in (0.5, 1] for a qualified_majority rule")
        if bloc.rule != "qualified_majority" and bloc.quota is not None:
            raise FieldProblem(f"{where}.quota", bloc.quota, f"no quota: the {bloc.rule} rule sets its own")
        for actor_id, member in bloc.members.items():
            _require(actor_id in actors, f"{where}.members", actor_id, actors, "actor")
            if actor_id in seen:
                raise FieldProblem(
                    f"{where}.members.{actor_id}",
                    actor_id,
                    f"an actor in one bloc only (it is in {seen[actor_id]})",
                )
            seen[actor_id] = bloc_id
            _check_bloc_member(scenario, f"{where}.members.{actor_id}", bloc.issues, member)


def _check_bloc_member(scenario: Scenario, where: str, bloc_issues: tuple[str, ...], member: Any) -> None:
    for kind in ("position", "salience"):
        mapping = getattr(member, kind)
        for issue_id in mapping:
            _require(
                issue_id in bloc_issues,
                f"{where}.{kind}.{issue_id}",
                issue_id,
                set(bloc_issues),
                "bloc issue",
            )
        for issue_id in bloc_issues:
            if issue_id not in mapping:
                raise FieldProblem(f"{where}.{kind}.{issue_id}", None, f"a {kind} on every bloc issue")
    for issue_id in member.acceptable:
        _require(
            issue_id in bloc_issues,
            f"{where}.acceptable.{issue_id}",
            issue_id,
            set(bloc_issues),
            "bloc issue",
        )
    for issue_id in bloc_issues:
        issue = scenario.issues[issue_id]
        position = member.position[issue_id]
        if not issue.low <= position <= issue.high:
            raise FieldProblem(
                f"{where}.position.{issue_id}", position, f"a value in [{issue.low}, {issue.high}]"
            )
        if issue_id in member.acceptable:
            low, high = member.acceptable[issue_id]
            if not issue.low <= low <= position <= high <= issue.high:
                raise FieldProblem(
                    f"{where}.acceptable.{issue_id}",
                    [low, high],
                    f"[low, high] with {issue.low} <= low <= position ({position}) <= high <= {issue.high}",
                )


def _check_issue(issue_id: str, issue: Any) -> None:
    where = f"issues.{issue_id}"
    bounds = {"low": issue.low, "high": issue.high}
    if issue.kind == "binary" and (issue.low, issue.high) != (0.0, 1.0):
        raise FieldProblem(where, bounds, "low = 0 and high = 1 for a binary issue")
    if not issue.low < issue.high:
        raise FieldProblem(where, bounds, "low < high (the range is inverted or empty)")
    if not issue.low <= issue.status_quo <= issue.high:
        raise FieldProblem(f"{where}.status_quo", issue.status_quo, f"a value in [{issue.low}, {issue.high}]")
    if issue.kind == "binary" and issue.status_quo not in (0.0, 1.0):
        raise FieldProblem(f"{where}.status_quo", issue.status_quo, "0 or 1 for a binary issue")


def _require(ok: bool, field: str, value: Any, known: set[str], what: str) -> None:
    if not ok:
        raise FieldProblem(field, value, f"one of the declared {what}s: {', '.join(sorted(known))}")


def _check_table(scenario: Scenario, table_id: str, actors: set[str]) -> None:
    table = scenario.tables[table_id]
    where = f"tables.{table_id}"
    for index, party in enumerate(table.parties):
        _require(party in actors, f"{where}.parties.{index}", party, actors, "actor")
    if len(set(table.parties)) != len(table.parties):
        raise FieldProblem(f"{where}.parties", list(table.parties), "different actors, each listed once")
    if table.mediator is not None:
        _require(table.mediator in actors, f"{where}.mediator", table.mediator, actors, "actor")
        if table.mediator in table.parties:
            raise FieldProblem(f"{where}.mediator", table.mediator, "an actor not party to the table")
    if table.deadline <= table.opens:
        raise FieldProblem(f"{where}.deadline", table.deadline, f"a round after opens={table.opens}")
    issues = set(scenario.issues)
    for issue_id in table.issues:
        _require(issue_id in issues, f"{where}.issues", issue_id, issues, "issue")
    if len(set(table.issues)) != len(table.issues):
        raise FieldProblem(f"{where}.issues", list(table.issues), "each issue listed once")
    for key in (*table.status_quo, *table.ranges, *table.no_deal):
        _require(
            key in table.issues,
            f"{where}.status_quo/ranges/no_deal.{key}",
            key,
            set(table.issues),
            "table issue",
        )
    for issue_id, (low, high) in table.ranges.items():
        if not low < high:
            raise FieldProblem(f"{where}.ranges.{issue_id}", [low, high], "low < high")
        if scenario.issues[issue_id].kind == "binary":
            raise FieldProblem(f"{where}.ranges.{issue_id}", [low, high], "no range on a binary issue")
    for issue_id in table.issues:
        low, high = scenario.issue_range(table_id, issue_id)
        value = scenario.status_quo(table_id, issue_id)
        if not low <= value <= high:
            raise FieldProblem(f"{where}.status_quo.{issue_id}", value, f"a value in [{low}, {high}]")
    for issue_id, value in table.no_deal.items():
        low, high = scenario.issue_range(table_id, issue_id)
        if not low <= value <= high:
            raise FieldProblem(
                f"{where}.no_deal.{issue_id}", value, f"a value in the issue's range [{low}, {high}]"
            )
        if scenario.issues[issue_id].kind == "binary" and value not in (0.0, 1.0):
            raise FieldProblem(f"{where}.no_deal.{issue_id}", value, "0 or 1 for a binary issue")
    if set(table.preferences) != set(table.parties):
        raise FieldProblem(
            f"{where}.preferences",
            sorted(table.preferences),
            f"preferences for exactly the parties {', '.join(table.parties)}",
        )
    for party, pref in table.preferences.items():
        _check_preference(scenario, table_id, party, pref)


def _check_preference(scenario: Scenario, table_id: str, party: str, pref: Any) -> None:
    table = scenario.tables[table_id]
    where = f"tables.{table_id}.preferences.{party}"
    for kind in ("weights", "ideal"):
        for issue_id in getattr(pref, kind):
            _require(
                issue_id in table.issues,
                f"{where}.{kind}.{issue_id}",
                issue_id,
                set(table.issues),
                "table issue",
            )
    if sum(pref.weights.values()) <= 0.0:
        raise FieldProblem(f"{where}.weights", dict(pref.weights), "at least one positive weight")
    for issue_id, weight in pref.weights.items():
        if weight > 0 and issue_id not in pref.ideal:
            raise FieldProblem(
                f"{where}.ideal.{issue_id}",
                None,
                "an ideal point or 'increase'/'decrease' for every weighted issue",
            )
    for issue_id, ideal in pref.ideal.items():
        if isinstance(ideal, str):
            continue
        low, high = scenario.issue_range(table_id, issue_id)
        if not low <= ideal <= high:
            raise FieldProblem(f"{where}.ideal.{issue_id}", ideal, f"a value in [{low}, {high}]")
        if scenario.issues[issue_id].kind == "binary" and ideal not in (0.0, 1.0):
            raise FieldProblem(
                f"{where}.ideal.{issue_id}",
                ideal,
                "0, 1, 'increase' or 'decrease' on a binary issue (no value between is possible)",
            )


def _check_linkage(scenario: Scenario, index: int, link: Any) -> None:
    where = f"linkages.{index}"
    tables = set(scenario.tables)
    _require(link.source in tables, f"{where}.source", link.source, tables, "table")
    for target in link.targets:
        _require(target in tables, f"{where}.targets", target, tables, "table")
        if target == link.source:
            raise FieldProblem(f"{where}.targets", target, "tables other than the source")
    if link.kind == "precedent":
        if link.issue is None:
            raise FieldProblem(f"{where}.issue", None, "the issue a precedent carries over")
        for table_id in (link.source, *link.targets):
            if link.issue not in scenario.tables[table_id].issues:
                raise FieldProblem(
                    f"{where}.issue",
                    link.issue,
                    f"an issue on both source and target tables (not on {table_id})",
                )


def plays_stacked(table: Any) -> bool:
    """True for a table that plays the stacked alternating offers protocol (SAOP).

    Tables of more than two always do; a table of two does when it declares ``protocol = "saop"``.
    """
    return len(table.parties) > 2 or table.protocol == "saop"


def _check_stacked(scenario: Scenario, table_id: str) -> None:
    """A decision rule is complete, and a SAOP table asks only for what SAOP carries to n parties.

    Refused at a SAOP table: plug-in negotiators declared for it, and linkages that target it. The
    actor-wide strategy settings SAOP does not carry (the equilibrium strategy, similarity offers,
    Bayesian learning, the ultimatum) also govern the actor's bilateral tables, so they are not
    refused; at a SAOP table the actor plays the nearest carried rule (:mod:`negotiation.bargaining.saop`).
    """
    table = scenario.tables[table_id]
    where = f"tables.{table_id}"
    if table.decision_rule == "qualified_majority" and table.quota is None:
        raise FieldProblem(
            f"{where}.quota", None, "a share in (0.5, 1] under decision_rule='qualified_majority'"
        )
    if table.decision_rule == "unanimity" and table.quota is not None:
        raise FieldProblem(
            f"{where}.quota", table.quota, "no quota under unanimity (or decision_rule='qualified_majority')"
        )
    if not plays_stacked(table):
        return
    for party in table.negotiators:
        raise FieldProblem(
            f"{where}.negotiators.{party}",
            "a negotiator",
            f"no plug-in negotiator at a table that plays SAOP ({table_id}): negotiators seat two sides",
        )
    for index, link in enumerate(scenario.linkages):
        if table_id in link.targets:
            raise FieldProblem(
                f"linkages.{index}.targets",
                table_id,
                f"a table of two (linkages move values of no deal at bilateral tables; {table_id} is SAOP)",
            )


def _check_equilibrium(scenario: Scenario, table_id: str) -> None:
    """An equilibrium strategy at a table must be computable there."""
    table = scenario.tables[table_id]
    players = [p for p in table.parties if scenario.actors[p].strategy.kind == "equilibrium"]
    if not players:
        return
    binary = [i for i in table.issues if scenario.issues[i].kind == "binary"]
    if len(binary) > MAX_EQUILIBRIUM_BINARY:
        raise FieldProblem(
            f"actors.{players[0]}.strategy.kind",
            "equilibrium",
            f"a strategy the table {table_id} allows: the equilibrium compares every package of the "
            f"binary issues at a table (2**{len(binary)} here: {', '.join(binary)}); at most "
            f"{MAX_EQUILIBRIUM_BINARY} binary issues",
        )
