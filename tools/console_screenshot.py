"""Take ``docs/console.png``: the learner console in headless Chromium on demo data.

``python -m tools.console_screenshot [--output PATH]`` seeds the demo catalog into a fresh
database (``MONGODB_URL``, else an embedded SecantusDB in a temporary directory), serves
the app on a free loopback port, records some reads for the demo student and a few
classmates so progress and the leaderboard have something to show, opens the console
with the student's token in the URL fragment, opens one sample and saves the page.
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` dev dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from app.auth import mint_token
from app.cli import console_url
from app.resources import database_settings, open_resources
from app.seed import seed_demo
from app.settings import Settings
from app.training.queries import meta
from migrations.add_language_to_samples import migrate
from tools.serving import thread_server

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "console.png"
STUDENT = "SIDHI_DEMO000001"
CLIENT_ID = "web"
# Signs only this run's tokens against this run's throwaway server.
JWT_SECRET = "lumetrix-console-screenshot-secret-0123456789"
# Reads of the demo student per C chapter: enough for the bars to differ visibly.
STUDENT_READS = {1: 64, 2: 41, 3: 23, 4: 9, 5: 3}
CLASSMATES = {"SIDHI_ADA_L": 83, "SIDHI_GRACE_H": 57, "SIDHI_LINUS_T": 31, "SIDHI_KEN_T": 12}
SHOWN_SAMPLE = 4  # the list position of the sample shown opened (unread, a code task)
WIDTH = 1280


def settings_for(mongo_url: str | None, data_dir: Path) -> Settings:
    """A throwaway service: its own database name, in-process Redis, no rate limit."""
    return Settings(
        mongodb_url=mongo_url,
        mongodb_db=f"lmx_console_{uuid.uuid4().hex[:10]}",
        redis_url=None,
        redis_prefix=f"lmxshot:{uuid.uuid4().hex[:8]}:",
        jwt_secret=JWT_SECRET,
        lumetrix_env="development",
        data_dir=data_dir,
        mark_read_rate=0,
        access_log=False,
    )


async def prepare(settings: Settings) -> None:
    """Seed and migrate the demo catalog into the settings' database."""
    async with open_resources(settings, indexes=False) as res:
        await seed_demo(res.db, show_progress=False)
        await migrate(res.db, show_progress=False)


async def drop(settings: Settings) -> None:
    """Drop the settings' database."""
    async with open_resources(settings, indexes=False) as res:
        await meta.drop_database(res.db)


def record_reads(base: str, student: str, per_chapter: dict[int, int], skip: int = 0) -> None:
    """Mark the first samples of each C chapter read as ``student`` (after ``skip``)."""
    token = mint_token(JWT_SECRET, sub=student, client_id=CLIENT_ID)
    headers = {"Authorization": f"Bearer {token}", "X-Client-Id": CLIENT_ID}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for chapter, count in per_chapter.items():
            page = client.get(
                "/training/samples", params={"language": "c", "chapter": chapter, "limit": 100}
            )
            page.raise_for_status()
            ids = [s["sample_id"] for s in page.json()["data"]][skip : skip + count]
            for n, sample_id in enumerate(ids):
                answer = client.post(
                    f"/training/samples/{sample_id}/mark-read", json={"time_spent": 30 + n % 90}
                )
                answer.raise_for_status()


def chromium() -> Any:
    """A headless Chromium WebDriver with no route off the machine."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        raise SystemExit("needs chromium and chromedriver (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WIDTH},900",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def screenshot(base: str, output: Path) -> None:
    """Open the console as the demo student, open one sample and save the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    token = mint_token(JWT_SECRET, sub=STUDENT, client_id=CLIENT_ID)
    driver = chromium()
    try:
        driver.get(console_url(base, token, CLIENT_ID))
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#board li.me"))
        items = driver.find_elements(By.CSS_SELECTOR, "#samples li.sample")
        wanted = items[SHOWN_SAMPLE].get_attribute("data-sample-id")
        items[SHOWN_SAMPLE].find_element(By.CSS_SELECTOR, "button").click()
        wait.until(
            lambda d: d.find_element(By.ID, "detail").get_attribute("data-sample-id") == wanted
        )
        # The whole page, not just the first screenful: the window's size includes what is
        # not viewport, so add that difference to the page's height.
        page, inner = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.innerHeight]"
        )
        outer = driver.get_window_size()["height"]
        driver.set_window_size(WIDTH, int(page) + int(outer) - int(inner))
        output.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(output))
    finally:
        driver.quit()


def take(output: Path, mongo_url: str | None) -> None:
    """Start everything, take the screenshot, drop the database."""
    with tempfile.TemporaryDirectory(prefix="lumetrix-shot-") as tmp:
        with database_settings(settings_for(mongo_url, Path(tmp))) as settings:
            asyncio.run(prepare(settings))
            try:
                with thread_server(settings) as base:
                    # Skip the first page's samples 0, 2 and 4, so the list shows both badges.
                    record_reads(base, STUDENT, {1: 1}, skip=1)
                    record_reads(base, STUDENT, {1: 2}, skip=5)
                    record_reads(base, STUDENT, {1: STUDENT_READS[1] - 3}, skip=12)
                    record_reads(base, STUDENT, {k: v for k, v in STUDENT_READS.items() if k > 1})
                    for name, count in CLASSMATES.items():
                        record_reads(base, name, {1: count // 2, 2: count - count // 2})
                    screenshot(base, output)
            finally:
                asyncio.run(drop(settings))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m tools.console_screenshot [--output PATH]``."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    take(args.output, os.environ.get("MONGODB_URL") or None)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
