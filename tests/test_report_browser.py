"""The report as people open it (issue 17): in headless Chromium (Debian's, driven by Debian's
chromedriver: nothing downloaded) every picture loads, the tables are there and no request leaves
the page; printed by WeasyPrint every page has ink and every letter a glyph."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import procmine as pm

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    log = pm.read_log(pm.datasets.sample_path("sample_log.csv.gz"))
    pm.report(log, pm.datasets.load_sample_catalog(), out=out, pdf=False)
    return out


def _driver():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (make test does)")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-default-apps", "--disable-sync", "--disable-extensions",
                     "--no-first-run", "--metrics-recording-only",
                     "--window-size=1200,900"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    return webdriver.Chrome(options=options, service=service)


def test_the_report_opens_offline_in_a_real_browser(written: Path):
    driver = _driver()
    try:
        driver.get((written / "report.html").resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        tables = driver.execute_script("return document.querySelectorAll('table tbody tr').length;")
        height = driver.execute_script("return document.body.scrollHeight;")
        driver.set_window_size(1200, min(int(height), 16000))
        driver.save_screenshot(str(written / "screenshot.png"))
        requests = [
            json.loads(entry["message"])["message"] for entry in driver.get_log("performance")
        ]
    finally:
        driver.quit()
    assert len(images) >= 4 and all(done and width > 0 for done, width in images), images
    assert tables > 50
    addresses = [
        message["params"]["request"]["url"]
        for message in requests
        if message["method"] == "Network.requestWillBeSent"
    ]
    assert addresses and all(a.startswith(("file:", "data:")) for a in addresses), addresses
    assert (written / "screenshot.png").stat().st_size > 50_000


def test_the_pdf_prints_every_page_with_every_letter(written: Path, caplog):
    pytest.importorskip("weasyprint")
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftoppm) is not installed (make test does)")
    from PIL import Image, ImageStat

    html = (written / "report.html").read_text(encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = pm.reports.write_pdf(html, written / "report.pdf")
    missing = [r.getMessage() for r in caplog.records if "glyph" in r.getMessage()]
    assert not missing, missing[:5]
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(written / "page")], check=True)
    pages = sorted(written.glob("page-*.png"))
    assert len(pages) >= 9  # a page per section at least
    for page in pages:
        with Image.open(page) as picture:
            darkest = ImageStat.Stat(picture.convert("L")).extrema[0][0]
        assert darkest < 128, f"{page.name} is blank"
