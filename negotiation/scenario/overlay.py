"""Scenario overlay files: a saved set of parameter overrides, applied on top of a scenario.

An overlay is a TOML file with one table, ``[set]``, that maps parameter paths (the same paths as
``--set``, see :mod:`negotiation.scenario.paths`) to values::

    # tuned by hand in the dashboard
    [set]
    "actors.china.resolve" = 0.8
    "tables.us-china.deadline" = 12
    actors.us.strategy.kind = "boulware"   # unquoted dotted keys work too

``negotiation run --overlay FILE`` (and the batch and calibration commands) read it with
:func:`read_overlay`; the dashboard writes it with :func:`write_overlay`. Values on the command line
(``--set``) are applied after the overlay's, so they win.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from negotiation.atomic import write_text_atomic
from negotiation.errors import MISSING, OverrideError
from negotiation.scenario.loading import read_toml

OverlayValue = bool | int | float | str
"""A value an overlay may hold: a TOML number, string or boolean."""

EXPECTED_VALUE = "a number, string or boolean"


def read_overlay(path: str | Path) -> dict[str, OverlayValue]:
    """Read an overlay file into a parameter-path-to-value mapping.

    Only the file's shape is checked here; whether each path names a parameter of the scenario, and
    whether its value fits, is checked when the overrides are applied.

    Args:
        path: The overlay TOML file.

    Returns:
        The ``[set]`` table, in file order.

    Raises:
        OverrideError: The file is missing or not TOML, has no ``[set]`` table or other top-level
            keys, or holds a value that is not a finite number, a string or a boolean.
    """
    source = str(path)
    data = read_toml(path, OverrideError)
    extra = sorted(set(data) - {"set"})
    if extra:
        raise OverrideError(source, extra[0], data[extra[0]], "only a [set] table of PATH = VALUE lines")
    table = data.get("set")
    if not isinstance(table, dict):
        raise OverrideError(
            source,
            "set",
            MISSING if table is None else table,
            'a [set] table, e.g. [set] then "actors.china.resolve" = 0.8',
        )
    overrides: dict[str, OverlayValue] = {}
    _flatten(source, table, "", overrides)
    return overrides


def write_overlay(path: str | Path, overrides: Mapping[str, Any], comment: str = "") -> Path:
    """Write overrides as an overlay file, atomically.

    Args:
        path: The file to write.
        overrides: Parameter path to value (numbers, strings or booleans).
        comment: Text for the comment lines at the top of the file (may span lines).

    Returns:
        The path written.

    Raises:
        OverrideError: A path is empty or a value is not a finite number, a string or a boolean.

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "o.toml"
    >>> _ = write_overlay(f, {"actors.china.resolve": 0.8}, "example")
    >>> read_overlay(f)
    {'actors.china.resolve': 0.8}
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()] if comment else []
    lines.append("[set]")
    for key, value in overrides.items():
        if not isinstance(key, str) or not key.strip():
            raise OverrideError("overlay", "", key, "a non-empty parameter path")
        _check_value("overlay", key, value)
        lines.append(f"{json.dumps(key)} = {_toml_value(value)}")
    return write_text_atomic(path, "\n".join(lines) + "\n")


def _flatten(source: str, table: dict[str, Any], prefix: str, into: dict[str, OverlayValue]) -> None:
    """Collect leaves; an unquoted dotted key (actors.china.resolve = 0.8) parses as nested tables."""
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(source, value, f"{path}.", into)
            continue
        _check_value(source, path, value)
        into[path] = value


def _check_value(source: str, key: str, value: Any) -> None:
    if not isinstance(value, bool | int | float | str):
        raise OverrideError(source, f"set.{key}", value, EXPECTED_VALUE)
    if isinstance(value, float) and not math.isfinite(value):
        raise OverrideError(source, f"set.{key}", value, "a finite number")


def _toml_value(value: OverlayValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form; always has '.', 'e' or is finite
    return json.dumps(value)  # a JSON string is a valid TOML basic string
