"""The scenario schema: frozen, validated objects for issues, actors, tables, linkages and uncertainty.

A scenario declares issues, actors (countries), negotiating tables with each party's preferences,
linkages between tables, model-wide coefficients and the uncertainty over any numeric parameter.
See docs/scenario-format.md for the reference.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from negotiation.scenario.bounds import MAX_ENTRIES, MAX_ROUNDS, MAX_WEIGHT, MAX_WORK_ITEMS
from negotiation.scenario.checks import check_no_reservation, check_scenario

MAX_PARTIES = 12
"""Most parties at one table (the n-party protocol's arrays are padded to the largest table)."""

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Direction = Literal["increase", "decrease"]


class Frozen(BaseModel):
    """Base for scenario objects: immutable, strict about unknown fields and types, no NaN or infinity.

    Validation is strict (pydantic strict mode), for every field of every subclass: a number is
    never read from a string (``deadline = "24"``) or a boolean (``leverage = true``), nor an
    integer from a float. An integer is a valid float. Arrays are tuples: a list from a TOML or
    JSON array is taken as a tuple before validation (:meth:`_arrays_as_tuples`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _arrays_as_tuples(cls, data: Any) -> Any:
        """TOML arrays arrive as lists; strict mode takes only tuples for the (immutable) array fields.

        Lists directly in the object and in its mappings (``ranges = { x = [0, 1] }``) are converted;
        nested objects convert their own.
        """
        if not isinstance(data, dict):
            return data
        return {key: _tuples(value) for key, value in data.items()}


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
    ``tit_for_tat`` (mirrors the opponent's concessions), ``hardliner`` (never concedes),
    ``equilibrium`` (the subgame-perfect offers of the alternating-offers game with complete
    information), or a preset name ``boulware``/``linear``/``conceder`` that fixes ``e`` unless it
    is given. ``offers``, ``last_offer`` and ``opponent_model`` choose the offer rule, the last-round
    behaviour of time-dependent tactics and the opponent model (the equilibrium strategy needs none:
    it knows the opponent and makes efficient offers).
    """

    kind: Literal[
        "time_dependent", "boulware", "linear", "conceder", "tit_for_tat", "hardliner", "equilibrium"
    ]
    e: float = Field(1.0, gt=0.0, le=50.0, description="Concession exponent (time-dependent).")
    reciprocity: float = Field(1.0, ge=0.0, le=5.0, description="Tit-for-tat mirroring factor.")
    initial_concession: Unit = Field(0.05, description="Tit-for-tat opening concession.")
    offers: Literal["efficient", "similarity"] = Field(
        "efficient",
        description="Offer rule: the offer at the target best for the opponent (believed), or the one "
        "nearest the opponent's last offer (Faratin's similarity criterion).",
    )
    last_offer: Literal["ultimatum", "concede"] = Field(
        "ultimatum",
        description="Time-dependent tactics in the last round: an ultimatum offer, or concede to the "
        "value of no deal.",
    )
    opponent_model: Literal["bayesian", "fixed"] = Field(
        "bayesian", description="Learn the opponent's weights from its offers, or keep the prior."
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") in STRATEGY_PRESETS:
            kind, e = STRATEGY_PRESETS[data["kind"]]
            data = {**data, "kind": kind}
            data.setdefault("e", e)
        return data


class NegotiatorSpec(Frozen):
    """A negotiator for a seat: a kind registered by an installed package, and its parameters as data.

    The kind is a name in the entry-point group ``negotiation.negotiators`` (never an importable
    path); ``params`` are passed to it as keyword arguments.
    """

    kind: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=100, description="A registered negotiator kind."
    )
    params: dict[str, bool | int | float | str] = Field(
        default_factory=dict, max_length=MAX_ENTRIES, description="Keyword arguments of the negotiator."
    )


class Actor(Frozen):
    """A country: its leverage, domestic pressure, resolve, rapport and concession strategy."""

    name: str
    leverage: Unit = Field(description="Coercive capability (rare-earth control, tariff threats).")
    domestic_pressure: Unit = Field(description="Pressure at home to show a result; urgency.")
    resolve: Unit = Field(0.5, description="Determination to hold out; slows concession.")
    rapport: dict[str, Unit] = Field(default_factory=dict, description="Trust in named actors.")
    discount: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0, description="Per-round discount factor of a deal's surplus (1: patient)."
    )
    delay_cost: Unit = Field(0.0, description="Utility of a deal's surplus lost per round of delay.")
    strategy: Strategy
    negotiator: NegotiatorSpec | None = Field(
        None, description="A negotiator that decides at every seat of the actor (else its strategy)."
    )


class Preference(Frozen):
    """One actor's preferences at one table."""

    weights: dict[str, Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]] = Field(
        description="Salience of each table issue; normalised to sum to 1."
    )
    ideal: dict[str, float | Direction] = Field(
        description="Ideal point in real units, or 'increase'/'decrease' for a range end."
    )
    outside_option: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        0.0,
        description="Value of the alternative beyond the table, added to the utility of the no-deal "
        "outcome to give the value of no deal.",
    )
    curvature: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        1.0, description="Gain falls as 1 - distance**curvature: 1 linear, >1 diminishing sensitivity."
    )


class Table(Frozen):
    """A negotiating table: parties, issues, window of rounds, mediator, preferences.

    A table of two plays alternating offers; a table of more than two (or one declaring
    ``protocol = "saop"``) plays the stacked alternating offers protocol, where ``decision_rule`` says
    who must accept an offer.
    """

    name: str
    parties: tuple[str, ...] = Field(
        min_length=2,
        max_length=MAX_PARTIES,
        description="The parties, 2 to 12; the first opens and turns go round in this order.",
    )
    protocol: Literal["alternating", "saop"] = Field(
        "alternating",
        description="How a table of two plays: bilateral alternating offers, or the n-party stacked "
        "alternating offers code (the same outcomes; tables of more than two always play SAOP).",
    )
    decision_rule: Literal["unanimity", "qualified_majority"] = Field(
        "unanimity", description="Who must accept an offer at a table of more than two."
    )
    quota: float | None = Field(
        None,
        gt=0.5,
        le=1.0,
        description="Share of the parties other than the proposer who must accept under a qualified "
        "majority, in (0.5, 1].",
    )
    issues: tuple[str, ...] = Field(min_length=1, max_length=MAX_WORK_ITEMS)
    opens: int = Field(ge=0, lt=MAX_ROUNDS, description="First round in which offers are made.")
    deadline: int = Field(
        ge=1, le=MAX_ROUNDS, description="Last round in which an agreement can be made (work grows with it)."
    )
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
    no_deal: dict[str, float] = Field(
        default_factory=dict,
        description="What an issue becomes without a deal (a threat point, real units); the status "
        "quo where not given.",
    )
    preferences: dict[str, Preference]
    negotiators: dict[str, NegotiatorSpec] = Field(
        default_factory=dict, description="A negotiator for a party at this table (overrides the actor's)."
    )


class Linkage(Frozen):
    """A cross-table effect.

    ``precedent``: an agreement at ``source`` moves both parties' reservation values at each target
    toward what the agreed value of ``issue`` is worth to them. ``escalation``: a walk-out at
    ``source`` lowers the reservation value of every target party not sitting at ``source``.
    """

    kind: Literal["precedent", "escalation"]
    source: str
    targets: tuple[str, ...] = Field(min_length=1, max_length=MAX_WORK_ITEMS)
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
    learning_prior: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        5.0, description="Strength of the belief prior, in offers, at rapport 0.5."
    )
    n_party_distances: bool = Field(
        False,
        description=(
            "Measure agreements at tables of more than two against the n-party Pareto frontier and Nash "
            "point (scipy solves per distinct set of preferences and values of no deal: about 20 ms a run "
            "when a bloc moves the seats' ideals; NaN when off)."
        ),
    )


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
    ``--set`` that can vary per run (see ``negotiation.scenario.bounds.numeric_bounds``); results are clipped
    to each parameter's bounds.
    """

    name: str
    round: int = Field(ge=0, le=MAX_ROUNDS, description="Round at whose start the event fires.")
    probability: Unit = Field(1.0, description="Chance that the event happens in a run.")
    set: dict[str, float] = Field(default_factory=dict, description="Parameter path to new value.")
    shift: dict[str, float] = Field(default_factory=dict, description="Parameter path to increment.")

    @model_validator(mode="after")
    def _check_changes(self) -> Event:
        if not self.set and not self.shift:
            raise ValueError("an event with no changes; at least one entry in set or shift")
        return self


class BlocMember(Frozen):
    """One member of a bloc: where it stands on the bloc's issues, how much they matter, its weight.

    ``position`` and ``acceptable`` are in the issues' real units (the range of ``[issues.*]``);
    ``cohesion`` is how far the common position moves the member's ideal at its tables with
    outsiders; ``defection`` is the chance that it breaks ranks on its own while the bloc negotiates.
    """

    position: dict[str, float] = Field(description="Ideal point on each bloc issue (real units).")
    salience: dict[str, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        description="How much each bloc issue matters to the member, in (0, 1]."
    )
    capability: Annotated[float, Field(gt=0.0, le=MAX_WEIGHT)] = Field(
        description="The weight the member brings to bear in the bloc (positive)."
    )
    acceptable: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="[low, high] the member accepts as a common position per issue (the issue's "
        "whole range where not given); binds under consensus.",
    )
    cohesion: Unit = Field(0.5, description="How far the common position moves the member's stances.")
    defection: Unit = Field(0.0, description="Chance of breaking ranks on its own while the bloc negotiates.")


class Bloc(Frozen):
    """A bloc of actors (ASEAN) that forms a common position and moves its members' stances.

    Before and between rounds the members form a common position on the bloc's issues by the
    spatial model of :mod:`negotiation.bargaining.bloc` under ``rule``; the position moves each
    member's ideal on those issues at its tables with non-members, and a firm, cohesive bloc raises
    the member's value of no deal there by ``leverage * cohesion * strength``.
    """

    name: str = ""
    members: dict[str, BlocMember] = Field(min_length=1, max_length=MAX_WORK_ITEMS)
    issues: tuple[str, ...] = Field(min_length=1, max_length=MAX_WORK_ITEMS)
    rule: Literal["consensus", "majority", "qualified_majority"] = "consensus"
    quota: Annotated[float, Field(gt=0.5, le=1.0)] | None = Field(
        None, description="Share of the weighted vote a challenge needs (qualified_majority only)."
    )
    leverage: Unit = Field(
        0.0, description="Rise of a member's value of no deal in a fully cohesive, united bloc."
    )


class Scenario(Frozen):
    """A whole negotiation scenario, validated across its parts."""

    name: str
    description: str = ""
    issues: dict[str, Issue] = Field(min_length=1, max_length=MAX_WORK_ITEMS)
    actors: dict[str, Actor] = Field(min_length=2, max_length=MAX_WORK_ITEMS)
    tables: dict[str, Table] = Field(min_length=1, max_length=MAX_WORK_ITEMS)
    linkages: tuple[Linkage, ...] = Field((), max_length=MAX_ENTRIES)
    model: ModelSettings = ModelSettings()
    uncertainty: dict[str, Distribution] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    events: tuple[Event, ...] = Field((), max_length=MAX_ENTRIES)
    blocs: dict[str, Bloc] = Field(default_factory=dict, max_length=MAX_WORK_ITEMS)

    @model_validator(mode="before")
    @classmethod
    def _no_reservation(cls, data: Any) -> Any:
        check_no_reservation(data)
        return data

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

    def no_deal(self, table_id: str, issue_id: str) -> float:
        """Return the value of an issue at a table if the table ends without a deal."""
        return self.tables[table_id].no_deal.get(issue_id, self.status_quo(table_id, issue_id))


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return {key: tuple(item) if isinstance(item, list) else item for key, item in value.items()}
    return value


def is_finite_number(value: Any) -> bool:
    """Return True for an int or float that is neither NaN nor infinite (bools excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
