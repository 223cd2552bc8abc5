"""report.html in a real headless Chromium (Debian's), at a desktop and a phone width.

At 1280 and 390 CSS pixels: no horizontal scroll, every image loads, no network request; a click on
a chart opens it full size; back-to-top links and the headline are there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from outdirs import make_outdir
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

from negotiation.charts.report import write_outputs

pytestmark = pytest.mark.browser

RESOLVE = "actors.china.resolve"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    root = tmp_path_factory.mktemp("reports")
    designs = {
        "baseline": [{}],
        "sweep": [{RESOLVE: v} for v in (0.5, 0.7, 0.9)],
    }
    out = {}
    for name, points in designs.items():
        folder = make_outdir(root / name, points, replications=12, experiment=f"a-{name}-with-a-long-name")
        write_outputs(folder, progress=False)
        out[name] = folder / "report.html"
    return out


@pytest.mark.parametrize("design", ["baseline", "sweep"])
@pytest.mark.parametrize("width", WIDTHS)
def test_report_reads_at_desktop_and_phone_widths_offline(
    reports: dict[str, Path], design: str, width: int, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = Path(shutil.copy(reports[design], tmp_path / "report.html"))  # alone: nothing beside it
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri(), wait_until="load")
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{overflow}px of horizontal scroll at {width}px"
            images = page.evaluate(
                "() => Array.from(document.querySelectorAll('figure img'))"
                ".map(img => [img.complete, img.naturalWidth, img.getBoundingClientRect().right])"
            )
            assert images, "no chart in the report"
            assert all(done and natural > 0 for done, natural, _ in images), "an image did not load"
            assert all(right <= width + 0.5 for _, _, right in images), "an image wider than the page"
            assert page.locator("#headline li").count() >= 2
            assert page.locator("a[href='#top']").count() >= 3
            # a click opens the chart full size, at its natural width
            first = page.locator("figure img").first
            first.click()
            zoom = page.locator("dialog#zoom")
            assert zoom.evaluate("d => d.open")
            natural = first.evaluate("img => img.naturalWidth")
            assert zoom.locator("img").evaluate("img => img.getBoundingClientRect().width") == pytest.approx(
                natural, abs=1
            )
        finally:
            browser.close()
    outside = [url for url in requests if not url.startswith(("file://", "data:"))]
    assert not outside, f"network requests: {outside}"
