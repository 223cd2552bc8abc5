"""A batch's output folder on disk: inputs, metadata, and one Parquet file per finished chunk.

Layout (the contract with stats, charts and report)::

    OUTDIR/spec.toml       the resolved experiment spec (reads back with load_experiment)
    OUTDIR/scenario.json   the base scenario with the fixed overrides applied
    OUTDIR/metadata.json   experiment, hashes, version, seeds, design points and run counts
    OUTDIR/results/point-PPPPPP-reps-SSSSSSSSS-EEEEEEEEE.parquet   one file per chunk

Every file is written to a hidden temporary file beside its final name, flushed to disk and
renamed into place, so a crash (Ctrl-C, kill -9, power loss) leaves either the whole chunk or
none of it. Readers (``pandas.read_parquet(OUTDIR / "results")``) skip hidden files.

Rules for an existing folder (nothing already on disk is damaged):

- new or empty: a fresh batch starts;
- the same batch (same identity hash), finished: nothing is run again (:attr:`BatchFolder.complete`);
- the same batch, unfinished: refused unless ``resume``, which keeps every finished chunk;
- anything else (another spec, another scenario, foreign files): refused with one line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from negotiation.batch.executors import ChunkTask
from negotiation.errors import ExperimentError

CHUNK_FILE = re.compile(r"^point-(\d{6,})-reps-(\d{9,})-(\d{9,})\.parquet$")
"""Names of finished chunk files."""


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
        """True when the folder already holds this batch, finished (set by :meth:`open`)."""
        self.metadata: dict[str, Any] = {}

    @property
    def metadata_path(self) -> Path:
        """Path of metadata.json."""
        return self.root / "metadata.json"

    def open(self, design: dict[str, Any], resume: bool) -> None:
        """Check the folder can hold this batch, creating it if needed.

        Args:
            design: Everything that determines the results (see ``batch.batch_design``); its hash
                is the batch's identity, stored in metadata.json as ``identity``.
            resume: Allow finishing an unfinished batch of the same identity.

        Raises:
            ExperimentError: The folder is unwritable, holds something else, or (without resume)
                holds an unfinished run of this batch.
        """
        identity = sha256_text(canonical_json(design))
        self._make_writable()
        old = self.read_metadata()
        if old is None:
            entries = [p.name for p in self.root.iterdir()]
            if entries:
                raise ExperimentError(
                    self.source,
                    "",
                    str(self.root),
                    f"a new or empty folder (it holds {_listing(entries)}, not a batch); "
                    "choose another --out",
                )
            if resume:
                raise ExperimentError(
                    "--resume",
                    "",
                    str(self.root),
                    "a folder holding an interrupted batch (this one is empty); drop --resume",
                )
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
                f"a different spec: {what}); choose another --out or delete it",
            )
        self.metadata = old
        if old.get("finished"):
            self.complete = True
        elif not resume:
            raise ExperimentError(
                self.source,
                "",
                str(self.root),
                "a new or empty folder (it holds an unfinished run of this batch); "
                "add --resume to finish it, or choose another --out",
            )

    def _make_writable(self) -> None:
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
                f"a folder you can write to ({exc.strerror or type(exc).__name__})",
            ) from None

    def read_metadata(self) -> dict[str, Any] | None:
        """The folder's metadata.json, or None if there is none (or it is unreadable)."""
        try:
            return json.loads(self.metadata_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_inputs(self, spec_toml: str, scenario_json: str) -> None:
        """Write spec.toml and scenario.json (atomically)."""
        _write_bytes(self.root / "spec.toml", spec_toml.encode("utf-8"))
        _write_bytes(self.root / "scenario.json", scenario_json.encode("utf-8"))

    def write_metadata(self, metadata: dict[str, Any]) -> None:
        """Write metadata.json (atomically) and remember it."""
        self.metadata = metadata
        _write_bytes(self.metadata_path, (json.dumps(metadata, indent=2) + "\n").encode("utf-8"))

    def finished_chunks(self, rows_per_run: int) -> set[str]:
        """Names of chunk files that are complete; removes temporary files left by a crash.

        Args:
            rows_per_run: Rows each run writes (the number of tables), to check each file's size.
        """
        if not self.results.is_dir():
            return set()
        finished = set()
        for path in self.results.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
                continue
            match = CHUNK_FILE.match(path.name)
            if not match:
                continue
            runs = int(match.group(3)) - int(match.group(2))
            try:
                ok = pq.read_metadata(path).num_rows == runs * rows_per_run
            except (OSError, pa.ArrowException):
                ok = False
            if ok:
                finished.add(path.name)
        return finished

    def write_chunk(self, task: ChunkTask, payload: bytes) -> None:
        """Write a chunk's Parquet bytes (from a worker) as its file, atomically and durably.

        Args:
            task: The chunk (names the file).
            payload: The bytes of the chunk's Parquet file.
        """
        self.results.mkdir(exist_ok=True)
        _write_bytes(self.results / task.name, payload)

    def read_chunk(self, task: ChunkTask, columns: list[str]) -> pa.Table:
        """Read some columns of a finished chunk."""
        return pq.read_table(self.results / task.name, columns=columns)


def _write_bytes(path: Path, data: bytes) -> None:
    _write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _write_atomic(path: Path, writer: Any) -> None:
    """Write via a hidden temporary file, fsync it, then rename it over ``path``."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        writer(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; use the usual mode
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _listing(entries: list[str]) -> str:
    shown = ", ".join(sorted(entries)[:3])
    return shown + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say which parts of the design differ between the folder's batch and this one."""
    parts = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        there, here = json.dumps(old.get(key)), json.dumps(new.get(key))
        parts.append(f"{key} {there} there, {here} here" if len(there) + len(here) < 60 else f"{key} differs")
    return "; ".join(parts) or "a different design"
