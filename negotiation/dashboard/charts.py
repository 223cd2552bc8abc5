"""The dashboard's pictures: the charts stage's drawing functions on figures built without pyplot.

The concession curves and utility space are drawn by :mod:`negotiation.charts.run_charts`, the
deal probabilities by :func:`negotiation.charts.batch_charts.draw_deal_probabilities`, the same
functions that ``negotiation run --plot`` and the batch charts use; this module only sizes the
figures for the page. Figures are made without pyplot, which keeps no global figure list in a
long-running server.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from negotiation.charts.batch_charts import draw_deal_probabilities
from negotiation.charts.bloc_charts import bloc_run_figure
from negotiation.charts.run_charts import UtilitySpace, draw_concession, draw_utility_space
from negotiation.dashboard.state import DealProbabilities
from negotiation.model import NegotiationModel


def concession_chart(
    offers: pd.DataFrame, table_id: str, parties: tuple[str, ...], horizon: int
) -> tuple[Figure, Axes]:
    """Offers' utility to each party, round by round, at one table (see ``draw_concession``)."""
    fig = Figure(figsize=(5.6, 3.6), layout="constrained")
    return fig, draw_concession(fig.subplots(), offers, table_id, parties, horizon)


def utility_space_chart(space: UtilitySpace) -> tuple[Figure, Axes]:
    """Utility space of one table so far (see ``draw_utility_space``)."""
    fig = Figure(figsize=(4.4, 4.2), layout="constrained")
    return fig, draw_utility_space(fig.subplots(), space)


def bloc_chart(model: NegotiationModel, bloc_id: str) -> tuple[Figure, object]:
    """A traced run's bloc: how its common position formed, then the positions over the rounds."""
    fig, axes = bloc_run_figure(model, bloc_id)
    fig.set_size_inches(10.0, 0.6 + 3.0 * axes.shape[0])
    return fig, axes


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
        (f"{name} ({p.runs} runs)", p.frame())
        for p, name in ((previous, "before the last change"), (current, "now"))
        if p is not None
    ]
    rows = len(shown[-1][1]) if shown else 4
    fig = Figure(figsize=(6.0, 0.35 * max(rows, 4) + 1.2), layout="constrained")
    ax = draw_deal_probabilities(fig.subplots(), shown)
    ax.set_xlabel("deal probability (95% Wilson interval)")
    return fig, ax
