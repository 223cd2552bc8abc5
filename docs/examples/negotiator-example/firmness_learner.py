"""A small learning negotiator: Boulware aspiration, concessions where the opponent holds firm."""

import numpy as np

from negotiation.negotiators.interface import Negotiator, Response


class FirmnessLearner(Negotiator):
    """Learns which issues the opponent cares about (those it never moves) and concedes there first.

    Args:
        e: Concession exponent of the aspiration (below 1: Boulware, slow to concede).
        memory: How fast the firmness estimate forgets (0 never learns, 1 keeps only the last move).
    """

    def __init__(self, e: float = 0.3, memory: float = 0.2) -> None:
        self.e, self.memory = e, memory

    def join(self, state):
        self.firmness = np.ones(state.outcome_space.size)  # 1: the opponent holds this issue firm
        self.previous = None

    def on_opponent_offer(self, state, offer):
        if self.previous is not None:
            held = (np.abs(offer.x - self.previous) < 0.01).astype(float)
            self.firmness = (1 - self.memory) * self.firmness + self.memory * held
        self.previous = offer.x

    def aspiration(self, state):
        floor = state.reserved_value
        return floor + (1 - floor) * (1 - state.relative_time ** (1 / self.e))

    def propose(self, state):
        ufun, goal = state.ufun, self.aspiration(state)
        theirs = state.standing_offers.get(state.opponent.party)
        toward = theirs.x if theirs is not None else state.opponent.ideal
        share = self.firmness * state.issue_mask / self.firmness.max()
        low, high = 0.0, 1.0  # how far to move toward them, found by bisection
        for _ in range(30):
            middle = (low + high) / 2
            point = ufun.ideal + middle * share * (toward - ufun.ideal)
            low, high = (middle, high) if ufun(point) >= goal else (low, middle)
        point = ufun.ideal + low * share * (toward - ufun.ideal)
        point = np.where(state.outcome_space.binary, np.round(point), point)
        return state.outcome_space.normalised(point)

    def respond(self, state, offer):
        enough = state.ufun(offer) >= max(self.aspiration(state), state.reserved_value)
        return Response.ACCEPT if enough else Response.REJECT
