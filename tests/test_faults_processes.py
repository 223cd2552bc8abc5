"""Fault injection, class 5: no orphans and no debris after a kill.

``kill -9`` of a batch leaves nothing running: its workers, the fork server and the resource
tracker end within 5 seconds (they watch the batch process, negotiation.batch.lifeline). The
temporary files that a kill leaves (in results/, in charts/, beside report.html) are removed by
``batch --resume`` and by ``plot``, and the batch then completes to the bytes of one never killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from faults import SMALL_EXPERIMENT, run_main, snapshot, start_batch, temporary_files, wait_for_chunks
from outdirs import make_outdir

GONE_WITHIN = 5.0


def children(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pid: int) -> bool:
    """Whether a process exists and has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def long_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "long.toml"
    path.write_text(
        SMALL_EXPERIMENT.replace("replications = 40", "replications = 4000").replace(
            "block = 4", "block = 200"
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("workers", [2])
def test_kill_9_of_the_batch_leaves_no_process_behind(long_spec: Path, tmp_path: Path, workers: int) -> None:
    out = tmp_path / "out"
    batch = start_batch(long_spec, out, workers)
    wait_for_chunks(batch, out)
    deadline = time.monotonic() + 120
    # the pool is up: workers, the fork server and the resource tracker below the batch
    while len(below := children(batch.pid)) < workers + 2:
        assert batch.poll() is None and time.monotonic() < deadline, below
        time.sleep(0.05)
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    killed_at = time.monotonic()
    while any(running(pid) for pid in below) and time.monotonic() - killed_at < GONE_WITHIN:
        time.sleep(0.05)
    left = [pid for pid in below if running(pid)]
    for pid in left:  # do not leave them to the next test; then fail
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running {GONE_WITHIN} s after the kill: {left}"
    metadata = (out / "metadata.json").read_text()
    assert '"finished": null' in metadata


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A finished small batch with its summary, and its spec file."""
    spec = tmp_path_factory.mktemp("spec") / "small.toml"
    spec.write_text(SMALL_EXPERIMENT.replace("outputs = []", 'outputs = ["summary"]'))
    out = tmp_path_factory.mktemp("finished") / "out"
    from negotiation.commands.main import main

    assert main(["batch", str(spec), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    return spec, out


def leave_debris(folder: Path) -> list[Path]:
    """The temporary files a kill during report writing (and chunk writing) leaves."""
    debris = [
        folder / "charts" / ".deal-probability.png.k3j9x2.tmp",
        folder / ".report.html.a8f2kq.tmp",
        folder / ".summary.csv.zz81hq.tmp",
        folder / "results" / ".point-000000-reps-000000000-000000004.parquet.q1w2e3.tmp",
    ]
    for path in debris:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half a file")
    return debris


def test_resume_removes_the_debris_of_a_killed_report(
    capsys: pytest.CaptureFixture[str], finished: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, reference = finished
    folder = Path(shutil.copytree(reference, tmp_path / "out"))
    leave_debris(folder)
    done = run_main(capsys, "batch", spec, "--out", folder, "--workers", "1", "--no-progress", "--resume")
    assert done.code == 0 and done.err == "", done.err
    assert "nothing was run" in done.out
    assert not temporary_files(folder)
    assert snapshot(folder) == snapshot(reference)


def test_plot_removes_the_debris_of_a_killed_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = make_outdir(tmp_path / "out", replications=4, tables=["us-china"])
    debris = leave_debris(folder)
    assert run_main(capsys, "plot", folder).code == 0
    assert not [p for p in debris if p.parent != folder / "results" and p.exists()]
    assert (folder / "report.html").is_file()


def test_kill_9_mid_batch_then_resume_clears_debris_and_equals_an_uninterrupted_run(
    capsys: pytest.CaptureFixture[str], finished: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, reference = finished
    out = tmp_path / "cut"
    batch = start_batch(spec, out)
    wait_for_chunks(batch, out, count=3)
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    (out / "charts").mkdir(exist_ok=True)
    leave_debris(out)
    done = run_main(capsys, "batch", spec, "--out", out, "--workers", "1", "--no-progress", "--resume")
    assert done.code == 0 and done.err == "", done.err
    assert not temporary_files(out)
    assert snapshot(out / "results") == snapshot(reference / "results")
    assert (out / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()
