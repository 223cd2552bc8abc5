"""Where chunks of runs are computed: in this process, in local worker processes, or on Dask.

A chunk is one work unit of a batch: a block of replications at one design point. Every backend
calls the same function, :func:`run_chunk`, with the same small inputs (the task and the base
scenario as JSON text, sent once per worker), so results are bit-identical whichever runs them.
Workers return the chunk's rows as Arrow IPC bytes; only the parent writes files.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing
import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from negotiation.batch import lifeline
from negotiation.batch.chunks import chunk_name
from negotiation.errors import ExperimentError, NegotiationError

START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
"""Start method of local worker processes: safe whatever threads the parent runs (unlike ``fork``).

With ``forkserver`` (Linux, macOS) a server process imports the package once and forks workers
from it, so later pools in the same process start at once; elsewhere ``spawn`` is used.
"""

WORKER_PRELOAD = ["negotiation.batch.lifeline", "negotiation.batch.executors", "negotiation.batch.rows"]
"""Modules the fork server imports before forking workers (the first makes it watch the batch process)."""


@dataclass(frozen=True)
class ChunkTask:
    """One work unit: replications ``start`` to ``stop - 1`` of design point ``point``."""

    point: int
    """Design-point index."""
    start: int
    """First replication index."""
    stop: int
    """One past the last replication index."""
    parameters: tuple[tuple[str, float], ...]
    """The design point's varied values, as (path, value) pairs in declaration order."""
    master_seed: int
    """The experiment's master seed."""

    @property
    def runs(self) -> int:
        """Number of replications in the chunk."""
        return self.stop - self.start

    @property
    def name(self) -> str:
        """File name of the chunk's results (fixed by point and replication range only)."""
        return chunk_name(self.point, self.start, self.stop)


def run_chunk(task: ChunkTask, scenario_json: str) -> bytes:
    """Run one chunk and return its results rows as the bytes of a Parquet file.

    The worker compresses (zstd), so what crosses the process boundary is small and the parent only
    writes bytes to disk: it stays out of the workers' way on a machine with as many workers as cores.

    Args:
        task: What to run.
        scenario_json: The base scenario (fixed overrides applied) as ``Scenario`` JSON.

    Returns:
        The rows of ``negotiation.batch.rows.simulate`` for the chunk, serialised.
    """
    from negotiation.batch.rows import simulate

    compiled = _design_point(scenario_json, task.parameters)
    table = simulate(
        compiled,
        range(task.start, task.stop),
        task.master_seed,
        point=task.point,
        parameters=dict(task.parameters),
    )
    return table_to_parquet(table)


@functools.lru_cache(maxsize=4)
def _design_point(scenario_json: str, parameters: tuple[tuple[str, float], ...]) -> Any:
    """Compile a design point once per process (consecutive chunks often share a point)."""
    from negotiation.bargaining.compiled import compile_scenario
    from negotiation.scenario.paths import apply_overrides
    from negotiation.scenario.schema import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    if parameters:
        scenario = apply_overrides(scenario, dict(parameters), "experiment")
    return compile_scenario(scenario)


def table_to_parquet(table: pa.Table) -> bytes:
    """Serialise a table as the bytes of a zstd-compressed Parquet file (what a chunk file holds).

    Only the text columns (table, party and status names: a few distinct values each) are
    dictionary-encoded; numbers are nearly all distinct, and trying a dictionary for each of them cost
    a quarter of the write and made the file larger.
    """
    sink = pa.BufferOutputStream()
    text = [field.name for field in table.schema if pa.types.is_string(field.type)]
    pq.write_table(table, sink, compression="zstd", use_dictionary=text)
    return sink.getvalue().to_pybytes()


def table_from_parquet(payload: bytes, columns: list[str] | None = None) -> pa.Table:
    """Read back (some columns of) the bytes of :func:`table_to_parquet`."""
    return pq.read_table(pa.BufferReader(payload), columns=columns)


class ChunkExecutor(ABC):
    """A backend that computes chunks; used as a context manager by the batch runner."""

    workers: int
    """Number of worker slots (processes or Dask threads)."""

    @property
    def capacity(self) -> int:
        """How many chunks to keep in flight: enough to keep workers busy, few enough for memory."""
        return 2 * self.workers

    @abstractmethod
    def submit(self, task: ChunkTask) -> Any:
        """Start computing a chunk; return a future."""

    @abstractmethod
    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        """Block until at least one pending future is done; return (done, still pending)."""

    @abstractmethod
    def close(self, cancel: bool = False) -> None:
        """Release workers; with ``cancel``, drop queued chunks and stop running ones."""

    def result(self, future: Any) -> bytes:
        """The IPC bytes of a finished chunk (re-raises a worker's exception)."""
        return future.result()

    def starting(self, pending: set[Any]) -> bool:
        """True while no worker has delivered a chunk yet and this process may compute one itself."""
        return False

    def run_here(self, task: ChunkTask) -> bytes:
        """Compute a chunk in this process (only asked while :meth:`starting` is True)."""
        raise NotImplementedError

    def __enter__(self) -> ChunkExecutor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(cancel=exc_type is not None)


class InProcessExecutor(ChunkExecutor):
    """Runs each chunk in this process when it is submitted (one worker, no start-up cost)."""

    def __init__(self, scenario_json: str) -> None:
        self.scenario_json = scenario_json
        self.workers = 1

    @property
    def capacity(self) -> int:
        """One chunk at a time."""
        return 1

    def submit(self, task: ChunkTask) -> cf.Future:
        """Compute the chunk now and return a finished future."""
        future: cf.Future = cf.Future()
        future.set_result(run_chunk(task, self.scenario_json))
        return future

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        """Everything submitted is already done."""
        return set(pending), set()

    def close(self, cancel: bool = False) -> None:
        """Nothing to release."""


_WORKER_SCENARIO: str | None = None
"""Per-process copy of the base scenario JSON in local workers, set once by the initializer."""


def _init_local_worker(scenario_json: str, batch_pid: int) -> None:
    global _WORKER_SCENARIO
    # the parent decides what Ctrl-C does; a worker must not die half-way through a chunk on its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # ... but when the batch process is gone (kill -9), the worker goes too: nobody wants its chunk
    lifeline.watch(batch_pid)
    _WORKER_SCENARIO = scenario_json


def _run_chunk_in_local_worker(task: ChunkTask) -> bytes:
    assert _WORKER_SCENARIO is not None
    return run_chunk(task, _WORKER_SCENARIO)


class LocalExecutor(ChunkExecutor):
    """A pool of local worker processes (``concurrent.futures`` with an explicit start method).

    Starting the pool takes about a second on two cores (the fork server imports numpy, scipy,
    pyarrow and the package before it forks the first worker), during which one core would sit idle.
    So until the first worker delivers a chunk, this process computes chunks too
    (:meth:`starting`, :meth:`run_here`): the same function on the same inputs, so the results are
    the same bytes whoever computes them.
    """

    def __init__(self, scenario_json: str, workers: int) -> None:
        self.workers = workers
        self.scenario_json = scenario_json
        self._delivered = False
        self._before = set(multiprocessing.active_children())
        context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":
            context.set_forkserver_preload(WORKER_PRELOAD)
        lifeline.announce()  # the fork server (started with the first worker) watches this process
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_local_worker,
            initargs=(scenario_json, os.getpid()),
        )

    def submit(self, task: ChunkTask) -> cf.Future:
        """Queue a chunk on the pool."""
        return self._pool.submit(_run_chunk_in_local_worker, task)

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        """Wait for the first pending chunk to finish."""
        done, not_done = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return set(done), set(not_done)

    def starting(self, pending: set[Any]) -> bool:
        """True until a worker has delivered its first chunk."""
        self._delivered = self._delivered or any(future.done() for future in pending)
        return not self._delivered

    def run_here(self, task: ChunkTask) -> bytes:
        """Compute a chunk in this process while the workers start."""
        return run_chunk(task, self.scenario_json)

    def result(self, future: Any) -> bytes:
        """The chunk's bytes; a crashed worker becomes a clear error."""
        try:
            return future.result()
        except cf.process.BrokenProcessPool:
            raise NegotiationError(
                "a worker process died (killed, out of memory, or it could not start); "
                "finished chunks are kept: rerun with --resume"
            ) from None

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down; on cancel, also stop the worker processes this pool started."""
        if not cancel:
            self._pool.shutdown(wait=True)
            return
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in set(multiprocessing.active_children()) - self._before:
            process.terminate()
        for process in set(multiprocessing.active_children()) - self._before:
            process.join(timeout=5)


class DaskExecutor(ChunkExecutor):
    """Chunks on an existing Dask distributed cluster, reached through its scheduler address."""

    def __init__(self, scenario_json: str, scheduler: str) -> None:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise ExperimentError(
                "--backend", "", "dask", "the dask extra installed: pip install 'asia-negotiation[dask]'"
            ) from None
        if not scheduler_address_ok(scheduler):
            raise ExperimentError(
                "--scheduler",
                "",
                scheduler,
                "a Dask scheduler address such as tcp://10.0.0.5:8786 or 10.0.0.5:8786",
            )
        try:
            self._client = Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExperimentError(
                "--scheduler",
                "",
                scheduler,
                f"the address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 ({exc})",
            ) from None
        self._scenario = self._client.scatter(scenario_json, broadcast=True, hash=False)
        self.workers = max(1, sum(self._client.nthreads().values()))
        self._completed = as_completed([], loop=self._client.loop)

    def submit(self, task: ChunkTask) -> Any:
        """Send a chunk to the cluster."""
        future = self._client.submit(run_chunk, task, self._scenario, pure=False)
        self._completed.add(future)
        return future

    def wait(self, pending: set[Any]) -> tuple[set[Any], set[Any]]:
        """Wait for the next chunk to finish (one at a time, in finishing order)."""
        future = next(self._completed)
        return {future}, set(pending) - {future}

    def result(self, future: Any) -> bytes:
        """The chunk's bytes; a worker without the package becomes a clear error."""
        try:
            return future.result()
        except ImportError as exc:
            raise NegotiationError(
                f"a Dask worker could not import the package ({exc}); install the same version of "
                "asia-negotiation on every worker (see docs/experiments.md)"
            ) from None

    def close(self, cancel: bool = False) -> None:
        """Disconnect; the scheduler drops the chunks nobody waits for. The cluster keeps running."""
        self._client.close()


def scheduler_address_ok(address: str) -> bool:
    """True for ``[protocol://]host:port`` with a numeric port (checked before connecting).

    >>> [scheduler_address_ok(a) for a in ("tcp://10.0.0.5:8786", "10.0.0.5", "x:y")]
    [True, False, False]
    """
    _, _, location = address.rpartition("://")
    host, _, port = location.rpartition(":")
    return bool(host.strip("[]")) and port.isdigit() and 0 < int(port) < 65536 and " " not in address


def open_executor(backend: str, scenario_json: str, workers: int, scheduler: str | None) -> ChunkExecutor:
    """Open the backend named on the command line.

    Args:
        backend: ``"local"`` or ``"dask"``.
        scenario_json: The base scenario, sent once to each worker.
        workers: Local worker processes (1 runs in this process); ignored by Dask.
        scheduler: Dask scheduler address (required for ``"dask"``).

    Returns:
        The executor, to be used as a context manager.
    """
    if backend == "local":
        return InProcessExecutor(scenario_json) if workers == 1 else LocalExecutor(scenario_json, workers)
    if backend == "dask":
        if not scheduler:
            raise ExperimentError(
                "--scheduler",
                "",
                None,
                "the Dask scheduler address with --backend dask, e.g. tcp://10.0.0.5:8786",
            )
        return DaskExecutor(scenario_json, scheduler)
    raise ExperimentError("--backend", "", backend, "local or dask")


def drain(executor: ChunkExecutor, tasks: Iterable[ChunkTask]) -> Iterable[tuple[ChunkTask, bytes]]:
    """Run tasks with a bounded number in flight, yielding (task, bytes) as each chunk finishes.

    Only ``executor.capacity`` chunks are pending at once, so memory stays flat whatever the number
    of tasks. While the executor's workers are still starting, this process computes the next task
    itself instead of waiting. Chunks finish in any order; their content never depends on it.
    """
    pending: dict[Any, ChunkTask] = {}
    iterator = iter(tasks)
    exhausted = False
    while True:
        while not exhausted and len(pending) < executor.capacity:
            task = next(iterator, None)
            if task is None:
                exhausted = True
            else:
                pending[executor.submit(task)] = task
        if not pending:
            return
        if not exhausted and executor.starting(set(pending)):
            task = next(iterator, None)
            if task is None:
                exhausted = True
            else:
                yield task, executor.run_here(task)
            continue
        done, _ = executor.wait(set(pending))
        for future in done:
            task = pending.pop(future)
            yield task, executor.result(future)
