"""Shared tools of the fault-injection suite (tests/test_faults_*.py).

Every fault test asserts the same four things (:func:`assert_refused`): the exact exit code, a
single line on stderr that names the file and the reason, no traceback, and (with
:func:`snapshot`) what is on disk afterwards.

Real faults where the machine allows them, injected ones otherwise:

- a full disk (ENOSPC) and a read-only file system (EROFS): a small tmpfs mounted inside a private
  user and mount namespace (``unshare -rm``), so no privilege is needed and nothing outside the
  test sees the mount (:func:`in_namespace`);
- no permission (EACCES): a read-only folder, written by an unprivileged process (as root, the
  command runs in a user namespace without a mapping, or as ``nobody``; :func:`unprivileged`);
- otherwise, an ``OSError`` with the errno raised at the write call (monkeypatch).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from negotiation.commands.main import main
from negotiation.folders import LOCK_FILE

ROOT = Path(__file__).resolve().parents[1]
NEGOTIATION = [sys.executable, "-m", "negotiation"]
NOBODY = 65534


@dataclass(frozen=True)
class Outcome:
    """What a command did: exit code, stdout and stderr."""

    code: int
    out: str
    err: str


def run_main(capsys: pytest.CaptureFixture[str], *argv: object) -> Outcome:
    """Run the command line in this process."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def run_process(*argv: object, prefix: Sequence[str] = (), env: dict[str, str] | None = None) -> Outcome:
    """Run the command line in a child process (optionally under a prefix such as setpriv)."""
    done = subprocess.run(
        [*prefix, *NEGOTIATION, *(str(a) for a in argv)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_refused(outcome: Outcome, *words: str, code: int = 2) -> str:
    """The exit code, one stderr line holding every word (file, reason ...), no traceback.

    Returns:
        The line.
    """
    assert "Traceback" not in outcome.err and "Traceback" not in outcome.out, outcome.err
    lines = outcome.err.strip().splitlines()
    assert outcome.code == code, (outcome.code, outcome.err)
    assert len(lines) == 1, outcome.err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder (hidden ones too) with the SHA-256 of its bytes.

    The lock file of a folder a command was writing into (``.negotiation.lock``) is left out: it
    holds no data, only the last holder's process id.
    """
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_FILE
    }


def temporary_files(folder: Path) -> list[Path]:
    """Temporary files of an atomic write (``.NAME.XXXX.tmp``) anywhere under a folder."""
    return [p for p in folder.rglob(".*.tmp")] if folder.exists() else []


@functools.cache
def can_unshare() -> bool:
    """Whether this machine lets an unprivileged user namespace mount a tmpfs."""
    if shutil.which("unshare") is None:
        return False
    probe = tempfile.mkdtemp()
    try:
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return done.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
    finally:
        os.rmdir(probe)


def in_namespace(script: str, *args: object) -> subprocess.CompletedProcess[str]:
    """Run a bash script in a private user and mount namespace (``$1``... are ``args``).

    ``$NEGOTIATION`` in the script runs the command line. Mounts made there vanish when it ends:
    the script copies what the test should look at to a real folder.
    """
    env = {**os.environ, "NEGOTIATION": " ".join(NEGOTIATION)}
    return subprocess.run(
        ["unshare", "-rm", "bash", "-euc", script, "bash", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
        check=False,
    )


@functools.cache
def unprivileged() -> list[str] | None:
    """A command prefix under which file permissions apply (None: there is none here).

    Not root: none needed. As root: a user namespace without a mapping (``unshare -U``), where the
    process keeps its user id but has no capability over the host's files, so their permission bits
    apply; else ``setpriv`` as ``nobody``. Each is tried on the interpreter itself first.
    """
    if os.geteuid() != 0:
        return []
    for prefix in (
        ["unshare", "-U"],
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"],
    ):
        if shutil.which(prefix[0]) is None:
            continue
        try:
            done = subprocess.run(
                [*prefix, sys.executable, "-c", "import negotiation"],
                cwd=ROOT,
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return prefix
    return None


@contextmanager
def shared_folder() -> Iterator[Path]:
    """A temporary folder an unprivileged user can enter (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="negotiation-faults-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):  # read-only folders made by a test
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def make_writable_by_nobody(*paths: Path) -> None:
    """Hand files and folders to the unprivileged user (when the tests run as root, under setpriv)."""
    if (unprivileged() or [""])[0] == "setpriv":
        for path in paths:
            for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
                os.chown(item, NOBODY, NOBODY)


@contextmanager
def nobody_home() -> Iterator[tuple[Path, Path]]:
    """A shared folder, and a home in it the unprivileged user may write (matplotlib's cache)."""
    with shared_folder() as shared:
        home = shared / "home"
        home.mkdir()
        make_writable_by_nobody(home)
        yield shared, home


def batch_with_outcomes(folder: Path, replications: int = 3) -> tuple[Path, Path]:
    """A finished one-table batch folder under ``folder``, and an outcomes file for it."""
    from outdirs import make_outdir

    batch = make_outdir(folder / "batch", replications=replications, tables=["us-china"])
    outcomes = folder / "outcomes.toml"
    outcomes.write_text("[tables.us-china]\ndeal = true\n", encoding="utf-8")
    return batch, outcomes


def start_batch(spec: Path, out: Path, workers: int = 1) -> subprocess.Popen:
    """A ``negotiation batch`` running in a child process."""
    return subprocess.Popen(
        [*NEGOTIATION, "batch", str(spec), "--out", str(out), "--workers", str(workers), "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_chunks(process: subprocess.Popen, out: Path, count: int = 1, timeout: float = 120) -> None:
    """Wait until a running batch has written ``count`` chunk files (and its metadata)."""
    deadline = time.monotonic() + timeout
    while not (out / "metadata.json").exists() or len(list((out / "results").glob("*.parquet"))) < count:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "the batch ended")
        assert time.monotonic() < deadline, "the batch wrote no chunk in time"
        time.sleep(0.005)


SMALL_EXPERIMENT = """\
[experiment]
name = "small"
seed = 11
replications = 40
block = 4
outputs = []

[[parameters]]
path = "actors.china.resolve"
values = [0.55, 0.95]
"""
"""Two design points of 40 runs in 20 chunk files of about 15 kB: a batch of a few seconds."""
