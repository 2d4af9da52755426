"""Keeps the embedded database up: restarts a SecantusDB child that died.

Without it a ``kill -9`` (or a crash, or the OOM killer) of the child left every request
answering 503 until the whole service was restarted by hand. The supervisor notices the
exit, waits a backoff, and starts the server again on the same data directory and the same
port, so the ``AsyncMongoClient`` already open reconnects by itself; the journal keeps every
acknowledged write. Only the owner of the directory (``EmbeddedMongo.owner``) supervises;
a guest's server is its owner's business.

It is a thread, not an asyncio task: ``database_settings`` starts the database before any
event loop runs (``lumetrix dev``, ``serve --workers``), and a restart blocks while the
server boots.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import Counter

from app.embedded import EmbeddedMongo

log = logging.getLogger(__name__)

RESTARTS = Counter(
    "lumetrix_embedded_restarts_total",
    "Restarts of the embedded SecantusDB after it exited on its own.",
)

FIRST_DELAY = 0.5  # s before the first restart
MAX_DELAY = 10.0  # s, the longest wait between restarts
STABLE_AFTER = 30.0  # s up after which a death counts as the first again


def restart_delay(
    quick_deaths: int, *, first: float = FIRST_DELAY, cap: float = MAX_DELAY
) -> float:
    """Seconds to wait before a restart when the server has died ``quick_deaths`` times in
    a row shortly after starting (0 for a death after a stable run): doubling, capped."""
    return min(cap, first * 2.0 ** min(quick_deaths, 32))


def quick_deaths_after(previous: int, uptime: float, *, stable_after: float = STABLE_AFTER) -> int:
    """How many quick deaths in a row a death after ``uptime`` seconds up makes: a server
    that stayed up ``stable_after`` seconds starts the count again."""
    return 0 if uptime >= stable_after else previous + 1


class Supervisor:
    """Watches an owned ``EmbeddedMongo`` from a daemon thread and restarts it when its
    process exits; ``stop`` before stopping the server, so a clean shutdown is not taken
    for a death."""

    def __init__(
        self,
        server: EmbeddedMongo,
        *,
        start_timeout: float = 60.0,
        poll: float = 0.1,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        stable_after: float = STABLE_AFTER,
    ) -> None:
        self.server = server
        self.start_timeout = start_timeout
        self.poll = poll
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin watching (nothing to do for a reused server: its owner watches it)."""
        if not self.server.owner or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="embedded-db-supervisor", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; returns once no restart is under way."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        quick_deaths = -1  # so the first death, however soon, waits the first delay
        up_since = time.monotonic()
        while not self._stopping.wait(self.poll):
            proc = self.server.proc
            if proc is None or proc.poll() is None:
                continue
            uptime = time.monotonic() - up_since
            quick_deaths = quick_deaths_after(quick_deaths, uptime, stable_after=self.stable_after)
            delay = restart_delay(quick_deaths, first=self.first_delay, cap=self.max_delay)
            log.warning(
                "embedded SecantusDB exited with code %s after %.1f s up; restarting it on "
                "127.0.0.1:%d in %.1f s",
                proc.returncode,
                uptime,
                self.server.port,
                delay,
            )
            if self._stopping.wait(delay):
                return
            RESTARTS.inc()
            self.restarts += 1
            up_since = time.monotonic()
            try:
                self.server.restart(self.start_timeout, cancel=self._stopping)
            except (OSError, RuntimeError) as exc:
                # Tried again after a longer wait: a port taken meanwhile may be freed, and
                # the client only ever looks for the server on this one.
                log.error("could not restart the embedded SecantusDB: %s", exc)
