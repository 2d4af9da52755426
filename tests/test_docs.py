"""``/docs`` and ``/redoc`` render offline, in a real headless Chromium, from the
service's own copies of Swagger UI and ReDoc."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def _resources(driver: Any) -> list[str]:
    """What the page loaded as code, styles or data (ReDoc's "powered by" logo image comes
    from its vendor's site and simply does not show offline)."""
    script = (
        "return performance.getEntriesByType('resource')"
        ".filter(e => e.initiatorType !== 'img').map(e => e.name)"
    )
    return list(driver.execute_script(script))


def test_swagger_ui_renders_every_operation_offline(catalog_server: str, browser: Any) -> None:
    browser.get(catalog_server + "/docs")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/training/samples" in paths
    assert "/training/samples/{sample_id}/mark-read" in {p.replace("\u200b", "") for p in paths}
    ops = browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert len(ops) >= 15
    assert all(url.startswith(catalog_server) for url in _resources(browser))


def test_redoc_renders_offline(catalog_server: str, browser: Any) -> None:
    browser.get(catalog_server + "/redoc")
    WebDriverWait(browser, 30).until(
        lambda d: "List samples" in d.find_element(By.TAG_NAME, "body").text
    )
    assert "Lumetrix training service" in browser.title
    assert all(url.startswith(catalog_server) for url in _resources(browser))
