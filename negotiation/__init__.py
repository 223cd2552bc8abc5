"""Agent-based simulator of the October 2025 Asia-tour negotiations, on Mesa.

The public API at a glance: load a scenario, build the Mesa model, run it, read outcomes; or run
many seeded replications at once.
"""

from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.bargaining.engine import run_many
from negotiation.bargaining.outcomes import TableOutcome
from negotiation.batch.rows import simulate
from negotiation.errors import ExperimentError, InputError, NegotiationError, OverrideError, ScenarioError
from negotiation.model import NegotiationModel, prepare, run_once
from negotiation.scenario.loading import default_scenario_text, load_scenario
from negotiation.scenario.schema import Scenario

__all__ = [
    "CompiledScenario",
    "ExperimentError",
    "InputError",
    "NegotiationError",
    "NegotiationModel",
    "OverrideError",
    "Scenario",
    "ScenarioError",
    "TableOutcome",
    "compile_scenario",
    "default_scenario_text",
    "load_scenario",
    "prepare",
    "run_many",
    "run_once",
    "simulate",
]
