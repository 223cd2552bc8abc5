"""Every built-in strategy as a plain-Python negotiator: the documentation of what each one does.

The vectorised engine (:mod:`negotiation.bargaining.protocol`) plays these strategies for hundreds of
runs at once; the classes here play one seat, through the negotiator interface, and give the same
outcomes on the same seeds (``tests/test_reference_negotiators.py`` checks every kind bit for bit).
They call the same pure functions of the core (:mod:`negotiation.bargaining.preferences`,
``strategies``, ``learning``, ``equilibrium``) on one row at a time.

A reference negotiator, in words:

- **target**: the utility it asks for at a step, never below its value of no deal. Each strategy
  has its own: :class:`TimeDependent` (Faratin's curve from 1 down to the value of no deal at the
  deadline), :class:`TitForTat` (concedes what the opponent conceded to it), :class:`Hardliner`
  (always 1) and :class:`Equilibrium` (the subgame-perfect value, by backward induction);
- **offer rule**: the offer worth the target that is best for the opponent as it believes the
  opponent's weights (*efficient*), or the one nearest the opponent's last offer (Faratin's
  *similarity*); the equilibrium strategy offers the responder exactly its equilibrium value, and a
  time-dependent tactic that chose ``last_offer = "ultimatum"`` makes, in the last round, the most
  demanding offer the responder is sure to accept;
- **opponent model**: with ``opponent_model = "bayesian"`` and less than full trust, each received
  offer updates its belief of the opponent's weights (:mod:`negotiation.bargaining.learning`);
- **acceptance**: AC_next on discounted values: accept an offer worth at least what its own next
  offer would be worth now, or, in the last round, at least its value of no deal;
- **walk-out**: rejecting, it walks out when the table's draw falls below its hazard, which grows
  with its resolve, its distrust and how far the offer falls short of its own next target.
"""

from __future__ import annotations

import math

import numpy as np

from negotiation.bargaining.equilibrium import package_frontiers, subgame_perfect_values
from negotiation.bargaining.learning import OpponentModels, concession_evidence
from negotiation.bargaining.preferences import efficient_offer, guaranteed_offer, trade_off, utility
from negotiation.bargaining.protocol import _round_binary
from negotiation.bargaining.strategies import (
    accepts,
    time_dependent_target,
    tit_for_tat_target,
    walkout_hazard,
)
from negotiation.negotiators.interface import Negotiator, Offer, Response, TableState


def _row(value: float) -> np.ndarray:
    return np.array([value], float)


class ReferenceNegotiator(Negotiator):
    """What every built-in strategy shares: offer rules, learning, acceptance, walk-outs.

    Subclasses give :meth:`aim`, the raw target at a step (before the floor at the value of no
    deal).
    """

    target: float = math.nan
    """The target of its latest offer (shown in the trace)."""

    def join(self, state: TableState) -> None:
        """Start with no offers received and the scenario's prior belief of the opponent's weights."""
        profile = state.profile
        self.received_last = math.nan  # utility to it of the latest offer received
        self.received_prev = math.nan  # ... and of the one before
        self.tft_target = 1.0 - profile.initial_concession
        self.believed = np.array(profile.prior)
        self.model: OpponentModels | None = None
        self._prior_seen = self._prior_key(state)

    # -- what it asks for ----------------------------------------------------------------------

    def aim(self, state: TableState, step: int) -> float:
        """The raw target at ``step`` (subclasses)."""
        raise NotImplementedError

    def target_at(self, state: TableState, step: int) -> float:
        """The target at ``step``: the strategy's aim, never below the value of no deal."""
        return max(self.aim(state, step), state.reserved_value)

    def proposal_target(self, state: TableState) -> float:
        """The target of the offer it makes now."""
        return self.target_at(state, state.step)

    # -- proposing ------------------------------------------------------------------------------

    def propose(self, state: TableState) -> Offer:
        """The offer at its target, by its offer rule."""
        self._refresh_beliefs(state)
        target = self.proposal_target(state)
        self.target = target
        return state.outcome_space.normalised(self.offer_at(state, target))

    def offer_at(self, state: TableState, target: float) -> np.ndarray:
        """The offer worth ``target``: the similarity trade-off or the efficient offer."""
        ufun, opponent = state.ufun, state.opponent
        weights, ideal = ufun.weights[None], ufun.ideal[None]
        curvature = np.array([[ufun.curvature]])
        binary = state.outcome_space.binary[None]
        if state.profile.similarity:
            theirs = state.standing_offers.get(opponent.party)
            start = theirs.x[None] if theirs is not None else ideal
            offer = trade_off(_row(target), weights, ideal, start, self.believed[None], curvature)
            if binary.any():
                offer = _round_binary(binary, offer, _row(target), weights, ideal, curvature)
            return offer[0]
        return efficient_offer(
            _row(target),
            weights,
            ideal,
            curvature,
            self.believed[None],
            opponent.ideal[None],
            np.array([[opponent.curvature]]),
            binary,
        )[0]

    # -- responding -----------------------------------------------------------------------------

    def on_opponent_offer(self, state: TableState, offer: Offer) -> None:
        """Note what the offer is worth to it and learn the opponent's weights from it."""
        self._refresh_beliefs(state)
        self.received_prev, self.received_last = self.received_last, state.ufun(offer)
        if state.profile.learns:
            self._learn(state, offer)

    def respond(self, state: TableState, offer: Offer) -> Response:
        """AC_next on discounted values; rejecting, walk out with the hazard."""
        profile = state.profile
        offer_value = _row(self.received_last)
        next_target = _row(self.target_at(state, state.step + 1))
        accepted = accepts(
            offer_value,
            next_target,
            _row(state.reserved_value),
            _row(profile.discount),
            _row(profile.delay_cost),
            np.array([state.round + 1 > state.deadline]),
        )[0]
        if accepted and state.offer_binds:
            return Response.ACCEPT
        hazard = walkout_hazard(
            _row(state.breakdown_risk),
            _row(profile.resolve),
            _row(profile.trust),
            _row(state.mediation),
            np.maximum(next_target - offer_value, 0.0),
        )[0]
        return Response.WALK_OUT if state.draw < hazard else Response.REJECT

    # -- learning -------------------------------------------------------------------------------

    def _learn(self, state: TableState, offer: Offer) -> None:
        opponent, profile = state.opponent, state.profile
        features, expected = concession_evidence(
            offer.x[None],
            opponent.ideal[None],
            np.array([[opponent.curvature]]),
            state.issue_mask[None],
            np.array([state.step]),
            np.array([state.n_steps]),
            _row(opponent.reserved_value),
        )
        prior = np.array(profile.prior)[None]
        if self.model is None:
            self.model = OpponentModels(prior, _row(profile.prior_strength), state.issue_mask[None])
        self.believed = self.model.update(np.array([0]), features, expected, prior)[0]

    @staticmethod
    def _prior_key(state: TableState) -> tuple[bytes, float, bool]:
        profile = state.profile
        return profile.prior.tobytes(), profile.prior_strength, profile.learns

    def _refresh_beliefs(self, state: TableState) -> None:
        """Start afresh from the prior when an event changed it (or its strength, or learning)."""
        key = self._prior_key(state)
        if key == self._prior_seen:
            return
        self._prior_seen = key
        profile = state.profile
        self.believed = np.array(profile.prior)
        if self.model is not None:
            self.model.reset(np.array([0]), np.array(profile.prior)[None], _row(profile.prior_strength))


class TimeDependent(ReferenceNegotiator):
    """Faratin's time-dependent tactic: Boulware (e < 1), linear (e = 1) or Conceder (e > 1).

    The target falls from 1 when the table opens to the value of no deal at the deadline,
    ``r + (1 - r) (1 - (t / T) ** (1 / e))``. In the last round, with ``last_offer = "ultimatum"``,
    it claims everything but the responder's value of no deal, by an offer the responder is sure
    to accept (:meth:`ultimatum`), or concedes to its own value of no deal if that claims less.
    """

    def aim(self, state: TableState, step: int) -> float:
        """Faratin's curve; the ultimatum's claim at the last step."""
        if step == state.n_steps and state.profile.ultimatum:
            return self.ultimatum(state)[0]
        return float(
            time_dependent_target(
                np.array([step]),
                np.array([state.n_steps]),
                _row(state.profile.exponent),
                _row(state.reserved_value),
            )[0]
        )

    def offer_at(self, state: TableState, target: float) -> np.ndarray:
        """The usual offer, or in the last round the ultimatum (where it claims enough)."""
        offer = super().offer_at(state, target)
        if state.step == state.n_steps and state.profile.ultimatum:
            _, ultimatum, sure = self.ultimatum(state)
            if sure:
                return ultimatum
        return offer

    def ultimatum(self, state: TableState) -> tuple[float, np.ndarray, bool]:
        """A last-round ultimatum: the most demanding offer the responder is sure to accept.

        Values of no deal are public and a responder in its last round accepts anything worth its
        value of no deal ``r``. With full trust in its belief of the responder's weights it claims
        everything but ``r`` by that belief; otherwise it gives the responder a gain of at least
        ``r`` on every issue (worth at least ``r`` whatever its weights).

        Returns:
            The claim (never below its own value of no deal), the offer, and whether the offer
            claims at least its own value of no deal (else it concedes to that value instead).
        """
        ufun, opponent = state.ufun, state.opponent
        weights, ideal = ufun.weights[None], ufun.ideal[None]
        curvature = np.array([[ufun.curvature]])
        floor = _row(opponent.reserved_value)
        their_ideal, their_curvature = opponent.ideal[None], np.array([[opponent.curvature]])
        binary = state.outcome_space.binary[None]
        if state.profile.trust >= 1.0:
            offer = efficient_offer(
                floor, self.believed[None], their_ideal, their_curvature, weights, ideal, curvature, binary
            )
        else:
            offer = guaranteed_offer(floor, weights, ideal, their_ideal, their_curvature, binary)
        claimed = float(utility(offer, weights, ideal, curvature)[0])
        own = state.reserved_value
        return max(claimed, own), offer[0], claimed >= own


class TitForTat(ReferenceNegotiator):
    """Absolute tit-for-tat: concede as much utility as the opponent's last move conceded to it.

    It opens a little below 1 (``1 - initial_concession``) and, each time it proposes, lowers its
    target by ``reciprocity`` times what the opponent's latest offer gained it over the one before,
    never below its value of no deal.
    """

    def aim(self, state: TableState, step: int) -> float:
        """The mirrored target (kept when it proposes)."""
        conceded = self.received_last - self.received_prev
        return float(
            tit_for_tat_target(
                _row(self.tft_target),
                _row(0.0 if math.isnan(conceded) else conceded),
                _row(state.profile.reciprocity),
                _row(state.reserved_value),
            )[0]
        )

    def proposal_target(self, state: TableState) -> float:
        """Mirror the opponent's latest concession and keep the result as its new target."""
        self.tft_target = self.aim(state, state.step)
        return max(self.tft_target, state.reserved_value)


class Hardliner(ReferenceNegotiator):
    """Never concedes: asks for its ideal (utility 1) at every step; accepts only what beats waiting."""

    def aim(self, state: TableState, step: int) -> float:
        """Always 1."""
        return 1.0


class Equilibrium(ReferenceNegotiator):
    """The subgame-perfect strategy of the finite alternating-offers game, with complete information.

    By backward induction from the deadline (:mod:`negotiation.bargaining.equilibrium`): in each
    round the proposer offers the responder exactly what waiting would be worth to it, on the Pareto
    frontier, and keeps the rest; the responder accepts that. Solved again whenever a value of no
    deal or a preference changes (a linkage or an event); it does not foresee such news.
    """

    def join(self, state: TableState) -> None:
        """Start without a solution."""
        super().join(state)
        self._solved_for: bytes | None = None
        self._values = np.zeros((1, 1, 2))

    def values(self, state: TableState) -> np.ndarray:
        """(D + 1, 2) each side's equilibrium value from every step, solved for the current state."""
        me, opponent = state.ufun, state.opponent
        mine = state.side

        def pair(own: object, theirs: object) -> list[object]:
            return [own, theirs] if mine == 0 else [theirs, own]

        weights = np.stack(pair(me.weights, opponent.weights))[None]
        ideal = np.stack(pair(me.ideal, opponent.ideal))[None]
        curvature = np.array([pair(me.curvature, opponent.curvature)], float)
        reservation = np.array([pair(me.reserved_value, opponent.reserved_value)], float)
        profile = state.profile
        discount = np.array([pair(profile.discount, opponent.discount)], float)
        delay_cost = np.array([pair(profile.delay_cost, opponent.delay_cost)], float)
        binary = state.outcome_space.binary[None]
        key = b"".join(a.tobytes() for a in (weights, ideal, curvature, reservation, discount, delay_cost))
        if key != self._solved_for:
            frontiers = package_frontiers(weights, ideal, curvature, binary)
            self._values = subgame_perfect_values(
                frontiers, reservation, discount, delay_cost, np.array([state.n_steps])
            )
            self._solved_for = key
        return self._values[0]

    def value(self, state: TableState, side: int, step: int) -> float:
        """Equilibrium value of ``side`` from ``step`` on."""
        values = self.values(state)
        return float(values[min(max(step, 0), values.shape[0] - 1), side])

    def aim(self, state: TableState, step: int) -> float:
        """Its own equilibrium value from ``step``."""
        return self.value(state, state.side, step)

    def offer_at(self, state: TableState, target: float) -> np.ndarray:
        """The efficient offer that leaves the responder its equilibrium value, found from its side."""
        me, opponent = state.ufun, state.opponent
        their_value = self.value(state, 1 - state.side, state.step)
        return efficient_offer(
            _row(their_value),
            opponent.weights[None],
            opponent.ideal[None],
            np.array([[opponent.curvature]]),
            me.weights[None],
            me.ideal[None],
            np.array([[me.curvature]]),
            state.outcome_space.binary[None],
        )[0]


REFERENCE_NEGOTIATORS: dict[str, type[ReferenceNegotiator]] = {
    "time_dependent": TimeDependent,
    "tit_for_tat": TitForTat,
    "hardliner": Hardliner,
    "equilibrium": Equilibrium,
}
"""The reference negotiator of each built-in strategy kind."""


class BuiltinStrategy(Negotiator):
    """The seat's own scenario strategy, played by its reference negotiator (the kind ``builtin``).

    Chooses the class by the actor's ``strategy.kind`` when it joins, then delegates every call.
    """

    def __init__(self) -> None:
        self.inner: ReferenceNegotiator | None = None

    @property
    def target(self) -> float:
        """The delegate's latest target."""
        return self.inner.target if self.inner is not None else math.nan

    def join(self, state: TableState) -> None:
        """Pick the reference negotiator of the seat's strategy kind."""
        self.inner = REFERENCE_NEGOTIATORS[state.profile.strategy]()
        self.inner.join(state)

    def propose(self, state: TableState) -> Offer:
        """Delegate."""
        assert self.inner is not None
        return self.inner.propose(state)

    def on_opponent_offer(self, state: TableState, offer: Offer) -> None:
        """Delegate."""
        assert self.inner is not None
        self.inner.on_opponent_offer(state, offer)

    def respond(self, state: TableState, offer: Offer) -> Response:
        """Delegate."""
        assert self.inner is not None
        return self.inner.respond(state, offer)
