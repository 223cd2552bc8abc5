"""The batch runner: same results for any worker count, resume after a kill, flat memory, adaptive
replication, and one clear line for every bad input, with nothing on disk damaged."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import negotiation.batch.executors as executors
from negotiation.bargaining.compiled import compile_scenario
from negotiation.batch import adaptive
from negotiation.batch.folder import BatchFolder
from negotiation.batch.rows import simulate
from negotiation.batch.runner import run_batch
from negotiation.batch.spec import ExperimentSpec, experiment_from_dict, load_experiment
from negotiation.commands.batch import BUILTIN_BASELINE, default_experiment
from negotiation.commands.main import main as cli_main
from negotiation.errors import ExperimentError
from negotiation.intervals import wilson_half_width

KEYS = ["point", "replication", "table"]


def make_spec(replications: int = 12, block: int = 4, seed: int = 11, **experiment: object) -> ExperimentSpec:
    """Two design points of China's resolve on the default scenario; no summary/charts/report."""
    head = {"name": "tiny-batch", "seed": seed, "replications": replications, "block": block, "outputs": []}
    data = {
        "experiment": head | experiment,
        "parameters": [{"path": "actors.china.resolve", "values": [0.55, 0.95]}],
    }
    if "precision" in experiment:
        del data["experiment"]["replications"]
    return experiment_from_dict(data, "<test spec>")


def write_spec(folder: Path, spec: ExperimentSpec) -> Path:
    path = folder / "spec-in.toml"
    path.write_text(spec.to_toml(), encoding="utf-8")
    return path


def results(outdir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(outdir / "results")
    return frame.sort_values(KEYS).reset_index(drop=True)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder with the hash of its bytes (to prove nothing changed)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_results_equal_direct_simulation_with_paired_seeds(tmp_path: Path) -> None:
    spec = make_spec(replications=10, block=4)
    out = run_batch(spec, workers=1, out=tmp_path / "out", progress=False)
    frame = results(out)
    for point, values in enumerate(spec.design_points()):
        compiled = compile_scenario(spec.point_scenario(point))
        expected = simulate(compiled, 10, spec.seed, point=point, parameters=values).to_pandas()
        got = frame[frame.point == point].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected.sort_values(KEYS).reset_index(drop=True))
    # replication r has the same seed at every design point: comparisons between points are paired
    seeds = frame.pivot_table(index="replication", columns="point", values="seed", aggfunc="first")
    assert (seeds[0] == seeds[1]).all()
    # chunk boundaries are multiples of the block: 0-4, 4-8, 8-10 at each point
    names = sorted(p.name for p in (out / "results").iterdir())
    assert len(names) == 6 and names[2] == "point-000000-reps-000000008-000000010.parquet"


@pytest.mark.parametrize("mode", ["fixed", "adaptive"])
def test_one_and_two_workers_give_identical_results(tmp_path: Path, mode: str) -> None:
    extra = {"precision": 0.15, "max_replications": 60} if mode == "adaptive" else {}
    spec = make_spec(replications=12, block=4, **extra)
    one = run_batch(spec, workers=1, out=tmp_path / "one", progress=False)
    two = run_batch(spec, workers=2, out=tmp_path / "two", progress=False)
    pd.testing.assert_frame_equal(results(one), results(two))
    assert {p.name for p in (one / "results").iterdir()} == {p.name for p in (two / "results").iterdir()}
    meta_one = json.loads((one / "metadata.json").read_text())
    meta_two = json.loads((two / "metadata.json").read_text())
    assert meta_one["points"] == meta_two["points"]
    assert (meta_one["workers"], meta_two["workers"]) == (1, 2)


def test_output_folder_contract(tmp_path: Path) -> None:
    spec = make_spec()
    out = run_batch(spec, workers=1, out=tmp_path / "out", progress=False)
    meta = json.loads((out / "metadata.json").read_text())
    scenario_text = (out / "scenario.json").read_text()
    assert meta["scenario_hash"] == hashlib.sha256(scenario_text.encode()).hexdigest()
    assert meta["experiment"] == "tiny-batch"
    assert meta["master_seed"] == 11
    assert meta["parameters"] == ["actors.china.resolve"]
    assert meta["points"] == [
        {"point": 0, "parameters": {"actors.china.resolve": 0.55}, "replications": 12},
        {"point": 1, "parameters": {"actors.china.resolve": 0.95}, "replications": 12},
    ]
    assert meta["runs"] == 24
    assert meta["tables"] == list(compile_scenario(spec.base_scenario()).table_ids)
    assert meta["started"] <= meta["finished"]
    assert meta["backend"] == "local" and meta["package_version"]
    umask = os.umask(0o022)
    os.umask(umask)
    for written in [out / "metadata.json", out / "scenario.json", *(out / "results").iterdir()]:
        assert written.stat().st_mode & 0o777 == 0o666 & ~umask, written  # not mkstemp's 0600
    frame = results(out)
    assert len(frame) == 24 * len(meta["tables"])
    assert frame["actors.china.resolve"].tolist() == [0.55] * (len(frame) // 2) + [0.95] * (len(frame) // 2)
    # the resolved spec in the folder reads back to the same batch: rerunning it does nothing
    again = load_experiment(out / "spec.toml")
    assert again.design_points() == spec.design_points()
    before = snapshot(out)
    assert run_batch(again, workers=1, out=out, progress=False) == out
    assert snapshot(out) == before


def interrupt_after(calls: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the in-process chunk function raise KeyboardInterrupt on call number ``calls + 1``."""
    real = executors.run_chunk
    count = {"n": 0}

    def flaky(task: executors.ChunkTask, scenario_json: str) -> bytes:
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return real(task, scenario_json)

    monkeypatch.setattr(executors, "run_chunk", flaky)


def test_interrupted_batch_resumes_to_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_spec(replications=12, block=4)
    full = run_batch(spec, workers=1, out=tmp_path / "full", progress=False)
    with monkeypatch.context() as patch:
        interrupt_after(2, patch)
        with pytest.raises(KeyboardInterrupt):
            run_batch(spec, workers=1, out=tmp_path / "cut", progress=False)
    cut = tmp_path / "cut"
    chunks = sorted((cut / "results").glob("*.parquet"))
    assert len(chunks) == 2
    # debris of a crash: a temporary file, and a chunk file cut short (e.g. power loss)
    (cut / "results" / ".point-000001-reps-000000004-000000008.parquet.abc.tmp").write_bytes(b"half")
    chunks[1].write_bytes(chunks[1].read_bytes()[:100])
    with pytest.raises(ExperimentError, match="--resume"):
        run_batch(spec, workers=1, out=cut, progress=False)
    run_batch(spec, workers=1, out=cut, resume=True, progress=False)
    pd.testing.assert_frame_equal(results(cut), results(full))
    assert not list((cut / "results").glob(".*"))
    assert json.loads((cut / "metadata.json").read_text())["finished"]


def test_kill_9_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    spec = make_spec(replications=80, block=4)  # 40 chunk files
    spec_file = write_spec(tmp_path, spec)
    command = [
        sys.executable,
        "-m",
        "negotiation",
        "batch",
        str(spec_file),
        "--workers",
        "1",
        "--no-progress",
    ]
    cut = tmp_path / "cut"
    process = subprocess.Popen(
        [*command, "--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not list((cut / "results").glob("*.parquet")) if (cut / "results").is_dir() else True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    kept = list((cut / "results").glob("*.parquet"))
    assert 0 < len(kept) < 40, "the kill should land mid-batch"
    metadata = json.loads((cut / "metadata.json").read_text())
    assert metadata["finished"] is None
    run_batch(spec, workers=1, out=cut, resume=True, progress=False)  # what `batch ... --resume` calls
    full = run_batch(spec, workers=1, out=tmp_path / "full", progress=False)
    pd.testing.assert_frame_equal(results(cut), results(full))


def test_memory_stays_flat_as_runs_grow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec(block=5)
    run_batch(spec.with_replications(5), workers=1, out=tmp_path / "warm", progress=False)
    samples: list[tuple[int, int]] = []
    real_write = BatchFolder.write_chunk

    def write_and_measure(self: BatchFolder, task: executors.ChunkTask, payload: bytes, rows: int) -> None:
        real_write(self, task, payload, rows)
        samples.append((tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes(), len(payload)))

    monkeypatch.setattr(BatchFolder, "write_chunk", write_and_measure)

    def peak(runs: int) -> int:
        samples.clear()
        tracemalloc.start()
        try:
            run_batch(spec.with_replications(runs), workers=1, out=tmp_path / f"r{runs}", progress=False)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = peak(20)  # 8 chunks
    large = peak(80)  # 32 chunks
    chunk_bytes = max(s[2] for s in samples)
    # Holding the 48 extra chunks would cost ~48 chunk payloads; allow a few for noise.
    assert large - small < 4 * chunk_bytes, (small, large, chunk_bytes)
    python_after_8 = samples[7][0]
    arrow_after_8 = samples[7][1]
    assert samples[-1][0] - python_after_8 < 4 * chunk_bytes
    assert samples[-1][1] - arrow_after_8 < 4 * chunk_bytes


def test_adaptive_mode_stops_at_the_target(tmp_path: Path) -> None:
    precision, cap, block = 0.1, 400, 20
    spec = make_spec(seed=5, block=block, precision=precision, max_replications=cap)
    out = run_batch(spec, workers=1, out=tmp_path / "out", progress=False)
    meta = json.loads((out / "metadata.json").read_text())
    frame = results(out)
    assert meta["mode"] == "adaptive"
    assert meta["runs"] == sum(p["replications"] for p in meta["points"])
    stopped_early = 0
    for entry in meta["points"]:
        rows = frame[frame.point == entry["point"]]
        n = entry["replications"]
        assert sorted(rows.replication.unique()) == list(range(n))  # no run lost or duplicated
        assert n % block == 0 or n == cap
        deals = rows.groupby("table").deal.sum().to_numpy()
        widths = wilson_half_width(deals, np.full(len(deals), n))
        assert n == cap or np.all(widths <= precision)
        stopped_early += n < cap
    assert stopped_early >= 1
    # the widest table at the point needs more runs than the first block gave
    assert max(p["replications"] for p in meta["points"]) > block


def test_adaptive_targets() -> None:
    runs = np.array([100, 100, 380])
    deals = np.array([[50, 2], [1, 99], [190, 0]])
    targets = adaptive.next_targets(deals, runs, 0.05, 100, 400)
    assert targets[1] == 100  # near 0 and 1: already within +/-5 points
    assert 300 <= targets[0] <= 400 and targets[0] % 100 == 0  # near 50%: ~385 runs needed
    assert targets[2] == 400  # capped
    assert adaptive.blocks(380, 400, 100) == [(380, 400)]
    assert adaptive.blocks(0, 7, 3) == [(0, 3), (3, 6), (6, 7)]


def test_refuses_other_batches_and_foreign_folders_without_touching_them(tmp_path: Path) -> None:
    out = run_batch(make_spec(), workers=1, out=tmp_path / "out", progress=False)
    before = snapshot(out)
    other = make_spec(seed=12)
    with pytest.raises(ExperimentError, match="master_seed 11 there, 12 here"):
        run_batch(other, workers=1, out=out, progress=False)
    with pytest.raises(ExperimentError, match="--resume"):
        run_batch(other, workers=1, out=out, resume=True, progress=False)
    with pytest.raises(ExperimentError, match="replications 12 there, 8 here"):
        run_batch(make_spec(), runs=8, workers=1, out=out, resume=True, progress=False)
    assert snapshot(out) == before
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(ExperimentError, match=r"thesis\.txt"):
        run_batch(make_spec(), workers=1, out=foreign, progress=False)
    assert snapshot(foreign) == {"thesis.txt": hashlib.sha256(b"precious").hexdigest()}


def test_unwritable_or_file_output_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ExperimentError, match="a folder \\(this is a file\\)"):
        run_batch(make_spec(), workers=1, out=blocker, progress=False)
    with pytest.raises(ExperimentError, match="a folder you can write to"):
        run_batch(make_spec(), workers=1, out=blocker / "sub", progress=False)
    assert blocker.read_text() == "x"


def test_bad_options(tmp_path: Path) -> None:
    spec = make_spec()
    with pytest.raises(ExperimentError, match="--workers"):
        run_batch(spec, workers=0, out=tmp_path / "a")
    with pytest.raises(ExperimentError, match="not both"):
        run_batch(spec, runs=5, precision=0.1, out=tmp_path / "a")
    with pytest.raises(ExperimentError, match="--scheduler"):
        run_batch(spec, backend="dask", out=tmp_path / "a")
    with pytest.raises(ExperimentError, match="--backend"):
        run_batch(spec, backend="spark", out=tmp_path / "a")
    assert not (tmp_path / "a").exists()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = cli_main(args)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_file = write_spec(tmp_path, make_spec())
    out = tmp_path / "out"
    code, stdout, _ = run_cli(
        ["batch", str(spec_file), "--out", str(out), "--workers", "1", "--runs", "6"], capsys
    )
    assert code == 0
    assert str(out / "results") in stdout and "12 runs over 2 design point(s)" in stdout
    code, stdout, _ = run_cli(["batch", str(out), "--workers", "1", "--no-progress"], capsys)
    assert code == 0 and "nothing was run" in stdout
    for bad in (
        ["batch", str(spec_file), "--runs", "0"],
        ["batch", str(spec_file), "--runs", "5", "--precision", "0.1"],
        ["batch", str(spec_file), "--precision", "2"],
        ["batch", str(spec_file), "--out", str(out), "--workers", "1", "--seed-typo"],
        ["batch", str(spec_file), "--backend", "dask", "--out", str(tmp_path / "d")],
        ["batch", str(tmp_path / "missing.toml")],
        ["batch", str(spec_file), "--out", str(out), "--runs", "7", "--workers", "1"],
    ):
        code, _, err = run_cli(bad, capsys)
        assert code == 2, bad
        assert len(err.strip().splitlines()) == 1, err


def test_default_experiment_is_the_shipped_baseline() -> None:
    spec = default_experiment()
    assert spec.name == "baseline" and spec.design_points() == [{}]
    builtin = experiment_from_dict(BUILTIN_BASELINE, "<built-in>")
    for field in ("name", "seed", "replications", "block", "scenario", "outputs"):
        assert getattr(builtin, field) == getattr(spec, field), field


def test_interrupted_adaptive_batch_resumes_to_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_spec(seed=5, block=20, precision=0.1, max_replications=200)
    full = run_batch(spec, workers=1, out=tmp_path / "full", progress=False)
    n_chunks = len(list((full / "results").glob("*.parquet")))
    assert n_chunks > 3  # more than the first round: the cut lands in a later round
    with monkeypatch.context() as patch:
        interrupt_after(3, patch)
        with pytest.raises(KeyboardInterrupt):
            run_batch(spec, workers=1, out=tmp_path / "cut", progress=False)
    run_batch(spec, workers=1, out=tmp_path / "cut", resume=True, progress=False)
    pd.testing.assert_frame_equal(results(tmp_path / "cut"), results(full))
    points = [json.loads((d / "metadata.json").read_text())["points"] for d in (full, tmp_path / "cut")]
    assert points[0] == points[1]


class StartingPool(executors.ChunkExecutor):
    """A pool whose workers start only after the parent has computed ``start_up`` chunks."""

    def __init__(self, scenario_json: str, start_up: int) -> None:
        self.workers, self.scenario_json, self.start_up = 2, scenario_json, start_up
        self.queued: dict[Any, executors.ChunkTask] = {}
        self.here: list[executors.ChunkTask] = []

    def submit(self, task: executors.ChunkTask) -> cf.Future:
        future: cf.Future = cf.Future()
        self.queued[future] = task
        return future

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        future = next(f for f in self.queued if f in pending)  # the oldest chunk finishes first
        future.set_result(executors.run_chunk(self.queued.pop(future), self.scenario_json))
        return {future}, set(pending) - {future}

    def starting(self, pending: set[Any]) -> bool:
        self.start_up -= 1
        return self.start_up >= 0

    def run_here(self, task: executors.ChunkTask) -> bytes:
        self.here.append(task)
        return executors.run_chunk(task, self.scenario_json)

    def close(self, cancel: bool = False) -> None:
        pass


@pytest.mark.parametrize("start_up", [0, 1, 3])
def test_the_parent_computes_while_workers_start_and_every_chunk_comes_once(start_up: int) -> None:
    spec = make_spec(replications=12, block=2)  # 12 chunks: 4 in flight, the rest wait for room
    scenario_json = spec.base_scenario().model_dump_json()
    tasks = [
        executors.ChunkTask(point, start, start + 2, tuple(values.items()), spec.seed)
        for point, values in enumerate(spec.design_points())
        for start in range(0, 12, 2)
    ]
    pool = StartingPool(scenario_json, start_up)
    done = list(executors.drain(pool, tasks))
    assert sorted(task.name for task, _ in done) == sorted(task.name for task in tasks)
    for task, payload in done:  # the same bytes whoever computed the chunk
        assert payload == executors.run_chunk(task, scenario_json)
    # while the pool starts, the parent takes the chunks beyond those in flight; then it only waits
    assert pool.here == tasks[4 : 4 + start_up]


def test_a_local_pool_is_starting_until_a_worker_delivers() -> None:
    pool = executors.LocalExecutor("{}", workers=2)
    try:
        waiting, finished = cf.Future(), cf.Future()
        finished.set_result(b"")
        assert pool.starting({waiting})
        assert not pool.starting({waiting, finished})
        assert not pool.starting({waiting})  # started once, it stays started
    finally:
        pool.close()
