"""Output helpers shared by the tuning commands (compare, score, calibrate, sensitivity, discover)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from negotiation.atomic import make_folder, write_atomic
from negotiation.errors import MISSING, ExperimentError

FORMATS = ("png", "svg")
DPI = 120


def read_tables_file(
    path: str | Path, top_level: set[str], entry: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a targets or outcomes file: TOML whose ``[tables.<id>]`` entries hold per-table values.

    Args:
        path: The file.
        top_level: Keys allowed at the top level besides ``tables``.
        entry: What one ``[tables.<id>]`` holds, for the error message (e.g. "probability = P").

    Returns:
        The whole document, and its ``tables`` mapping (table id to its entry, not yet checked).

    Raises:
        ExperimentError: The file is missing or not TOML, has an unknown top-level key, or no tables.
    """
    from negotiation.scenario.loading import read_toml

    source = str(path)
    data = read_toml(path, ExperimentError)
    extra = sorted(set(data) - top_level - {"tables"})
    if extra:
        allowed = ", ".join(sorted(top_level))
        raise ExperimentError(source, extra[0], data[extra[0]], f"only {allowed} and [tables.<id>] tables")
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise ExperimentError(
            source,
            "tables",
            MISSING if tables is None else tables,
            f"at least one [tables.<id>] with {entry}",
        )
    return data, tables


def output_folder(outdir: str | Path, flag: str = "--out") -> Path:
    """Create (if needed) and return an output folder.

    The commands first claim it (:func:`negotiation.folders.output_folder`: new, empty or theirs,
    locked while they write).

    Raises:
        ExperimentError: The path exists and is not a folder.
        FileSystemError: It cannot be created (the reason is named).
    """
    folder = Path(outdir)
    if folder.exists() and not folder.is_dir():
        raise ExperimentError(flag, "", str(folder), "a folder (or a path where one can be created)")
    return make_folder(folder)


def save_figure(fig: Any, folder: Path, stem: str, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write a figure as ``<stem>.png`` and ``<stem>.svg`` atomically, then close it.

    SVG ids are salted with the stem and no creation date is written, so the same figure gives the
    same bytes every time.
    """
    import matplotlib.pyplot as plt

    def save(tmp: Path, fmt: str) -> None:
        with plt.rc_context({"svg.hashsalt": stem}):
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata={"Date": None} if fmt == "svg" else {})

    try:
        return [
            write_atomic(folder / f"{stem}.{fmt}", lambda tmp, fmt=fmt: save(tmp, fmt)) for fmt in formats
        ]
    finally:
        plt.close(fig)
