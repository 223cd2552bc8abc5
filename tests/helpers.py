"""Small scenarios for fast tests, and builders that property tests use to make variants.

The tiny scenario has two actors (``a`` opens, ``b`` responds) at one table ``ab`` with three
issues: ``x`` (0-100 %), ``y`` (an index 0-1) and ``z`` (0-10 $bn, with an interior ideal for ``b``).
Leverage, pressure and resolve are neutral (0.5 each), so each side's value of no deal is its utility
of the status quo plus its outside option (0.3 for both: see ``TINY_NO_DEAL_UTILITY``) and the
effective concession exponent equals the strategy's ``e``; there is no discounting and walk-outs are
off.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.outcomes import RunArrays
from negotiation.model import NegotiationModel
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict

TINY_TOML = """\
name = "tiny"

[issues.x]
name = "A tariff"
unit = "%"
low = 0.0
high = 100.0
status_quo = 50.0

[issues.y]
name = "Market access"
unit = "index"
low = 0.0
high = 1.0
status_quo = 0.0

[issues.z]
name = "An investment"
unit = "$bn"
low = 0.0
high = 10.0
status_quo = 10.0

[actors.a]
name = "Alpha"
leverage = 0.5
domestic_pressure = 0.5
resolve = 0.5
rapport = { b = 0.5 }
strategy = { kind = "linear" }

[actors.b]
name = "Beta"
leverage = 0.5
domestic_pressure = 0.5
resolve = 0.5
rapport = { a = 0.5 }
strategy = { kind = "linear" }

[tables.ab]
name = "Alpha-Beta"
parties = ["a", "b"]
issues = ["x", "y", "z"]
opens = 0
deadline = 10
breakdown_risk = 0.0

[tables.ab.preferences.a]
weights = { x = 0.5, y = 0.3, z = 0.2 }
ideal = { x = "increase", y = "increase", z = "increase" }
outside_option = -0.15

[tables.ab.preferences.b]
weights = { x = 0.2, y = 0.3, z = 0.5 }
ideal = { x = "decrease", y = "decrease", z = 2.0 }
outside_option = -0.1
"""
"""The tiny scenario as a file would hold it (tests edit the text for bad-input cases)."""

TINY_ISSUES = ("x", "y", "z")
TINY_NO_DEAL_UTILITY = {"a": 0.45, "b": 0.4}
"""Utility of the tiny table's status quo (x = 50, y = 0, z = 10) to each side; with the outside options
-0.15 and -0.1 each side's value of no deal is 0.3."""


def tiny_value(party: str, value: float) -> dict[str, float]:
    """The change that makes ``party``'s value of no deal at the tiny table ``value``."""
    return {f"tables.ab.preferences.{party}.outside_option": value - TINY_NO_DEAL_UTILITY[party]}


def tiny_dict() -> dict[str, Any]:
    """A fresh, mutable copy of the tiny scenario as parsed TOML."""
    return tomllib.loads(TINY_TOML)


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set ``value`` at a dotted path in nested dicts (creating dicts on the way); return ``data``."""
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return data


def tiny_scenario(changes: dict[str, Any] | None = None) -> Scenario:
    """The tiny scenario, with values replaced at dotted paths of the document first."""
    data = tiny_dict()
    for path, value in (changes or {}).items():
        set_path(data, path, value)
    return scenario_from_dict(copy.deepcopy(data), "<tiny>")


def write_tiny(directory: Path, text: str = TINY_TOML, name: str = "tiny.toml") -> Path:
    """Write scenario text to a file and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, text: str = TINY_TOML) -> str:
    """Replace one exact occurrence of ``old`` in the scenario text (fails loudly if not unique)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def mirror_scenario(
    *,
    weights: tuple[float, ...],
    strategy_a: dict[str, Any],
    strategy_b: dict[str, Any],
    reservation: float,
    deadline: int,
    opener: str = "a",
    rapport: float = 0.5,
) -> Scenario:
    """Two actors with mirror-image preferences: same weights, opposite ideals on every issue.

    ``a`` wants every issue high and ``b`` wants it low, so for any offer u_a + u_b = 1 and the
    two sides differ only in strategy and in who opens. Leverage, pressure and resolve are equal, so
    values of no deal and exponents are equal too; there is no walk-out risk. The status quo (every
    issue at 0.5) is worth 0.5 to both, so the outside options make each side's value of no deal
    ``reservation``.
    """
    issues = [f"i{k}" for k in range(len(weights))]
    data: dict[str, Any] = {
        "name": "mirror",
        "issues": {
            i: {"name": i, "unit": "index", "low": 0.0, "high": 1.0, "status_quo": 0.5} for i in issues
        },
        "actors": {
            actor: {
                "name": actor,
                "leverage": 0.5,
                "domestic_pressure": 0.5,
                "resolve": 0.5,
                "rapport": {other: rapport},
                "strategy": strategy,
            }
            for actor, other, strategy in (("a", "b", strategy_a), ("b", "a", strategy_b))
        },
        "tables": {
            "ab": {
                "name": "mirror table",
                "parties": [opener, "b" if opener == "a" else "a"],
                "issues": issues,
                "opens": 0,
                "deadline": deadline,
                "breakdown_risk": 0.0,
                "preferences": {
                    actor: {
                        "weights": dict(zip(issues, weights, strict=True)),
                        "ideal": {i: direction for i in issues},
                        "outside_option": reservation - 0.5,
                    }
                    for actor, direction in (("a", "increase"), ("b", "decrease"))
                },
            }
        },
    }
    return scenario_from_dict(data, "<mirror>")


def run_model(
    scenario: Scenario | CompiledScenario | str | Path | None, seed: int, **kw: Any
) -> NegotiationModel:
    """Build and run a model; return it (outcomes via ``.outcomes()``, arrays via ``.arrays()``)."""
    model = NegotiationModel(scenario, seed=seed, **kw)
    model.run()
    return model


def utilities_by_actor(model: NegotiationModel, table: str = "ab") -> dict[str, float]:
    """Utility of one table's outcome to each of its parties, by actor id."""
    outcome = next(o for o in model.outcomes() if o.table == table)
    return dict(outcome.utilities)


def arrays_equal(left: RunArrays, right: RunArrays) -> bool:
    """True when two runs' outcome arrays are identical bit for bit (NaN equal to NaN)."""
    return all(
        np.array_equal(getattr(left, name), getattr(right, name), equal_nan=True)
        for name in RunArrays.__dataclass_fields__
    )


def without_events(scenario: Scenario | None = None) -> Scenario:
    """The scenario (default: the shipped one) with its scheduled events removed."""
    scenario = scenario if scenario is not None else load_scenario()
    data = scenario.model_dump(mode="python")
    data["events"] = []
    return scenario_from_dict(data, "<without events>")


def compiled_tiny(changes: dict[str, Any] | None = None) -> CompiledScenario:
    """The tiny scenario, compiled."""
    return compile_scenario(tiny_scenario(changes))


def results_frame(**columns: Any) -> Any:
    """A results DataFrame with the given columns and neutral values for every other required one.

    Each row is one run at one table: a deal in round 1 between parties x and y unless ``columns``
    says otherwise (``deal`` given without ``status`` sets the status to match).
    """
    import pandas as pd

    frame = pd.DataFrame(columns)
    n = len(frame)
    defaults: dict[str, Any] = {
        "point": 0,
        "replication": np.arange(n),
        "table": "a",
        "party_0": "x",
        "party_1": "y",
        "deal": True,
        "round": 1,
        "utility_0": 0.5,
        "utility_1": 0.5,
        "pareto_distance": 0.0,
        "nash_distance": 0.0,
    }
    for name, value in defaults.items():
        if name not in frame:
            frame[name] = value
    if "status" not in frame:
        frame["status"] = np.where(frame["deal"].astype(bool), "deal", "deadline")
    return frame
