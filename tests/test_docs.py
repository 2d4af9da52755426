"""``/docs`` and ``/redoc`` render offline, in a real headless Chromium, from the
service's own copies of Swagger UI and ReDoc, within their Content-Security-Policy."""

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


def _watch_policy(driver: Any) -> None:
    """Record the page's Content-Security-Policy violations in ``window.cspViolations``."""
    source = (
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


def _violations(driver: Any) -> list[str]:
    return list(driver.execute_script("return window.cspViolations"))


def test_swagger_ui_renders_every_operation_offline(catalog_server: str, browser: Any) -> None:
    _watch_policy(browser)
    browser.get(catalog_server + "/docs")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert "/training/samples" in paths
    assert "/training/samples/{sample_id}/mark-read" in {p.replace("\u200b", "") for p in paths}
    ops = browser.find_elements(By.CSS_SELECTOR, ".opblock")
    assert len(ops) >= 15
    assert all(url.startswith(catalog_server) for url in _resources(browser))
    # Open an operation: its schemas and examples render under the policy too.
    ops[0].click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-body"))
    assert _violations(browser) == []


def test_redoc_renders_offline(catalog_server: str, browser: Any) -> None:
    _watch_policy(browser)
    browser.get(catalog_server + "/redoc")
    WebDriverWait(browser, 30).until(
        lambda d: "List samples" in d.find_element(By.TAG_NAME, "body").text
    )
    assert "Lumetrix training service" in browser.title
    assert all(url.startswith(catalog_server) for url in _resources(browser))
    # The "powered by" logo from the vendor's site is the one thing the policy refuses.
    logo = "img-src https://cdn.redoc.ly/"
    assert [v for v in _violations(browser) if not v.startswith(logo)] == []
