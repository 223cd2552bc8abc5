"""Chunk files and their records: what a batch wrote, so that a damaged or missing chunk is found.

Every chunk file a batch writes is recorded with its row count and the SHA-256 of its bytes:
while the batch runs, one JSON line per chunk in ``OUTDIR/chunks.jsonl`` (appended and flushed to
disk after the chunk file is in place); when it finishes, all of them in ``metadata.json`` under
``chunks``. Readers check the folder against that record before using it (:func:`check_chunk`,
:func:`coverage_gap`): every recorded chunk present with the same bytes, no unrecorded file, and
the chunks of each design point covering its replications exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from negotiation.errors import MISSING, FileSystemError, os_reason

CHUNK_FILE = re.compile(r"^point-(\d{6,})-reps-(\d{9,})-(\d{9,})\.parquet$")
"""Names of chunk files: design point, first replication, one past the last."""

JOURNAL_FILE = "chunks.jsonl"
"""Records of the chunks written so far by an unfinished batch, one JSON object per line."""

Record = dict[str, Any]
"""A chunk's record: ``{"rows": int, "sha256": str}``."""


def chunk_name(point: int, start: int, stop: int) -> str:
    """File name of the chunk of replications ``start`` to ``stop - 1`` of design point ``point``."""
    return f"point-{point:06d}-reps-{start:09d}-{stop:09d}.parquet"


def chunk_key(name: str) -> tuple[int, int, int] | None:
    """(point, start, stop) of a chunk file name, or None for another name."""
    match = CHUNK_FILE.match(name)
    return None if match is None else (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def record_of(payload: bytes, rows: int) -> Record:
    """The record of a chunk file's bytes."""
    return {"rows": int(rows), "sha256": hashlib.sha256(payload).hexdigest()}


def file_sha256(path: Path, block: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read a block at a time (memory does not grow with the file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while data := handle.read(block):
            digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class ChunkProblem:
    """What is wrong with one chunk file."""

    path: Path
    """The chunk file."""
    got: str
    """What was found, in words."""

    @property
    def name(self) -> str:
        """The chunk's file name."""
        return self.path.name

    @property
    def value(self) -> Any:
        """What was found, as an InputError's value (the MISSING sentinel for a missing file)."""
        return MISSING if self.got == "missing" else self.got


def check_chunk(results: Path, name: str, record: Record) -> ChunkProblem | None:
    """Compare a chunk file with its record: None if it is there with the recorded bytes."""
    path = results / name
    try:
        digest = file_sha256(path)
    except FileNotFoundError:
        return ChunkProblem(path, "missing")
    except OSError as exc:
        return ChunkProblem(path, f"unreadable: {os_reason(exc)}")
    if digest != record.get("sha256"):
        return ChunkProblem(path, "a damaged chunk (its SHA-256 differs from the recorded one)")
    return None


def valid_record(record: Any) -> bool:
    """Whether a value is a well-formed chunk record."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("rows"), int)
        and not isinstance(record.get("rows"), bool)
        and record["rows"] >= 0
        and isinstance(record.get("sha256"), str)
        and len(record["sha256"]) == 64
    )


def coverage_gap(records: dict[str, Record], points: list[dict[str, Any]], rows_per_run: int) -> str | None:
    """Whether the recorded chunks cover every design point's replications exactly once.

    Args:
        records: Chunk name to record.
        points: The metadata's design points, each with ``point`` and ``replications``.
        rows_per_run: Rows per run (the number of tables).

    Returns:
        None when they do, else what is wrong, in words.
    """
    by_point: dict[int, list[tuple[int, int, str]]] = {}
    for name, record in records.items():
        key = chunk_key(name)
        if key is None:
            return f"a record of {name!r}, which is not a chunk file name"
        point, start, stop = key
        if record["rows"] != (stop - start) * rows_per_run:
            return f"{name} recorded with {record['rows']} rows, not {(stop - start) * rows_per_run}"
        by_point.setdefault(point, []).append((start, stop, name))
    for entry in points:
        point, wanted = entry.get("point"), entry.get("replications")
        if not isinstance(point, int) or not isinstance(wanted, int):
            return "a design point without its number of replications"
        covered = 0
        for start, stop, _name in sorted(by_point.pop(point, [])):
            if start != covered:
                return f"point {point}: no chunk records replications {covered} to {start - 1}"
            covered = stop
        if covered != wanted:
            return f"point {point}: chunks record {covered} replications, not {wanted}"
    if by_point:
        return f"chunks of design point {min(by_point)}, which the metadata does not list"
    return None


def read_journal(root: Path) -> dict[str, Record]:
    """The records of an unfinished batch's journal; a line cut short by a crash is skipped."""
    records: dict[str, Record] = {}
    try:
        lines = (root / JOURNAL_FILE).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return records
    for line in lines:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("chunk"), str) and valid_record(entry):
            records[entry["chunk"]] = {"rows": entry["rows"], "sha256": entry["sha256"]}
    return records


def append_journal(root: Path, name: str, record: Record) -> None:
    """Append a chunk's record to the journal and flush it to disk.

    Raises:
        FileSystemError: The journal cannot be written.
    """
    path = root / JOURNAL_FILE
    line = json.dumps({"chunk": name, **record}, sort_keys=True) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            # a line torn by an earlier crash would swallow this one: start on a fresh line
            if os.fstat(fd).st_size and _last_byte(path) != b"\n":
                line = "\n" + line
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise FileSystemError.from_os_error(exc, path, "write") from None


def remove_journal(root: Path) -> None:
    """Remove the journal (its records are in metadata.json once the batch has finished)."""
    with contextlib.suppress(OSError):
        (root / JOURNAL_FILE).unlink(missing_ok=True)


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)
