"""Scenario files in: read TOML as data (never evaluated), validate, apply overrides; the shipped default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from negotiation import documents
from negotiation.errors import ScenarioError
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
    data = (
        read_toml(path)
        if path is not None
        else documents.parse_toml(default_scenario_text(), source, ScenarioError)
    )
    scenario = scenario_from_dict(data, source)
    if overrides:
        scenario = apply_overrides(scenario, overrides)
    return scenario


def default_scenario_text() -> str:
    """Return the shipped default scenario as TOML text, comments included."""
    return resources.files("negotiation.scenario.data").joinpath(DEFAULT_SCENARIO).read_text("utf-8")


def read_toml(path: str | Path, error: type[ScenarioError] = ScenarioError) -> dict[str, Any]:
    """Read a TOML file as data (never evaluated), turning every failure into one clear error.

    A UTF-8 byte-order mark is accepted; nesting deeper than ``negotiation.documents.MAX_NESTING``
    is refused (see :mod:`negotiation.documents`).

    Args:
        path: File to read.
        error: The InputError subclass to raise.

    Returns:
        The parsed TOML document.
    """
    return documents.read_toml(path, error)
