"""Country agents: each holds its seats, preferences and strategy, and reacts to other tables' news."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from negotiation.preferences import gain
from negotiation.protocol import DEAL, OPEN, WALKOUT

if TYPE_CHECKING:
    from negotiation.model import NegotiationModel


@dataclass(frozen=True)
class TableNews:
    """A table that ended in the last round, as the other agents hear of it."""

    table: int
    """Table index."""
    status: int
    """How it ended (protocol status code)."""
    agreement: np.ndarray
    """(K,) normalised agreement (status quo if no deal)."""


class CountryAgent(mesa.Agent):
    """A country at the negotiating tables.

    The agent takes part in every table it sits at. Its offers and answers at all tables are computed
    together, for speed, by :class:`negotiation.protocol.Negotiation` from the preferences and
    strategy it holds; between rounds the agent reacts to news from other tables through the
    scenario's linkages (precedents, escalation), moving its own reservation values.
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
        rows, sides = np.nonzero(compiled.parties == self.index)
        self.seats: dict[int, int] = dict(zip(rows.tolist(), sides.tolist(), strict=True))
        """Table index to the side (0 opener, 1 responder) the agent holds there."""

    @property
    def tables(self) -> list[str]:
        """Ids of the tables the agent sits at."""
        return [self.model.compiled.table_ids[t] for t in self.seats]

    def reservation(self, table_id: str) -> float:
        """Current effective reservation utility at a table."""
        t = self.model.compiled.table_ids.index(table_id)
        return float(self.model.negotiation.reservation[t, self.seats[t]])

    def react(self, news: list[TableNews]) -> None:
        """Move own reservation values in response to tables that just ended.

        A precedent (e.g. a 15% US-Japan tariff) moves the agent's reservation at each linked open
        table by ``strength * w_k * (gain(precedent) - gain(status quo))``: the side it favours asks
        more, the side it hurts expects less. An escalation (a walk-out at the source) lowers the
        reservation of agents at linked tables who are not at the source by ``strength``: their
        no-deal outcome just got worse.

        Args:
            news: Tables that ended in the last round.
        """
        compiled = self.model.compiled
        negotiation = self.model.negotiation
        strength = self.model.params["link_strength"]
        for item in news:
            for link in np.flatnonzero(compiled.link_source == item.table):
                for position, target in enumerate(compiled.link_targets[link].tolist()):
                    side = self.seats.get(target)
                    if side is None or negotiation.status[target] != OPEN:
                        continue
                    if compiled.link_kind[link] == 0 and item.status == DEAL:
                        shift = self._precedent_shift(item, int(link), position, target, side)
                    elif compiled.link_kind[link] == 1 and item.status == WALKOUT:
                        shift = 0.0 if item.table in self.seats else -1.0
                    else:
                        continue
                    value = negotiation.reservation[target, side] + strength[link] * shift
                    negotiation.reservation[target, side] = min(max(value, 0.0), 1.0)

    def _precedent_shift(self, item: TableNews, link: int, position: int, target: int, side: int) -> float:
        compiled = self.model.compiled
        derived = self.model.negotiation.derived
        columns = compiled.link_issue[link]
        source_col, target_col = columns[0], columns[1 + position]
        s_low, s_high = compiled.low[item.table, source_col], compiled.high[item.table, source_col]
        real = s_low + item.agreement[source_col] * (s_high - s_low)
        t_low, t_high = compiled.low[target, target_col], compiled.high[target, target_col]
        precedent = np.clip((real - t_low) / (t_high - t_low), 0.0, 1.0)
        ideal = derived.ideal[target, side, target_col]
        weight = derived.weights[target, side, target_col]
        status_quo = compiled.status_quo[target, target_col]
        return float(weight * (gain(np.array(precedent), ideal) - gain(np.array(status_quo), ideal)))
