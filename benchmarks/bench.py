"""The benchmark suite (issue: performance). Not part of the tests: run ``make bench``.

Measures, in one process and as ratios where a ratio is possible:

A. per-run cost of the default scenario (Mesa model, and the batch fast path), and its ratio to a
   bare Mesa model with the same agents stepping the same number of rounds doing nothing;
B. one bilateral table, two actors, three issues, Boulware against Conceder, 100 rounds;
C. batch throughput (runs per second) at 1 and 2 workers, and the parallel efficiency;
D. peak memory of a 10,000-run batch against a 100,000-run batch (each in a fresh process);
E. time for the baseline experiment to reach +/-1 point (Wilson 95%) on every table, adaptively;
F. the outputs step (summary, charts, report) against the runs step of the 10,000-run baseline on 2
   workers: the outputs should take no longer than the runs.
G. peak memory of ``negotiation score``, ``discover`` and ``plot`` on folders of 10,000, 100,000 and
   1,000,000 runs (each in a fresh process): flat when they stream the results.
H. one negotiation (the NegMAS-matched Boulware against Conceder, benchmarks/boulware_vs_conceder.toml)
   through the Mesa model, the engine and the lockstep fast path, against NegMAS 0.16's
   SAOMechanism with AspirationNegotiators (benchmarks/peers.py: NegMAS in its own venv);
I. the 20 x 20 grid (experiments/grid_20x20.toml) to +/-2 points, end to end on 2 workers.
J. per-run cost of the per-run path (docs/negotiators.md): reference negotiators at every seat, and
   one user negotiator (the example package's) with reference negotiators elsewhere, against the
   batch fast path and the Mesa model.

Then judges the four speed targets of issue 13 (benchmarks/targets.py).

Prints a Markdown report and writes it with the raw figures to ``benchmarks/last-run.json``.
Usage: ``python benchmarks/bench.py [--quick] [--only A,B,...]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from peers import bench_h
from targets import batch_path_limit, budgets, judge, report
from timing import OtherWork, best_of, paired_ratios, split_run, wait_for_quiet

from negotiation.bargaining.engine import run_many
from negotiation.batch.rows import BLOCK
from negotiation.model import NegotiationModel, prepare, run_once
from negotiation.scenario.validation import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]


class BareModel(mesa.Model):
    """A Mesa model with the same number of agents, stepping and doing nothing."""

    def __init__(self, n_agents: int, seed: int) -> None:
        super().__init__(rng=seed)  # rng: Mesa 3.5 deprecates seed
        for _ in range(n_agents):
            mesa.Agent(self)

    def step(self) -> None:
        self.agents.do("step")


def bench_a(quick: bool) -> dict[str, float]:
    """Per-run cost of the default scenario: bare Mesa, the Mesa model (untraced, traced), fast path."""
    compiled = prepare(None, {})
    n = 100 if quick else 400
    seeds = list(range(n))
    rounds = [NegotiationModel(compiled, seed=s) for s in seeds[:50]]
    steps = []
    for model in rounds:
        while model.running:
            model.step()
        steps.append(model.round)
    mean_steps = round(float(np.mean(steps)))
    n_agents = len(compiled.actor_ids)

    def bare() -> None:
        for s in seeds:
            model = BareModel(n_agents, s)
            for _ in range(mean_steps):
                model.step()

    bare_s = best_of(3, bare) / n
    mesa_s = best_of(3, lambda: [run_once(compiled, s) for s in seeds]) / n
    run_s = best_of(3, lambda: [NegotiationModel(compiled, seed=s).run() for s in seeds]) / n
    traced_s = best_of(3, lambda: [NegotiationModel(compiled, seed=s, trace=True).run() for s in seeds]) / n
    blocks = 1 if quick else 2  # as the batch path plays them: blocks of rows.BLOCK runs

    def fast() -> None:
        for start in range(0, blocks * BLOCK, BLOCK):
            run_many(compiled, np.arange(start, start + BLOCK))

    fast_s = best_of(3, fast) / (blocks * BLOCK)
    bare_s = min(bare_s, best_of(3, bare) / n)  # before and after: the least disturbed

    def one_block() -> int:  # a block of the batch path, a new one each time (different seeds)
        start = next(offsets)
        run_many(compiled, np.arange(start, start + BLOCK))
        return BLOCK

    def bare_runs() -> int:
        bare()
        return n

    offsets = iter(range(0, 10**9, BLOCK))
    paired = paired_ratios(one_block, bare_runs, 3 if quick else 8)
    untraced = split_run(compiled, range(n // 4))
    traced = split_run(compiled, range(n // 4), trace=True)
    return {
        "rounds_per_run": mean_steps,
        "bare_mesa_ms": bare_s * 1e3,
        "mesa_model_ms": mesa_s * 1e3,
        "model_run_ms": run_s * 1e3,
        "model_run_traced_ms": traced_s * 1e3,
        "fast_path_ms": fast_s * 1e3,
        "mesa_model_ratio": mesa_s / bare_s,
        "model_run_ratio": run_s / bare_s,
        "model_run_traced_ratio": traced_s / bare_s,
        "fast_path_ratio": fast_s / bare_s,
        "fast_path_paired_ratios": paired,
        "fast_path_paired_ratio": float(np.median(paired)),
        "split_untraced": asdict(untraced),
        "split_traced": asdict(traced),
        # what one round may take for a run to meet target 2, with today's setup and outcomes
        "round_budget_us_untraced": untraced.budget_us(3 * bare_s * 1e3),
        "round_budget_us_traced": traced.budget_us(6 * bare_s * 1e3),
    }


BILATERAL = {
    "name": "bilateral micro-benchmark",
    "issues": {
        k: {"name": k, "unit": "index", "low": 0.0, "high": 1.0, "status_quo": 0.0} for k in ("a", "b", "c")
    },
    "actors": {
        "hawk": {
            "name": "Boulware",
            "leverage": 0.5,
            "domestic_pressure": 0.5,
            "resolve": 0.5,
            "strategy": {"kind": "boulware"},
        },
        "dove": {
            "name": "Conceder",
            "leverage": 0.5,
            "domestic_pressure": 0.5,
            "resolve": 0.5,
            "strategy": {"kind": "conceder"},
        },
    },
    "tables": {
        "t": {
            "name": "t",
            "parties": ["hawk", "dove"],
            "issues": ["a", "b", "c"],
            "opens": 0,
            "deadline": 99,
            "breakdown_risk": 0.0,
            "preferences": {
                "hawk": {
                    "weights": {"a": 0.5, "b": 0.3, "c": 0.2},
                    "ideal": {"a": "increase", "b": "increase", "c": "increase"},
                    "outside_option": 0.2,  # the status quo (all 0) is worth 0 to the hawk
                },
                "dove": {
                    "weights": {"a": 0.2, "b": 0.3, "c": 0.5},
                    "ideal": {"a": "decrease", "b": "decrease", "c": "decrease"},
                    "outside_option": -0.8,  # and 1 to the dove: both values of no deal are 0.2
                },
            },
        }
    },
}


def bench_b(quick: bool) -> dict[str, float]:
    compiled = prepare(scenario_from_dict(BILATERAL, "benchmark"), {})
    model = NegotiationModel(compiled, seed=0)
    model.run()
    n = 20 if quick else 50
    single = best_of(3, lambda: [run_once(compiled, s) for s in range(n)]) / n
    batch = best_of(3, lambda: run_many(compiled, np.arange(20 * n))) / (20 * n)
    return {"rounds_played": model.round, "mesa_model_ms": single * 1e3, "fast_path_ms": batch * 1e3}


def _spec(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(textwrap.dedent(body))
    return path


def bench_c(quick: bool, directory: Path) -> dict[str, float]:
    """Batch throughput at 1 and 2 workers, interleaved and repeated (the best of each counts)."""
    from negotiation.batch.runner import run_batch

    runs = 20_000 if quick else 100_000
    spec = _spec(
        directory,
        "throughput",
        f"""
        [experiment]
        name = "throughput"
        scenario = "default"
        seed = 1
        replications = {runs}
        block = 2000
        outputs = []
    """,
    )
    attempts: dict[int, list[tuple[float, float]]] = {1: [], 2: []}  # (runs/s, other cores)
    for attempt in range(1 if quick else 3):
        for workers in (1, 2):
            wait_for_quiet(patience=10 if quick else 20)
            out = directory / f"c{workers}-{attempt}"
            start = time.perf_counter()
            with OtherWork() as other:
                run_batch(spec, workers=workers, out=out, progress=False)
            attempts[workers].append((runs / (time.perf_counter() - start), other.cores))
            shutil.rmtree(out)
    # the fastest run of each (all runs when none was quiet: then the efficiency says little)
    best = {w: max([a for a in runs_of if a[1] < 0.15] or runs_of) for w, runs_of in attempts.items()}
    compiled = prepare(None, {})
    fast_s = best_of(3, lambda: run_many(compiled, np.arange(2000))) / 2000
    return {
        "runs": runs,
        "attempts": attempts,
        "runs_per_s_1_workers": best[1][0],
        "runs_per_s_2_workers": best[2][0],
        "other_cores_1_worker": best[1][1],
        "other_cores_2_workers": best[2][1],
        "ms_per_run_1_worker": 1e3 / best[1][0],
        "fast_path_ms": fast_s * 1e3,
        "batch_overhead": 1.0 / best[1][0] / fast_s,
        "parallel_efficiency": best[2][0] / (2 * best[1][0]),
    }


PEAK_MEMORY = """
import resource, sys
from negotiation.batch.runner import run_batch
run_batch(sys.argv[1], runs=int(sys.argv[2]), workers=1, out=sys.argv[3], progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bench_d(quick: bool, directory: Path) -> dict[str, float]:
    spec = _spec(
        directory,
        "memory",
        """
        [experiment]
        name = "memory"
        scenario = "default"
        seed = 2
        replications = 1000
        block = 1000
        outputs = []
    """,
    )
    result = {}
    for runs in (10_000, 100_000):
        out = directory / f"d{runs}"
        done = subprocess.run(
            [sys.executable, "-c", PEAK_MEMORY, str(spec), str(runs), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        result[f"peak_rss_mb_{runs}"] = int(done.stdout.split()[-1]) / 1024
    result["ratio"] = result["peak_rss_mb_100000"] / result["peak_rss_mb_10000"]
    return result


def bench_e(quick: bool, directory: Path) -> dict[str, float]:
    from negotiation.batch.runner import run_batch
    from negotiation.batch.spec import load_experiment

    # the runs only: summary, charts and report are a separate step (docs/charts-and-reports.md)
    spec = load_experiment(ROOT / "experiments" / "baseline.toml").with_outputs([])
    out = directory / "e"
    start = time.perf_counter()
    run_batch(spec, precision=0.01, workers=2, out=out, progress=False)
    elapsed = time.perf_counter() - start
    meta = json.loads((out / "metadata.json").read_text())
    return {"seconds": elapsed, "runs": meta["runs"]}


def bench_f(quick: bool, directory: Path) -> dict[str, float]:
    from negotiation.batch.runner import run_batch
    from negotiation.batch.spec import load_experiment
    from negotiation.charts.report import write_outputs

    spec = load_experiment(ROOT / "experiments" / "baseline.toml")
    runs = 2_000 if quick else spec.replications
    best_runs, best_outputs = float("inf"), float("inf")
    for attempt in range(3):
        out = directory / f"f{attempt}"
        start = time.perf_counter()
        run_batch(spec, runs=runs, workers=2, out=out, progress=False)
        best_runs = min(best_runs, time.perf_counter() - start)
        start = time.perf_counter()
        write_outputs(out, progress=False)
        best_outputs = min(best_outputs, time.perf_counter() - start)
    return {
        "runs": runs,
        "runs_seconds": best_runs,
        "outputs_seconds": best_outputs,
        "ratio": best_outputs / best_runs,
    }


SCORE_PEAK = """
import resource, sys
from negotiation.commands.main import main
code = main(sys.argv[1:])
print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

OUTCOMES = "[tables.us-china]\ndeal = true\n[tables.us-japan]\ndeal = true\n[tables.us-korea]\ndeal = false\n"


def repeated_folder(directory: Path, name: str, runs: int, block: int) -> Path:
    """A finished sweep of two design points and ``runs`` runs: one real chunk per point, copied.

    The copies carry shifted replication indices and are recorded (rows, SHA-256) like every
    chunk, so the readers accept the folder. Memory does not depend on what the runs say, so a
    million runs cost one chunk's simulation per point.
    """
    from negotiation.batch.chunks import chunk_name, record_of
    from negotiation.batch.runner import run_batch

    spec = _spec(
        directory,
        name,
        f"""
        [experiment]
        name = "{name}"
        scenario = "default"
        seed = 3
        replications = {block}
        block = {block}
        outputs = []

        [[parameters]]
        path = "actors.china.resolve"
        values = [0.55, 0.95]
    """,
    )
    out = run_batch(spec, workers=1, out=directory / name, progress=False)
    metadata = json.loads((out / "metadata.json").read_text())
    per_point = runs // 2
    for point in (0, 1):
        first = pq.read_table(out / "results" / chunk_name(point, 0, block))
        index = first.schema.get_field_index("replication")
        for start in range(block, per_point, block):
            column = first.column("replication")
            shifted = pc.add(column, pa.scalar(start, column.type))
            sink = pa.BufferOutputStream()
            pq.write_table(first.set_column(index, "replication", shifted), sink, compression="zstd")
            payload = sink.getvalue().to_pybytes()
            name_ = chunk_name(point, start, start + block)
            (out / "results" / name_).write_bytes(payload)
            metadata["chunks"][name_] = record_of(payload, first.num_rows)
        metadata["points"][point]["replications"] = per_point
    metadata["chunks"] = dict(sorted(metadata["chunks"].items()))
    metadata["runs"] = runs
    (out / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return out


def bench_g(quick: bool, directory: Path) -> dict[str, float]:
    outcomes = directory / "outcomes.toml"
    outcomes.write_text(OUTCOMES)
    result: dict[str, float] = {}
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    for runs in sizes:
        folder = repeated_folder(directory, f"g{runs}", runs, block=5_000)
        for command in (
            ["score", str(folder), "--outcomes", str(outcomes)],
            ["discover", str(folder), "--table", "us-china"],
            ["plot", str(folder)],
        ):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", SCORE_PEAK, *command], capture_output=True, text=True, check=True
            )
            code, peak = done.stdout.split()[-2:]
            assert code == "0", done.stderr
            result[f"{command[0]}_peak_rss_mb_{runs}"] = int(peak) / 1024
            result[f"{command[0]}_seconds_{runs}"] = time.perf_counter() - start
        shutil.rmtree(folder)
    for command in ("score", "discover", "plot"):
        result[f"{command}_ratio"] = (
            result[f"{command}_peak_rss_mb_{sizes[-1]}"] / result[f"{command}_peak_rss_mb_10000"]
        )
    return result


def bench_i(quick: bool, directory: Path) -> dict[str, Any]:
    """The 20 x 20 grid to +/-2 points, end to end as a user runs it: the command, outputs included."""
    spec_path = ROOT / "experiments" / "grid_20x20.toml"
    precision = 0.05 if quick else 0.02
    out = directory / "grid"
    command = [sys.executable, "-m", "negotiation", "batch", str(spec_path), "--precision", str(precision)]
    command += ["--workers", "2", "--out", str(out), "--no-progress"]
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    meta = json.loads((out / "metadata.json").read_text())
    runs_seconds = (
        dt.datetime.fromisoformat(meta["finished"]) - dt.datetime.fromisoformat(meta["started"])
    ).total_seconds()
    per_point = [point["replications"] for point in meta["points"]]
    shutil.rmtree(out)
    return {
        "precision": precision,
        "points": len(per_point),
        "seconds": seconds,
        "runs_seconds": runs_seconds,
        "outputs_seconds": seconds - runs_seconds,
        "runs": meta["runs"],
        "runs_per_point_min": min(per_point),
        "runs_per_point_max": max(per_point),
        "capped_cells": sum(n >= meta["max_replications"] for n in per_point),
        "cap": meta["max_replications"],
    }


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages (other work skews every timing)."""
    import os

    return [round(x, 2) for x in os.getloadavg()]


def bench_j(quick: bool) -> dict[str, float]:
    """Per-run cost of the per-run path (negotiators at the seats) against the fast path."""
    sys.path.insert(0, str(ROOT / "docs" / "examples" / "negotiator-example"))
    from firmness_learner import FirmnessLearner

    compiled = prepare(None, {})
    n = 20 if quick else 100
    seeds = list(range(n))
    blocks = 1 if quick else 2  # as the batch path plays them: blocks of rows.BLOCK runs

    def fast() -> None:
        for start in range(0, blocks * BLOCK, BLOCK):
            run_many(compiled, np.arange(start, start + BLOCK))

    fast_s = best_of(3, fast) / (blocks * BLOCK)
    mesa_s = best_of(3, lambda: [run_once(compiled, s) for s in seeds]) / n
    reference_s = best_of(3, lambda: [run_once(compiled, s, negotiators="reference") for s in seeds]) / n
    learner = {"china": FirmnessLearner}
    user_s = best_of(3, lambda: [run_once(compiled, s, negotiators=learner) for s in seeds]) / n
    return {
        "fast_path_ms": fast_s * 1e3,
        "mesa_model_ms": mesa_s * 1e3,
        "reference_negotiators_ms": reference_s * 1e3,
        "one_user_negotiator_ms": user_s * 1e3,
        "reference_over_fast": reference_s / fast_s,
        "user_over_fast": user_s / fast_s,
    }


def machine() -> dict[str, Any]:
    import os

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick look")
    parser.add_argument("--only", default="A,B,C,D,E,F,G,H,I,J", help="comma-separated subset, e.g. A,B")
    args = parser.parse_args()
    wanted = set(args.only.upper().split(","))
    figures: dict[str, Any] = {"machine": machine(), "quick": args.quick, "load_before": load_average()}
    print(f"machine: {figures['machine']}; load average {figures['load_before']}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        benches = (
            ("A", bench_a),
            ("B", bench_b),
            ("C", bench_c),
            ("D", bench_d),
            ("E", bench_e),
            ("F", bench_f),
            ("G", bench_g),
            ("H", bench_h),
            ("I", bench_i),
            ("J", bench_j),
        )
        for key, func in benches:
            if key not in wanted:
                continue
            start = time.perf_counter()
            figures[key] = func(args.quick) if key in "ABHJ" else func(args.quick, directory)
            print(f"{key}: {figures[key]}  ({time.perf_counter() - start:.1f} s)", flush=True)
            if key == "H" and "skipped" in figures[key]:
                print(f"H: NegMAS comparison skipped: {figures[key]['skipped']}", flush=True)
    figures["load_after"] = load_average()
    judged = [*judge(figures), batch_path_limit(figures)]
    figures["targets"] = [asdict(t) for t in judged]
    print(f"\nTargets (issues 13 and 15), load average {figures['load_after']} at the end:\n{report(judged)}")
    figures["budgets"] = budgets(figures)
    if figures["budgets"]:
        print("\nWhat a kernel must achieve (time per run for the target; a negative budget per round")
        print("means setup and outcomes alone are over it):\n" + "\n".join(figures["budgets"]))
    (ROOT / "benchmarks" / "last-run.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
