"""Country agents: each holds its seats, preferences and strategy, and reacts to other tables' news."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

if TYPE_CHECKING:
    from negotiation.model import NegotiationModel


class CountryAgent(mesa.Agent):
    """A country at the negotiating tables.

    The agent takes part in every table it sits at. Its offers and answers at all tables are computed
    together, for speed, by :class:`negotiation.bargaining.protocol.Negotiation` from the preferences and
    strategy it holds; between rounds the agent reacts to news from tables that ended, through the
    scenario's linkages (precedents, escalation), by moving its own values of no deal.
    """

    def __init__(self, model: NegotiationModel, actor_id: str) -> None:
        """Seat the agent.

        Args:
            model: The model.
            actor_id: The actor's id in the scenario.
        """
        super().__init__(model)
        compiled = model.compiled
        self.actor_id = actor_id
        self.index = compiled.actor_ids.index(actor_id)
        self.actor = compiled.scenario.actors[actor_id]
        """The actor's scenario record: leverage, pressure, resolve, rapport, strategy."""
        rows, sides = np.nonzero(compiled.seats == self.index)
        self.seats: dict[int, int] = dict(zip(rows.tolist(), sides.tolist(), strict=True))
        """Table index to the side (0 opener, 1 responder; at a table of more, the seat in `parties`)."""

    @property
    def tables(self) -> list[str]:
        """Ids of the tables the agent sits at."""
        return [self.model.compiled.table_ids[t] for t in self.seats]

    def preferences(self, table_id: str) -> dict[str, dict[str, float]]:
        """The agent's normalised weights and ideal points at one of its tables, by issue."""
        compiled = self.model.compiled
        t = compiled.table_ids.index(table_id)
        side = self.seats[t]
        derived, row = self._state(t)
        issues = compiled.table_issues[t]
        return {
            "weights": {issue: float(derived.weights[row, side, k]) for k, issue in enumerate(issues)},
            "ideal": {issue: float(derived.ideal[row, side, k]) for k, issue in enumerate(issues)},
        }

    def _state(self, t: int) -> tuple[Any, int]:
        """The derived quantities holding table ``t`` and its row there (SAOP tables have their own)."""
        stacked = self.model.runs.stacked
        if self.model.compiled.stacked[t]:
            return stacked.derived, int(np.flatnonzero(stacked.tables == t)[0])
        return self.model.negotiation.derived, t

    def reservation(self, table_id: str) -> float:
        """Current value of no deal (effective reservation utility) at one of its tables."""
        t = self.model.compiled.table_ids.index(table_id)
        if self.model.compiled.stacked[t]:
            _, row = self._state(t)
            return float(self.model.runs.stacked.reservation[row, self.seats[t]])
        return float(self.model.negotiation.reservation[t, self.seats[t]])

    @property
    def negotiators(self) -> dict[str, Any]:
        """The negotiator deciding at each of the agent's tables, by table id.

        Empty on the fast path, where the vectorised core plays the agent's strategy.
        """
        seats = self.model.seats
        if seats is None:
            return {}
        return {
            self.model.compiled.table_ids[t]: seats.negotiators[t, side]
            for t, side in self.seats.items()
            if not self.model.compiled.stacked[t]  # SAOP tables play the built-in strategies
        }

    def react(self, shifts: np.ndarray) -> None:
        """Move own values of no deal at still-open tables by the linkage shifts of this round.

        Args:
            shifts: (T, 2) shifts from :meth:`negotiation.bargaining.protocol.Negotiation.linkage_shifts`;
                the agent applies the entries at its own seats.
        """
        reservation = self.model.negotiation.reservation
        for table, side in self.seats.items():
            if side < 2 and shifts[table, side] != 0.0:  # linkages never target tables of more than two
                reservation[table, side] = reservation[table, side] + shifts[table, side]
