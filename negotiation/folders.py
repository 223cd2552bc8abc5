"""Output folders: one writer at a time, and nothing a user owns overwritten.

Two rules hold for every folder a command writes into:

- **One writer.** :func:`hold_folder` takes an advisory lock (``fcntl.flock``) on the hidden file
  ``.negotiation.lock`` inside the folder for as long as the command writes there. A second command
  that wants the same folder stops at once with one line naming the holder's process id. The
  operating system drops the lock when its holder ends, however it ends (``kill -9`` included), so
  a lock is never left stale.
- **Never someone else's files.** :func:`claim_folder` lets a command write only into a folder
  that is new, empty, or was made by the same command before (recognised by the hidden marker file
  ``.negotiation.json`` it leaves there). Anything else is refused with one line, unless the user
  passes ``--overwrite``. ``negotiation batch`` follows the same rule with its own metadata
  (``metadata.json``, see :mod:`negotiation.batch.folder`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from negotiation.atomic import is_debris, make_folder, write_text_atomic
from negotiation.errors import FileSystemError, InputError, NegotiationError

LOCK_FILE = ".negotiation.lock"
"""Hidden file inside an output folder that writers lock."""

MARKER_FILE = ".negotiation.json"
"""Hidden file inside an output folder naming the command that made it."""

HOUSEKEEPING = {LOCK_FILE, MARKER_FILE}
"""Files of ours that do not make a folder "not empty"."""


class FolderBusyError(NegotiationError):
    """Another process is writing into the output folder."""

    def __init__(self, folder: Path, holder: str) -> None:
        self.folder = folder
        self.holder = holder
        super().__init__(
            f"{folder}: in use by another negotiation command ({holder}); "
            "wait for it to finish, or choose another output folder"
        )


_held: dict[tuple[Path, int], tuple[int, int]] = {}
"""Folders this process holds: (resolved path, thread id) to (lock file descriptor, nesting count)."""
_held_lock = threading.Lock()


@contextlib.contextmanager
def hold_folder(folder: str | Path) -> Iterator[Path]:
    """Hold the write lock of a folder (created if missing) for the ``with`` block.

    Re-entrant within a thread: a library function that locks the folder may be called by a
    command that already holds it. Another thread (or process) that wants the folder is refused.

    Raises:
        FolderBusyError: Another process holds the lock.
        FileSystemError: The folder or its lock file cannot be created.
    """
    folder = make_folder(folder)
    key = (folder.resolve(), threading.get_ident())
    with _held_lock:
        if key in _held:
            fd, count = _held[key]
            _held[key] = (fd, count + 1)
        else:
            _held[key] = (_acquire(folder), 1)
    try:
        yield folder
    finally:
        with _held_lock:
            fd, count = _held[key]
            if count > 1:
                _held[key] = (fd, count - 1)
            else:
                del _held[key]
                os.close(fd)  # closing the descriptor drops the lock


def _acquire(folder: Path) -> int:
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise FileSystemError.from_os_error(exc, path, "create the lock file") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise FolderBusyError(folder, holder) from None
    except OSError as exc:
        os.close(fd)
        raise FileSystemError.from_os_error(exc, path, "lock") from None
    # say who holds it; a failure here (a full disk) does not matter, the lock is held
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {_command()}\n".encode(), 0)
    return fd


def _holder(fd: int) -> str:
    """The holder as its lock file names it: ``pid 1234: negotiation batch ...``."""
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    pid, _, command = text.partition(" ")
    if not pid.isdigit():
        return "process id unknown"
    return f"pid {pid}: {command}" if command else f"pid {pid}"


def _command() -> str:
    words = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    text = " ".join(words)
    return text if len(text) <= 200 else text[:197] + "..."


def own_entries(folder: Path) -> list[str]:
    """Names in a folder other than our lock, marker and temporary files.

    Raises:
        FileSystemError: The folder cannot be listed.
    """
    try:
        paths = list(folder.iterdir())
    except OSError as exc:
        raise FileSystemError.from_os_error(exc, folder, "read the folder") from None
    return sorted(p.name for p in paths if p.name not in HOUSEKEEPING and not is_debris(p))


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a folder made by a command, or None (missing or unreadable)."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return marker if isinstance(marker, dict) else None


def check_claim(
    folder: str | Path | None, command: str, overwrite: bool = False, flag: str = "--out"
) -> None:
    """Fail early, before any work, when :func:`claim_folder` would refuse ``folder``; write nothing.

    Raises:
        InputError: The path is a file, or (without ``overwrite``) a folder holding files that
            ``command`` did not make.
    """
    if folder is None:
        return
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(flag, "", str(folder), "a folder (or a path where one can be created)")
    if not folder.is_dir() or overwrite:
        return
    entries = own_entries(folder)
    made_by = (read_marker(folder) or {}).get("command")
    if entries and made_by != command:
        what = f"files of `negotiation {made_by}`" if made_by else "files this command did not write"
        raise InputError(
            flag,
            "",
            str(folder),
            f"a new or empty folder, or one `negotiation {command}` wrote before (it holds {what}: "
            f"{listing(entries)}); choose another {flag}, or add --overwrite to replace same-named files",
        )


def claim_folder(folder: str | Path, command: str, overwrite: bool = False, flag: str = "--out") -> Path:
    """Make sure ``command`` may write its files into ``folder``, create it and mark it as its own.

    Allowed: a new or empty folder, or one that ``command`` made before. Anything else only with
    ``overwrite`` (files of the same names are then replaced; other files are left alone).
    Call it while holding the folder (:func:`hold_folder`), or use :func:`output_folder`.

    Args:
        folder: The output folder.
        command: The command's name, e.g. "score".
        overwrite: The user passed ``--overwrite``.
        flag: The option that named the folder, for the message.

    Returns:
        The folder.

    Raises:
        InputError: See :func:`check_claim`.
        FileSystemError: The folder or its marker cannot be written.
    """
    check_claim(folder, command, overwrite, flag)
    folder = make_folder(folder)
    write_text_atomic(folder / MARKER_FILE, json.dumps({"command": command}) + "\n")
    return folder


@contextlib.contextmanager
def output_folder(
    folder: str | Path, command: str, overwrite: bool = False, flag: str = "--out"
) -> Iterator[Path]:
    """Hold and claim an output folder for the ``with`` block (:func:`hold_folder`, :func:`claim_folder`).

    Raises:
        InputError: See :func:`check_claim`.
        FolderBusyError: Another process writes into the folder.
        FileSystemError: The folder, its lock or its marker cannot be written.
    """
    check_claim(folder, command, overwrite, flag)
    with hold_folder(folder):
        yield claim_folder(folder, command, overwrite, flag)


def listing(entries: list[str]) -> str:
    """The first three names, and how many more."""
    shown = ", ".join(sorted(entries)[:3])
    return shown + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
