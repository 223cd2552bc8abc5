"""Make every picture in docs/img from the current model, and record what made each one.

    .venv/bin/python docs/scripts/doc_images.py            # every picture (a few minutes on 2 cores)
    .venv/bin/python docs/scripts/doc_images.py --only charts-sweep,tuning-score

Each picture is made by running the shipped commands (``negotiation batch``, ``compare``,
``calibrate``, ``sensitivity``, ``discover``, ``score``, ``dashboard``) into a temporary folder and
copying one chart. ``docs/img/MANIFEST.json`` then records, per picture, the command that made it and
the *model fingerprint*: a hash of the code and data that decide the model's numbers (the
bargaining core, the run seeds and rows, the shipped scenario), read as Python source without
comments, docstrings and blank lines and as parsed TOML, so comments do not count.
``tests/test_docs.py`` fails when a picture's fingerprint is not the current one: after a change to
the model, run this script and commit docs/img.

The dashboard picture needs Debian's chromium (``make browser``); without it that picture is kept.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import shutil
import sys
import tempfile
import tokenize
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
MANIFEST = IMG / "MANIFEST.json"
MODEL_SOURCES = (
    "negotiation/bargaining/*.py",
    "negotiation/batch/seeding.py",
    "negotiation/batch/rows.py",
    "negotiation/scenario/data/*.toml",
)
"""The files whose content decides the model's numbers (globs relative to the repository): the core
that batches run; the Mesa model drives the same core and is held bit-identical to it by
tests/test_fastpath.py, so its wiring (model.py, agents.py) is not part of the fingerprint."""


def model_fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the model's sources: Python without comments and docstrings, TOML as parsed data.

    The same on every Python version (the source text is hashed, not a syntax tree's dump).
    """
    digest = hashlib.sha256()
    for pattern in MODEL_SOURCES:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode())
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".py":
                digest.update(_code_only(text).encode())
            else:
                digest.update(json.dumps(tomllib.loads(text), sort_keys=True).encode())
    return digest.hexdigest()


def _code_only(text: str) -> str:
    """The source's lines without docstrings, comments, indentation-only and blank lines."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    comments = {
        token.start[0]: token.start[1]
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    }
    kept = []
    for number, line in enumerate(text.splitlines(), start=1):
        if number in docstrings:
            continue
        line = line[: comments[number]] if number in comments else line
        if line.strip():
            kept.append(line.strip())
    return "\n".join(kept)


def negotiation(*argv: str) -> None:
    """Run one ``negotiation`` command in this process; stop on failure."""
    from negotiation.commands.main import main

    print("$ negotiation " + " ".join(argv), flush=True)
    code = main(list(argv))
    if code != 0:
        sys.exit(f"negotiation {' '.join(argv)} failed with exit code {code}")


class Pictures:
    """The recipes: picture name -> (command shown in the manifest, function that makes the file)."""

    def __init__(self, work: Path) -> None:
        """Recipes that run their commands in ``work``."""
        self.work = work
        self.done: set[str] = set()
        self.recipes: dict[str, tuple[str, Callable[[], Path]]] = {
            "charts-deal-probability": (
                "negotiation batch --runs 2000",
                lambda: self.baseline("deal-probability"),
            ),
            "charts-time-to-deal": ("negotiation batch --runs 2000", lambda: self.baseline("time-to-deal")),
            "charts-terms": ("negotiation batch --runs 2000", lambda: self.baseline("terms")),
            "charts-utility": ("negotiation batch --runs 2000", lambda: self.baseline("utility")),
            "blocs-batch": ("negotiation batch --runs 2000", lambda: self.baseline("bloc")),
            "blocs-run": (
                "negotiation run --seed 3 --plot OUTDIR",
                lambda: self.run_plots() / "bloc-asean.png",
            ),
            "run-summit-concession": (
                "negotiation run --seed 3 --plot OUTDIR",
                lambda: self.run_plots() / "us-asean-concession.png",
            ),
            "charts-sweep": (
                "negotiation batch experiments/china_resolve_sweep.toml --runs 300",
                lambda: self.batch("china_resolve_sweep", 300, "sweep-actors-china-resolve"),
            ),
            "charts-grid": (
                "negotiation batch experiments/chips_vs_rare_earths.toml --runs 200",
                lambda: self.batch("chips_vs_rare_earths", 200, "grid"),
            ),
            "charts-grid-difference": (
                "negotiation batch experiments/chips_vs_rare_earths.toml --runs 200",
                lambda: self.batch("chips_vs_rare_earths", 200, "grid-difference"),
            ),
            "charts-effects": (
                "negotiation batch experiments/calibrate-us-china.toml --runs 100",
                lambda: self.batch("calibrate-us-china", 100, "effects"),
            ),
            "tuning-compare-taiwan": (
                "negotiation compare experiments/variants/no-shocks.toml "
                "experiments/variants/taiwan-incident.toml --runs 2000",
                self.compare,
            ),
            "tuning-calibration-targets": (
                "negotiation calibrate experiments/calibrate-us-china.toml "
                "--targets experiments/targets-example.toml --trials 30 --runs 300",
                self.calibrate,
            ),
            "tuning-sensitivity": (
                "negotiation sensitivity experiments/calibrate-us-china.toml --samples 32 --runs 100",
                self.sensitivity,
            ),
            "tuning-score": (
                "negotiation score OUTDIR --outcomes experiments/outcomes-example.toml "
                "(the 2,000-run baseline)",
                self.score,
            ),
            "tuning-discover-us-china": (
                "negotiation discover OUTDIR --table us-china --outcome no-deal "
                "(the calibrate-us-china batch, 100 runs per point)",
                self.discover,
            ),
            "dashboard": ("negotiation dashboard (Debian's chromium, 1400 x 1000)", self.dashboard),
            "negotiators-us-china": (
                "negotiation tournament --tables us-china "
                "--negotiators time_dependent,tit_for_tat,firmness-learner --runs 100 "
                "(the example package on the path)",
                self.tournament,
            ),
        }

    def folder(self, name: str) -> Path:
        """A folder of the work area."""
        return self.work / name

    def run_batch(self, experiment: str | None, runs: int) -> Path:
        """Run a shipped experiment (None: the baseline) once, and return its output folder."""
        out = self.folder(f"batch-{experiment or 'baseline'}")
        if experiment not in self.done:
            spec = [str(ROOT / "experiments" / f"{experiment}.toml")] if experiment else []
            negotiation("batch", *spec, "--runs", str(runs), "--out", str(out), "--no-progress")
            self.done.add(experiment)
        return out

    def baseline(self, chart: str) -> Path:
        """A chart of the 2,000-run baseline."""
        return self.run_batch(None, 2000) / "charts" / f"{chart}.png"

    def batch(self, experiment: str, runs: int, chart: str) -> Path:
        """A chart of a shipped experiment's batch."""
        return self.run_batch(experiment, runs) / "charts" / f"{chart}.png"

    def run_plots(self) -> Path:
        """The pictures of one traced run of the default scenario (run once), and return their folder."""
        out = self.folder("run-plots")
        if "run-plots" not in self.done:
            negotiation("run", "--seed", "3", "--plot", str(out))
            self.done.add("run-plots")
        return out

    def compare(self) -> Path:
        """The forest plot of the Taiwan incident against no shocks."""
        out = self.folder("compare")
        variants = ROOT / "experiments" / "variants"
        negotiation(
            "compare", str(variants / "no-shocks.toml"), str(variants / "taiwan-incident.toml"),
            "--runs", "2000", "--out", str(out),
        )  # fmt: skip
        return out / "compare.png"

    def calibrate(self) -> Path:
        """The calibration's targets chart."""
        out = self.folder("calibration")
        negotiation(
            "calibrate", str(ROOT / "experiments" / "calibrate-us-china.toml"),
            "--targets", str(ROOT / "experiments" / "targets-example.toml"),
            "--trials", "30", "--runs", "300", "--out", str(out),
        )  # fmt: skip
        return out / "targets.png"

    def sensitivity(self) -> Path:
        """The Sobol indices of the US-China table."""
        out = self.folder("sensitivity")
        negotiation(
            "sensitivity", str(ROOT / "experiments" / "calibrate-us-china.toml"),
            "--samples", "32", "--runs", "100", "--out", str(out),
        )  # fmt: skip
        return out / "sensitivity-us-china.png"

    def score(self) -> Path:
        """The reliability diagram of the baseline against the made-up outcomes."""
        out = self.folder("score")
        negotiation(
            "score", str(self.run_batch(None, 2000)),
            "--outcomes", str(ROOT / "experiments" / "outcomes-example.toml"), "--out", str(out),
        )  # fmt: skip
        return out / "reliability.png"

    def discover(self) -> Path:
        """The PRIM trajectory of no US-China deal."""
        batch = self.run_batch("calibrate-us-china", 100)
        out = self.folder("discovery")
        negotiation("discover", str(batch), "--table", "us-china", "--outcome", "no-deal", "--out", str(out))
        return out / "discover-us-china-no-deal-trajectory.png"

    def tournament(self) -> Path:
        """Three negotiators at US-China, the example package's learner among them."""
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "example_on_path", ROOT / "docs" / "examples" / "negotiator-example" / "on_path.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.path.insert(0, str(module.put_on_path(self.work / "site")))
        out = self.folder("tournament")
        negotiation(
            "tournament", "--tables", "us-china", "--negotiators",
            "time_dependent,tit_for_tat,firmness-learner", "--runs", "100", "--out", str(out),
        )  # fmt: skip
        return out / "tournament.png"

    def dashboard(self) -> Path | None:
        """A screenshot of the dashboard (None without chromium)."""
        import os
        import socket
        import subprocess
        import time
        import urllib.request

        chromium = Path("/usr/bin/chromium")
        if not chromium.exists():
            print("no /usr/bin/chromium: docs/img/dashboard.png is kept as it is")
            return None
        from playwright.sync_api import sync_playwright

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = (self.work / "dashboard.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "negotiation", "dashboard", "--port", str(port)],
            cwd=self.work,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            for _ in range(360):
                try:
                    with urllib.request.urlopen(url, timeout=5):
                        break
                except OSError:
                    time.sleep(0.5)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(chromium), headless=True, args=["--headless=new", "--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, timeout=120_000)
                page.wait_for_selector(".utility-space-chart img", timeout=120_000)
                page.wait_for_timeout(3000)
                out = self.work / "dashboard.png"
                page.screenshot(path=str(out))
                browser.close()
            return out
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    """Make the pictures asked for and update the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated picture names (default: every picture)")
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}
    fingerprint = model_fingerprint()
    with tempfile.TemporaryDirectory() as tmp:
        pictures = Pictures(Path(tmp))
        wanted = args.only.split(",") if args.only else list(pictures.recipes)
        unknown = [name for name in wanted if name not in pictures.recipes]
        if unknown:
            sys.exit(f"unknown picture {unknown[0]}; known: {', '.join(pictures.recipes)}")
        for name in wanted:
            command, make = pictures.recipes[name]
            made = make()
            if made is None:
                continue
            shutil.copyfile(made, IMG / f"{name}.png")
            manifest[name] = {"command": command, "model": fingerprint}
            print(f"docs/img/{name}.png", flush=True)
    known = {name: manifest[name] for name in sorted(manifest) if (IMG / f"{name}.png").exists()}
    MANIFEST.write_text(json.dumps(known, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
