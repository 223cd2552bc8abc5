"""Output helpers shared by the tuning commands (compare, score, calibrate, sensitivity, discover)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from negotiation.atomic import write_atomic
from negotiation.errors import ExperimentError

FORMATS = ("png", "svg")
DPI = 120


def output_folder(outdir: str | Path, flag: str = "--out") -> Path:
    """Create (if needed) and return an output folder.

    Raises:
        ExperimentError: The path exists and is not a folder, or cannot be created.
    """
    folder = Path(outdir)
    if folder.exists() and not folder.is_dir():
        raise ExperimentError(flag, "", str(folder), "a folder (or a path where one can be created)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExperimentError(
            flag, "", str(folder), f"a folder that can be created ({exc.strerror})"
        ) from None
    return folder


def check_output_folder(outdir: str | Path | None, flag: str = "--out") -> None:
    """Fail early, before any run, when an output path exists and is not a folder."""
    if outdir is not None and Path(outdir).exists() and not Path(outdir).is_dir():
        raise ExperimentError(flag, "", str(outdir), "a folder (or a path where one can be created)")


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
