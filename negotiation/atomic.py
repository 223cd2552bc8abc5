"""Write files so that a reader never sees half of one, and a failure leaves the old file intact.

Every file the package writes goes through :func:`write_atomic`: the content is written to a hidden
temporary file beside its final name (``.NAME.XXXXXXXX.tmp``) and renamed over it only once it is
whole. A file-system fault (a full disk, no permission, a read-only file system, an I/O error)
becomes one :class:`~negotiation.errors.FileSystemError` naming the final path and the reason, and
the temporary file is removed. A kill at the wrong moment can leave a temporary file behind:
:func:`remove_debris` sweeps them up (``batch --resume`` and ``plot`` do).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from negotiation.errors import FileSystemError

TMP_SUFFIX = ".tmp"
"""Suffix of the temporary files; their names also start with a dot."""


def write_atomic(path: str | Path, writer: Callable[[Path], None], durable: bool = False) -> Path:
    """Have ``writer`` fill a temporary file beside ``path``, then rename it into place.

    Args:
        path: Final location.
        writer: Called with the temporary path; must write the whole file there.
        durable: Also flush the file and its folder to disk (fsync) before returning, so that the
            file survives a power loss (batch results and metadata).

    Returns:
        The final path.

    Raises:
        FileSystemError: The file could not be written; the old file (if any) is left as it was.
    """
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise FileSystemError.from_os_error(exc, path, "write") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        # mkstemp makes owner-only files; give the file the mode a plain open() would have
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        if durable:
            _fsync_folder(path.parent)
    except OSError as exc:
        raise FileSystemError.from_os_error(exc, path, "write") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write text to ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes, durable: bool = False) -> Path:
    """Write bytes to ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), durable)


def make_folder(path: str | Path) -> Path:
    """Create a folder (and its parents) if it is missing.

    Raises:
        FileSystemError: It cannot be created (the reason is named).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileSystemError.from_os_error(exc, path, "create the folder") from None
    return path


def is_debris(path: Path) -> bool:
    """Whether a file is a temporary file left by an interrupted :func:`write_atomic`."""
    return path.name.startswith(".") and path.name.endswith(TMP_SUFFIX)


def remove_debris(folder: str | Path) -> list[Path]:
    """Remove the temporary files an interrupted write left in ``folder`` (not in subfolders).

    Only call it while no other process writes into the folder (hold its lock,
    :func:`negotiation.folders.hold_folder`).

    Returns:
        The files removed.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        if is_debris(path) and path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk; not every platform or file system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
