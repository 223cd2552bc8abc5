"""The scenario's numeric parameters as a table: path, value, bounds, distribution (negotiation params)."""

from __future__ import annotations

import math

from negotiation.errors import InputError
from negotiation.scenario.bounds import numeric_bounds
from negotiation.scenario.paths import get_value, leaf_paths
from negotiation.scenario.schema import Scenario


def parameter_table(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """One row per numeric parameter path: (path, value, bounds, distribution), as text.

    >>> from negotiation.scenario.loading import load_scenario
    >>> rows = {row[0]: row for row in parameter_table(load_scenario())}
    >>> rows["actors.china.resolve"][2], rows["actors.china.resolve"][3]
    ('[0, 1]', 'uniform(low=0.55, high=0.95)')
    """
    rows = []
    for path in leaf_paths(scenario.model_dump(mode="python")):
        value = get_value(scenario, path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        try:
            low, high, _ = numeric_bounds(scenario, path)
            bounds = f"[{_number(low)}, {_number(high)}]"
        except (InputError, KeyError):  # a number of the structure (an issue's range), fixed per scenario
            bounds = ""
        dist = scenario.uncertainty.get(path)
        if dist is None:
            described = ""
        else:
            fields = {k: v for k, v in dist.model_dump().items() if k != "dist" and v is not None}
            described = f"{dist.dist}(" + ", ".join(f"{k}={_number(v)}" for k, v in fields.items()) + ")"
        rows.append((path, _number(value), bounds, described))
    return rows


def _number(value: float) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}" if isinstance(value, float) else str(value)
