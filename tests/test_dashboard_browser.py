"""End to end: `negotiation dashboard` in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mesa.mesa_logging
import pytest

import negotiation
from negotiation.scenario.loading import load_scenario
from negotiation.scenario.overlay import read_overlay
from negotiation.scenario.paths import get_value

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 180.0
UI_TIMEOUT_MS = 60_000
OUTSIDE = "tables.us-china.preferences.us.outside_option"
START = get_value(load_scenario(), OUTSIDE)  # the default scenario's value
MOVED = round(START + 0.05, 2)  # after five presses of the arrow key (step 0.01)


# The server runs in another process, out of reach of pytest's filterwarnings: it prints every
# deprecation instead, and the test fails on any printed from our package (or from Mesa's logging
# wrapper, to which Mesa 3.5 attributes deprecations of the arguments we pass it).
SHOW_DEPRECATIONS = "default::DeprecationWarning,default::PendingDeprecationWarning,default::FutureWarning"
OUR_CODE = (str(Path(negotiation.__file__).parent) + os.sep, mesa.mesa_logging.__file__)
DEPRECATION = re.compile(r": (Deprecation|PendingDeprecation|Future)Warning: ")


def deprecations_from_our_code(log: str) -> list[str]:
    """Warning lines (``file:line: Category: message``) of deprecations raised from our code."""
    return [line for line in log.splitlines() if line.startswith(OUR_CODE) and DEPRECATION.search(line)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dashboard exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(
        f"dashboard did not answer at {url} within {SERVER_START_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture
def dashboard_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": SHOW_DEPRECATIONS}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "negotiation", "dashboard", "--port", str(port)],
            cwd=tmp_path,  # "Write overlay" writes its default file name here
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_answering(url, server, log)
        yield url
    finally:
        server.terminate()  # the command stops its Solara child on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log.read_text()
    assert "Dashboard for the shipped scenario at " + url in text
    assert not deprecations_from_our_code(text)


def image_source(page, container: str) -> str:
    return page.locator(f"{container} img").get_attribute("src")


def wait_for_new_image(page, container: str, before: str) -> None:
    page.wait_for_function(
        "([selector, before]) => { const img = document.querySelector(selector + ' img');"
        " return img !== null && img.src !== before; }",
        arg=[container, before],
        timeout=UI_TIMEOUT_MS,
    )


def test_slider_and_step_change_the_charts_and_numbers(dashboard_url: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a new, empty user data dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 2000},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            expect = sync_api.expect
            page.goto(dashboard_url, timeout=UI_TIMEOUT_MS)
            round_label = page.locator(".negotiation-round")
            expect(round_label).to_contain_text("Round 0 of", timeout=UI_TIMEOUT_MS)
            page.wait_for_selector(".utility-space-chart img")
            page.wait_for_selector(".concession-chart img")
            space_before = image_source(page, ".utility-space-chart")
            concession_before = image_source(page, ".concession-chart")
            summary = page.locator(".negotiation-summary")
            summary_before = summary.inner_text()

            # move a slider: the us outside option at us-china, up 0.05 in five key presses
            slider = page.locator(".param--tables-us-china-preferences-us-outside_option")
            thumb = slider.locator("[role=slider]")
            expect(thumb).to_have_attribute("aria-valuenow", f"{START:g}")
            thumb.focus()
            for _ in range(5):
                thumb.press("ArrowRight")
            expect(thumb).to_have_attribute("aria-valuenow", f"{MOVED:g}", timeout=UI_TIMEOUT_MS)
            expect(slider).to_contain_text(f"us: outside option = {MOVED:g}", timeout=UI_TIMEOUT_MS)
            expect(page.locator(".override")).to_have_text(f"{OUTSIDE} = {MOVED:g}", timeout=UI_TIMEOUT_MS)
            wait_for_new_image(page, ".utility-space-chart", space_before)  # value-of-no-deal lines moved

            # step the model: the round, the numbers and the concession chart change
            page.get_by_role("button", name="Step one round").click()
            expect(round_label).to_contain_text("Round 1 of", timeout=UI_TIMEOUT_MS)
            wait_for_new_image(page, ".concession-chart", concession_before)
            expect(summary).not_to_have_text(summary_before, timeout=UI_TIMEOUT_MS)
            first_row = summary.locator("tbody tr").first.locator("td")
            expect(first_row.nth(0)).to_have_text("us-china")
            assert int(first_row.nth(4).inner_text()) >= 1  # offers made at us-china

            # deal probabilities from the background batch, with intervals around them
            page.get_by_role("button", name="Estimate").click()
            rows = page.locator(".deal-table tbody tr")
            expect(rows).to_have_count(len(load_scenario().tables), timeout=UI_TIMEOUT_MS)
            for row in rows.all():
                p, low, high = (float(row.locator("td").nth(i).inner_text()) for i in (1, 2, 3))
                assert 0.0 <= low <= p <= high <= 1.0

            # the overlay button writes what the slider set
            page.get_by_role("button", name="Write overlay").click()
            expect(page.locator(".overlay-message")).to_contain_text(
                "Wrote 1 overrides", timeout=UI_TIMEOUT_MS
            )
            assert read_overlay(tmp_path / "dashboard-overlay.toml") == {OUTSIDE: MOVED}

            # the summit of seven: its concession chart, and a note instead of a utility space
            concession_before = image_source(page, ".concession-chart")
            page.locator(".v-select").filter(has_text="Table").first.click()
            page.get_by_role("option", name="us-asean").click()
            expect(page.locator(".utility-space-note")).to_contain_text("us-asean has 7 parties")
            expect(page.locator(".utility-space-chart")).to_have_count(0)
            wait_for_new_image(page, ".concession-chart", concession_before)

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            context.close()
