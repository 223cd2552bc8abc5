"""A batch's output folder on disk: inputs, metadata, and one Parquet file per finished chunk.

Layout (the contract with stats, charts and report)::

    OUTDIR/metadata.json   experiment, hashes, version, seeds, design points, run counts, and the
                           record of every chunk file (rows and SHA-256) once the batch has finished
    OUTDIR/spec.toml       the resolved experiment spec (reads back with load_experiment)
    OUTDIR/scenario.json   the base scenario with the fixed overrides applied
    OUTDIR/chunks.jsonl    while the batch runs: the record of each chunk written so far
    OUTDIR/results/point-PPPPPP-reps-SSSSSSSSS-EEEEEEEEE.parquet   one file per chunk

Every file is written to a hidden temporary file beside its final name, flushed to disk and
renamed into place, so a crash (Ctrl-C, kill -9, power loss) leaves either the whole chunk or
none of it; its record is appended to ``chunks.jsonl`` only after that. Readers
(:mod:`negotiation.batch.reader`) check every chunk against its record before using the folder.

Rules for an existing folder (nothing already on disk is damaged); the caller holds the folder's
lock (:func:`negotiation.folders.hold_folder`):

- new or empty: a fresh batch starts (with ``resume`` too: there is nothing to keep);
- the same batch (same identity hash), finished, every chunk intact: nothing is run again
  (:attr:`BatchFolder.complete`); with a damaged or missing chunk: refused, naming it, unless
  ``resume``, which re-runs just the damaged and missing chunks;
- the same batch, unfinished: refused unless ``resume``, which keeps every intact chunk;
- anything else (another spec, another scenario, foreign files): refused with one line, unless
  ``overwrite``, which removes the batch's files there (never other files) and starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from negotiation.atomic import make_folder, remove_debris, write_bytes_atomic
from negotiation.batch.chunks import (
    CHUNK_FILE,
    JOURNAL_FILE,
    ChunkProblem,
    Record,
    append_journal,
    check_chunk,
    coverage_gap,
    read_journal,
    record_of,
    remove_journal,
    valid_record,
)
from negotiation.batch.executors import ChunkTask
from negotiation.errors import ExperimentError, os_reason
from negotiation.folders import listing, own_entries

BATCH_FILES = ("metadata.json", "spec.toml", "scenario.json", JOURNAL_FILE)
"""A batch's files in the top level of its folder (besides ``results/``)."""

OUTPUT_FILES = ("summary.csv", "summary.md", "issues.csv", "report.html")
"""The report's files in the top level of the folder (its charts are in ``charts/``)."""

CHARTS_DIR = "charts"


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal data, equal text, equal hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class BatchFolder:
    """The output folder of one batch.

    Args:
        root: The folder (created if missing).
        source: How to name it in error messages (e.g. ``--out``).
    """

    def __init__(self, root: str | Path, source: str = "--out") -> None:
        self.root = Path(root)
        self.source = source
        self.results = self.root / "results"
        self.complete = False
        """True when the folder already holds this batch, finished and intact (set by :meth:`open`)."""
        self.repairing = False
        """True when the folder holds this batch, finished, and ``resume`` re-runs its damaged chunks."""
        self.metadata: dict[str, Any] = {}
        self.records: dict[str, Record] = {}
        """Chunk file name to its record (rows, SHA-256), for every chunk known to be written."""

    @property
    def metadata_path(self) -> Path:
        """Path of metadata.json."""
        return self.root / "metadata.json"

    def prepare(self) -> None:
        """Create the folder if needed and check that it can be written (before taking its lock).

        Raises:
            ExperimentError: The path is a file, or the folder cannot be created or written.
        """
        if self.root.exists() and not self.root.is_dir():
            raise ExperimentError(self.source, "", str(self.root), "a folder (this is a file)")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ExperimentError(
                self.source,
                "",
                str(self.root),
                f"a folder you can write to ({os_reason(exc)})",
            ) from None

    def open(
        self, design: dict[str, Any], resume: bool, overwrite: bool = False, check_only: bool = False
    ) -> None:
        """Check the folder can hold this batch (the rules are in the module docstring).

        Args:
            design: Everything that determines the results (see ``batch.batch_design``); its hash
                is the batch's identity, stored in metadata.json as ``identity``.
            resume: Finish an unfinished batch of the same identity, or repair a finished one.
            overwrite: Replace whatever batch the folder holds.
            check_only: Only refuse a folder that holds something else; change nothing and leave
                the chunks unchecked (a first look before taking the folder's lock).

        Raises:
            ExperimentError: The folder holds something else, or (without resume) an unfinished or
                damaged run of this batch.
        """
        identity = sha256_text(canonical_json(design))
        self.prepare()
        old = self.read_metadata()
        if old is None or overwrite:
            entries = own_entries(self.root)
            if old is None and entries and not overwrite:
                raise ExperimentError(
                    self.source,
                    "",
                    str(self.root),
                    f"a new or empty folder (it holds {listing(entries)}, not a batch); "
                    "choose another --out, or add --overwrite",
                )
            if not check_only:
                self._clear()
            return
        if old.get("identity") != identity:
            what = _difference(old.get("design", {}), design)
            if resume:
                raise ExperimentError(
                    "--resume",
                    "",
                    str(self.root),
                    f"a folder of the same spec and scenario ({what}); "
                    "rerun the original command, or use a new --out",
                )
            raise ExperimentError(
                self.source,
                "",
                str(self.root),
                f"a new or empty folder (it holds batch {old.get('experiment')!r} of "
                f"a different spec: {what}); choose another --out, or add --overwrite to replace it",
            )
        if check_only:
            return
        self.metadata = old
        recorded = old.get("chunks")
        if isinstance(recorded, dict):
            self.records = {name: r for name, r in recorded.items() if valid_record(r)}
        self.records |= read_journal(self.root)
        if old.get("finished"):
            problem = self.first_problem()
            if problem is None:
                self.complete = True
                if resume:
                    self.remove_debris()
            elif resume:
                self.repairing = True
            else:
                raise ExperimentError(
                    str(problem.path),
                    "",
                    problem.value,
                    "every chunk as the batch wrote it (recorded in metadata.json): "
                    "add --resume to re-run the damaged and missing ones",
                )
        elif not resume:
            raise ExperimentError(
                self.source,
                "",
                str(self.root),
                "a new or empty folder (it holds an unfinished run of this batch); "
                "add --resume to finish it, or choose another --out",
            )

    def first_problem(self) -> ChunkProblem | None:
        """The first chunk of a finished batch that is missing, damaged or unrecorded (None if none)."""
        recorded = self.metadata.get("chunks")
        if not isinstance(recorded, dict) or len(self.records) != len(recorded):
            return ChunkProblem(self.metadata_path, "no valid record of the chunk files")
        gap = coverage_gap(
            self.records, self.metadata.get("points", []), len(self.metadata.get("tables", []))
        )
        if gap is not None:
            return ChunkProblem(self.metadata_path, f"chunk records that do not add up ({gap})")
        for name in sorted(self.records):
            problem = check_chunk(self.results, name, self.records[name])
            if problem is not None:
                return problem
        return None

    def _clear(self) -> None:
        """Remove a batch's files (and the report's outputs) from the folder; other files stay."""
        self.metadata, self.records = {}, {}
        for name in BATCH_FILES + OUTPUT_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.root / name).unlink()
        for folder, patterns in (
            (self.results, ("*.parquet",)),
            (self.root / CHARTS_DIR, ("*.png", "*.svg")),
        ):
            if folder.is_dir():
                for pattern in patterns:
                    for path in folder.glob(pattern):
                        path.unlink(missing_ok=True)

    def read_metadata(self) -> dict[str, Any] | None:
        """The folder's metadata.json, or None if there is none (or it is unreadable)."""
        try:
            metadata = json.loads(self.metadata_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        return metadata if isinstance(metadata, dict) else None

    def write_inputs(self, spec_toml: str, scenario_json: str) -> None:
        """Write spec.toml and scenario.json (atomically)."""
        write_bytes_atomic(self.root / "spec.toml", spec_toml.encode("utf-8"), durable=True)
        write_bytes_atomic(self.root / "scenario.json", scenario_json.encode("utf-8"), durable=True)

    def write_metadata(self, metadata: dict[str, Any]) -> None:
        """Write metadata.json (atomically) and remember it."""
        self.metadata = metadata
        text = json.dumps(metadata, indent=2) + "\n"
        write_bytes_atomic(self.metadata_path, text.encode("utf-8"), durable=True)

    def intact_chunks(self) -> set[str]:
        """Names of the chunk files whose bytes match their records.

        Also clears the debris of a crash: temporary files (here, in ``results/`` and in
        ``charts/``), and chunk files without a record (the crash came between the file and its
        record) or with damaged bytes; those chunks run again.
        """
        self.remove_debris()
        intact = {name for name, r in self.records.items() if check_chunk(self.results, name, r) is None}
        self.records = {name: r for name, r in self.records.items() if name in intact}
        if self.results.is_dir():
            for path in self.results.iterdir():
                if CHUNK_FILE.match(path.name) and path.name not in intact:
                    path.unlink(missing_ok=True)
        return intact

    def remove_debris(self) -> None:
        """Remove the temporary files a killed writer left (here, in ``results/`` and ``charts/``)."""
        for folder in (self.root, self.results, self.root / CHARTS_DIR):
            remove_debris(folder)

    def sorted_records(self) -> dict[str, Record]:
        """The chunk records, by file name."""
        return {name: self.records[name] for name in sorted(self.records)}

    def write_chunk(self, task: ChunkTask, payload: bytes, rows: int) -> None:
        """Write a chunk's Parquet bytes as its file, atomically and durably, then record it.

        Args:
            task: The chunk (names the file).
            payload: The bytes of the chunk's Parquet file (from a worker).
            rows: Its number of rows.
        """
        make_folder(self.results)
        write_bytes_atomic(self.results / task.name, payload, durable=True)
        record = record_of(payload, rows)
        self.records[task.name] = record
        append_journal(self.root, task.name, record)

    def finish(self, metadata: dict[str, Any]) -> None:
        """Write the final metadata, with every chunk's record, and drop the journal."""
        metadata["chunks"] = self.sorted_records()
        self.write_metadata(metadata)
        remove_journal(self.root)

    def read_chunk(self, task: ChunkTask, columns: list[str]) -> pa.Table:
        """Read some columns of a finished chunk."""
        return pq.read_table(self.results / task.name, columns=columns)


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say which parts of the design differ between the folder's batch and this one."""
    parts = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        there, here = json.dumps(old.get(key)), json.dumps(new.get(key))
        parts.append(f"{key} {there} there, {here} here" if len(there) + len(here) < 60 else f"{key} differs")
    return "; ".join(parts) or "a different design"
