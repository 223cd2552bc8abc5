"""Make this example importable as an installed distribution without pip (for the tests and docs).

Users install it with ``pip install -e docs/examples/negotiator-example``. The test suite and the
docs script must not install anything, so they call :func:`put_on_path`: it copies the module into
a folder with the metadata ``pip`` would write (the entry points read from this ``pyproject.toml``);
that folder on ``sys.path`` (or ``PYTHONPATH``, for worker processes) registers the kind.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def put_on_path(site: Path) -> Path:
    """Write the module and its distribution metadata into ``site``; return ``site``."""
    project = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "firmness_learner.py", site)
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(exist_ok=True)
    metadata = f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    (info / "METADATA").write_text(metadata, encoding="utf-8")
    lines = []
    for group, points in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site
