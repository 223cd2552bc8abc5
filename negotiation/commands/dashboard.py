"""``negotiation dashboard``: start the interactive dashboard (Solara, Mesa SolaraViz) on 127.0.0.1.

Nothing from Solara is imported here: the dashboard runs in a ``solara run`` child process, so the
rest of the command line works without the ``dashboard`` extra.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

from negotiation.commands.common import add_scenario_positional
from negotiation.errors import InputError, NegotiationError
from negotiation.scenario.loading import load_scenario

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_MODULE = "negotiation.dashboard.app"
SCENARIO_ENV = "NEGOTIATION_DASHBOARD_SCENARIO"
"""Must equal ``negotiation.dashboard.app.SCENARIO_ENV`` (not imported: it would import Solara)."""
STARTUP_TIMEOUT = 120.0


def register(sub: argparse._SubParsersAction) -> None:
    """Register the sub-command."""
    parser = sub.add_parser(
        "dashboard",
        help="start the interactive dashboard in the browser (needs the 'dashboard' extra)",
        description="Start the interactive dashboard (Mesa SolaraViz) bound to 127.0.0.1 and print its "
        "address. Stop it with Ctrl+C.",
    )
    add_scenario_positional(parser)
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.set_defaults(handler=main)


def port_number(text: str) -> int:
    """Argparse type for a TCP port, 1-65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a port number 1-65535") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"got {value}; expected a port number 1-65535")
    return value


def main(args: argparse.Namespace) -> int:
    """Check the inputs, start the Solara server as a child process and wait for it."""
    missing = [name for name in ("solara", "mesa.visualization") if not _importable(name)]
    if missing:
        raise NegotiationError(
            f"the dashboard needs the 'dashboard' extra ({', '.join(missing)} missing): "
            "pip install 'asia-negotiation[dashboard]'"
        )
    scenario = args.scenario.resolve() if args.scenario is not None else None
    load_scenario(scenario)  # a bad file is reported here, in one line, not in the browser
    if not _port_free(args.port):
        raise InputError("--port", "", args.port, f"a free port on {HOST}")
    env = {
        **os.environ,
        SCENARIO_ENV: str(scenario) if scenario is not None else "",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no calls home
        # Mesa's SolaraViz trips Solara's hook-order lint (a warning, harmless): keep the log clean
        "SOLARA_CHECK_HOOKS": os.environ.get("SOLARA_CHECK_HOOKS", "off"),
    }
    command = [
        sys.executable, "-m", "solara", "run", APP_MODULE,
        "--host", HOST, "--port", str(args.port), "--no-open", "--production",
    ]  # fmt: skip
    url = f"http://{HOST}:{args.port}/"
    server = subprocess.Popen(command, env=env)
    # stop the server however this process is asked to end (Ctrl+C, or SIGTERM from a supervisor)
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        if not _wait_until_listening(server, args.port, STARTUP_TIMEOUT):
            raise NegotiationError(f"the dashboard server did not start (exit code {server.poll()})")
        print(f"Dashboard for {scenario or 'the shipped scenario'} at {url}  (Ctrl+C to stop)", flush=True)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(server)
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_until_listening(server: subprocess.Popen, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
