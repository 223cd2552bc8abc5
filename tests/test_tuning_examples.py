"""Smoke tests of the shipped tuning files: variant overlays, targets, outcomes, calibration experiment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from negotiation.batch.spec import load_experiment
from negotiation.scenario.loading import load_scenario
from negotiation.tuning.calibration import read_targets
from negotiation.tuning.compare import load_side
from negotiation.tuning.scoring import read_outcomes

EXPERIMENTS = Path(__file__).parents[1] / "experiments"
VARIANTS = sorted((EXPERIMENTS / "variants").glob("*.toml"))


def test_there_are_variants() -> None:
    assert len(VARIANTS) >= 6


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.stem)
def test_variant_overlay_switches_the_event_it_names(path: Path) -> None:
    default = load_scenario()
    events = load_side(path).scenario.events
    assert [e.name for e in events] == [e.name for e in default.events]
    certain = [e.name for e in events if e.probability == 1.0]
    if path.stem == "no-shocks":
        assert all(e.probability == 0.0 for e in events)
        return
    # the comment's quoted event name is the one the overlay makes certain (guards against reordering)
    named = re.search(r'"([^"]+)" happens for certain', path.read_text(encoding="utf-8"))
    if named is None:
        # a variant of something else (e.g. the equilibrium strategy) keeps the default's shocks
        assert [e.probability for e in events] == [e.probability for e in default.events]
        return
    assert certain == [named.group(1)]
    assert sum(e.probability for e in events) == 1.0


def test_example_targets_fit_the_calibration_experiment() -> None:
    spec = load_experiment(EXPERIMENTS / "calibrate-us-china.toml")
    assert all(p.is_range for p in spec.parameters)
    targets = read_targets(EXPERIMENTS / "targets-example.toml", spec.base_scenario())
    assert {t.table for t in targets} <= set(spec.base_scenario().tables)


def test_example_outcomes_name_real_tables_and_issues() -> None:
    default = load_scenario()
    for event in read_outcomes(EXPERIMENTS / "outcomes-example.toml").events:
        assert event.table in default.tables
        assert event.issue is None or event.issue in default.tables[event.table].issues
