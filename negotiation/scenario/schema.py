"""Scenario files: TOML in, frozen and validated scenario objects out. No simulation code here.

A scenario declares issues, actors (countries), negotiating tables with each party's preferences,
linkages between tables, model-wide coefficients and the uncertainty over any numeric parameter.
See docs/scenario-format.md for the reference.
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from negotiation.errors import MISSING, ScenarioError
from negotiation.scenario.checks import FieldProblem, check_scenario

DEFAULT_SCENARIO = "asia_tour_2025.toml"
"""File name of the shipped default scenario inside ``negotiation/scenario/data``."""

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Direction = Literal["increase", "decrease"]


class Frozen(BaseModel):
    """Base for scenario objects: immutable, strict about unknown fields, no NaN or infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Issue(Frozen):
    """One negotiable issue: what it measures, its range and its value when no deal moves it."""

    name: str = Field(description="Human-readable label.")
    unit: str = Field(description="Unit of the real value, e.g. '%' or '$bn'.")
    low: float = Field(description="Lowest value an agreement can set.")
    high: float = Field(description="Highest value an agreement can set.")
    status_quo: float = Field(description="Value if no agreement moves it.")
    kind: Literal["continuous", "binary"] = Field("continuous", description="Binary issues are 0/1.")
    description: str = ""


STRATEGY_PRESETS: dict[str, tuple[str, float]] = {
    "boulware": ("time_dependent", 0.2),
    "linear": ("time_dependent", 1.0),
    "conceder": ("time_dependent", 5.0),
}
"""Named time-dependent tactics (Faratin et al. 1998) and their concession exponent ``e``."""


class Strategy(Frozen):
    """A concession strategy and its parameters.

    ``kind`` is one of ``time_dependent`` (exponent ``e``: <1 Boulware, 1 linear, >1 Conceder),
    ``tit_for_tat`` (mirrors the opponent's concessions), ``hardliner`` (never concedes), or a
    preset name ``boulware``/``linear``/``conceder`` that fixes ``e`` unless it is given.
    """

    kind: Literal["time_dependent", "boulware", "linear", "conceder", "tit_for_tat", "hardliner"]
    e: float = Field(1.0, gt=0.0, le=50.0, description="Concession exponent (time-dependent).")
    reciprocity: float = Field(1.0, ge=0.0, le=5.0, description="Tit-for-tat mirroring factor.")
    initial_concession: Unit = Field(0.05, description="Tit-for-tat opening concession.")

    @model_validator(mode="before")
    @classmethod
    def _resolve_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") in STRATEGY_PRESETS:
            kind, e = STRATEGY_PRESETS[data["kind"]]
            data = {**data, "kind": kind}
            data.setdefault("e", e)
        return data


class Actor(Frozen):
    """A country: its leverage, domestic pressure, resolve, rapport and concession strategy."""

    name: str
    leverage: Unit = Field(description="Coercive capability (rare-earth control, tariff threats).")
    domestic_pressure: Unit = Field(description="Pressure at home to show a result; urgency.")
    resolve: Unit = Field(0.5, description="Determination to hold out; slows concession.")
    rapport: dict[str, Unit] = Field(default_factory=dict, description="Trust in named actors.")
    strategy: Strategy


class Preference(Frozen):
    """One actor's preferences at one table."""

    weights: dict[str, Annotated[float, Field(ge=0.0)]] = Field(
        description="Salience of each table issue; normalised to sum to 1."
    )
    ideal: dict[str, float | Direction] = Field(
        description="Ideal point in real units, or 'increase'/'decrease' for a range end."
    )
    reservation: Unit = Field(description="Reservation utility (BATNA) on the 0-1 utility scale.")
    curvature: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        1.0, description="Gain falls as 1 - distance**curvature: 1 linear, >1 diminishing sensitivity."
    )


class Table(Frozen):
    """A bilateral negotiating table: parties, issues, window of rounds, mediator, preferences."""

    name: str
    parties: tuple[str, str] = Field(description="The two parties; the first opens.")
    issues: tuple[str, ...] = Field(min_length=1)
    opens: int = Field(ge=0, description="First round in which offers are made.")
    deadline: int = Field(ge=1, description="Last round in which an agreement can be made.")
    mediator: str | None = None
    breakdown_risk: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.02, description="Base per-round hazard that a dissatisfied party walks out."
    )
    status_quo: dict[str, float] = Field(
        default_factory=dict, description="Table-specific status quo per issue (real units)."
    )
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Table-specific [low, high] per issue (real units)."
    )
    preferences: dict[str, Preference]


class Linkage(Frozen):
    """A cross-table effect.

    ``precedent``: an agreement at ``source`` moves both parties' reservation values at each target
    toward what the agreed value of ``issue`` is worth to them. ``escalation``: a walk-out at
    ``source`` lowers the reservation value of every target party not sitting at ``source``.
    """

    kind: Literal["precedent", "escalation"]
    source: str
    targets: tuple[str, ...] = Field(min_length=1)
    issue: str | None = None
    strength: Unit


class ModelSettings(Frozen):
    """Model-wide coefficients; each is an assumption documented in docs/assumptions.md."""

    leverage_effect: Unit = Field(0.15, description="Reservation shift per unit leverage gap.")
    urgency_gain: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        1.5, description="How strongly domestic pressure speeds concession."
    )
    resolve_gain: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        1.5, description="How strongly resolve slows concession."
    )
    mediation_strength: Unit = Field(0.1, description="Mediator pressure on reservation values.")


class Distribution(Frozen):
    """A distribution for one uncertain numeric parameter, drawn afresh in every run."""

    dist: Literal["uniform", "normal", "triangular"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _check_params(self) -> Distribution:
        need = {"uniform": ("low", "high"), "normal": ("mean", "sd"), "triangular": ("low", "mode", "high")}[
            self.dist
        ]
        missing = [name for name in need if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"{self.dist} distribution without {', '.join(missing)}; {', '.join(need)} all given"
            )
        if self.dist in ("uniform", "triangular") and not self.low < self.high:  # type: ignore[operator]
            raise ValueError(f"range inverted or empty: low={self.low} high={self.high}; low < high")
        if self.dist == "triangular" and not self.low <= self.mode <= self.high:  # type: ignore[operator]
            raise ValueError(f"mode {self.mode} outside [low, high]; low <= mode <= high")
        return self


class Event(Frozen):
    """A shock scheduled at a round: with some probability, named parameters change from then on.

    ``set`` gives new values; ``shift`` adds to the current ones. Paths are the parameter paths of
    ``--set`` that can vary per run (see ``negotiation.scenario.paths.numeric_bounds``); results are clipped
    to each parameter's bounds.
    """

    name: str
    round: int = Field(ge=0, description="Round at whose start the event fires.")
    probability: Unit = Field(1.0, description="Chance that the event happens in a run.")
    set: dict[str, float] = Field(default_factory=dict, description="Parameter path to new value.")
    shift: dict[str, float] = Field(default_factory=dict, description="Parameter path to increment.")

    @model_validator(mode="after")
    def _check_changes(self) -> Event:
        if not self.set and not self.shift:
            raise ValueError("an event with no changes; at least one entry in set or shift")
        return self


class Scenario(Frozen):
    """A whole negotiation scenario, validated across its parts."""

    name: str
    description: str = ""
    issues: dict[str, Issue] = Field(min_length=1)
    actors: dict[str, Actor] = Field(min_length=2)
    tables: dict[str, Table] = Field(min_length=1)
    linkages: tuple[Linkage, ...] = ()
    model: ModelSettings = ModelSettings()
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    events: tuple[Event, ...] = ()

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        check_scenario(self)
        return self

    @property
    def horizon(self) -> int:
        """Number of rounds the model runs: one past the latest deadline."""
        return max(table.deadline for table in self.tables.values()) + 1

    def issue_range(self, table_id: str, issue_id: str) -> tuple[float, float]:
        """Return the [low, high] range of an issue at a table (table override or issue default)."""
        table = self.tables[table_id]
        if issue_id in table.ranges:
            return table.ranges[issue_id]
        issue = self.issues[issue_id]
        return issue.low, issue.high

    def status_quo(self, table_id: str, issue_id: str) -> float:
        """Return the status-quo value of an issue at a table."""
        return self.tables[table_id].status_quo.get(issue_id, self.issues[issue_id].status_quo)


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
        from negotiation.scenario.paths import apply_overrides

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
        raise error(str(path), "", MISSING, "an existing, readable TOML file") from None
    except IsADirectoryError:
        raise error(str(path), "", "a directory", "a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(path), "", type(exc).__name__, "a readable UTF-8 TOML file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(str(path), "", f"TOML syntax error ({exc})", "valid TOML") from None


def scenario_from_dict(data: dict[str, Any], source: str) -> Scenario:
    """Validate a parsed scenario document.

    Args:
        data: The parsed TOML document.
        source: Where it came from, for error messages.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: The first problem found, naming field path, value and expectation.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data, source, ScenarioError) from None


def validation_error(
    exc: ValidationError, data: Any, source: str, error: type[ScenarioError]
) -> ScenarioError:
    """Turn pydantic's first validation error into a one-line InputError.

    Args:
        exc: The pydantic error.
        data: The document that was validated, to fetch the offending value.
        source: File name or flag, for the message.
        error: The InputError subclass to build.

    Returns:
        The error to raise.
    """
    first = exc.errors(include_url=False)[0]
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    problem = first.get("ctx", {}).get("error")
    if isinstance(problem, FieldProblem):
        return error(source, problem.field, problem.value, problem.expected + suffix)
    loc = [str(part) for part in first["loc"] if not str(part).startswith("function-")]
    field = ".".join(
        part for part in loc if part not in {"str", "float", "int", "literal['increase','decrease']"}
    )
    value = _lookup(data, field.split(".")) if field else MISSING
    if first["type"] == "missing":
        value = MISSING
    message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return error(source, field, value, _expectation(first["type"], message) + suffix)


def _expectation(kind: str, message: str) -> str:
    if kind == "missing":
        return "this required field"
    if kind == "extra_forbidden":
        return "no such field (check the spelling against docs/scenario-format.md)"
    if ";" in message:
        return message.split(";", 1)[1].strip()
    return message[0].lower() + message[1:] if message else "a valid value"


def _lookup(data: Any, parts: list[str]) -> Any:
    if len(parts) > 1 and parts[0] == "uncertainty" and isinstance(data, dict):
        # uncertainty keys are parameter paths, themselves dotted
        table = data.get("uncertainty", {})
        for cut in range(len(parts), 1, -1):
            key = ".".join(parts[1:cut])
            if key in table:
                return _lookup(table[key], parts[cut:])
    for part in parts:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list | tuple) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return MISSING
    return data


def is_finite_number(value: Any) -> bool:
    """Return True for an int or float that is neither NaN nor infinite (bools excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
