"""``negotiation dashboard`` argument checks (no server is started) and the library/extra boundary."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from negotiation.commands.main import main


def test_bad_scenario_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", str(tmp_path / "missing.toml"), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.toml" in err


def test_busy_port_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--port" in err and str(port) in err


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_port_must_be_a_port_number(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["dashboard", "--port", port])
    assert info.value.code == 2
    assert "port number" in capsys.readouterr().err


def test_library_and_cli_import_nothing_from_solara() -> None:
    code = (
        "import sys, negotiation, negotiation.commands.main, negotiation.model, negotiation.batch.rows; "
        "negotiation.commands.main.build_parser(); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('solara', 'reacton', 'ipyvuetify') "
        "or m.startswith('negotiation.dashboard') or m.startswith('mesa.visualization')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
