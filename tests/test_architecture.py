"""The architecture contract: stages import only downward, and no module takes part in a cycle.

The contract lives in pyproject.toml ([tool.importlinter]) and ``make lint`` runs it. These tests
run it on the package as it is (kept), and on a copy where a lower stage imports a higher one, or
two modules import each other (broken), so a contract that could never fail would fail here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "negotiation", tmp_path / "negotiation", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_package_keeps_both_contracts() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("scenario/schema.py", "negotiation.bargaining.compiled"),
        ("bargaining/protocol.py", "negotiation.model"),
        ("batch/runner.py", "negotiation.charts.report"),
        ("stats/summary.py", "negotiation.tuning.compare"),
    ],
)
def test_a_lower_stage_importing_a_higher_one_breaks_the_contract(
    tmp_path: Path, module: str, upward: str
) -> None:
    root = _copy(tmp_path)
    _append(root / "negotiation" / module, f"import {upward}  # noqa")
    done = _lint(root)
    assert done.returncode == 1
    importer = "negotiation." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {upward}" in done.stdout


def test_a_cycle_between_two_modules_of_a_stage_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(root / "negotiation" / "scenario" / "bounds.py", "import negotiation.scenario.loading  # noqa")
    done = _lint(root)
    assert done.returncode == 1
    assert "No cycles are allowed in negotiation.scenario" in done.stdout
