"""Shared test set-up: a headless matplotlib backend, hypothesis settings and small fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests never open windows

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # so test modules can `import helpers`

from helpers import TINY_TOML, tiny_scenario

from negotiation.bargaining.compiled import CompiledScenario, compile_scenario
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.schema import Scenario

# Property tests run each example through a whole model; keep them modest and free of timing flukes
# on a shared machine.
settings.register_profile(
    "negotiation",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("negotiation")


@pytest.fixture(scope="session")
def default_scenario() -> Scenario:
    """The shipped default scenario (loaded once)."""
    return load_scenario()


@pytest.fixture(scope="session")
def default_compiled(default_scenario: Scenario) -> CompiledScenario:
    """The shipped default scenario, compiled (once)."""
    return compile_scenario(default_scenario)


@pytest.fixture
def tiny() -> Scenario:
    """The tiny two-actor, three-issue scenario of tests/helpers.py."""
    return tiny_scenario()


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    """The tiny scenario written to a file."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path
