"""Pictures of one run: concession curves and the utility space of each table.

Each picture is one drawing function that takes the ``Axes`` to draw on and plain data
(:func:`draw_concession`, :func:`draw_utility_space`); ``negotiation run --plot`` and the dashboard
both use them. The data come from a traced :class:`~negotiation.model.NegotiationModel`
(:func:`run_offers`, :func:`utility_space`). Figures are built without pyplot, so a long-running
server keeps no global list of figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from negotiation.atomic import make_folder, write_atomic
from negotiation.bargaining.analysis import nash_point, pareto_frontier
from negotiation.bargaining.protocol import STATUS_NAMES

if TYPE_CHECKING:
    from negotiation.model import NegotiationModel

OFFER_COLUMNS = ("round", "table", "proposer", "responder", "proposer_utility", "responder_utility")
"""Trace columns that the pictures read (see ``negotiation.model.TRACE_COLUMNS``)."""


@dataclass(frozen=True)
class UtilitySpace:
    """One table's utility space in a run: what :func:`draw_utility_space` shows."""

    table: str
    """Table id."""
    parties: tuple[str, str]
    """The two parties (x axis, y axis)."""
    frontier: np.ndarray
    """(K+1, 2) Pareto frontier."""
    nash: np.ndarray
    """(2,) Nash bargaining point (NaN if the reservation values leave no room)."""
    reservation: np.ndarray
    """(2,) current reservation values (the disagreement point)."""
    offers: pd.DataFrame
    """Offers so far: round, proposer, utility_0, utility_1."""
    agreement: tuple[float, float] | None
    """Utilities of the agreement, or None while there is none."""
    status: str
    """'open', 'deal', 'deadline' or 'walkout'."""
    round: int | None = None
    """Round of the agreement, when there is one."""


def parties_of(model: NegotiationModel, table_id: str) -> tuple[str, str]:
    """The two parties of a table (opener first)."""
    c = model.compiled
    t = c.table_ids.index(table_id)
    return c.actor_ids[c.parties[t, 0]], c.actor_ids[c.parties[t, 1]]


def run_offers(model: NegotiationModel, table_id: str | None = None) -> pd.DataFrame:
    """The trace of offers so far, optionally for one table, with each offer's utility to each party.

    Args:
        model: A model built with ``trace=True``.
        table_id: One table, or None for all.

    Returns:
        The DataCollector's ``offers`` rows plus ``utility_0``/``utility_1``: the offer's utility to
        the table's first and second party.
    """
    frame = model.datacollector.get_table_dataframe("offers")
    if table_id is not None and not frame.empty:
        frame = frame[frame["table"] == table_id]
    if frame.empty:
        return pd.DataFrame(columns=[*frame.columns, "utility_0", "utility_1"])
    c = model.compiled
    first = {t: c.actor_ids[c.parties[i, 0]] for i, t in enumerate(c.table_ids)}
    by_first = frame["proposer"].to_numpy() == frame["table"].map(first).to_numpy()
    frame = frame.assign(
        utility_0=np.where(by_first, frame["proposer_utility"], frame["responder_utility"]),
        utility_1=np.where(by_first, frame["responder_utility"], frame["proposer_utility"]),
    )
    return frame.reset_index(drop=True)


def utility_space(model: NegotiationModel, table_id: str) -> UtilitySpace:
    """Pareto frontier, Nash point, offers so far and agreement of one table in a traced run."""
    c = model.compiled
    t = c.table_ids.index(table_id)
    derived = model.negotiation.derived
    frontier = pareto_frontier(derived.weights[t], derived.ideal[t], derived.curvature[t, :, 0])
    reservation = np.asarray(model.negotiation.reservation[t], dtype=float)
    parties = parties_of(model, table_id)
    status = STATUS_NAMES[int(model.negotiation.status[t])]
    agreement, agreed_round = None, None
    if status == "deal":
        outcome = model.outcomes()[t]
        agreement = (outcome.utilities[parties[0]], outcome.utilities[parties[1]])
        agreed_round = outcome.round
    return UtilitySpace(
        table=table_id,
        parties=parties,
        frontier=frontier,
        nash=np.asarray(nash_point(frontier, reservation), dtype=float),
        reservation=reservation,
        offers=run_offers(model, table_id)[["round", "proposer", "utility_0", "utility_1"]],
        agreement=agreement,
        status=status,
        round=agreed_round,
    )


def draw_concession(
    ax: Axes, offers: pd.DataFrame, table_id: str, parties: tuple[str, str], horizon: int | None = None
) -> Axes:
    """Draw each side's offers' utility to itself and to the other side, round by round.

    Args:
        ax: The axes to draw on.
        offers: :func:`run_offers` rows of the table (round, proposer, utility_0, utility_1).
        table_id: The table.
        parties: Its two parties, opener first.
        horizon: Rounds the run can last (fixes the x axis), or None to fit the offers.

    Returns:
        ``ax``.
    """
    for side, party in enumerate(parties):
        mine = offers[offers["proposer"] == party]
        own, other = f"utility_{side}", f"utility_{1 - side}"
        ax.plot(mine["round"], mine[own], "o-", label=f"{party}'s offers, to {party}")
        ax.plot(
            mine["round"], mine[other], "x--", alpha=0.7, label=f"{party}'s offers, to {parties[1 - side]}"
        )
    if horizon is not None:
        ax.set_xlim(-0.5, max(horizon, 1) - 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel("utility (0-1)")
    ax.set_title(f"{table_id}: concession curves")
    if len(offers):
        ax.legend(fontsize="x-small", loc="best")
    return ax


def draw_bargaining_set(
    ax: Axes, frontier: np.ndarray, reservation: np.ndarray, nash: np.ndarray, parties: tuple[str, str]
) -> Axes:
    """Draw what every utility-space picture shares: frontier, reservation lines, Nash point, axes.

    Args:
        ax: The axes to draw on.
        frontier: (K, 2) Pareto frontier vertices.
        reservation: (2,) reservation utilities (the disagreement point).
        nash: (2,) Nash point, NaN where none beats both reservations.
        parties: The parties on the x and y axes.

    Returns:
        ``ax``.
    """
    ax.plot(frontier[:, 0], frontier[:, 1], "-", color="black", linewidth=1.5, label="Pareto frontier")
    ax.axvline(reservation[0], color="grey", linestyle=":", label="reservation values")
    ax.axhline(reservation[1], color="grey", linestyle=":")
    if np.isfinite(nash).all():
        ax.plot(*nash, "D", color="tab:green", markersize=8, markeredgecolor="black", label="Nash point")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(f"utility to {parties[0]} (0-1)")
    ax.set_ylabel(f"utility to {parties[1]} (0-1)")
    return ax


def draw_utility_space(ax: Axes, space: UtilitySpace) -> Axes:
    """Draw one table's utility space: frontier, Nash point, the offers so far and the agreement.

    Args:
        ax: The axes to draw on.
        space: The table's :class:`UtilitySpace`.

    Returns:
        ``ax``.
    """
    draw_bargaining_set(ax, space.frontier, space.reservation, space.nash, space.parties)
    for party in space.parties:
        mine = space.offers[space.offers["proposer"] == party]
        ax.plot(mine["utility_0"], mine["utility_1"], ".-", alpha=0.6, label=f"offers by {party}")
    if space.agreement is not None:
        label = "agreement" if space.round is None else f"agreement (round {space.round})"
        ax.plot(*space.agreement, "*", color="tab:red", markersize=14, label=label)
    ax.set_title(f"{space.table}: utility space ({space.status})")
    ax.legend(fontsize="x-small", loc="lower left")
    return ax


def concession_figure(
    model: NegotiationModel, table_id: str, figsize: tuple[float, float] = (6.4, 4.0)
) -> tuple[Figure, Axes]:
    """Concession curves of one table of a traced run (see :func:`draw_concession`)."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    draw_concession(ax, run_offers(model, table_id), table_id, parties_of(model, table_id), model.horizon)
    return fig, ax


def utility_space_figure(
    model: NegotiationModel, table_id: str, figsize: tuple[float, float] = (5.2, 5.0)
) -> tuple[Figure, Axes]:
    """Utility space of one table of a traced run (see :func:`draw_utility_space`)."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    draw_utility_space(ax, utility_space(model, table_id))
    return fig, ax


def write_run_plots(model: NegotiationModel, directory: Path) -> list[Path]:
    """Write both pictures for every table of a traced run, and one per bloc, as PNG files.

    Args:
        model: A model run with ``trace=True``.
        directory: Folder to write into (created if missing).

    Returns:
        The files written.
    """
    make_folder(directory)
    written = []
    for table_id in model.compiled.table_ids:
        for name, make in (("concession", concession_figure), ("utility-space", utility_space_figure)):
            fig, _ = make(model, table_id)
            path = directory / f"{table_id}-{name}.png"
            written.append(write_atomic(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110)))
    if model.compiled.blocs:
        from negotiation.charts.bloc_charts import bloc_run_figure

        for bloc in model.compiled.blocs:
            fig, _ = bloc_run_figure(model, bloc.bloc_id)
            path = directory / f"bloc-{bloc.bloc_id}.png"
            written.append(write_atomic(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110)))
    return written
