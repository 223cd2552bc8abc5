"""Scenario files in: read TOML as data (never evaluated), validate, apply overrides; the shipped default."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from negotiation.errors import MISSING, ScenarioError
from negotiation.scenario.paths import apply_overrides
from negotiation.scenario.schema import Scenario
from negotiation.scenario.validation import scenario_from_dict

DEFAULT_SCENARIO = "asia_tour_2025.toml"
"""File name of the shipped default scenario inside ``negotiation/scenario/data``."""


def load_scenario(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario file (or the shipped default) and apply parameter overrides.

    Args:
        path: A TOML scenario file; None for the shipped default scenario.
        overrides: Parameter paths to values, e.g. ``{"actors.china.resolve": 0.8}``.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: The file cannot be read, is not TOML, or does not validate.
        OverrideError: An override names no parameter or has the wrong type.
    """
    source = str(path) if path is not None else f"<default scenario {DEFAULT_SCENARIO}>"
    data = read_toml(path) if path is not None else tomllib.loads(default_scenario_text())
    scenario = scenario_from_dict(data, source)
    if overrides:
        scenario = apply_overrides(scenario, overrides)
    return scenario


def default_scenario_text() -> str:
    """Return the shipped default scenario as TOML text, comments included."""
    return resources.files("negotiation.scenario.data").joinpath(DEFAULT_SCENARIO).read_text("utf-8")


def read_toml(path: str | Path, error: type[ScenarioError] = ScenarioError) -> dict[str, Any]:
    """Read a TOML file as data (never evaluated), turning every failure into one clear error.

    Args:
        path: File to read.
        error: The InputError subclass to raise.

    Returns:
        The parsed TOML document.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(path), "", MISSING, "an existing, readable TOML file" + _similar_file(path)) from None
    except IsADirectoryError:
        raise error(str(path), "", "a directory", "a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(path), "", type(exc).__name__, "a readable UTF-8 TOML file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(str(path), "", f"TOML syntax error ({exc})", "valid TOML") from None


def _similar_file(path: Path) -> str:
    """A 'did you mean' for a missing file: a file of a close name in the same folder, or ''."""
    import difflib

    try:
        names = [p.name for p in path.parent.iterdir() if p.is_file()] if path.parent.is_dir() else []
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return f" (did you mean {str(path.parent / close[0])!r}?)" if close else ""
