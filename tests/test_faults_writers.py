"""Fault injection, classes 6 and 7: files a user owns are never overwritten, and one writer at a time.

Every command that writes into a folder (batch, score, compare, calibrate, sensitivity, discover,
run --plot) writes only into a new or empty folder, or one it made before (recognised by its
metadata); anything else is refused in one line, unless ``--overwrite``. The dashboard's "Write
overlay" replaces only a file it wrote. A second command writing into a folder that another one
is writing into is refused in one line naming the holder's process id; the lock ends with its
holder, however it ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from faults import (
    ROOT,
    SMALL_EXPERIMENT,
    assert_refused,
    batch_with_outcomes,
    run_main,
    snapshot,
    start_batch,
    wait_for_chunks,
)
from helpers import TINY_TOML

from negotiation.folders import LOCK_FILE, _command, hold_folder

EXPERIMENTS = ROOT / "experiments"


def users_folder(path: Path, name: str) -> Path:
    """A folder holding a user's own file of the name the command would write."""
    path.mkdir(parents=True)
    (path / name).write_text("my own work, not to be lost\n", encoding="utf-8")
    (path / "notes.txt").write_text("more of my work\n", encoding="utf-8")
    return path


# --- class 6: existing user files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "argv", "name"),
    [
        (
            "calibrate",
            [EXPERIMENTS / "calibrate-us-china.toml", "--targets", EXPERIMENTS / "targets-example.toml"],
            "calibrated.toml",
        ),
        ("sensitivity", [EXPERIMENTS / "calibrate-us-china.toml"], "sensitivity.csv"),
        ("discover", ["{batch}", "--table", "us-china"], "boxes.csv"),
        ("compare", ["default", "default", "--runs", "20"], "compare.csv"),
        ("tournament", ["--runs", "1", "--tables", "us-china"], "standings.csv"),
    ],
)
def test_tuning_commands_refuse_a_folder_with_a_users_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, argv: list, name: str
) -> None:
    out = users_folder(tmp_path / "mine", name)
    before = snapshot(out)
    argv = [str(tmp_path / "batch") if a == "{batch}" else a for a in argv]
    line = assert_refused(
        run_main(capsys, command, *argv, "--out", out), f"--out: got '{out}'", "--overwrite"
    )
    assert f"a new or empty folder, or one `negotiation {command}` wrote before" in line
    assert snapshot(out) == before


def test_score_refuses_then_overwrites_on_request_then_reuses_its_own_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    batch, outcomes = batch_with_outcomes(tmp_path)
    out = users_folder(tmp_path / "mine", "scores.csv")
    before = snapshot(out)
    assert_refused(
        run_main(capsys, "score", batch, "--outcomes", outcomes, "--out", out), str(out), "scores.csv"
    )
    assert snapshot(out) == before
    assert run_main(capsys, "score", batch, "--outcomes", outcomes, "--out", out, "--overwrite").code == 0
    assert (out / "scores.csv").read_text().startswith("level,forecaster")
    assert (out / "notes.txt").read_text() == "more of my work\n", "other files stay"
    # a folder score made before is score's to write again, without --overwrite
    assert run_main(capsys, "score", batch, "--outcomes", outcomes, "--out", out).code == 0
    # ... but not another command's
    assert_refused(
        run_main(capsys, "compare", "default", "default", "--runs", "5", "--out", out), "`negotiation score`"
    )


def test_run_plot_refuses_a_folder_of_someone_elses_pictures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_TOML, encoding="utf-8")
    out = users_folder(tmp_path / "pictures", "ab-concession.png")
    before = snapshot(out)
    assert_refused(run_main(capsys, "run", scenario, "--plot", out), f"--plot: got '{out}'", "--overwrite")
    assert snapshot(out) == before
    assert run_main(capsys, "run", scenario, "--plot", out, "--overwrite").code == 0
    assert (out / "ab-concession.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "notes.txt").is_file()


def test_the_dashboard_overlay_never_replaces_a_users_file(tmp_path: Path) -> None:
    from negotiation.dashboard.state import DashboardState
    from negotiation.errors import OverrideError
    from negotiation.scenario.overlay import read_overlay

    state = DashboardState(None)
    state.set_parameter("actors.china.resolve", 0.8)
    theirs = tmp_path / "calibrated.toml"
    theirs.write_text('[set]\n"actors.us.resolve" = 0.1\n', encoding="utf-8")
    with pytest.raises(OverrideError) as caught:
        state.write_overlay(theirs)
    line = caught.value.one_line()
    expected = "a new file name, or tick Overwrite to replace it"
    assert line == f"{theirs}: got 'a file the dashboard did not write'; expected {expected}"
    assert read_overlay(theirs) == {"actors.us.resolve": 0.1}
    ours = state.write_overlay(tmp_path / "tuned.toml")
    state.set_parameter("actors.china.resolve", 0.9)
    assert read_overlay(state.write_overlay(ours)) == {"actors.china.resolve": 0.9}, "its own file: replaced"
    state.write_overlay(theirs, overwrite=True)
    assert read_overlay(theirs) == {"actors.china.resolve": 0.9}
    with pytest.raises(OverrideError, match="a folder"):
        state.write_overlay(tmp_path)
    state.close()


def test_batch_refuses_another_batch_and_replaces_it_with_overwrite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_EXPERIMENT.replace("replications = 40", "replications = 4"), encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text(SMALL_EXPERIMENT.replace("replications = 40", "replications = 8"), encoding="utf-8")
    out = tmp_path / "out"
    assert run_main(capsys, "batch", spec, "--out", out, "--workers", "1", "--no-progress").code == 0
    (out / "my-notes.txt").write_text("keep me", encoding="utf-8")
    before = snapshot(out)
    refused = run_main(capsys, "batch", other, "--out", out, "--workers", "1", "--no-progress")
    assert_refused(refused, f"--out: got '{out}'", "replications 4 there, 8 here", "--overwrite")
    assert snapshot(out) == before
    done = run_main(capsys, "batch", other, "--out", out, "--workers", "1", "--no-progress", "--overwrite")
    assert done.code == 0, done.err
    assert len(list((out / "results").glob("*.parquet"))) == 4  # 2 points x 8 runs in blocks of 4
    assert (out / "my-notes.txt").read_text() == "keep me"
    foreign = users_folder(tmp_path / "thesis", "chapter1.txt")
    before = snapshot(foreign)
    assert_refused(run_main(capsys, "batch", spec, "--out", foreign), "chapter1.txt", "not a batch")
    assert snapshot(foreign) == before, "not even a lock file is left in a refused folder"


# --- class 7: a concurrent writer -------------------------------------------------------------------

HOLD = """
import sys, time
from negotiation.folders import hold_folder
with hold_folder(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


class Holder:
    """Another process holding a folder's write lock (as a running command does)."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "held"

    def __enter__(self) -> subprocess.Popen:
        return self.process

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def test_a_second_batch_resume_is_refused_naming_the_running_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "long.toml"
    long = SMALL_EXPERIMENT.replace("replications = 40", "replications = 50000").replace(
        "block = 4", "block = 500"
    )
    spec.write_text(long, encoding="utf-8")
    out = tmp_path / "out"
    first = start_batch(spec, out)
    try:
        wait_for_chunks(first, out)
        second = run_main(capsys, "batch", spec, "--out", out, "--workers", "1", "--no-progress", "--resume")
        assert_refused(second, f"{out}: in use by another negotiation command (pid {first.pid}: ", "batch")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    # the lock ended with its holder (its file stays): the interrupted batch can be resumed now
    assert (out / LOCK_FILE).exists()
    with hold_folder(out):
        pass
    assert json.loads((out / "metadata.json").read_text())["finished"] is None


def test_plot_and_score_are_refused_while_another_process_writes_the_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    batch, outcomes = batch_with_outcomes(tmp_path)
    with Holder(batch) as holder:
        before = snapshot(batch)
        assert_refused(
            run_main(capsys, "plot", batch),
            f"{batch}: in use by another negotiation command (pid {holder.pid}",
        )
        assert snapshot(batch) == before
    with Holder(batch / "score") as holder:
        refused = run_main(capsys, "score", batch, "--outcomes", outcomes)
        assert_refused(refused, f"{batch / 'score'}: in use", f"pid {holder.pid}")
        assert not (batch / "score" / "scores.csv").exists()
    # the holders are gone (killed): both commands now run
    assert run_main(capsys, "score", batch, "--outcomes", outcomes).code == 0
    with hold_folder(batch):
        pass


def test_another_thread_of_the_same_process_is_refused_too(tmp_path: Path) -> None:
    from negotiation.folders import FolderBusyError

    refused: list[str] = []

    def second_writer() -> None:
        try:
            with hold_folder(tmp_path / "out"):
                refused.append("")
        except FolderBusyError as exc:
            refused.append(str(exc))

    with hold_folder(tmp_path / "out"), hold_folder(tmp_path / "out"):  # re-entrant in one thread
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join()
    assert refused == [
        f"{tmp_path / 'out'}: in use by another negotiation command (pid {os.getpid()}: "
        f"{_command()}); wait for it to finish, or choose another output folder"
    ]
    second_writer()  # released: now it is free
    assert refused[-1] == ""
