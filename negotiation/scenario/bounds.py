"""Bounds of the numeric parameters that may be drawn or swept per run, by parameter path."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from negotiation.scenario.schema import Scenario


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
            return float(table.opens + 1), 10_000.0, True
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
                return 0.0, math.inf, False
            if len(tail) == 4 and tail[2] == "ideal" and isinstance(pref.ideal.get(tail[3]), float | int):
                low, high = scenario.issue_range(parts[1], tail[3])
                return low, high, False
    elif head == "linkages" and len(parts) == 3 and parts[2] == "strength":
        if parts[1].isdigit() and int(parts[1]) < len(scenario.linkages):
            return 0.0, 1.0, False
    elif head == "model" and len(parts) == 2 and parts[1] in type(scenario.model).model_fields:
        if parts[1] == "learning_prior":
            return 0.0, 1000.0, False
        return (
            (0.0, 1.0, False) if parts[1] in ("leverage_effect", "mediation_strength") else (0.0, 5.0, False)
        )
    raise KeyError(
        "a numeric parameter that can vary per run: actors.A.{leverage,domestic_pressure,resolve,"
        "discount,delay_cost,rapport.B,strategy.e,...}, tables.T.{deadline,breakdown_risk,no_deal.I,"
        "preferences.P.{outside_option,weights.I,ideal.I}}, linkages.N.strength or model.*"
    )
