"""The learner console at ``/console``, driven end to end in a real headless Chromium
against the service on the demo catalog, plus what the server promises about the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.auth import mint_token
from app.cli import console_url
from app.console import STATIC
from app.db import SAMPLES
from app.training.names import pseudonym
from tests.conftest import SECRET, make_settings, unique_name
from tests.factories import make_sample
from tests.live import live_server

WAIT = 30


def _open(browser: Any, server: str, token: str, client: str = "web") -> None:
    """Load the console signed in through the URL fragment, in a clean tab state."""
    browser.get(server + "/health")  # same origin: lets us clear the tab's storage first
    browser.execute_script("sessionStorage.clear()")
    browser.get(console_url(server, token, client))


def _items(browser: Any) -> list[Any]:
    return list(browser.find_elements(By.CSS_SELECTOR, "#samples li.sample"))


def _bar(browser: Any, chapter: int) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f'#chapters li[data-chapter="{chapter}"]')


def _text(browser: Any, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def test_read_a_sample_flips_its_badge_and_grows_the_chapter_bar(
    catalog_server: str, browser: Any
) -> None:
    student = unique_name("SIDHI")
    token = mint_token(SECRET, sub=student, client_id="web")
    _open(browser, catalog_server, token)
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: _items(d) and d.find_elements(By.CSS_SELECTOR, "#chapters li"))

    # The token left the address bar as soon as the page read it.
    assert "token=" not in browser.current_url
    assert student in _text(browser, "who-student")
    items = _items(browser)
    assert all(item.get_attribute("data-read") == "false" for item in items)
    assert {item.find_element(By.CSS_SELECTOR, ".badge").text for item in items} == {"unread"}
    first = items[0]
    sample_id = first.get_attribute("data-sample-id")
    chapter = int(sample_id.split("_ch")[1].split("_")[0])
    assert _bar(browser, chapter).get_attribute("data-read") == "0"
    assert _text(browser, "stat-points") == "0"

    first.find_element(By.CSS_SELECTOR, "button").click()
    wait.until(
        lambda d: d.find_element(By.ID, "detail").get_attribute("data-sample-id") == sample_id
    )
    assert _text(browser, "detail-question")  # question and answer are shown
    assert _text(browser, "detail-answer")
    assert browser.find_element(By.ID, "detail-badge").text == "unread"

    browser.find_element(By.ID, "mark-read").click()
    row = f'#samples li[data-sample-id="{sample_id}"]'
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-read") == "true")
    assert browser.find_element(By.CSS_SELECTOR, row + " .badge").text == "read"
    wait.until(lambda d: _bar(d, chapter).get_attribute("data-read") == "1")
    bar = _bar(browser, chapter)
    assert (
        bar.find_element(By.CSS_SELECTOR, ".bar-count").text
        == f"1 / {bar.get_attribute('data-total')}"
    )
    wait.until(lambda d: _text(d, "stat-points") == "1")
    assert _text(browser, "stat-read") == "1"
    wait.until(lambda d: d.find_element(By.ID, "detail-badge").text == "read")
    # The board shows the caller by pseudonym, highlighted as theirs, never by id.
    name = pseudonym(student, key=make_settings("", "unused", "fakeredis").pseudonym_secret)
    wait.until(lambda d: name in _text(d, "board"))
    mine = browser.find_element(By.CSS_SELECTOR, "#board li.me .name")
    assert mine.text == name and student not in _text(browser, "board")
    assert name in _text(browser, "board-me")
    assert not browser.find_element(By.ID, "error").is_displayed()

    # The server recorded the read with the time the page measured (at least 1 s).
    headers = {"Authorization": f"Bearer {token}", "X-Client-Id": "web"}
    detail = httpx.get(f"{catalog_server}/training/samples/{sample_id}", headers=headers).json()
    assert detail["data"]["isRead"] is True and detail["data"]["timeSpent"] >= 1

    # The token is kept for the tab: a reload without the fragment shows the read state.
    browser.get(catalog_server + "/console")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    assert browser.find_element(By.CSS_SELECTOR, row).get_attribute("data-read") == "true"


def test_bad_token_shows_the_error_and_the_sign_in_form(catalog_server: str, browser: Any) -> None:
    forged = mint_token(
        "another-secret-of-at-least-thirty-two-bytes", sub="SIDHI_X", client_id="web"
    )
    _open(browser, catalog_server, forged)
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_element(By.ID, "error").is_displayed())
    assert "token signature is invalid" in _text(browser, "error")
    assert "HTTP 401" in _text(browser, "error")
    assert browser.find_element(By.ID, "signin").is_displayed()
    assert not browser.find_element(By.ID, "console").is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0

    # Signing in from the form with a good token but the wrong client id: refused too.
    good = mint_token(SECRET, sub=unique_name("SIDHI"), client_id="web")
    browser.find_element(By.ID, "token-input").send_keys(good)
    client = browser.find_element(By.ID, "client-input")
    client.clear()
    client.send_keys("mobile")
    browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    wait.until(lambda d: "X-Client-Id" in _text(d, "error"))

    # And with the right client id the console opens.
    browser.find_element(By.ID, "token-input").send_keys(good)
    client.clear()
    client.send_keys("web")
    browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    wait.until(lambda d: _items(d))
    assert not browser.find_element(By.ID, "error").is_displayed()


HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'


@pytest.fixture
async def hostile_db(fresh_db: Any) -> str:
    """A catalog of its own whose one sample's text is markup meant to run script."""
    await fresh_db[SAMPLES].insert_one(
        make_sample(type="program", question="Q " + HOSTILE, answer="A " + HOSTILE)
    )
    return str(fresh_db.name)


def test_sample_text_is_shown_as_text_never_run(
    mongo_url: str, hostile_db: str, browser: Any
) -> None:
    with live_server(make_settings(mongo_url, hostile_db, "fakeredis")) as server:
        _open(browser, server, mint_token(SECRET, sub=unique_name("SIDHI"), client_id="web"))
        wait = WebDriverWait(browser, WAIT)
        wait.until(lambda d: _items(d))
        _items(browser)[0].find_element(By.CSS_SELECTOR, "button").click()
        wait.until(lambda d: _text(d, "detail-answer"))
        assert _text(browser, "detail-question") == "Q " + HOSTILE
        assert _text(browser, "detail-answer") == "A " + HOSTILE
        assert not browser.find_elements(By.CSS_SELECTOR, "#console img, #console script")
        assert browser.execute_script("return window.pwned === undefined")


def test_page_headers_and_schema(catalog_server: str) -> None:
    page = httpx.get(catalog_server + "/console")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    for asset in ("console.js", "console.css"):
        assert httpx.get(f"{catalog_server}/console/assets/{asset}").status_code == 200
    paths = httpx.get(catalog_server + "/openapi.json").json()["paths"]
    assert not any(path.startswith("/console") for path in paths)


def test_script_never_writes_markup() -> None:
    # API text reaches the page through textContent only; keep it that way.
    source = (STATIC / "console.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source


def test_console_url_carries_the_token_in_the_fragment() -> None:
    url = console_url("http://127.0.0.1:8000", "a.b-c_d", "web")
    parts = urlsplit(url)
    assert parts.path == "/console" and parts.query == ""
    assert parse_qs(parts.fragment) == {"token": ["a.b-c_d"], "client": ["web"]}


def test_console_files_are_package_data() -> None:
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"app.console" = ["static/*.html", "static/*.js", "static/*.css"]' in pyproject
    assert {p.name for p in STATIC.iterdir()} >= {"index.html", "console.js", "console.css"}


def test_empty_board_and_long_chapter_labels_render_cleanly(
    catalog_server: str, browser: Any
) -> None:
    _open(browser, catalog_server, mint_token(SECRET, sub=unique_name("SIDHI"), client_id="web"))
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chapters li"))
    # Every chapter label is shown whole (C's "9 memory_management" was cut to "9 memory_mana…").
    labels = browser.find_elements(By.CSS_SELECTOR, "#chapters .bar-label")
    assert any("memory_management" in label.text for label in labels)
    cut = browser.execute_script(
        "return [...document.querySelectorAll('#chapters .bar-label')]"
        ".filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)"
    )
    assert cut == []
    # A board nobody is on yet: its one line of text is one line, not a word per line.
    Select(browser.find_element(By.ID, "period")).select_by_value("week")
    Select(browser.find_element(By.ID, "language")).select_by_value("python")
    wait.until(lambda d: "Nobody has read anything yet." in _text(d, "board"))
    empty = browser.find_element(By.CSS_SELECTOR, "#board li")
    line_height = browser.execute_script(
        "return parseFloat(getComputedStyle(arguments[0]).lineHeight)", empty
    )
    assert empty.size["height"] < 2 * line_height + 8, empty.size
