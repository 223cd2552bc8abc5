"""The negotiator interface, in the vocabulary of NegMAS and Genius.

A country agent takes a seat at each of its tables; at each seat a :class:`Negotiator` makes its
decisions. The mechanism (alternating offers, :mod:`negotiation.negotiators.mechanism`) asks it:

- ``propose(state) -> Offer`` when it is the negotiator's turn to make an offer;
- ``respond(state, offer) -> Response`` to an offer of another party: ``ACCEPT`` it, ``REJECT`` it
  (the turn passes and a counter-offer follows) or ``WALK_OUT`` (the table ends without a deal);

and calls the optional hooks ``join`` (the seat is taken, at the start of a run),
``on_opponent_offer`` (an offer arrived, before ``respond``) and ``on_table_end`` (the table ended).

``state`` (:class:`TableState`) is a read-only view of the table from the seat: the outcome space
(issues and ranges), the round, the step and the deadline, the negotiator's own utility function and
value of no deal (its *reservation value*), the offer history and every party's standing offer, and
news from other tables of the run. It never shows another party's private preferences: issue weights,
discount factor and cost of delay stay hidden (:class:`PrivateInformation`), as in NegMAS, where a
negotiator sees an annotated mechanism interface, never the mechanism. What this model treats as
public is shown: positions (ideal points, curvature) and values of no deal (see docs/model-odd.md,
"Learning"). The one exception is declared in the scenario: an actor whose strategy is
``equilibrium`` plays with complete information, the assumption of that strategy.

Offers are :class:`Offer` objects over the table's :class:`OutcomeSpace`; their ``values`` are in
real units (``{"tariff_rate": 15.0}``), their ``x`` the normalised point the mechanism keeps.

The interface is written for n parties: ``parties`` lists the seats in turn order,
``standing_offers`` holds each party's latest offer and ``proposer`` names whose offer is being
answered. Tables today have two parties (the opener and the responder).

Word list (here: NegMAS; Genius):

- ``propose``: ``SAONegotiator.propose``; ``chooseAction`` returning an ``Offer``
- ``respond``: ``SAONegotiator.respond``; ``chooseAction`` returning ``Accept`` or ``EndNegotiation``
- ``Response.ACCEPT`` / ``REJECT`` / ``WALK_OUT``: ``ResponseType.ACCEPT_OFFER`` / ``REJECT_OFFER`` /
  ``END_NEGOTIATION``; ``Accept`` / a counter-offer / ``EndNegotiation``
- ``ufun``, ``reserved_value``: ``ufun``, ``ufun.reserved_value``; ``UtilitySpace``, reservation value
- ``outcome_space``: ``outcome_space``; ``Domain``
- ``relative_time``: ``state.relative_time``; ``timeline.getTime()``
- ``join``, ``on_opponent_offer``, ``on_table_end``: ``join``, ``on_partner_proposal``,
  ``on_negotiation_end``; ``init``, ``receiveMessage``, ``endSession``
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from negotiation.bargaining.preferences import utility


class Response(enum.Enum):
    """A negotiator's answer to an offer."""

    ACCEPT = "accept"
    """Accept the offer: the table ends with it as the agreement (NegMAS ``ACCEPT_OFFER``)."""
    REJECT = "reject"
    """Reject it; the turn passes to the responder, who makes the next offer (``REJECT_OFFER``)."""
    WALK_OUT = "walk_out"
    """Leave the table: it ends at its disagreement point (NegMAS ``END_NEGOTIATION``)."""


class PrivateInformation(AttributeError):
    """Raised on reading another party's private preferences (weights, discount, cost of delay)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only view of an array (cheap: no copy; the owner keeps writing its own)."""
    view = np.asarray(array).view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, eq=False)
class OutcomeSpace:
    """The issues of a table and their ranges: every offer is a point in it.

    Points are kept normalised (``x`` in [0, 1] per issue) in a vector of the scenario's widest
    table; the slots past this table's issues carry nothing.
    """

    issues: tuple[str, ...]
    """The table's issue ids, in order."""
    low: np.ndarray
    """(K,) low end of each issue's range at the table, real units (padded)."""
    high: np.ndarray
    """(K,) high end of each issue's range, real units (padded)."""
    binary: np.ndarray
    """(K,) True for binary (0/1) issues."""
    units: tuple[str, ...] = ()
    """Unit of each issue, e.g. '%'."""

    @property
    def size(self) -> int:
        """Length of the normalised vectors (the scenario's most issues at a table)."""
        return int(self.low.shape[0])

    def offer(self, values: Mapping[str, float]) -> Offer:
        """An offer from real values of every issue of the table.

        Args:
            values: Issue id to value in real units, within the issue's range.

        Returns:
            The offer.

        Raises:
            ValueError: An issue is missing, unknown, or its value is outside its range.
        """
        unknown = sorted(set(values) - set(self.issues))
        if unknown:
            raise ValueError(f"offer names issue {unknown[0]!r}, not on this table; issues: {self.issues}")
        x = np.zeros(self.size)
        for k, issue in enumerate(self.issues):
            if issue not in values:
                raise ValueError(f"offer without a value for issue {issue!r}")
            low, high = float(self.low[k]), float(self.high[k])
            value = float(values[issue])
            if not low <= value <= high:
                raise ValueError(f"offer value {value} for {issue!r} outside its range [{low}, {high}]")
            x[k] = (value - low) / (high - low)
        return Offer(x, self)

    def normalised(self, x: np.ndarray) -> Offer:
        """An offer from a normalised point (length ``len(issues)`` or ``size``, each in [0, 1])."""
        point = np.zeros(self.size)
        given = np.asarray(x, float).reshape(-1)
        if given.shape[0] not in (len(self.issues), self.size):
            raise ValueError(f"a normalised offer has {len(self.issues)} values, got {given.shape[0]}")
        point[: given.shape[0]] = given
        return Offer(point, self)

    def values(self, x: np.ndarray) -> dict[str, float]:
        """Real values of a normalised point, by issue."""
        real = self.low + np.asarray(x) * (self.high - self.low)
        return {issue: float(real[k]) for k, issue in enumerate(self.issues)}


class Offer:
    """A point of the outcome space proposed by a party (NegMAS: an outcome)."""

    __slots__ = ("space", "x")

    def __init__(self, x: np.ndarray, space: OutcomeSpace) -> None:
        """Wrap a normalised point.

        Args:
            x: (K,) the normalised point (copied, then read-only).
            space: The table's outcome space.
        """
        point = np.array(x, float).reshape(-1)
        point.setflags(write=False)
        self.x = point
        self.space = space

    @property
    def values(self) -> dict[str, float]:
        """Issue id to value, real units."""
        return self.space.values(self.x)

    @property
    def outcome(self) -> tuple[float, ...]:
        """The values as a tuple in issue order (a NegMAS outcome)."""
        return tuple(self.values.values())

    def __getitem__(self, issue: str) -> float:
        """The real value of one issue."""
        return self.values[issue]

    def __repr__(self) -> str:
        """Short form with real values."""
        inside = ", ".join(f"{k}={v:.4g}" for k, v in self.values.items())
        return f"Offer({inside})"


@dataclass(frozen=True, eq=False)
class UtilityFunction:
    """One's own linear additive utility over the outcome space, and its reservation value.

    ``u(x) = sum_k w_k g_k(x_k)``: weights summing to 1, gains falling from 1 at the ideal point to 0
    at the far end of the range as ``1 - d ** curvature`` (NegMAS: a ``LinearAdditiveUtilityFunction``
    when ``curvature`` is 1). ``reserved_value`` is the value of no deal now: the utility of the
    table's no-deal outcome plus the outside option, moved by linkages and events.
    """

    weights: np.ndarray
    """(K,) issue weights (0 past the table's issues)."""
    ideal: np.ndarray
    """(K,) normalised ideal points."""
    curvature: float
    """Gain curvature (1 linear)."""
    reserved_value: float
    """The value of no deal (the reservation value)."""
    outcome_space: OutcomeSpace

    def __call__(self, offer: Offer | np.ndarray) -> float:
        """Utility of an offer (or of a normalised point)."""
        x = offer.x if isinstance(offer, Offer) else np.asarray(offer, float)
        return float(utility(x[None], self.weights[None], self.ideal[None], np.array([[self.curvature]]))[0])

    def eval(self, offer: Offer | np.ndarray) -> float:
        """NegMAS's name for calling the utility function."""
        return self(offer)


class OpponentView:
    """What a negotiator may know about another party at the table.

    Positions (ideal points, curvature) and the value of no deal are public in this model; weights,
    discount factor and cost of delay are private and raise :class:`PrivateInformation`, unless the
    scenario grants complete information (the ``equilibrium`` strategy's assumption).
    """

    __slots__ = ("_complete", "_row", "_side", "_source", "party")

    def __init__(self, source: Any, row: int, side: int, party: str, complete: bool) -> None:
        self._source = source
        self._row = row
        self._side = side
        self.party = party
        """The other party's actor id."""
        self._complete = complete

    @property
    def ideal(self) -> np.ndarray:
        """(K,) the party's normalised ideal points (public)."""
        return _frozen(self._source.derived.ideal[self._row, self._side])

    @property
    def curvature(self) -> float:
        """The party's gain curvature (public)."""
        return float(self._source.derived.curvature[self._row, self._side, 0])

    @property
    def reserved_value(self) -> float:
        """The party's value of no deal now (public in this model)."""
        return float(self._source.reservation[self._row, self._side])

    def _private(self, name: str) -> Any:
        if not self._complete:
            raise PrivateInformation(
                f"{name} of {self.party} is private; only a seat with complete information "
                "(strategy 'equilibrium') sees it"
            )
        return getattr(self._source.derived, name)[self._row, self._side]

    @property
    def weights(self) -> np.ndarray:
        """(K,) the party's issue weights: private (complete information only)."""
        return _frozen(self._private("weights"))

    @property
    def discount(self) -> float:
        """The party's per-round discount factor: private (complete information only)."""
        return float(self._private("discount"))

    @property
    def delay_cost(self) -> float:
        """The party's per-round cost of delay: private (complete information only)."""
        return float(self._private("delay_cost"))


class Profile:
    """One's own strategy parameters in this run (drawn from the scenario, moved by events).

    The built-in reference negotiators read them; a user negotiator may ignore them.
    """

    __slots__ = ("_row", "_side", "_source")

    def __init__(self, source: Any, row: int, side: int) -> None:
        self._source = source
        self._row = row
        self._side = side

    def _get(self, name: str) -> Any:
        return getattr(self._source.derived, name)[self._row, self._side]

    @property
    def strategy(self) -> str:
        """The scenario's strategy kind for this seat (``time_dependent``, ``tit_for_tat``, ...)."""
        return self._source.strategy_name(int(self._get("kind")))

    exponent = property(lambda self: float(self._get("exponent")), doc="Concession exponent (paced).")
    reciprocity = property(lambda self: float(self._get("reciprocity")), doc="Tit-for-tat mirroring.")
    initial_concession = property(
        lambda self: float(self._get("initial_concession")), doc="Tit-for-tat opening concession."
    )
    discount = property(lambda self: float(self._get("discount")), doc="Per-round discount factor.")
    delay_cost = property(lambda self: float(self._get("delay_cost")), doc="Per-round cost of delay.")
    resolve = property(lambda self: float(self._get("resolve")), doc="Resolve (walk-out hazard).")
    trust = property(lambda self: float(self._get("trust")), doc="Rapport with the other party.")
    prior_strength = property(
        lambda self: float(self._get("prior_strength")), doc="How many offers the prior counts as."
    )
    learns = property(lambda self: bool(self._get("learns")), doc="Learns the opponent's weights.")
    similarity = property(lambda self: bool(self._get("similarity")), doc="Makes similarity offers.")
    ultimatum = property(lambda self: bool(self._get("ultimatum")), doc="Ultimatum in the last round.")

    @property
    def prior(self) -> np.ndarray:
        """(K,) the prior belief of the other party's weights (rapport-weighted, from the scenario)."""
        return _frozen(self._get("prior"))

    @property
    def complete_information(self) -> bool:
        """True where the scenario grants complete information (strategy ``equilibrium``)."""
        return self.strategy == "equilibrium"


@dataclass(frozen=True)
class Proposal:
    """One offer in a table's history."""

    round: int
    """The round it was made in."""
    step: int
    """Rounds since the table opened."""
    party: str
    """Who made it."""
    offer: Offer


@dataclass(frozen=True)
class News:
    """A table of the run that has ended (public news, which linkages carry to other tables)."""

    table: str
    status: str
    """'deal', 'deadline' or 'walkout'."""
    round: int
    agreement: dict[str, float] | None
    """The agreed values (real units), or None without a deal."""


class TableState:
    """A read-only view of one table from one seat, at one moment.

    Made afresh by the mechanism for every call; never store it (its numbers are those of the
    moment). Attributes that are arrays are read-only.
    """

    def __init__(
        self,
        source: Any,
        row: int,
        side: int,
        round_: int,
        history: tuple[Proposal, ...],
        news: tuple[News, ...],
        draw: float,
        offer_binds: bool | None = None,
        proposer: str | None = None,
    ) -> None:
        """Build the view (the mechanism does this).

        Args:
            source: The mechanism's table state (see :class:`negotiation.negotiators.mechanism.Seats`).
            row: The table's row.
            side: The seat's position in the turn order (0 opens).
            round_: The current round.
            history: The table's offers so far, oldest first.
            news: Tables of the run that ended so far.
            draw: The table's uniform random number for this round.
            offer_binds: While responding: whether the mechanism holds the proposer to the offer.
            proposer: While responding: who made the offer being answered.
        """
        self._source = source
        self._row = row
        self.side = side
        """This seat's position in the turn order (0 opens)."""
        self.round = round_
        """The model's round (shared by all tables)."""
        self.history = history
        """The table's offers so far, oldest first."""
        self.news = news
        """Tables of this run that have ended so far."""
        self.draw = draw
        """The table's uniform random number in [0, 1) for this round, from its own keyed stream
        (``walkout:<table>``): use it for a chance decision, so runs stay reproducible and paired."""
        self.offer_binds = offer_binds
        """While responding: False when the offer is worth less to its proposer than the proposer's
        value of no deal, so an acceptance would not bind (the table goes on); None while proposing."""
        self.proposer = proposer
        """While responding: who made the offer being answered; None while proposing."""
        table = source.table_of(row)
        self.table = source.compiled.table_ids[table]
        """The table's id."""
        self.parties = source.party_ids(table)
        """The parties' actor ids in turn order (the first opens)."""
        self.party = self.parties[side]
        """This seat's actor id."""
        self.outcome_space = source.outcome_space(table)
        """The table's issues and ranges."""
        d = source.derived
        self.opens = int(source.opens[row])
        """The round the table opened in."""
        self.deadline = int(d.deadline[row])
        """The last round in which an agreement can be made."""

    @property
    def step(self) -> int:
        """Rounds since the table opened (NegMAS ``state.step``)."""
        return self.round - self.opens

    @property
    def n_steps(self) -> int:
        """The step of the deadline: the table's last step (NegMAS ``n_steps`` minus one)."""
        return self.deadline - self.opens

    @property
    def relative_time(self) -> float:
        """Share of the table's time used, in [0, 1] (NegMAS ``relative_time``)."""
        return min(max(self.step / self.n_steps, 0.0), 1.0) if self.n_steps > 0 else 1.0

    @property
    def last_round(self) -> bool:
        """True in the table's last round: an offer rejected now ends the table at the deadline."""
        return self.round >= self.deadline

    @property
    def ufun(self) -> UtilityFunction:
        """One's own utility function, with the value of no deal as its reserved value."""
        s, r, d = self.side, self._row, self._source.derived
        return UtilityFunction(
            _frozen(d.weights[r, s]),
            _frozen(d.ideal[r, s]),
            float(d.curvature[r, s, 0]),
            float(self._source.reservation[r, s]),
            self.outcome_space,
        )

    @property
    def reserved_value(self) -> float:
        """One's own value of no deal now (the reservation value)."""
        return float(self._source.reservation[self._row, self.side])

    @property
    def profile(self) -> Profile:
        """One's own strategy parameters in this run."""
        return Profile(self._source, self._row, self.side)

    @property
    def opponents(self) -> dict[str, OpponentView]:
        """The other parties, by actor id."""
        complete = self.profile.complete_information
        return {
            party: OpponentView(self._source, self._row, side, party, complete)
            for side, party in enumerate(self.parties)
            if side != self.side
        }

    @property
    def opponent(self) -> OpponentView:
        """The other party at a bilateral table."""
        (view,) = self.opponents.values()
        return view

    @property
    def standing_offers(self) -> dict[str, Offer]:
        """Each party's latest offer at this table (parties that have not offered yet are absent)."""
        latest: dict[str, Offer] = {}
        for proposal in self.history:
            latest[proposal.party] = proposal.offer
        return latest

    @property
    def breakdown_risk(self) -> float:
        """The table's base per-round walk-out hazard."""
        return float(self._source.derived.breakdown_risk[self._row])

    @property
    def mediation(self) -> float:
        """The mediator's damping of walk-outs, in [0, 1] (0 without a mediator)."""
        return float(self._source.derived.mediation[self._row])

    @property
    def issue_mask(self) -> np.ndarray:
        """(K,) True for the slots that hold this table's issues."""
        return _frozen(self._source.mask[self._row])


class Negotiator:
    """Base class of every negotiator: override ``propose`` and ``respond``; the hooks are optional.

    A negotiator is made once per seat and run (``negotiators`` of the Mesa model give a class or a
    factory; the scenario names a registered kind), so it may keep what it learns in attributes.
    It must decide from the state alone; the table's ``state.draw`` is its source of chance.
    """

    def join(self, state: TableState) -> None:
        """The seat is taken, at the start of the run (before the table opens)."""

    def propose(self, state: TableState) -> Offer:
        """The offer to make now.

        Args:
            state: The table from this seat.

        Returns:
            An offer in ``state.outcome_space``.
        """
        raise NotImplementedError

    def on_opponent_offer(self, state: TableState, offer: Offer) -> None:
        """An offer of another party arrived (called before :meth:`respond`)."""

    def respond(self, state: TableState, offer: Offer) -> Response:
        """Answer an offer of another party.

        Args:
            state: The table from this seat (``state.proposer`` made the offer).
            offer: The offer.

        Returns:
            ``Response.ACCEPT``, ``Response.REJECT`` or ``Response.WALK_OUT``.
        """
        raise NotImplementedError

    def on_table_end(self, state: TableState, status: str, agreement: Offer | None) -> None:
        """The table ended: ``status`` is 'deal', 'deadline' or 'walkout'."""
