"""Bounds of the numeric parameters that may be drawn or swept per run, by parameter path."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from negotiation.scenario.schema import Scenario

MAX_ROUNDS = 1000
"""Latest deadline (and opening or event round) a scenario may set. A run's cost grows with its
rounds: two hardliners held to a deadline of 1,000 cost about 1 ms a run on the batch fast path,
5 times a run of the shipped scenario (its latest deadline is 24)."""

MAX_WEIGHT = 1e6
"""Largest issue weight. Weights are normalised to sum to 1; the bound keeps their sum finite
(weights of 1e308 overflowed to a sum of infinity and a deal below the reservation value)."""

MAX_WORK_ITEMS = 100
"""Most issues, actors and tables in a scenario, issues at a table and targets of a linkage: each
multiplies the work of every round."""

MAX_ENTRIES = 1000
"""Most linkages, events and uncertain parameters in a scenario."""


DISCOUNT_FLOOR = 1e-6
"""Lowest discount factor a draw or event may set (a factor must stay above 0)."""


def numeric_bounds(scenario: Scenario, path: str) -> tuple[float, float, bool]:
    """Return the bounds of a numeric parameter that may be drawn or swept per run.

    Args:
        scenario: The scenario the path refers to.
        path: A parameter path.

    Returns:
        ``(low, high, is_integer)``: draws are clipped to [low, high], rounded if integer.

    Raises:
        KeyError: The path is not a numeric parameter that can vary; the message says why.
    """
    parts = path.split(".")
    head = parts[0]
    if head == "actors" and len(parts) >= 3 and parts[1] in scenario.actors:
        tail = parts[2:]
        if tail in (
            ["leverage"],
            ["domestic_pressure"],
            ["resolve"],
            ["delay_cost"],
            ["strategy", "initial_concession"],
        ):
            return 0.0, 1.0, False
        if tail == ["discount"]:
            return DISCOUNT_FLOOR, 1.0, False
        if len(tail) == 2 and tail[0] == "rapport" and tail[1] in scenario.actors:
            return 0.0, 1.0, False
        if tail == ["strategy", "e"]:
            return 1e-3, 50.0, False
        if tail == ["strategy", "reciprocity"]:
            return 0.0, 5.0, False
    elif head == "tables" and len(parts) >= 3 and parts[1] in scenario.tables:
        table = scenario.tables[parts[1]]
        tail = parts[2:]
        if tail == ["breakdown_risk"]:
            return 0.0, 0.5, False
        if tail == ["deadline"]:
            return float(table.opens + 1), float(MAX_ROUNDS), True
        if len(tail) == 2 and tail[0] == "no_deal" and tail[1] in table.no_deal:
            low, high = scenario.issue_range(parts[1], tail[1])
            return low, high, False
        if len(tail) >= 3 and tail[0] == "preferences" and tail[1] in table.parties:
            pref = table.preferences[tail[1]]
            if tail[2:] == ["outside_option"]:
                return -1.0, 1.0, False
            if tail[2:] == ["curvature"]:
                return 1.0, 5.0, False
            if len(tail) == 4 and tail[2] == "weights" and tail[3] in table.issues:
                return 0.0, MAX_WEIGHT, False
            if len(tail) == 4 and tail[2] == "ideal" and isinstance(pref.ideal.get(tail[3]), float | int):
                low, high = scenario.issue_range(parts[1], tail[3])
                return low, high, False
    elif head == "blocs" and len(parts) >= 3 and parts[1] in scenario.blocs:
        bloc = scenario.blocs[parts[1]]
        if parts[2:] == ["leverage"]:
            return 0.0, 1.0, False
        if len(parts) == 5 and parts[2] == "members" and parts[3] in bloc.members:
            if parts[4] in ("cohesion", "defection"):
                return 0.0, 1.0, False
    elif head == "linkages" and len(parts) == 3 and parts[2] == "strength":
        if parts[1].isdigit() and int(parts[1]) < len(scenario.linkages):
            return 0.0, 1.0, False
    elif head == "model" and len(parts) == 2 and _numeric_setting(scenario, parts[1]):
        if parts[1] == "learning_prior":
            return 0.0, 1000.0, False
        return (
            (0.0, 1.0, False) if parts[1] in ("leverage_effect", "mediation_strength") else (0.0, 5.0, False)
        )
    raise KeyError(
        "a numeric parameter that can vary per run: actors.A.{leverage,domestic_pressure,resolve,"
        "discount,delay_cost,rapport.B,strategy.e,...}, tables.T.{deadline,breakdown_risk,no_deal.I,"
        "preferences.P.{outside_option,weights.I,ideal.I}}, linkages.N.strength, "
        "blocs.B.{leverage,members.A.{cohesion,defection}} or model.*"
    )


def _numeric_setting(scenario: Scenario, name: str) -> bool:
    """Whether ``model.<name>`` is a numeric coefficient (a switch such as n_party_distances is not)."""
    field = type(scenario.model).model_fields.get(name)
    return field is not None and field.annotation is not bool
