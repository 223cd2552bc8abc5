"""Fault injection, class 4: damaged results are found before they are used.

A finished batch folder records every chunk file's rows and SHA-256 in metadata.json. A chunk cut
short, one with 4 kB overwritten (its Parquet footer intact, so it still reads: the issue's mean
utility of 2.2e+303), and a missing one are each reported in one line naming the chunk, by every
reader (plot, score) and by ``batch`` itself; ``batch --resume`` re-runs just those chunks, and the
folder is then byte for byte the undamaged one.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from faults import SMALL_EXPERIMENT, assert_refused, run_main, snapshot

from negotiation.batch.chunks import chunk_name
from negotiation.batch.reader import result_files

CHUNK = chunk_name(1, 8, 12)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "small.toml"
    path.write_text(SMALL_EXPERIMENT.replace("outputs = []", 'outputs = ["summary"]'), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small batch with its summary, undamaged."""
    out = tmp_path_factory.mktemp("ref") / "out"
    assert run_main_quiet("batch", spec_file, "--out", out, "--workers", "1", "--no-progress") == 0
    return out


def run_main_quiet(*argv: object) -> int:
    from negotiation.commands.main import main

    return main([str(a) for a in argv])


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def overwrite_4k(path: Path) -> None:
    """Overwrite 4 kB inside the data pages with random bytes; header and footer stay intact."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    start, stop = 4, min(4 + 4096, len(data) - footer)
    assert stop - start > 1000, "the chunk is big enough to damage its pages only"
    data[start:stop] = np.random.default_rng(7).integers(0, 256, stop - start, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    pq.read_metadata(path)  # the footer still reads: only the recorded hash tells the damage


def delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate, "got 'a damaged chunk (its SHA-256 differs from the recorded one)'"),
    "overwritten": (overwrite_4k, "got 'a damaged chunk (its SHA-256 differs from the recorded one)'"),
    "missing": (delete, "missing"),
}


@pytest.fixture(params=list(DAMAGE))
def damaged(request: pytest.FixtureRequest, reference: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the reference with one chunk damaged, and what the message says of it."""
    folder = Path(shutil.copytree(reference, tmp_path / "out"))
    damage, words = DAMAGE[request.param]
    damage(folder / "results" / CHUNK)
    return folder, words


def test_readers_name_the_damaged_chunk(
    capsys: pytest.CaptureFixture[str], damaged: tuple[Path, str]
) -> None:
    folder, words = damaged
    before = snapshot(folder)
    chunk = folder / "results" / CHUNK
    repair = f"run `negotiation batch {folder} --resume` to re-run it"
    assert_refused(run_main(capsys, "plot", folder), f"negotiation plot: {chunk}: {words}", repair)
    outcomes = folder.parent / "outcomes.toml"
    outcomes.write_text("[tables.us-china]\ndeal = true\n", encoding="utf-8")
    assert_refused(run_main(capsys, "score", folder, "--outcomes", outcomes), f"{chunk}: {words}", repair)
    assert snapshot(folder) == before, "a refused reader writes nothing"


def test_batch_refuses_a_damaged_folder_and_resume_repairs_it(
    capsys: pytest.CaptureFixture[str], damaged: tuple[Path, str], reference: Path, spec_file: Path
) -> None:
    folder, words = damaged
    before = snapshot(folder)
    again = run_main(capsys, "batch", spec_file, "--out", folder, "--workers", "1", "--no-progress")
    assert_refused(again, f"{folder / 'results' / CHUNK}: {words}", "add --resume")
    assert snapshot(folder) == before
    repaired = run_main(capsys, "batch", folder, "--workers", "1", "--no-progress", "--resume")
    assert repaired.code == 0 and repaired.err == "", repaired.err
    assert "the damaged and missing chunks were run again (1)" in repaired.out
    assert json.loads((folder / "metadata.json").read_text())["repairs"][-1]["chunks"] == [CHUNK]
    # the result equals the undamaged run: every chunk, the chunk records and the summary
    for name in ("results", "summary.csv", "summary.md", "issues.csv"):
        assert snapshot(folder / name) == snapshot(reference / name), name
    for folder_ in (folder, reference):
        assert not (folder_ / "chunks.jsonl").exists()
    records = [json.loads((f / "metadata.json").read_text())["chunks"] for f in (folder, reference)]
    assert records[0] == records[1]
    assert [p.name for p in result_files(folder)] == [p.name for p in result_files(reference)]


def test_a_file_the_batch_did_not_write_and_an_unfinished_batch_are_refused(
    capsys: pytest.CaptureFixture[str], reference: Path, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(reference, tmp_path / "out"))
    stray = folder / "results" / "extra.parquet"
    shutil.copy(folder / "results" / CHUNK, stray)
    assert_refused(
        run_main(capsys, "plot", folder), f"{stray}: got 'a file that metadata.json does not record'"
    )
    stray.unlink()
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps(metadata | {"finished": None}))
    assert_refused(run_main(capsys, "plot", folder), f"{folder}: got 'an unfinished batch'", "--resume")
    del metadata["chunks"][CHUNK]  # a record removed by hand: the chunks no longer add up
    (folder / "metadata.json").write_text(json.dumps(metadata))
    assert_refused(
        run_main(capsys, "plot", folder), "field chunks: got 'point 1: no chunk records replications 8"
    )


def test_a_folder_without_chunk_records_is_refused_and_resume_records_it(
    capsys: pytest.CaptureFixture[str], reference: Path, spec_file: Path, tmp_path: Path
) -> None:
    # as a folder written before chunks were recorded: the bytes cannot be vouched for
    folder = Path(shutil.copytree(reference, tmp_path / "out"))
    metadata = json.loads((folder / "metadata.json").read_text())
    del metadata["chunks"]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    refused = run_main(capsys, "batch", spec_file, "--out", folder, "--workers", "1", "--no-progress")
    assert_refused(
        refused, f"{folder / 'metadata.json'}: got 'no valid record of the chunk files'", "--resume"
    )
    assert_refused(run_main(capsys, "plot", folder), "field chunks: missing")
    resumed = run_main(
        capsys, "batch", spec_file, "--out", folder, "--workers", "1", "--no-progress", "--resume"
    )
    assert resumed.code == 0, resumed.err
    assert snapshot(folder / "results") == snapshot(reference / "results")
    assert (
        json.loads((folder / "metadata.json").read_text())["chunks"]
        == json.loads((reference / "metadata.json").read_text())["chunks"]
    )
