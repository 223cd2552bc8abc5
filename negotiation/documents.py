"""Read TOML and JSON documents as data: a byte-order mark accepted, nesting bounded, errors one line.

Every file a user hands the package (scenarios, overlays, experiments, targets, outcomes) and every
file a batch folder holds (metadata.json, scenario.json) is read through here, so each reader
refuses the same things the same way:

- a missing, unreadable or non-UTF-8 file (the operating system's reason is named);
- a syntax error;
- arrays or tables nested deeper than :data:`MAX_NESTING` levels. Python's parsers recurse, so a
  few thousand ``[`` would otherwise end in a ``RecursionError`` traceback.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from negotiation.errors import MISSING, InputError, os_reason

MAX_NESTING = 32
"""Deepest nesting of arrays and tables accepted in any document (scenarios need about 6)."""

BOM = "\ufeff"
"""The UTF-8 byte-order mark some editors put at the start of a file; ignored."""


def read_text(path: str | Path, error: type[InputError], kind: str = "TOML") -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped).

    Args:
        path: The file.
        error: The InputError subclass to raise.
        kind: What the file should be, for the message ("TOML", "JSON").

    Raises:
        InputError: The file is missing, a folder, unreadable or not UTF-8.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(
            str(path), "", MISSING, f"an existing, readable {kind} file" + _similar_file(path)
        ) from None
    except IsADirectoryError:
        raise error(str(path), "", "a directory", f"a {kind} file") from None
    except OSError as exc:
        raise error(str(path), "", f"unreadable: {os_reason(exc)}", f"a readable {kind} file") from None
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as exc:
        raise error(
            str(path), "", f"bytes that are not UTF-8 ({exc.reason})", f"a UTF-8 {kind} file"
        ) from None


def _similar_file(path: Path) -> str:
    """A 'did you mean' for a missing file: a file of a close name in the same folder, or ''."""
    import difflib

    try:
        names = [p.name for p in path.parent.iterdir() if p.is_file()] if path.parent.is_dir() else []
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return f" (did you mean {str(path.parent / close[0])!r}?)" if close else ""


def parse_toml(text: str, source: str, error: type[InputError]) -> dict[str, Any]:
    """Parse TOML text as data.

    Raises:
        InputError: A syntax error, or nesting deeper than :data:`MAX_NESTING`.
    """
    return _parse(tomllib.loads, tomllib.TOMLDecodeError, "TOML", text, source, error)


def read_toml(path: str | Path, error: type[InputError]) -> dict[str, Any]:
    """Read a TOML file as data (see :func:`read_text` and :func:`parse_toml`)."""
    return parse_toml(read_text(path, error, "TOML"), str(path), error)


def parse_json(text: str, source: str, error: type[InputError]) -> Any:
    """Parse JSON text as data.

    Raises:
        InputError: Not JSON, or nesting deeper than :data:`MAX_NESTING`.
    """
    return _parse(json.loads, json.JSONDecodeError, "JSON", text, source, error)


def read_json(path: str | Path, error: type[InputError]) -> Any:
    """Read a JSON file as data (see :func:`read_text` and :func:`parse_json`)."""
    return parse_json(read_text(path, error, "JSON"), str(path), error)


def _parse(
    loads: Callable[[str], Any],
    syntax_error: type[ValueError],
    kind: str,
    text: str,
    source: str,
    error: type[InputError],
) -> Any:
    try:
        data = loads(text.removeprefix(BOM))
    except syntax_error as exc:
        raise error(source, "", f"{kind} syntax error ({exc})", f"valid {kind}") from None
    except RecursionError:
        raise too_deep(source, "", error) from None
    check_nesting(data, source, "", error)
    return data


def nesting_depth(value: Any, limit: int = MAX_NESTING) -> int:
    """How deeply arrays and tables nest in ``value`` (a scalar is 0), counted without recursion.

    Counting stops once ``limit`` is passed, so the answer is at most ``limit + 1``.

    >>> nesting_depth(1), nesting_depth([1, [2]]), nesting_depth({"a": {"b": []}})
    (0, 2, 3)
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def check_nesting(value: Any, source: str, field: str, error: type[InputError]) -> None:
    """Raise ``error`` when ``value`` nests deeper than :data:`MAX_NESTING`."""
    if nesting_depth(value) > MAX_NESTING:
        raise too_deep(source, field, error)


def too_deep(source: str, field: str, error: type[InputError]) -> InputError:
    """The error for a document nested deeper than :data:`MAX_NESTING` levels."""
    return error(
        source,
        field,
        f"arrays or tables nested more than {MAX_NESTING} levels deep",
        f"at most {MAX_NESTING} levels of nesting",
    )
