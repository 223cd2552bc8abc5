"""Errors raised for bad input, each rendered as one line naming file, field, value and expectation."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any


class NegotiationError(Exception):
    """Base class for every error this package raises on purpose."""


class InputError(NegotiationError):
    """A bad file, field, flag or value supplied by the user.

    Attributes:
        source: The file (or ``--flag``) the bad value came from.
        field: Dotted path of the offending field, or "" for the whole source.
        value: The value received, or None when the problem is its absence.
        expected: What would have been accepted, in words.
    """

    def __init__(self, source: str, field: str, value: Any, expected: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Render the error as a single line for the command line.

        Returns:
            ``source: field: got value; expected ...``
        """
        parts = [self.source or "<input>"]
        if self.field:
            parts.append(f"field {self.field}")
        got = "missing" if self.value is _MISSING else f"got {_short(self.value)}"
        return ": ".join(parts) + f": {got}; expected {self.expected}"


class ScenarioError(InputError):
    """A scenario file or override that does not validate."""


class OverrideError(InputError):
    """A ``PATH=VALUE`` override that names no parameter or has the wrong type."""


class ExperimentError(InputError):
    """An experiment spec, target, outcome or results folder that does not validate."""


class FileSystemError(NegotiationError):
    """A file or folder that could not be read or written, rendered as one line naming path and reason.

    The usual causes: a full disk, no permission, a read-only file system, an I/O error.

    Attributes:
        path: The file or folder.
        action: What was being done, e.g. "write", "read", "create the folder".
        reason: The operating system's reason, e.g. "No space left on device (ENOSPC)".
        hint: What the user can do about it, or "".
    """

    def __init__(self, path: str | Path, action: str, reason: str, hint: str = "") -> None:
        self.path = str(path)
        self.action = action
        self.reason = reason
        self.hint = hint
        super().__init__(self.one_line())

    @classmethod
    def from_os_error(
        cls, exc: OSError, path: str | Path | None = None, action: str = "write"
    ) -> FileSystemError:
        """The error for an ``OSError``, naming ``path`` (default: the file the error names)."""
        named = path if path is not None else (exc.filename if exc.filename is not None else "<file>")
        return cls(named, action, os_reason(exc))

    def with_hint(self, hint: str) -> FileSystemError:
        """The same error with advice appended (e.g. "rerun with --resume")."""
        return FileSystemError(self.path, self.action, self.reason, hint)

    def one_line(self) -> str:
        """``path: cannot action: reason[; hint]``."""
        line = f"{self.path}: cannot {self.action}: {self.reason}"
        return f"{line}; {self.hint}" if self.hint else line


def reason(exc: BaseException) -> str:
    """An exception in words for a one-line message.

    An ``OSError``'s reason (:func:`os_reason`), else its type and the first line of its message.
    """
    if isinstance(exc, OSError) and exc.errno:
        return os_reason(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def os_reason(exc: OSError) -> str:
    """The reason of an ``OSError`` in words, with its errno name: "No space left on device (ENOSPC)"."""
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{text} ({name})" if name else text


def did_you_mean(word: str, choices: Any, cutoff: float = 0.6) -> str:
    """A suggestion for a mistyped name: ``" (did you mean 'x'?)"``, or "" when nothing is close.

    >>> did_you_mean("actors.china.resolv", ["actors.china.resolve", "actors.us.resolve"])
    " (did you mean 'actors.china.resolve'?)"
    """
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Missing:
    def __repr__(self) -> str:
        return "missing"


_MISSING: Any = _Missing()
MISSING: Any = _MISSING
"""Sentinel for a value that was not given at all."""


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
