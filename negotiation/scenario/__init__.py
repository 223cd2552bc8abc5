"""Stage 1, scenario: TOML files in, a validated and frozen :class:`Scenario` out.

Takes scenario and overlay files, parameter paths and ``--set`` values; gives a frozen Scenario with
every cross-reference checked. Imports only the foundation modules (``negotiation.errors``,
``negotiation.atomic``), never a later stage. The shipped default scenario is in ``data/``.
"""

from negotiation.scenario.schema import Scenario, default_scenario_text, load_scenario

__all__ = ["Scenario", "default_scenario_text", "load_scenario"]
