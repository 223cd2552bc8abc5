"""Pictures of one traced run: concession curves and the utility space of each table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from negotiation.atomic import write_atomic
from negotiation.bargaining.analysis import nash_point, pareto_frontier

if TYPE_CHECKING:
    from negotiation.model import NegotiationModel


def concession_figure(model: NegotiationModel, table_id: str) -> tuple[Figure, Axes]:
    """Offers' utility to each party, round by round, at one table.

    Args:
        model: A model run with ``trace=True``.
        table_id: The table.

    Returns:
        The figure and its axes.
    """
    offers = model.datacollector.get_table_dataframe("offers")
    rows = offers[offers["table"] == table_id]
    t = model.compiled.table_ids.index(table_id)
    parties = [model.compiled.actor_ids[a] for a in model.compiled.parties[t]]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    for party in parties:
        mine = rows[rows["proposer"] == party]
        ax.plot(mine["round"], mine["proposer_utility"], "o-", label=f"{party}'s offers, to {party}")
        ax.plot(
            mine["round"],
            mine["responder_utility"],
            "x--",
            alpha=0.7,
            label=f"{party}'s offers, to the other side",
        )
    ax.set_xlabel("round")
    ax.set_ylabel("utility (0-1)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{table_id}: concession curves")
    ax.legend(fontsize="small", loc="lower left")
    return fig, ax


def utility_space_figure(model: NegotiationModel, table_id: str) -> tuple[Figure, Axes]:
    """Utility space of one table: Pareto frontier, Nash point, offers and the agreement.

    Args:
        model: A model run with ``trace=True``.
        table_id: The table.

    Returns:
        The figure and its axes.
    """
    c = model.compiled
    t = c.table_ids.index(table_id)
    d = model.negotiation.derived
    parties = [c.actor_ids[a] for a in c.parties[t]]
    frontier = pareto_frontier(d.weights[t], d.ideal[t], d.curvature[t, :, 0])
    disagreement = model.negotiation.reservation[t]
    nash = nash_point(frontier, disagreement)
    offers = model.datacollector.get_table_dataframe("offers")
    rows = offers[offers["table"] == table_id]
    fig, ax = plt.subplots(figsize=(5.2, 5.0), layout="constrained")
    ax.plot(frontier[:, 0], frontier[:, 1], "-", color="black", label="Pareto frontier")
    for party in parties:
        mine = rows[rows["proposer"] == party]
        first = mine["proposer"].eq(parties[0])
        u0 = np.where(first, mine["proposer_utility"], mine["responder_utility"])
        u1 = np.where(first, mine["responder_utility"], mine["proposer_utility"])
        ax.plot(u0, u1, ".-", alpha=0.6, label=f"offers by {party}")
    ax.axvline(disagreement[0], color="grey", linestyle=":", label="reservation values")
    ax.axhline(disagreement[1], color="grey", linestyle=":")
    if np.isfinite(nash).all():
        ax.plot(*nash, "D", color="tab:green", markersize=8, label="Nash point")
    outcome = model.outcomes()[t]
    if outcome.deal:
        ax.plot(
            outcome.utilities[parties[0]],
            outcome.utilities[parties[1]],
            "*",
            color="tab:red",
            markersize=14,
            label=f"agreement (round {outcome.round})",
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"utility to {parties[0]}")
    ax.set_ylabel(f"utility to {parties[1]}")
    ax.set_title(f"{table_id}: utility space ({outcome.status})")
    ax.legend(fontsize="small", loc="lower left")
    return fig, ax


def write_run_plots(model: NegotiationModel, directory: Path) -> list[Path]:
    """Write both pictures for every table of a traced run as PNG files.

    Args:
        model: A model run with ``trace=True``.
        directory: Folder to write into (created if missing).

    Returns:
        The files written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table_id in model.compiled.table_ids:
        for name, make in (("concession", concession_figure), ("utility-space", utility_space_figure)):
            fig, _ = make(model, table_id)
            path = directory / f"{table_id}-{name}.png"
            written.append(write_atomic(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110)))
            plt.close(fig)
    return written
