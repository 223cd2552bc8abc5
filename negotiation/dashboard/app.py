"""The dashboard page: Mesa's SolaraViz around a :class:`~negotiation.dashboard.state.DashboardState`.

Start it with ``negotiation dashboard [SCENARIO] [--port P]`` (or ``solara run
negotiation.dashboard.app``; the scenario file is then read from ``NEGOTIATION_DASHBOARD_SCENARIO``).

SolaraViz gives the frame: the title bar, Mesa's run controls (Reset, play, Step) and the seed
slider in the sidebar, and rebuilds the model on Reset through the session (see
:class:`~negotiation.dashboard.state.DashboardModel`). This module adds, in the sidebar, the
parameter inputs and the overlay writer, and in the main area the run's numbers, Mesa's plot of open
tables and deals, the table panels, the deal-probability panel and, for a scenario with blocs, the
bloc panel (the position over the rounds and the defection rates). Every decision lives in the
state object; the components here only show it and forward clicks.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import solara
import solara.lab
from mesa.visualization import Slider, SolaraViz, make_plot_component
from mesa.visualization.utils import force_update, update_counter

from negotiation.dashboard.charts import (
    bloc_chart,
    concession_chart,
    deal_probability_chart,
    utility_space_chart,
)
from negotiation.dashboard.state import (
    DashboardState,
    DealProbabilities,
    ParameterSpec,
    probability_comparison,
    summary_frame,
)
from negotiation.errors import InputError, NegotiationError

SCENARIO_ENV = "NEGOTIATION_DASHBOARD_SCENARIO"
"""Environment variable naming the scenario file to show (unset or empty: the shipped default)."""

OVERLAY_ENV = "NEGOTIATION_DASHBOARD_OVERLAY"
"""Environment variable with the default file name for "Write overlay"."""

TITLE = "Negotiation dashboard"

# per-browser-session UI selections (Solara keeps module-level reactive variables per session)
selected_actor = solara.reactive("")
selected_table = solara.reactive("")
parameter_error = solara.reactive("")
overlay_message = solara.reactive("")


# Mesa's line plot of the model-level DataCollector columns, reused as a component
def _plot_size(ax) -> None:
    ax.figure.set_size_inches(5.0, 3.0)
    ax.set_ylabel("tables")


open_tables_plot, _ = make_plot_component(
    {"open_tables": "tab:blue", "deals": "tab:green"}, post_process=_plot_size
)


def css_class(path: str) -> str:
    """A CSS class naming a parameter input, e.g. ``param--actors-china-resolve``."""
    return "param--" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


def is_drawn(state: DashboardState, spec: ParameterSpec) -> bool:
    """Whether a parameter is still drawn afresh in every run (uncertain and not set)."""
    return spec.uncertain and spec.path not in state.overrides


def chosen_table(state: DashboardState) -> str:
    """The table chosen in this session, or the first one."""
    return selected_table.value if selected_table.value in state.table_ids else state.table_ids[0]


@solara.lab.task
def estimate_deals(state: DashboardState) -> DealProbabilities | None:
    """Start the state's background batch and report its progress until it ends."""
    future = state.start_batch()
    while True:
        try:
            return future.result(timeout=0.2)
        except TimeoutError:
            done, total = state.batch_progress
            estimate_deals.progress = 100.0 * done / max(total, 1)


@solara.component
def ParameterInput(spec: ParameterSpec, value, drawn: bool, on_change) -> None:
    """One slider or select box for a catalogue parameter.

    Args:
        spec: The parameter.
        value: Its current value (a prop, so that the input re-renders when it changes).
        drawn: Whether it is still drawn per run (uncertain and not set).
        on_change: Called with (path, new value).
    """
    shown = value if spec.kind == "choice" else f"{value:g}"
    label = f"{spec.label} = {shown}" + (" *" if drawn else "")

    def changed(new) -> None:
        on_change(spec.path, new)

    with solara.Div(classes=["param", css_class(spec.path)]):
        if spec.kind == "choice":
            solara.Select(label=label, value=value, values=list(spec.choices), on_value=changed)
        elif spec.kind == "int":
            solara.SliderInt(
                label,
                value=int(value),
                min=int(spec.low),
                max=int(spec.high),
                step=int(spec.step),
                on_value=changed,
                thumb_label=True,
            )
        else:
            solara.SliderFloat(
                label,
                value=float(value),
                min=spec.low,
                max=spec.high,
                step=spec.step,
                on_value=changed,
                thumb_label=True,
            )


@solara.component
def ParameterPanel(state: DashboardState, model: solara.Reactive) -> None:
    """Sidebar: inputs for the chosen actor and table, the overrides, and the overlay writer."""
    actors = list(state.scenario.actors)
    actor_id = selected_actor.value if selected_actor.value in actors else actors[0]
    table_id = chosen_table(state)
    model.get()  # re-render when the model (and so the overrides) changes

    def change(path: str, value) -> None:
        try:
            changed = state.set_parameter(path, value)
        except InputError as exc:
            parameter_error.set(exc.one_line())
            return
        parameter_error.set("")
        if changed:
            model.set(state.model)

    def clear() -> None:
        if state.clear_overrides():
            model.set(state.model)

    with solara.Card("Agent and table parameters"):
        solara.Select(label="Actor", value=actor_id, values=actors, on_value=selected_actor.set)
        for spec in state.catalogue.values():
            if spec.group == "actor" and spec.owner == actor_id:
                ParameterInput(spec, state.value(spec.path), is_drawn(state, spec), change).key(spec.path)
        solara.Select(label="Table", value=table_id, values=state.table_ids, on_value=selected_table.set)
        for spec in state.catalogue.values():
            if spec.group == "table" and spec.owner == table_id:
                ParameterInput(spec, state.value(spec.path), is_drawn(state, spec), change).key(spec.path)
        for bloc_id in state.scenario.blocs:
            solara.Text(f"Bloc {bloc_id}", style={"font-weight": "bold"})
            for spec in state.catalogue.values():
                if spec.group == "bloc" and spec.owner == bloc_id:
                    ParameterInput(spec, state.value(spec.path), is_drawn(state, spec), change).key(spec.path)
        solara.Text("* drawn afresh in every run until you set it", style={"font-size": "0.8em"})
        if parameter_error.value:
            solara.Error(parameter_error.value)
    with solara.Card("Overrides"):
        overrides = state.overrides
        if overrides:
            for path, value in overrides.items():
                solara.Text(f"{path} = {value!r}", classes=["override"], style={"font-family": "monospace"})
        else:
            solara.Text("none: the scenario's own values")
        OverlayWriter(state)
        solara.Button("Clear all", on_click=clear, disabled=not overrides, text=True)


@solara.component
def OverlayWriter(state: DashboardState) -> None:
    """A file name and a button that writes the overrides as an overlay file."""
    path = solara.use_reactive(os.environ.get(OVERLAY_ENV, "dashboard-overlay.toml"))
    overwrite = solara.use_reactive(False)

    def write() -> None:
        try:
            written = state.write_overlay(Path(path.value), overwrite=overwrite.value)
        except (NegotiationError, OSError) as exc:
            overlay_message.set(f"Not written: {exc}")
            return
        overlay_message.set(f"Wrote {len(state.overrides)} overrides to {written.resolve()}")

    solara.InputText("Overlay file", value=path)
    solara.Checkbox(label="Overwrite a file the dashboard did not write", value=overwrite)
    solara.Button("Write overlay", on_click=write, color="primary", outlined=True)
    if overlay_message.value:
        solara.Text(overlay_message.value, classes=["overlay-message"], style={"font-size": "0.8em"})


@solara.component
def RunPanel(state: DashboardState, model: solara.Reactive) -> None:
    """The run's round, seed and per-table numbers, with step and run-to-end buttons."""
    update_counter.get()
    current = model.get()

    def step() -> None:
        state.step()
        force_update()

    def run() -> None:
        state.run()
        force_update()

    with solara.Card("This run"):
        solara.Text(
            f"Round {current.round} of {current.horizon} · seed {state.seed} · "
            f"{'finished' if state.finished else 'running'}",
            classes=["negotiation-round"],
        )
        with solara.Row():
            solara.Button("Step one round", on_click=step, disabled=state.finished, color="primary")
            solara.Button("Run to end", on_click=run, disabled=state.finished, color="primary", outlined=True)
        HtmlTable(summary_frame(state), "negotiation-summary")


@solara.component
def TablePanel(state: DashboardState, model: solara.Reactive) -> None:
    """Concession curves of the chosen table, and its utility space if it has two parties."""
    update_counter.get()
    current = model.get()
    table_id = chosen_table(state)
    with solara.Card(f"Table {table_id}"):
        solara.Select(label="Table", value=table_id, values=state.table_ids, on_value=selected_table.set)
        with solara.Row():
            fig, _ = concession_chart(
                state.offers(table_id), table_id, state.parties(table_id), current.horizon
            )
            with solara.Div(classes=["concession-chart"]):
                solara.FigureMatplotlib(fig, format="png", dpi=90)
            parties = state.parties(table_id)
            if len(parties) == 2:
                fig, _ = utility_space_chart(state.utility_space(table_id))
                with solara.Div(classes=["utility-space-chart"]):
                    solara.FigureMatplotlib(fig, format="png", dpi=90)
            else:
                with solara.Div(classes=["utility-space-note"]):
                    solara.Info(
                        f"{table_id} has {len(parties)} parties: its utility space has a dimension per "
                        "party, so it is drawn only for tables of two; its concession curves show every "
                        "party."
                    )


@solara.component
def DealPanel(state: DashboardState, model: solara.Reactive) -> None:
    """Deal probabilities from a background batch, set against those before the last change."""
    model.get()
    pending = estimate_deals.pending
    with solara.Card("Deal probabilities"):
        with solara.Row():
            solara.Button(
                f"Estimate ({state.batch_runs} runs in the background)",
                on_click=lambda: estimate_deals(state),
                disabled=pending,
                color="primary",
                classes=["estimate-button"],
            )
        if pending:
            solara.ProgressLinear(estimate_deals.progress or True)
            done, total = state.batch_progress
            solara.Text(f"{done} of {total} runs", classes=["batch-progress"])
        elif state.probabilities is None and state.previous is not None:
            solara.Info("Parameters changed since the last estimate: estimate again to compare.")
        fig, _ = deal_probability_chart(state.probabilities, state.previous)
        with solara.Div(classes=["deal-chart"]):
            solara.FigureMatplotlib(fig, format="png", dpi=90)
        if state.probabilities is not None:
            HtmlTable(probability_comparison(state.probabilities, state.previous).round(3), "deal-table")


@solara.component
def BlocPanel(state: DashboardState, model: solara.Reactive) -> None:
    """Each bloc: its position over the rounds of this run, and the members' defection rates."""
    update_counter.get()
    current = model.get()
    for bloc in state.compiled.blocs:
        with solara.Card(f"Bloc {bloc.bloc_id}"):
            fig, _ = bloc_chart(current, bloc.bloc_id)
            with solara.Div(classes=["bloc-chart"]):
                solara.FigureMatplotlib(fig, format="png", dpi=90)
            if state.probabilities is not None and state.probabilities.defections:
                rates = state.probabilities.defection_frame()
                shown = rates[rates["bloc"] == bloc.bloc_id].drop(columns="bloc").round(3)
                solara.Text(f"Defection rates over {state.probabilities.runs} runs (95% Wilson interval)")
                HtmlTable(shown, "defection-table")
            else:
                solara.Text("Estimate deal probabilities to see each member's defection rate.")


def HtmlTable(frame: pd.DataFrame, css: str) -> None:
    """A pandas frame as a plain HTML table (escaped; no Markdown, which would fetch KaTeX)."""
    html = frame.to_html(index=False, border=0, classes=["negotiation-table", css], na_rep="", escape=True)
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=[css + "-wrapper"])


TABLE_CSS = """
.negotiation-table { border-collapse: collapse; font-size: 0.85em; }
.negotiation-table th, .negotiation-table td { padding: 2px 8px; text-align: left; }
.negotiation-table tr:nth-child(even) { background: rgba(0, 0, 0, 0.04); }
"""


@solara.component
def SidebarPanel(state: DashboardState, model: solara.Reactive) -> None:
    """The parameter panel, placed in the sidebar."""
    with solara.Sidebar():
        ParameterPanel(state, model)


@solara.component
def _Nested(child) -> None:
    """Render ``child`` one level deeper.

    Solara orders sidebar content by depth; this puts the parameter panel after SolaraViz's own
    cards (run controls first).
    """
    solara.Div(children=[child])


@solara.component
def Page() -> None:
    """The dashboard: one session's state shown through Mesa's SolaraViz."""
    state = solara.use_memo(lambda: DashboardState(os.environ.get(SCENARIO_ENV) or None), [])
    solara.use_effect(lambda: state.close, [])
    model = solara.use_reactive(state.model)
    SolaraViz(
        model,
        components=[],
        model_params={
            "session": state,
            "seed": Slider("Seed (applies on Reset)", value=state.seed, min=0, max=999, step=1),
        },
        name=f"{TITLE}: {state.scenario.name}",
    )
    _Nested(_Nested(SidebarPanel(state, model)))
    solara.Style(TABLE_CSS)
    with solara.Column(style={"padding": "8px"}):
        with solara.Columns([3, 2]):
            RunPanel(state, model)
            with solara.Card("Open tables and deals by round"):
                open_tables_plot(model.value)
        TablePanel(state, model)
        DealPanel(state, model)
        BlocPanel(state, model)
