"""Fault injection, class 3: file-system faults (ENOSPC, EACCES, EROFS, EIO) while reading and writing.

Each is one line naming the path and the reason, exit code 2, no traceback; nothing is half-written
(no temporary file is left, a file already there keeps its old bytes), and a batch cut short by a
full disk completes with ``--resume`` once there is space again, to the same bytes as a batch that
never failed. Real faults where the machine allows them (a small tmpfs in a private namespace, an
unprivileged user), an ``OSError`` injected at the write call otherwise (see tests/faults.py).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faults import (
    SMALL_EXPERIMENT,
    Outcome,
    assert_refused,
    batch_with_outcomes,
    can_unshare,
    in_namespace,
    nobody_home,
    run_main,
    run_process,
    snapshot,
    temporary_files,
    unprivileged,
)
from outdirs import make_outdir

import negotiation.batch.chunks as chunks_module
from negotiation.batch.runner import run_batch

ENOSPC = "No space left on device (ENOSPC)"
EACCES = "Permission denied (EACCES)"
EROFS = "Read-only file system (EROFS)"
EIO = "Input/output error (EIO)"

needs_namespace = pytest.mark.skipif(
    not can_unshare(), reason="no unprivileged mount namespace here; the injected cases below stand in"
)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "small.toml"
    path.write_text(SMALL_EXPERIMENT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small batch, run without any fault."""
    return run_batch(spec_file, workers=1, out=tmp_path_factory.mktemp("ref") / "out", progress=False)


def chunk_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "results").glob("*.parquet"))}


def outcome(text_code: str, err: str) -> Outcome:
    return Outcome(int(text_code), "", err)


# --- ENOSPC --------------------------------------------------------------------------------------

FULL_DISK_BATCH = """
mount -t tmpfs -o size=128k tmpfs "$1/mnt"
set +e
$NEGOTIATION batch "$2" --out "$1/mnt/out" --workers 1 --no-progress >/dev/null 2>"$1/err1"
echo $? >"$1/rc1"
set -e
cp -a "$1/mnt/out" "$1/after-failure"
mount -o remount,size=8m tmpfs "$1/mnt"
set +e
$NEGOTIATION batch "$2" --out "$1/mnt/out" --workers 1 --no-progress --resume >/dev/null 2>"$1/err2"
echo $? >"$1/rc2"
set -e
cp -a "$1/mnt/out" "$1/after-resume"
"""


@needs_namespace
def test_full_disk_during_a_batch_then_resume_when_space_is_back(
    tmp_path: Path, spec_file: Path, reference: Path
) -> None:
    (tmp_path / "mnt").mkdir()
    done = in_namespace(FULL_DISK_BATCH, tmp_path, spec_file)
    assert done.returncode == 0, done.stderr
    failed = outcome((tmp_path / "rc1").read_text(), (tmp_path / "err1").read_text())
    line = assert_refused(failed, f"{tmp_path}/mnt/out/", ENOSPC, "--resume")
    assert "cannot write" in line
    cut = tmp_path / "after-failure"
    assert not temporary_files(cut), "no half-written file"
    kept = chunk_bytes(cut)
    assert 0 < len(kept) < 20, "the disk filled up mid-batch"
    assert all(
        reference_bytes == kept[name]
        for name, reference_bytes in chunk_bytes(reference).items()
        if name in kept
    )
    resumed = outcome((tmp_path / "rc2").read_text(), (tmp_path / "err2").read_text())
    assert (resumed.code, resumed.err) == (0, "")
    assert chunk_bytes(tmp_path / "after-resume") == chunk_bytes(reference)


@needs_namespace
def test_full_disk_while_writing_scores(tmp_path: Path) -> None:
    batch, outcomes = batch_with_outcomes(tmp_path, replications=3)
    before = snapshot(batch)
    (tmp_path / "mnt").mkdir()
    script = """
    mount -t tmpfs -o size=16k tmpfs "$1/mnt"
    set +e
    $NEGOTIATION score "$2" --outcomes "$3" --out "$1/mnt/scores" >/dev/null 2>"$1/err"
    echo $? >"$1/rc"
    set -e
    cp -a "$1/mnt/scores" "$1/after"
    """
    done = in_namespace(script, tmp_path, batch, outcomes)
    assert done.returncode == 0, done.stderr
    failed = outcome((tmp_path / "rc").read_text(), (tmp_path / "err").read_text())
    assert_refused(failed, f"{tmp_path}/mnt/scores/", "cannot write", ENOSPC)
    assert not temporary_files(tmp_path / "after")
    assert snapshot(batch) == before


def fail_writes(monkeypatch: pytest.MonkeyPatch, name_part: str, code: int, after: int = 0) -> None:
    """Make writes of temporary files whose name holds ``name_part`` fail with ``code``."""
    calls = {"n": 0}
    real_bytes, real_text = Path.write_bytes, Path.write_text

    def failing(real: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: Path, *args: Any, **kwargs: Any) -> Any:
            if name_part in self.name and self.name.endswith(".tmp"):
                calls["n"] += 1
                if calls["n"] > after:
                    raise OSError(code, os.strerror(code))
            return real(self, *args, **kwargs)

        return write

    monkeypatch.setattr(Path, "write_bytes", failing(real_bytes))
    monkeypatch.setattr(Path, "write_text", failing(real_text))


def test_full_disk_injected_at_the_chunk_write_then_resume(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    spec_file: Path,
    reference: Path,
) -> None:
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        fail_writes(patch, ".point-", errno.ENOSPC, after=5)
        failed = run_main(capsys, "batch", spec_file, "--out", out, "--workers", "1", "--no-progress")
    assert_refused(failed, f"{out}/results/point-", ENOSPC, "rerun the same command with --resume")
    assert not temporary_files(out)
    assert len(chunk_bytes(out)) == 5
    resumed = run_main(
        capsys, "batch", spec_file, "--out", out, "--workers", "1", "--no-progress", "--resume"
    )
    assert resumed.code == 0 and resumed.err == ""
    assert chunk_bytes(out) == chunk_bytes(reference)


def test_full_disk_injected_in_the_report_step(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    batch = make_outdir(tmp_path / "batch", replications=4, tables=["us-japan"])
    assert run_main(capsys, "plot", batch).code == 0
    before = snapshot(batch)
    with monkeypatch.context() as patch:
        fail_writes(patch, ".report.html.", errno.ENOSPC)
        failed = run_main(capsys, "plot", batch)
    line = assert_refused(failed, f"{batch / 'report.html'}: cannot write: {ENOSPC}")
    assert "OSError" not in line
    assert not temporary_files(batch)
    assert snapshot(batch) == before, "every file whole: the old report is still there"


# --- EACCES --------------------------------------------------------------------------------------

needs_unprivileged = pytest.mark.skipif(unprivileged() is None, reason="cannot drop root privileges here")


def as_nobody(*argv: object, home: Path) -> Outcome:
    prefix = unprivileged()
    assert prefix is not None
    return run_process(*argv, prefix=prefix, env={"MPLCONFIGDIR": str(home), "HOME": str(home)})


@needs_unprivileged
def test_no_permission_to_write_the_run_pictures() -> None:
    with nobody_home() as (shared, home):
        locked = shared / "locked"
        locked.mkdir(mode=0o555)
        failed = as_nobody("run", "--plot", locked / "pictures", home=home)
        assert_refused(failed, str(locked / "pictures"), EACCES)
        assert list(locked.iterdir()) == []


@needs_unprivileged
def test_no_permission_to_write_scores_into_a_batch_folder() -> None:
    with nobody_home() as (shared, home):
        batch, outcomes = batch_with_outcomes(shared, replications=2)
        batch.chmod(0o555)
        before = snapshot(batch)
        failed = as_nobody("score", batch, "--outcomes", outcomes, home=home)
        assert_refused(failed, str(batch / "score"), EACCES)
        assert snapshot(batch) == before


@needs_unprivileged
def test_no_permission_to_read_a_scenario() -> None:
    with nobody_home() as (shared, home):
        secret = shared / "secret.toml"
        secret.write_text('name = "x"\n', encoding="utf-8")
        secret.chmod(0o000)
        failed = as_nobody("validate", secret, home=home)
        assert_refused(failed, str(secret), "unreadable", EACCES)


def test_no_permission_injected_at_the_write_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the same fault without a second user: the write of the overlay a dashboard user asked for
    from negotiation.dashboard.state import DashboardState
    from negotiation.errors import FileSystemError

    state = DashboardState(None)
    state.set_parameter("actors.china.resolve", 0.8)
    target = tmp_path / "tuned.toml"
    with monkeypatch.context() as patch:
        fail_writes(patch, ".tuned.toml.", errno.EACCES)
        with pytest.raises(FileSystemError) as caught:
            state.write_overlay(target)
    assert caught.value.one_line() == f"{target}: cannot write: {EACCES}"
    assert list(tmp_path.iterdir()) == []
    state.close()


# --- EROFS ---------------------------------------------------------------------------------------

READ_ONLY = """
mount -t tmpfs -o size=4m tmpfs "$1/mnt"
cp -a "$2" "$1/mnt/batch"
mount -o remount,ro tmpfs "$1/mnt"
( cd "$1/mnt" && find . -type f -exec sha256sum {} + | sort ) >"$1/before"
set +e
$NEGOTIATION plot "$1/mnt/batch" >/dev/null 2>"$1/err-plot"; echo $? >"$1/rc-plot"
$NEGOTIATION batch "$3" --out "$1/mnt/new" --workers 1 --no-progress >/dev/null 2>"$1/err-batch"
echo $? >"$1/rc-batch"
$NEGOTIATION score "$1/mnt/batch" --outcomes "$4" >/dev/null 2>"$1/err-score"; echo $? >"$1/rc-score"
set -e
( cd "$1/mnt" && find . -type f -exec sha256sum {} + | sort ) >"$1/after"
"""


@needs_namespace
def test_read_only_file_system(tmp_path: Path, spec_file: Path) -> None:
    batch, outcomes = batch_with_outcomes(tmp_path, replications=2)
    (tmp_path / "mnt").mkdir()
    done = in_namespace(READ_ONLY, tmp_path, batch, spec_file, outcomes)
    assert done.returncode == 0, done.stderr
    mnt = f"{tmp_path}/mnt"
    for command, words in (
        ("plot", (f"{mnt}/batch/", EROFS)),
        ("batch", (f"{mnt}/new", "Read-only file system (EROFS)")),
        ("score", (f"{mnt}/batch/score", EROFS)),
    ):
        failed = outcome((tmp_path / f"rc-{command}").read_text(), (tmp_path / f"err-{command}").read_text())
        assert_refused(failed, *words)
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()


def test_read_only_file_system_injected_at_the_write_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    batch, outcomes = batch_with_outcomes(tmp_path, replications=2)
    with monkeypatch.context() as patch:
        fail_writes(patch, ".scores.csv.", errno.EROFS)
        failed = run_main(capsys, "score", batch, "--outcomes", outcomes)
    assert_refused(failed, f"{batch / 'score' / 'scores.csv'}: cannot write: {EROFS}")
    assert not (batch / "score" / "scores.csv").exists() and not temporary_files(batch)


# --- EIO -----------------------------------------------------------------------------------------


def test_input_output_error_reading_a_chunk(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    batch = make_outdir(tmp_path / "batch", replications=2, tables=["us-china"])
    chunk = next((batch / "results").glob("*.parquet"))
    real = chunks_module.file_sha256

    def failing(path: Path, block: int = 1 << 20) -> str:
        if path == chunk:
            raise OSError(errno.EIO, "Input/output error", str(path))
        return real(path, block)

    monkeypatch.setattr(chunks_module, "file_sha256", failing)
    before = snapshot(batch)
    assert_refused(run_main(capsys, "plot", batch), f"{chunk}: got 'unreadable: {EIO}'")
    assert snapshot(batch) == before
