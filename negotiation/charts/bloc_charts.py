"""Pictures of a bloc: its common position over the rounds of one run, and defection over a batch.

One run (``negotiation run --plot``, from the Mesa model's trace): the challenges that form the
common position before round 0 (each member's stance per iteration and the compromise), and the
common position with each member's stance over the rounds, a member's line ending where it defects.

Figures are made without pyplot (the dashboard draws them in a long-running server).

A batch (from what its rows record, :mod:`negotiation.stats.bloc_digest`): each member's defection
rate with its Wilson interval, the share of runs in which each member is still in the bloc at the
start of each round (what the rows' ``defected_round`` columns give), and the distribution of the
final common position. A batch does not record each run's position round by round: the position
only changes when a member leaves, so membership over the rounds is the per-round record that counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from negotiation.stats import summary as stats
from negotiation.stats.digest import Results, ResultsDigest, as_digest

if TYPE_CHECKING:
    from negotiation.model import NegotiationModel
    from negotiation.scenario.schema import Scenario

COLORS = mpl.colormaps["tab10"].colors


def bloc_tables_present(results: ResultsDigest, scenario: Scenario) -> bool:
    """Whether the results hold a table where a bloc's member sits (then the bloc is reported)."""
    members = {m for bloc in scenario.blocs.values() for m in bloc.members}
    return any(set(scenario.tables[t].parties) & members for t in results.tables if t in scenario.tables)


def bloc_chart(results: Results, point: int | None = None, scope: str = "") -> tuple[Figure, np.ndarray]:
    """Defection rates, membership over the rounds and the final common position of each bloc.

    Args:
        results: The results table, or its digest.
        point: Design point to show, or None to pool all points.
        scope: Subtitle naming the runs shown.

    Returns:
        The figure and its axes (one row per bloc: rates, membership, position).
    """
    digest = as_digest(results, point).select(point)
    table = stats.bloc_table(digest, {})
    blocs = list(dict.fromkeys(table["bloc"]))
    fig = Figure(figsize=(13, 0.8 + 3.4 * max(len(blocs), 1)), layout="constrained")
    axes = fig.subplots(max(len(blocs), 1), 3, squeeze=False)
    for row, bloc in enumerate(blocs):
        mine = table[table["bloc"] == bloc].groupby("member", sort=False)[["runs", "defected"]].sum()
        rates = stats.with_interval(mine.reset_index(), "defected", "runs", prefix="d_")
        _rates(axes[row, 0], rates, bloc)
        _membership(axes[row, 1], digest, bloc)
        _positions(axes[row, 2], digest, bloc)
    fig.suptitle("The bloc: defection, membership and common position", fontweight="bold")
    axes[0, 1].set_title(scope or f"{int(digest.points['runs'].sum()):,} runs", fontsize="small")
    return fig, axes


def _rates(ax: Axes, rates, bloc: str) -> None:
    y = np.arange(len(rates))[::-1]
    p, low, high = rates["d_p"].to_numpy(), rates["d_low"].to_numpy(), rates["d_high"].to_numpy()
    ax.errorbar(p, y, xerr=[p - low, high - p], fmt="o", color=COLORS[0], capsize=3)
    for yi, pi in zip(y, p, strict=True):
        ax.annotate(f"{pi:.0%}", (pi, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_yticks(y, rates["member"].astype(str))
    ax.set_xlim(-0.02, 1.05)
    ax.set_xlabel("defection rate (dot) with 95% Wilson interval")
    ax.set_title(f"{bloc}: members that left the bloc", fontsize="medium", loc="left")


def _membership(ax: Axes, digest, bloc: str) -> None:
    members = digest.bloc_members
    rows = np.flatnonzero((members["bloc"] == bloc).to_numpy())
    names = list(dict.fromkeys(members["member"].iloc[rows]))
    rounds = np.arange(digest.bloc_rounds.shape[1] - 1)
    for i, name in enumerate(names):
        mine = rows[(members["member"].iloc[rows] == name).to_numpy()]
        runs = members["runs"].iloc[mine].sum()
        out = np.cumsum(digest.bloc_rounds[mine].sum(axis=0))[: rounds.size]
        ax.step(rounds, 1.0 - out / max(runs, 1), where="post", color=COLORS[i % len(COLORS)], label=name)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("round")
    ax.set_ylabel("share of runs still in the bloc")
    ax.legend(fontsize=7, ncols=2)


def _positions(ax: Axes, digest, bloc: str) -> None:
    positions = digest.bloc_positions
    rows = np.flatnonzero((positions["bloc"] == bloc).to_numpy())
    issues = list(dict.fromkeys(positions["issue"].iloc[rows]))
    for i, issue in enumerate(issues):
        mine = rows[(positions["issue"].iloc[rows] == issue).to_numpy()]
        counts = digest.bloc_position_bins[mine].sum(axis=0)
        low, high = positions["low"].iloc[mine[0]], positions["high"].iloc[mine[0]]
        runs, exists = positions["runs"].iloc[mine].sum(), positions["exists"].iloc[mine].sum()
        edges = np.linspace(low, high, counts.size + 1)
        ax.stairs(
            counts / max(runs, 1),
            edges,
            fill=True,
            alpha=0.5,
            color=COLORS[i % len(COLORS)],
            label=f"{issue}: a common position in {exists / max(runs, 1):.0%} of runs",
        )
    ax.set_xlabel("final common position (real units)")
    ax.set_ylabel("share of runs")
    ax.legend(fontsize=7)


def bloc_run_figure(model: NegotiationModel, bloc_id: str | None = None) -> tuple[Figure, np.ndarray]:
    """One traced run's bloc: how the common position formed, then the positions over the rounds.

    Args:
        model: A model run with ``trace=True`` in a scenario with a bloc.
        bloc_id: Which bloc (the first by default).

    Returns:
        The figure and its axes (one row per bloc issue).
    """
    compiled = model.compiled
    bloc = compiled.blocs[0] if bloc_id is None else next(b for b in compiled.blocs if b.bloc_id == bloc_id)
    frame = model.datacollector.get_table_dataframe("bloc")
    frame = frame[frame["bloc"] == bloc.bloc_id]
    decision = bloc.decision(np.ones(bloc.size, bool))
    fig = Figure(figsize=(12, 0.8 + 3.6 * len(bloc.issues)), layout="constrained")
    axes = fig.subplots(len(bloc.issues), 2, squeeze=False)
    for k, issue in enumerate(bloc.issues):
        left, right = axes[k]
        if decision is not None:
            steps = np.arange(decision.stance_history.shape[0])
            for m, member in enumerate(bloc.members):
                left.plot(
                    steps,
                    bloc.real(decision.stance_history[:, m])[:, k],
                    marker=".",
                    color=COLORS[m % len(COLORS)],
                    label=member,
                )
            left.plot(
                steps, bloc.real(decision.compromise_history)[:, k], color="black", lw=2.2, label="compromise"
            )
            if decision.position is not None:
                left.axhline(bloc.real(decision.position)[k], color="black", ls=":", label="common position")
        left.set_xlabel("challenge iteration (before round 0, every member in)")
        left.set_ylabel(issue)
        left.legend(fontsize=7, ncols=2)
        left.set_title(
            f"{bloc.bloc_id}: forming the common position ({bloc.rule.name})", fontsize="medium", loc="left"
        )
        mine = frame[frame["issue"] == issue]
        common = mine[mine["actor"] == "common"]
        right.step(*_held(common), where="post", color="black", lw=2.2, label="common")
        for m, member in enumerate(bloc.members):
            rows = mine[mine["actor"] == member]
            member_in = rows["in_bloc"].astype(bool).to_numpy()
            inside = rows[member_in]
            right.step(*_held(inside), where="post", color=COLORS[m % len(COLORS)], label=member)
            if len(inside) < len(rows):
                first_out = rows[~member_in].iloc[0]
                right.plot(
                    first_out["round"],
                    first_out["position"],
                    "x",
                    color=COLORS[m % len(COLORS)],
                    markersize=8,
                )
        right.set_xlabel("round (x: the member defects and stands at its own position)")
        right.set_title("over the rounds", fontsize="medium", loc="left")
        right.legend(fontsize=7, ncols=2)
    fig.suptitle(f"The bloc {bloc.bloc_id} in one run", fontweight="bold")
    return fig, axes


def _held(rows) -> tuple[np.ndarray, np.ndarray]:
    """Rounds and positions of a step line that holds each value through its round (to the next)."""
    rounds, positions = rows["round"].to_numpy(float), rows["position"].to_numpy(float)
    if rounds.size:
        rounds, positions = np.append(rounds, rounds[-1] + 1.0), np.append(positions, positions[-1])
    return rounds, positions
