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
    """The two parties (x axis, y axis); only tables of two have a utility space picture."""
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


def parties_of(model: NegotiationModel, table_id: str) -> tuple[str, ...]:
    """Every party of a table, in table order (the opener first)."""
    c = model.compiled
    seats = c.seats[c.table_ids.index(table_id)]
    return tuple(c.actor_ids[a] for a in seats[seats >= 0])


def run_offers(model: NegotiationModel, table_id: str | None = None) -> pd.DataFrame:
    """The offers so far, one row per offer, optionally for one table, with its utility to each party.

    At a table of two each row of the trace is one offer. At a table of more (SAOP) the trace has a
    row per party other than the proposer; here they make one row, whose ``responder`` is the other
    parties joined by ``+`` (in the order they answered) and whose ``responder_utility`` is the mean
    utility to them.

    Args:
        model: A model built with ``trace=True``.
        table_id: One table, or None for all.

    Returns:
        The DataCollector's ``offers`` columns plus ``utility_0``, ``utility_1``, ...: the offer's
        utility to the table's first, second, ... party (NaN past a table's last party).
    """
    frame = model.datacollector.get_table_dataframe("offers")
    if table_id is not None and not frame.empty:
        frame = frame[frame["table"] == table_id]
    if frame.empty:
        return pd.DataFrame(columns=[*frame.columns, "utility_0", "utility_1"])
    c = model.compiled
    seat = {
        (table, c.actor_ids[a]): i
        for t, table in enumerate(c.table_ids)
        for i, a in enumerate(c.seats[t])
        if a >= 0
    }
    tables = frame["table"].tolist()
    proposer_seat = [seat[key] for key in zip(tables, frame["proposer"], strict=True)]
    responder_seat = [seat[key] for key in zip(tables, frame["responder"], strict=True)]
    offer = frame.groupby(["round", "table"], sort=False).ngroup().to_numpy()
    width = max(2, max(proposer_seat) + 1, max(responder_seat) + 1)
    utilities = np.full((offer.max() + 1, width), np.nan)
    utilities[offer, proposer_seat] = frame["proposer_utility"].to_numpy()
    utilities[offer, responder_seat] = frame["responder_utility"].to_numpy()
    answers = frame.groupby(offer, sort=True)
    first = frame.drop_duplicates(["round", "table"]).assign(
        responder=answers["responder"].agg("+".join).to_numpy(),
        responder_utility=answers["responder_utility"].mean().to_numpy(),
    )
    columns = {f"utility_{i}": utilities[:, i] for i in range(width)}
    return first.assign(**columns).reset_index(drop=True)


def utility_space(model: NegotiationModel, table_id: str) -> UtilitySpace:
    """Pareto frontier, Nash point, offers so far and agreement of one table of two in a traced run.

    Raises:
        ValueError: The table has more than two parties (its utility space has a dimension per party).
    """
    c = model.compiled
    t = c.table_ids.index(table_id)
    parties = parties_of(model, table_id)
    if len(parties) != 2:
        raise ValueError(
            f"{table_id} has {len(parties)} parties: its utility space has a dimension per party, so it is "
            "drawn only for tables of two (its concession curves show every party)"
        )
    derived = model.negotiation.derived
    frontier = pareto_frontier(derived.weights[t], derived.ideal[t], derived.curvature[t, :, 0])
    reservation = np.asarray(model.negotiation.reservation[t], dtype=float)
    status = STATUS_NAMES[int(model.negotiation.status[t])]
    agreement, agreed_round = None, None
    if status == "deal":
        outcome = model.outcomes()[t]
        agreement = (outcome.utilities[parties[0]], outcome.utilities[parties[1]])
        agreed_round = outcome.round
    return UtilitySpace(
        table=table_id,
        parties=(parties[0], parties[1]),
        frontier=frontier,
        nash=np.asarray(nash_point(frontier, reservation), dtype=float),
        reservation=reservation,
        offers=run_offers(model, table_id)[["round", "proposer", "utility_0", "utility_1"]],
        agreement=agreement,
        status=status,
        round=agreed_round,
    )


def draw_concession(
    ax: Axes, offers: pd.DataFrame, table_id: str, parties: tuple[str, ...], horizon: int | None = None
) -> Axes:
    """Draw each party's offers' utility to itself and to the others, round by round.

    At a table of two: each side's offers to itself (solid) and to the other side (dashed). At a table
    of more: one line per party, its offers' utility to itself (solid), with a lighter dashed line of
    the same colour for their mean utility to the other parties.

    Args:
        ax: The axes to draw on.
        offers: :func:`run_offers` rows of the table (round, proposer, utility_0, utility_1, ...).
        table_id: The table.
        parties: Its parties, in table order (the opener first).
        horizon: Rounds the run can last (fixes the x axis), or None to fit the offers.

    Returns:
        ``ax``.
    """
    if len(parties) == 2:
        for side, party in enumerate(parties):
            mine = offers[offers["proposer"] == party]
            own, other = f"utility_{side}", f"utility_{1 - side}"
            ax.plot(mine["round"], mine[own], "o-", label=f"{party}'s offers, to {party}")
            ax.plot(
                mine["round"],
                mine[other],
                "x--",
                alpha=0.7,
                label=f"{party}'s offers, to {parties[1 - side]}",
            )
    else:
        _draw_concession_of_many(ax, offers, parties)
    if horizon is not None:
        ax.set_xlim(-0.5, max(horizon, 1) - 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel("utility (0-1)")
    ax.set_title(f"{table_id}: concession curves")
    if len(offers) and len(parties) == 2:
        ax.legend(fontsize="x-small", loc="best")
    elif len(offers):  # below the axes: seven parties would cover the curves
        ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3)
    return ax


def _draw_concession_of_many(ax: Axes, offers: pd.DataFrame, parties: tuple[str, ...]) -> None:
    """One solid line per party (its offers to itself), one dashed (their mean to the others)."""
    columns = [f"utility_{i}" for i in range(len(parties))]
    for seat, party in enumerate(parties):
        mine = offers[offers["proposer"] == party]
        own = mine[columns[seat]] if len(mine) else []
        label = f"{party}'s offers, to {party}" if len(mine) else f"{party}: no offer"
        (line,) = ax.plot(mine["round"], own, "o-", markersize=4, label=label)
        to_others = mine[[c for i, c in enumerate(columns) if i != seat]].mean(axis=1) if len(mine) else []
        ax.plot(mine["round"], to_others, "x--", color=line.get_color(), alpha=0.5, label="_nolegend_")
    ax.plot([], [], "x--", color="grey", alpha=0.7, label="dashed: its mean to the others")


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

    A table of more than two gets its concession curves only (its utility space has a dimension per
    party).

    Args:
        model: A model run with ``trace=True``.
        directory: Folder to write into (created if missing).

    Returns:
        The files written.
    """
    make_folder(directory)
    written = []
    for table_id in model.compiled.table_ids:
        pictures = [("concession", concession_figure), ("utility-space", utility_space_figure)]
        if len(parties_of(model, table_id)) > 2:  # a utility space of n dimensions is not drawn
            pictures = pictures[:1]
        for name, make in pictures:
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
