"""A real HTTP server for tests that need one (a browser, a generated client): the app
served by uvicorn on a loopback port, in a thread with its own event loop, and a headless
Chromium driven through Debian's ``chromium`` and ``chromium-driver``."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.serving import thread_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


live_server = thread_server  # the app in a thread of the test process, on a free port


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium WebDriver session (1280 by 900), quit afterwards."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        # `make test` installs both (tools/run_tests.sh); a skipped test is no passing one.
        pytest.fail(
            "the browser tests need Debian's chromium and chromium-driver: "
            "apt-get install chromium chromium-driver (or run `make test`)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        # No internet: every host but loopback fails to resolve, so a page that needs a CDN
        # shows it here exactly as it would offline.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


async def start_server(
    port: int, env: dict[str, str], workers: int = 1, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A ``lumetrix serve`` process on ``port`` with ``env``, once its /ready answers 200
    (its log, stderr, goes to ``log`` when given)."""
    stderr = log.open("ab") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant; waiting is async
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    if log is not None:
        stderr.close()  # the child holds its own copy
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=1) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            # Never block the loop: the test's own MongoDB client monitors on it.
            await asyncio.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready")


async def mark_read_killing(
    http: httpx.AsyncClient,
    base: str,
    sample_id: str,
    server: subprocess.Popen[bytes],
    time_spent: int = 7,
) -> None:
    """POST a mark-read to a server armed to kill itself at a step of it (``app.faults``):
    the request fails and the server exits by SIGKILL."""
    with pytest.raises(httpx.TransportError):
        await http.post(
            f"{base}/training/samples/{sample_id}/mark-read", params={"time_spent": time_spent}
        )
    assert await asyncio.to_thread(server.wait, 20) == -signal.SIGKILL
