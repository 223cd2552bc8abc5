"""Experiment batches: spec -> seeded chunks of runs on workers -> Parquet files on disk.

``run_batch(spec)`` runs every design point of an experiment for its replications (or adaptively
until a precision target is met), in parallel, streaming results to ``OUTDIR/results`` one chunk
file at a time. The summary, charts and report are the charts stage's job
(:func:`negotiation.charts.report.write_outputs`, which ``negotiation batch`` calls afterwards).

Reproducibility: run ``r`` of every design point uses ``run_seed(master_seed, r)``; a work unit is
a block of replications whose boundaries the spec fixes (``block``), never the worker count, so the
results are bit-identical for any number of workers, backend or interruption. Memory stays flat:
only a bounded number of chunks are in flight and each is written and dropped as it arrives.
See docs/experiments.md.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from negotiation.batch import adaptive
from negotiation.batch.chunks import chunk_key
from negotiation.batch.executors import ChunkExecutor, ChunkTask, drain, open_executor, table_from_parquet
from negotiation.batch.folder import BatchFolder, canonical_json, sha256_text
from negotiation.batch.spec import ExperimentSpec, load_experiment
from negotiation.errors import ExperimentError, FileSystemError
from negotiation.folders import hold_folder

BACKENDS = ("local", "dask")
"""Accepted ``backend`` values."""

RESULTS_ROOT = Path("results")
"""Default parent of output folders: ``results/<experiment name>``."""


def run_batch(
    spec: ExperimentSpec | str | Path,
    *,
    runs: int | None = None,
    precision: float | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    backend: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
) -> Path:
    """Run an experiment batch and write its output folder.

    Args:
        spec: An experiment spec, or the path of its TOML file.
        runs: Replications per design point, overriding the spec (fixed mode).
        precision: Target Wilson 95% half-width, overriding the spec (adaptive mode).
        workers: Local worker processes (default: the CPUs available; 1 runs in this process).
        out: Output folder (default ``results/<experiment name>``).
        resume: Finish an interrupted batch in ``out``, keeping its intact chunks, or re-run the
            damaged and missing chunks of a finished one.
        overwrite: Replace whatever batch ``out`` holds (its files only; other files stay).
        backend: ``"local"`` processes or ``"dask"``.
        scheduler: Dask scheduler address, for ``backend="dask"``.
        progress: Show a progress bar on stderr (only when it is a terminal).

    Returns:
        The output folder.

    Raises:
        ExperimentError: Bad options, an unwritable folder, a folder holding another batch, or
            (without ``resume``) a damaged one.
        FolderBusyError: Another process is writing into the folder.
        FileSystemError: A file could not be written (a full disk, ...); finished chunks are kept,
            and ``resume`` carries on from them.
    """
    if not isinstance(spec, ExperimentSpec):
        spec = load_experiment(spec)
    if runs is not None and precision is not None:
        raise ExperimentError("--runs", "", runs, "either --runs or --precision, not both")
    if runs is not None:
        spec = spec.with_replications(runs)
    if precision is not None:
        spec = spec.with_precision(precision)
    if backend not in BACKENDS:
        raise ExperimentError("--backend", "", backend, " or ".join(BACKENDS))
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExperimentError("--workers", "", workers, "a positive number of worker processes")
    if backend == "dask" and not scheduler:
        raise ExperimentError(
            "--scheduler",
            "",
            None,
            "the Dask scheduler address with --backend dask, e.g. tcp://10.0.0.5:8786",
        )

    scenario_json = spec.base_scenario().model_dump_json()
    design = batch_design(spec, scenario_json)
    folder = BatchFolder(out if out is not None else RESULTS_ROOT / spec.name)
    folder.prepare()
    folder.open(design, resume, overwrite, check_only=True)  # refuse a foreign folder before locking it
    with hold_folder(folder.root):
        folder.open(design, resume, overwrite)
        if not folder.complete:
            try:
                _run(spec, folder, design, scenario_json, backend, workers, scheduler, progress)
            except FileSystemError as exc:
                raise exc.with_hint(
                    "finished chunks are kept: once it is fixed, rerun the same command with --resume"
                ) from None
    return folder.root


def _run(
    spec: ExperimentSpec,
    folder: BatchFolder,
    design: dict[str, Any],
    scenario_json: str,
    backend: str,
    workers: int,
    scheduler: str | None,
    progress: bool,
) -> None:
    """Run the chunks the folder lacks and finish its metadata (the folder is open and held)."""
    from negotiation.bargaining.compiled import compile_scenario

    table_ids = list(compile_scenario(spec.base_scenario()).table_ids)
    started = folder.metadata.get("started") or _now()
    finished = folder.intact_chunks()
    repairs = list(folder.metadata.get("repairs", []))
    metadata = _metadata(spec, design, scenario_json, table_ids, backend, workers, started)
    metadata["chunks"] = folder.sorted_records()
    if repairs:
        metadata["repairs"] = repairs
    folder.write_metadata(metadata)  # first: from here on the folder is this batch's, resumable
    folder.write_inputs(spec.to_toml(scenario="scenario.json"), scenario_json)

    runner = _Runner(spec, folder, finished, table_ids, progress)
    with open_executor(backend, scenario_json, workers, scheduler) as executor:
        metadata["workers"] = executor.workers
        per_point = runner.run_adaptive(executor) if spec.adaptive else runner.run_fixed(executor)
    metadata["points"] = [
        {**entry, "replications": int(n)} for entry, n in zip(metadata["points"], per_point, strict=True)
    ]
    metadata["runs"] = int(np.sum(per_point))
    metadata["finished"] = _now()
    if folder.repairing:  # a finished batch whose damaged or missing chunks ran again: say which
        rerun = sorted(set(folder.records) - finished)
        metadata["repairs"] = [*repairs, {"at": metadata["finished"], "chunks": rerun}]
    folder.finish(metadata)


def default_workers() -> int:
    """Number of CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def batch_design(spec: ExperimentSpec, scenario_json: str) -> dict[str, Any]:
    """Everything that determines a batch's results; its hash identifies the batch for --resume.

    Worker count, backend and output choices are left out on purpose: they never change results.
    The package version is in: resuming with another version could mix results of two models.
    """
    return {
        "package_version": _package_version(),
        "scenario_hash": sha256_text(scenario_json),
        "master_seed": spec.seed,
        "parameters": spec.parameter_paths,
        "points": spec.design_points(),
        "replications": spec.replications,
        "precision": spec.precision,
        "max_replications": spec.max_replications,
        "block": spec.block,
    }


class _Runner:
    """Plans chunks, skips finished ones, writes the others, and keeps the progress bar."""

    def __init__(
        self,
        spec: ExperimentSpec,
        folder: BatchFolder,
        finished: set[str],
        table_ids: list[str],
        progress: bool,
    ) -> None:
        self.spec = spec
        self.folder = folder
        self.finished = finished
        self.table_index = {t: i for i, t in enumerate(table_ids)}
        self.table_names = pa.array(table_ids, pa.string())
        self.points = spec.design_points()
        self.progress = progress

    def task(self, point: int, start: int, stop: int) -> ChunkTask:
        return ChunkTask(point, start, stop, tuple(self.points[point].items()), self.spec.seed)

    def run_fixed(self, executor: ChunkExecutor) -> np.ndarray:
        """Every point gets ``replications`` runs; chunks go replication-block by block.

        Chunks are planned lazily, so even a design of millions of chunks costs no memory up front.
        """
        reps = self.spec.replications or 0
        bounds = adaptive.blocks(0, reps, self.spec.block)
        todo = (
            task
            for start, stop in bounds
            for point in range(len(self.points))
            if (task := self.task(point, start, stop)).name not in self.finished
        )
        done = sum(stop - start for _point, start, stop in map(_chunk_key, self.finished))
        with progress_bar(reps * len(self.points) - done, self.progress) as bar:
            for task, _table in self._execute(executor, todo):
                bar.update(task.runs)
        return np.full(len(self.points), reps, dtype=np.int64)

    def run_adaptive(self, executor: ChunkExecutor) -> np.ndarray:
        """Rounds of blocks until every point meets the precision target or the cap."""
        assert self.spec.precision is not None and self.spec.max_replications is not None
        n_points, cap = len(self.points), self.spec.max_replications
        runs = np.zeros(n_points, dtype=np.int64)
        deals = np.zeros((n_points, len(self.table_index)), dtype=np.int64)
        targets = np.full(n_points, min(self.spec.block, cap), dtype=np.int64)
        with progress_bar(int(targets.sum()), self.progress) as bar:
            while np.any(targets > runs):
                tasks = [
                    self.task(point, start, stop)
                    for point in np.flatnonzero(targets > runs)
                    for start, stop in adaptive.blocks(int(runs[point]), int(targets[point]), self.spec.block)
                ]
                for task in tasks:
                    if task.name in self.finished:
                        self._count(deals, task, self.folder.read_chunk(task, ["table", "deal"]))
                        bar.total -= task.runs
                for task, payload in self._execute(
                    executor, [t for t in tasks if t.name not in self.finished]
                ):
                    self._count(deals, task, table_from_parquet(payload, ["table", "deal"]))
                    bar.update(task.runs)
                runs = targets
                targets = adaptive.next_targets(deals, runs, self.spec.precision, self.spec.block, cap)
                bar.total += int((targets - runs).sum())
                bar.refresh()
        return runs

    def _execute(
        self, executor: ChunkExecutor, tasks: Iterable[ChunkTask]
    ) -> Iterator[tuple[ChunkTask, bytes]]:
        for task, payload in drain(executor, tasks):
            self.folder.write_chunk(task, payload, task.runs * len(self.table_index))
            yield task, payload

    def _count(self, deals: np.ndarray, task: ChunkTask, table: pa.Table) -> None:
        index = pc.index_in(table.column("table"), value_set=self.table_names).to_numpy(zero_copy_only=False)
        deal = table.column("deal").to_numpy(zero_copy_only=False).astype(bool)
        np.add.at(deals[task.point], index[deal], 1)


def _chunk_key(name: str) -> tuple[int, int, int]:
    """(point, start, stop) of a chunk file name."""
    key = chunk_key(name)
    assert key is not None, name
    return key


def progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar on stderr showing runs done, runs per second and time left (a context manager).

    Args:
        total: Runs expected (adaptive batches raise it as they go).
        enabled: False for no bar; it is also off when stderr is not a terminal.
    """
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="run",
        unit_scale=True,
        file=sys.stderr,
        disable=not (enabled and sys.stderr.isatty()),
        smoothing=0.1,
    )


def _metadata(
    spec: ExperimentSpec,
    design: dict[str, Any],
    scenario_json: str,
    table_ids: list[str],
    backend: str,
    workers: int,
    started: str,
) -> dict[str, Any]:
    planned = spec.replications or 0
    return {
        "experiment": spec.name,
        "description": spec.description,
        "identity": sha256_text(canonical_json(design)),
        "scenario": spec.base_scenario().name,
        "scenario_hash": sha256_text(scenario_json),
        "package_version": _package_version(),
        "master_seed": spec.seed,
        "seeds": "run r of every design point uses negotiation.batch.seeding.run_seed(master_seed, r)",
        "mode": "adaptive" if spec.adaptive else "fixed",
        "replications": spec.replications,
        "precision": spec.precision,
        "max_replications": spec.max_replications,
        "block": spec.block,
        "parameters": spec.parameter_paths,
        "fixed": spec.fixed,
        "points": [
            {"point": i, "parameters": values, "replications": planned}
            for i, values in enumerate(spec.design_points())
        ],
        "runs": planned * len(spec.design_points()),
        "tables": table_ids,
        "outputs": list(spec.outputs),
        "started": started,
        "finished": None,
        "backend": backend,
        "workers": workers,
        "design": design,
    }


def _package_version() -> str:
    try:
        return importlib_metadata.version("asia-negotiation")
    except importlib_metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "unknown"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
