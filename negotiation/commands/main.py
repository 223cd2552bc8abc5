"""The ``negotiation`` command line. Thin: parses, calls the library, prints.

Each sub-command lives in its own module under ``negotiation.commands`` with two functions,
``register(subparsers)`` and ``main(args) -> int``; modules are imported lazily so that optional
extras (Dask, Optuna, Solara) are only needed by the commands that use them.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence

from negotiation.errors import FileSystemError, InputError, NegotiationError, did_you_mean

COMMANDS = {
    "run": "negotiation.commands.run",
    "validate": "negotiation.commands.validate",
    "scenario": "negotiation.commands.scenario",
    "params": "negotiation.commands.params",
    "batch": "negotiation.commands.batch",
    "compare": "negotiation.commands.compare",
    "tournament": "negotiation.commands.tournament",
    "score": "negotiation.commands.score",
    "calibrate": "negotiation.commands.calibrate",
    "sensitivity": "negotiation.commands.sensitivity",
    "discover": "negotiation.commands.discover",
    "plot": "negotiation.commands.plot",
    "dashboard": "negotiation.commands.dashboard",
}
"""Sub-command name to the module that implements it."""

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``prog: error: message`` on one line (did you mean ..., for a mistyped choice); exit 2."""
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2)) or [
                c.strip() for c in match.group(2).split(",")
            ]
            message += did_you_mean(match.group(1), choices)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every registered sub-command."""
    parser = OneLineParser(
        prog="negotiation",
        description="Agent-based simulator of the October 2025 Asia-tour negotiations.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, module in COMMANDS.items():
        importlib.import_module(module).register(sub)
        assert name in sub.choices, f"{module} did not register {name}"
    return parser


def package_version() -> str:
    """The installed package's version ('unknown' when run from a source tree without installing)."""
    from importlib import metadata

    try:
        return metadata.version("asia-negotiation")
    except metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code: 0 on success, 2 on bad input.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except InputError as exc:
        print(f"negotiation {args.command}: {exc.one_line()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NegotiationError as exc:
        print(f"negotiation {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file-system fault that no reader or writer named more precisely
        fault = FileSystemError.from_os_error(exc, action="read or write")
        print(f"negotiation {args.command}: {fault.one_line()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RecursionError:  # input nested too deeply for a parser that no reader guarded
        print(f"negotiation {args.command}: input nested too deeply to read", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"negotiation {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
