"""Parameter paths such as ``actors.china.resolve``: parse, read and override (bounds: ``bounds.py``).

Everything that varies a parameter (``--set``, experiments, tuning, the dashboard) goes through the
paths defined here, so a path means the same thing everywhere.
"""

from __future__ import annotations

import math
import tomllib
from typing import Any

from pydantic import ValidationError

from negotiation.documents import check_nesting, too_deep
from negotiation.errors import MISSING, OverrideError, did_you_mean
from negotiation.scenario.schema import STRATEGY_PRESETS, Scenario
from negotiation.scenario.validation import validation_error

OPEN_MAPPINGS = {"rapport", "weights", "ideal", "status_quo", "ranges", "no_deal"}
"""Mapping fields to which an override may add a key that the scenario does not list yet."""


def parse_value(text: str, source: str = "--set", field: str = "") -> Any:
    """Parse the value half of ``PATH=VALUE`` as a TOML value, or keep it as a bare string.

    >>> parse_value("0.8"), parse_value("true"), parse_value("boulware"), parse_value("[1, 2]")
    (0.8, True, 'boulware', [1, 2])

    Raises:
        OverrideError: Arrays or tables nested deeper than ``negotiation.documents.MAX_NESTING``.
    """
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()
    except RecursionError:
        raise too_deep(source, field, OverrideError) from None
    check_nesting(value, source, field, OverrideError)
    return value


def parse_assignment(text: str, source: str = "--set") -> tuple[str, Any]:
    """Split ``PATH=VALUE`` into its path and parsed value.

    Raises:
        OverrideError: There is no ``=`` or the path is empty.
    """
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise OverrideError(source, "", text, "PATH=VALUE, e.g. actors.china.resolve=0.8")
    return path.strip(), parse_value(value, source, path.strip())


def get_value(scenario: Scenario, path: str) -> Any:
    """Return the value at a parameter path.

    Raises:
        OverrideError: The path names no parameter.
    """
    data = scenario.model_dump(mode="python")
    node: Any = data
    for depth, part in enumerate(path.split(".")):
        node = _child(node, part)
        if node is MISSING:
            raise OverrideError(
                "--set",
                path,
                ".".join(path.split(".")[: depth + 1]),
                "a parameter path of the scenario (see negotiation params)"
                + did_you_mean(path, leaf_paths(data)),
            )
    return node


def leaf_paths(data: dict[str, Any]) -> list[str]:
    """Every settable path of a dumped scenario: its leaves, lists by index (uncertainty left out).

    >>> from negotiation.scenario.loading import load_scenario
    >>> paths = leaf_paths(load_scenario().model_dump(mode="python"))
    >>> "actors.china.resolve" in paths and "events.0.probability" in paths
    True
    """
    out: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "." not in str(key):  # an event's changes are keyed by whole paths: not addressable
                    walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, list | tuple) and node and all(isinstance(v, dict) for v in node):
            for index, value in enumerate(node):
                walk(value, f"{prefix}.{index}")
        else:
            out.append(prefix)

    walk({k: v for k, v in data.items() if k != "uncertainty"}, "")
    return out


def apply_overrides(scenario: Scenario, overrides: dict[str, Any], source: str = "--set") -> Scenario:
    """Return a new scenario with values replaced at the given paths, validated again.

    Args:
        scenario: The scenario to start from (left untouched).
        overrides: Parameter path to new value.
        source: What to name in error messages (a flag or a file).

    An override of a parameter that the scenario declares uncertain fixes it: its distribution is
    dropped, so every run uses the value given. Paths under ``uncertainty.`` edit distributions.

    Returns:
        The new, validated scenario.

    Raises:
        OverrideError: A path names no parameter, or a value is of the wrong type or out of bounds.
    """
    data = scenario.model_dump(mode="python")
    for path, value in overrides.items():
        _assign(data, path, value, source)
        # a value set explicitly is known: it no longer varies from run to run
        if not path.startswith("uncertainty."):
            data["uncertainty"].pop(path, None)
        # switching to a preset tactic (boulware, linear, conceder) takes the preset's exponent,
        # unless the same overrides also set it
        if path.endswith(".strategy.kind") and value in STRATEGY_PRESETS:
            exponent = path.removesuffix(".kind") + ".e"
            if exponent not in overrides:
                _strategy(data, path).pop("e", None)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source, OverrideError) from None


def _strategy(data: dict[str, Any], kind_path: str) -> dict[str, Any]:
    node: Any = data
    for part in kind_path.split(".")[:-1]:
        node = _child(node, part)
    return node


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part, MISSING)
    if isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return MISSING


def _assign(data: dict[str, Any], path: str, value: Any, source: str) -> None:
    if path.startswith("uncertainty."):
        _assign_distribution(data["uncertainty"], path, value, source)
        return
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        child = _child(node, part)
        if child is MISSING or not isinstance(child, dict | list | tuple):
            raise OverrideError(
                source,
                path,
                ".".join(parts[: depth + 1]),
                "a parameter path of the scenario (see negotiation params)"
                + did_you_mean(path, leaf_paths(data)),
            )
        if isinstance(child, tuple):
            child = list(child)
            node[int(part) if isinstance(node, list) else part] = child
        node = child
    leaf = parts[-1]
    if isinstance(node, list):
        if not (leaf.isdigit() and int(leaf) < len(node)):
            raise OverrideError(source, path, leaf, f"an index below {len(node)}")
        node[int(leaf)] = value
        return
    known = leaf in node
    if not known and not (len(parts) >= 2 and parts[-2] in OPEN_MAPPINGS):
        raise OverrideError(
            source,
            path,
            leaf,
            "a parameter path of the scenario (see negotiation params)"
            + did_you_mean(path, leaf_paths(data)),
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise OverrideError(source, path, value, "a finite number")
    node[leaf] = value


DISTRIBUTION_FIELDS = ("dist", "low", "high", "mode", "mean", "sd")


def _assign_distribution(uncertainty: dict[str, Any], path: str, value: Any, source: str) -> None:
    """Set ``uncertainty.<parameter path>`` (a whole distribution) or one of its fields."""
    rest = path.removeprefix("uncertainty.")
    key, _, field = rest.rpartition(".")
    if field in DISTRIBUTION_FIELDS and key:
        if key not in uncertainty:
            raise OverrideError(source, path, key, "a parameter the scenario declares uncertain")
        uncertainty[key] = {**uncertainty[key], field: value}
    elif isinstance(value, dict):
        uncertainty[rest] = value
    else:
        raise OverrideError(
            source,
            path,
            value,
            'a distribution such as {dist = "uniform", low = 0.2, high = 0.8}, or a path '
            "ending in one of " + ", ".join(DISTRIBUTION_FIELDS),
        )
