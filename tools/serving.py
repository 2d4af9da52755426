"""Serve the app in a thread of this process, on a free loopback port: for the tools
and tests that need a real HTTP server next to their own code (a browser, a screenshot,
a generated client)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from app.embedded import free_port
from app.main import create_app
from app.settings import Settings


@contextmanager
def thread_server(settings: Settings, *, start_timeout: float = 120) -> Iterator[str]:
    """Serve ``create_app(settings)`` until the block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
