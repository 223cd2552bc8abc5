"""Benchmark H: one negotiation played by this project and by NegMAS, side by side (target 1).

NegMAS is AGPL-licensed and brings about 800 MB of dependencies, so it is kept out of the package and
its extras: the benchmark makes its own virtual environment, ``.venv-peers`` (git-ignored), installs
``negmas`` 0.16 there once with pip, and runs ``benchmarks/negmas_side.py`` in it (or in the
interpreter named by the environment variable ``NEGMAS_PYTHON``, if set). When that cannot
be done (no network, no pip), the comparison is skipped with one line saying why.

The problem is the shipped scenario ``benchmarks/boulware_vs_conceder.toml``. What NegMAS is given
is read off the Mesa model of that scenario after it has derived its run (weights, ideal points,
reservation values, concession exponents, deadline), so both sides negotiate the same problem by
construction; :func:`problem_of` refuses a scenario NegMAS could not be given.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from timing import best_of, split_run

from negotiation.bargaining.protocol import DEAL
from negotiation.bargaining.strategies import TIME_DEPENDENT
from negotiation.batch.rows import simulate
from negotiation.model import NegotiationModel, prepare

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "benchmarks" / "boulware_vs_conceder.toml"
PEERS_VENV = ROOT / ".venv-peers"
NEGMAS_REQUIREMENT = "negmas>=0.16,<0.17"
NEGMAS_SIDE = ROOT / "benchmarks" / "negmas_side.py"
LEVELS = (21, 11)
"""Grid values per issue that NegMAS negotiates over: the first, 0.05 apart, is the one compared
(its agreement matches the project's continuous one within 0.005 in utility); the second, 0.1 apart,
shows how NegMAS's time depends on the grid (it sorts the whole outcome space at the start)."""


def peer_python(log: Any = print) -> tuple[Path | None, str]:
    """The Python of the NegMAS environment, made and installed on first use.

    Returns:
        The interpreter, or None and the reason it could not be made.
    """
    given = os.environ.get("NEGMAS_PYTHON")
    if given:  # an interpreter that has NegMAS already (e.g. a shared venv): nothing to install
        return Path(given), ""
    python = PEERS_VENV / "bin" / "python"
    marker = PEERS_VENV / ".installed"
    if marker.is_file() and python.is_file():
        return python, ""
    log(f"H: installing {NEGMAS_REQUIREMENT} into {PEERS_VENV.name}/ (once; about a minute and 800 MB)")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(PEERS_VENV)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run(
            [*pip, NEGMAS_REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not make {PEERS_VENV.name}/ ({exc})"
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip() and "WARNING" not in line]
        return None, f"pip could not install {NEGMAS_REQUIREMENT} ({lines[-1] if lines else done.returncode})"
    marker.write_text(NEGMAS_REQUIREMENT + "\n")
    return python, ""


def problem_of(model: NegotiationModel) -> dict[str, Any]:
    """What NegMAS is told: the model's one table as its run derived it, before the first round.

    Raises:
        ValueError: The scenario holds something NegMAS's SAOMechanism with AspirationNegotiators
            cannot be given (see the checks).
    """
    c, negotiation = model.compiled, model.negotiation
    d = negotiation.derived
    checks = {
        "one table": c.n_tables == 1,
        "time-dependent tactics": bool(np.all(d.kind[0] == TIME_DEPENDENT)),
        "linear gains": bool(np.all(d.curvature[0] == 1.0)),
        "ideal points at the ends of the ranges": bool(np.all((d.ideal[0] == 0.0) | (d.ideal[0] == 1.0))),
        "no walk-outs": float(d.breakdown_risk[0]) == 0.0,
        "no events": not c.events,
        "the table opens in round 0": int(negotiation.opens[0]) == 0,
        "an even number of offers": (int(d.deadline[0]) + 1) % 2 == 0,
        "no binary issues": not bool(np.any(negotiation.binary)),
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise ValueError(f"not a problem NegMAS is given here: needs {', '.join(failed)}")
    return {
        "issues": list(c.table_issues[0]),
        "n_steps": (int(d.deadline[0]) + 1) // 2,
        "negotiators": [
            {
                "name": c.actor_ids[c.parties[0, side]],
                "weights": d.weights[0, side].tolist(),
                "ideal": d.ideal[0, side].tolist(),
                "reserved_value": float(negotiation.reservation[0, side]),
                "exponent": 1.0 / float(d.exponent[0, side]),
            }
            for side in (0, 1)
        ],
    }


def ours(compiled: Any, n: int) -> dict[str, Any]:
    """The project's agreement and its times per negotiation on its three paths."""
    from negotiation.bargaining.engine import run_many

    model = NegotiationModel(compiled, seed=0)
    outcome = model.run()[0]
    arrays = model.arrays()
    offers = int(arrays.end_round[0]) + 1
    lockstep = 20 * n
    return {
        "deal": bool(arrays.status[0] == DEAL),
        "agreement": dict(outcome.values),
        "utilities": [outcome.utilities[p] for p in outcome.parties],
        "offers": offers,
        "steps": (offers + 1) // 2,
        "mesa_model_ms": best_of(3, lambda: [NegotiationModel(compiled, seed=s).run() for s in range(n)])
        / n
        * 1e3,
        "engine_ms": best_of(3, lambda: [run_many(compiled, [s]) for s in range(n)]) / n * 1e3,
        "simulate_ms": best_of(3, lambda: simulate(compiled, lockstep, 0)) / lockstep * 1e3,
    }


def bench_h(quick: bool) -> dict[str, Any]:
    """Benchmark H (see the module docstring); ``{"skipped": reason}`` without NegMAS."""
    compiled = prepare(SCENARIO, {})
    problem = problem_of(NegotiationModel(compiled, seed=0))
    n = 10 if quick else 30
    mine = ours(compiled, n)
    python, reason = peer_python()
    if python is None:
        return {"skipped": reason, "ours": mine}
    request = {**problem, "levels": list(LEVELS), "runs": n, "repeats": 3}
    done = subprocess.run(
        [str(python), str(NEGMAS_SIDE)], input=json.dumps(request), capture_output=True, text=True
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {"skipped": f"the NegMAS side failed ({last})", "ours": mine}
    peer = json.loads(done.stdout)
    again = ours(compiled, n)  # before and after NegMAS: the best of both, as load comes and goes
    for key in ("mesa_model_ms", "engine_ms", "simulate_ms"):
        mine[key] = min(mine[key], again[key])
    compared = peer["results"][0]
    split = split_run(compiled, range(n // 3))
    tolerance = 1.0 / (compared["levels"] - 1)  # one grid step moves a utility by at most this
    theirs = compared["utilities"]
    same_region = (
        mine["deal"]
        and theirs is not None
        and all(abs(a - b) <= tolerance for a, b in zip(mine["utilities"], theirs, strict=True))
        and (mine["utilities"][0] > mine["utilities"][1]) == (theirs[0] > theirs[1])
    )
    return {
        "problem": problem,
        "ours": mine,
        "negmas": peer,
        "same_region": bool(same_region),
        "region_tolerance": tolerance,
        "ratio_mesa_model": compared["ms"] / mine["mesa_model_ms"],
        "ratio_engine": compared["ms"] / mine["engine_ms"],
        "ratio_simulate": compared["ms"] / mine["simulate_ms"],
        "split": asdict(split),
        # what one round may take for the Mesa run to be 20 times faster, with today's setup and outcomes
        "round_budget_us": split.budget_us(compared["ms"] / 20),
    }


if __name__ == "__main__":  # a quick look: python benchmarks/peers.py
    print(json.dumps(bench_h(True), indent=2))
