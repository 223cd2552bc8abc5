"""The Dask backend gives the same results as local processes, on a two-worker cluster on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from negotiation.batch.runner import run_batch
from negotiation.errors import ExperimentError

distributed = pytest.importorskip("distributed")

from test_batch import make_spec, results  # noqa: E402


@pytest.fixture(scope="module")
def scheduler() -> str:
    """Address of a local cluster of two single-threaded worker processes, stopped after the tests."""
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_dask_backend_agrees_with_local(tmp_path: Path, scheduler: str) -> None:
    spec = make_spec(replications=10, block=4)
    local = run_batch(spec, workers=1, out=tmp_path / "local", progress=False)
    dask = run_batch(spec, backend="dask", scheduler=scheduler, out=tmp_path / "dask", progress=False)
    pd.testing.assert_frame_equal(results(dask), results(local))
    meta = json.loads((dask / "metadata.json").read_text())
    assert meta["backend"] == "dask" and meta["workers"] == 2
    assert meta["points"] == json.loads((local / "metadata.json").read_text())["points"]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:notaport", "127.0.0.1", "tcp://:8786"])
def test_malformed_scheduler_address_is_one_line(tmp_path: Path, address: str) -> None:
    with pytest.raises(ExperimentError, match="--scheduler"):
        run_batch(make_spec(), backend="dask", scheduler=address, out=tmp_path / "x", progress=False)
