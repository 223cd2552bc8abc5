"""Stage 1, scenario: TOML files in, a validated and frozen :class:`Scenario` out.

Takes scenario and overlay files, parameter paths and ``--set`` values; gives a frozen Scenario with
every cross-reference checked. Imports only the foundation modules (``negotiation.errors``,
``negotiation.atomic``), never a later stage. The shipped default scenario is in ``data/``.
Modules, lowest first: bounds, checks, schema, validation, paths, loading, overlay.
"""

from negotiation.scenario.loading import default_scenario_text, load_scenario
from negotiation.scenario.schema import Scenario

__all__ = ["Scenario", "default_scenario_text", "load_scenario"]
