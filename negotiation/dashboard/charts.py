"""The dashboard's pictures: data from :mod:`negotiation.dashboard.state` in, (figure, axes) out.

Adapted from :mod:`negotiation.charts.run_charts` (same concession curves and utility space) to draw from the
state's data objects and to build figures without pyplot, which keeps no global figure list in a
long-running server.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from negotiation.dashboard.state import DealProbabilities, UtilitySpace


def concession_chart(
    offers: pd.DataFrame, table_id: str, parties: tuple[str, str], horizon: int
) -> tuple[Figure, Axes]:
    """Offers' utility to each party, round by round, at one table.

    Args:
        offers: The state's ``offers(table_id)`` rows (round, proposer, utility_0, utility_1, ...).
        table_id: The table.
        parties: Its two parties.
        horizon: Rounds the run can last (the x axis).

    Returns:
        The figure and its axes.
    """
    fig = Figure(figsize=(5.6, 3.6), layout="constrained")
    ax = fig.subplots()
    for side, party in enumerate(parties):
        mine = offers[offers["proposer"] == party]
        own, other = (f"utility_{side}", f"utility_{1 - side}")
        ax.plot(mine["round"], mine[own], "o-", label=f"{party}'s offers, to {party}")
        ax.plot(
            mine["round"], mine[other], "x--", alpha=0.7, label=f"{party}'s offers, to {parties[1 - side]}"
        )
    ax.set_xlim(-0.5, max(horizon, 1) - 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel("utility (0-1)")
    ax.set_title(f"{table_id}: offers and utilities by round")
    if len(offers):
        ax.legend(fontsize="x-small", loc="best")
    return fig, ax


def utility_space_chart(space: UtilitySpace) -> tuple[Figure, Axes]:
    """Utility space of one table: Pareto frontier, Nash point, offers so far and the agreement.

    Args:
        space: The state's ``utility_space(table_id)``.

    Returns:
        The figure and its axes.
    """
    fig = Figure(figsize=(4.4, 4.2), layout="constrained")
    ax = fig.subplots()
    parties = space.parties
    ax.plot(space.frontier[:, 0], space.frontier[:, 1], "-", color="black", label="Pareto frontier")
    for party in parties:
        mine = space.offers[space.offers["proposer"] == party]
        ax.plot(mine["utility_0"], mine["utility_1"], ".-", alpha=0.6, label=f"offers by {party}")
    ax.axvline(space.reservation[0], color="grey", linestyle=":", label="reservation values")
    ax.axhline(space.reservation[1], color="grey", linestyle=":")
    if np.isfinite(space.nash).all():
        ax.plot(*space.nash, "D", color="tab:green", markersize=8, label="Nash point")
    if space.agreement is not None:
        ax.plot(*space.agreement, "*", color="tab:red", markersize=14, label="agreement")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"utility to {parties[0]}")
    ax.set_ylabel(f"utility to {parties[1]}")
    ax.set_title(f"{space.table}: utility space ({space.status})")
    ax.legend(fontsize="x-small", loc="lower left")
    return fig, ax


def deal_probability_chart(
    current: DealProbabilities | None, previous: DealProbabilities | None
) -> tuple[Figure, Axes]:
    """Deal probability per table with 95% Wilson intervals, now and before the last change.

    Args:
        current: Probabilities at the current parameters (or None).
        previous: Probabilities from before the last parameter change (or None).

    Returns:
        The figure and its axes.
    """
    shown = [
        (p, name) for p, name in ((previous, "before the last change"), (current, "now")) if p is not None
    ]
    tables = list(shown[-1][0].tables) if shown else []
    fig = Figure(figsize=(6.0, 0.35 * max(len(tables), 4) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(tables))
    offsets = {1: [0.0], 2: [0.18, -0.18]}[len(shown)] if shown else []
    styles = [("o", "tab:blue")] if len(shown) == 1 else [("s", "tab:grey"), ("o", "tab:blue")]
    for (probs, name), offset, (marker, color) in zip(shown, offsets, styles, strict=False):
        low, high = probs.interval
        p = probs.p
        ax.errorbar(
            p,
            y - offset,
            xerr=np.vstack([p - low, high - p]),
            fmt=marker,
            color=color,
            capsize=3,
            label=f"{name} ({probs.runs} runs)",
        )
    ax.set_yticks(y, tables)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("deal probability (95% Wilson interval)")
    ax.grid(axis="x", alpha=0.3)
    if shown:
        ax.legend(fontsize="small", loc="lower left")
    else:
        ax.text(0.5, 0.5, "no estimate yet", ha="center", va="center", transform=ax.transAxes)
    return fig, ax
