"""The per-run path: alternating offers whose every decision is asked of the seats' negotiators.

The same protocol as the vectorised engine (:mod:`negotiation.bargaining.protocol`), one table at a
time: at each open table the side whose turn it is proposes (the opener at even steps), the other
side hears the offer and responds. The mechanism keeps the rules:

- an offer worth less to its proposer than the proposer's value of no deal does not bind: accepting
  it does not end the table (``state.offer_binds`` tells the responder);
- a rejected offer in the table's last round ends the table at the deadline;
- a table that ends without a deal ends at its disagreement point, worth each side's value of no
  deal.

Draws, events and linkages stay with the core (:class:`negotiation.bargaining.engine.Runs`), so a
run's random numbers do not depend on who decides, and a run with reference negotiators at every seat
gives exactly the fast path's outcome. User negotiators cannot be vectorised: runs with them take
this path, one run at a time (batches spread the runs over workers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from negotiation.bargaining.compiled import CompiledScenario
from negotiation.bargaining.engine import Runs
from negotiation.bargaining.preferences import utility
from negotiation.bargaining.protocol import (
    DEADLINE,
    DEAL,
    OPEN,
    STATUS_NAMES,
    WALKOUT,
    Derived,
    Negotiation,
    RoundTrace,
)
from negotiation.bargaining.strategies import STRATEGY_CODES
from negotiation.errors import NegotiationError
from negotiation.negotiators.interface import (
    Negotiator,
    News,
    Offer,
    OutcomeSpace,
    Proposal,
    Response,
    TableState,
)

_STRATEGY_NAMES = {code: name for name, code in STRATEGY_CODES.items()}


class NegotiatorError(NegotiationError):
    """A negotiator returned something the protocol cannot take (named, with what was expected)."""


class Seats:
    """The negotiators at every seat of one run, and the rounds that ask them.

    Also the source a :class:`TableState` reads: it shows the run's live table state (the core's
    :class:`Negotiation`), so values of no deal moved by linkages and events are seen at once.
    """

    def __init__(self, negotiation: Negotiation, negotiators: Mapping[tuple[int, int], Negotiator]) -> None:
        """Seat the negotiators (each ``join``s now, before the first round).

        Args:
            negotiation: The run's table state (one run).
            negotiators: ``{(table index, side): negotiator}`` for every seat.
        """
        if negotiation.n_runs != 1:
            raise ValueError("negotiators play one run at a time")
        self.negotiation = negotiation
        self.compiled: CompiledScenario = negotiation.compiled
        self.negotiators = dict(negotiators)
        self.history: list[list[Proposal]] = [[] for _ in range(self.compiled.n_tables)]
        self.news: list[News] = []
        self._spaces = [self._space(t) for t in range(self.compiled.n_tables)]
        for (row, side), negotiator in sorted(self.negotiators.items()):
            _ask(negotiator, "join", self.state(row, side, 0, math.nan))

    # -- what a TableState reads --------------------------------------------------------------

    @property
    def derived(self) -> Derived:
        """The run's derived quantities (replaced by events)."""
        return self.negotiation.derived

    @property
    def reservation(self) -> np.ndarray:
        """(T, 2) values of no deal now."""
        return self.negotiation.reservation

    @property
    def opens(self) -> np.ndarray:
        """(T,) opening rounds."""
        return self.negotiation.opens

    @property
    def mask(self) -> np.ndarray:
        """(T, K) True where a table's issue sits."""
        return self.negotiation.mask

    def table_of(self, row: int) -> int:
        """The table index of a row (one run: the same)."""
        return row

    def party_ids(self, table: int) -> tuple[str, ...]:
        """The parties' actor ids in turn order."""
        c = self.compiled
        return tuple(c.actor_ids[a] for a in c.parties[table])

    def outcome_space(self, table: int) -> OutcomeSpace:
        """The table's outcome space."""
        return self._spaces[table]

    @staticmethod
    def strategy_name(code: int) -> str:
        """The name of a strategy code."""
        return _STRATEGY_NAMES[code]

    def _space(self, table: int) -> OutcomeSpace:
        c = self.compiled
        issues = c.table_issues[table]
        units = tuple(c.scenario.issues[i].unit for i in issues)
        low, high = c.low[table].copy(), c.high[table].copy()
        for array in (low, high):
            array.setflags(write=False)
        binary = c.binary[table].copy()
        binary.setflags(write=False)
        return OutcomeSpace(tuple(issues), low, high, binary, units)

    def state(
        self,
        row: int,
        side: int,
        round_: int,
        draw: float,
        offer_binds: bool | None = None,
        proposer: str | None = None,
    ) -> TableState:
        """The view of a table from a seat now."""
        return TableState(
            self, row, side, round_, tuple(self.history[row]), tuple(self.news), draw, offer_binds, proposer
        )

    # -- the protocol -------------------------------------------------------------------------

    def play_round(self, round_: int, uniforms: np.ndarray, trace: bool = False) -> RoundTrace | None:
        """Play one round at every open table: the proposer proposes, the responder responds.

        Args:
            round_: The round.
            uniforms: (T,) each table's uniform number this round (its walk-out stream).
            trace: Return the round's trace.

        Returns:
            The trace if asked for, else None.
        """
        n = self.negotiation
        d = n.derived
        rows = np.flatnonzero((n.status == OPEN) & (n.opens <= round_) & (round_ <= d.deadline))
        if rows.size == 0:
            return None
        sides = (round_ - n.opens[rows]) % 2
        offers = np.empty((rows.size, self.compiled.n_issues))
        values = np.empty((rows.size, 2))
        targets = np.full(rows.size, np.nan)
        status = np.full(rows.size, OPEN, np.int8)
        for i, (row, side) in enumerate(zip(rows.tolist(), sides.tolist(), strict=True)):
            status[i], offers[i], values[i], targets[i] = self._turn(row, side, round_, float(uniforms[row]))
        ended = status != OPEN
        n.status[rows] = status
        if ended.any():
            n.end_round[rows[ended]] = round_
            deal = status == DEAL
            n.agreement[rows[deal]] = offers[deal]
            n.settle(rows[ended], offers[ended], deal[ended])
            for i in np.flatnonzero(ended).tolist():
                self._end(int(rows[i]), int(status[i]), offers[i], round_)
        if not trace:
            return None
        return RoundTrace(round_, rows, sides, offers, values, targets, status)

    def _turn(
        self, row: int, side: int, round_: int, draw: float
    ) -> tuple[int, np.ndarray, np.ndarray, float]:
        """One table's turn: returns its status, the offer, its utility to each side, the target."""
        n, d = self.negotiation, self.negotiation.derived
        other = 1 - side
        proposer, responder = self.negotiators[row, side], self.negotiators[row, other]
        state = self.state(row, side, round_, draw)
        offer = _checked_offer(_ask(proposer, "propose", state), state.outcome_space, proposer)
        x = offer.x
        n.offers[row, side] = x
        n.has_offer[row, side] = True
        self.history[row].append(Proposal(round_, round_ - int(n.opens[row]), state.party, offer))
        value = np.array(
            [
                utility(x[None], d.weights[row, s][None], d.ideal[row, s][None], d.curvature[row, s][None])[0]
                for s in (0, 1)
            ]
        )
        binds = bool(value[side] >= n.reservation[row, side] - 1e-12)
        answer = self.state(row, other, round_, draw, binds, state.party)
        _ask(responder, "on_opponent_offer", answer, offer)
        response = _ask(responder, "respond", answer, offer)
        if not isinstance(response, Response):
            raise NegotiatorError(
                f"{type(responder).__name__}.respond returned {response!r}; expected a Response "
                "(ACCEPT, REJECT or WALK_OUT)"
            )
        if response is Response.ACCEPT and binds:
            status = DEAL
        elif response is Response.WALK_OUT:
            status = WALKOUT
        elif round_ >= d.deadline[row]:
            status = DEADLINE
        else:
            status = OPEN
        return status, x, value, float(getattr(proposer, "target", math.nan))

    def _end(self, row: int, status: int, offer: np.ndarray, round_: int) -> None:
        """Record the news and tell both seats."""
        space = self._spaces[row]
        agreement = space.normalised(offer) if status == DEAL else None
        self.news.append(
            News(
                self.compiled.table_ids[row],
                STATUS_NAMES[status],
                round_,
                agreement.values if agreement is not None else None,
            )
        )
        for side in (0, 1):
            state = self.state(row, side, round_, math.nan)
            _ask(self.negotiators[row, side], "on_table_end", state, STATUS_NAMES[status], agreement)


def play(runs: Runs, seats: Seats, round_: int, trace: bool = False) -> tuple[RoundTrace | None, np.ndarray]:
    """Fire the round's events, then play it with the seats' negotiators (``Runs.play``'s twin).

    Args:
        runs: The run (one).
        seats: Its seated negotiators.
        round_: The round.
        trace: Return the round's trace.

    Returns:
        The trace (or None) and the rows that ended in this round.
    """
    runs.before_round(round_)
    negotiation = runs.negotiation
    was_open = negotiation.status == OPEN
    uniforms = runs.walkout(round_)
    round_trace = seats.play_round(round_, uniforms, trace)
    runs.play_stacked(round_)
    return round_trace, np.flatnonzero(was_open & (negotiation.status != OPEN))


def _ask(negotiator: Negotiator, method: str, *args: object) -> object:
    """Call a negotiator; an error inside it becomes one line naming the negotiator, table and call."""
    try:
        return getattr(negotiator, method)(*args)
    except NegotiationError:
        raise
    except Exception as exc:
        state = args[0]
        where = f" at {state.table}, round {state.round}" if isinstance(state, TableState) else ""
        raise NegotiatorError(
            f"{type(negotiator).__name__}.{method}{where} raised {type(exc).__name__}: {exc} "
            "(run it through the Python API, NegotiationModel(negotiators=...), to see the traceback)"
        ) from exc


def _checked_offer(offer: object, space: OutcomeSpace, proposer: Negotiator) -> Offer:
    """The proposer's offer, checked: a point of the table's space, binary issues 0 or 1."""
    name = type(proposer).__name__
    if isinstance(offer, Mapping):
        try:
            offer = space.offer(offer)
        except (TypeError, ValueError) as exc:
            raise NegotiatorError(f"{name}.propose returned {offer!r}: {exc}") from None
    if not isinstance(offer, Offer) or offer.x.shape != (space.size,):
        raise NegotiatorError(
            f"{name}.propose returned {offer!r}; expected an Offer of state.outcome_space (or a mapping "
            "of every issue to a value in its range)"
        )
    x = offer.x[: len(space.issues)]
    if not np.all(np.isfinite(x)) or np.any((x < 0.0) | (x > 1.0)):
        raise NegotiatorError(f"{name}.propose returned {offer!r}; expected every value within its range")
    if np.any(space.binary[: len(space.issues)] & (x != 0.0) & (x != 1.0)):
        raise NegotiatorError(f"{name}.propose returned {offer!r}; expected 0 or 1 on binary issues")
    return offer
