"""A worker's shutdown within a bound: each step gets what is left of ``SHUTDOWN_TIMEOUT``
and is left behind (cancelled, not awaited, logged) when it outlasts it.

A deploy sends SIGTERM and waits a bounded time before it kills; a step that hangs (a
cancel lost inside a library, a database that stopped answering mid-write) must not
turn a clean stop into a kill. Steps are awaited through ``asyncio.wait``, which never
waits on a task past its timeout, not ``asyncio.wait_for``, which waits for the task to
take its cancel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

log = logging.getLogger("lumetrix")
GRACE = 0.2  # seconds each step gets even when the budget is spent (closing sockets)


class ShutdownBudget:
    """The time a shutdown may take, counted from its first step."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: float | None = None
        self.overrun: list[str] = []  # the steps left behind

    def left(self) -> float:
        """Seconds left (the clock starts at the first call)."""
        if self._until is None:
            self._until = time.monotonic() + self.seconds
        return max(GRACE, self._until - time.monotonic())

    async def run(self, what: str, step: Awaitable[object]) -> bool:
        """Await ``step`` for what is left of the budget; whether it finished. A step
        that raises is logged, never raised: the steps after it still run."""
        task = asyncio.ensure_future(step)
        done, _ = await asyncio.wait({task}, timeout=self.left())
        if not done:
            task.cancel()
            self.overrun.append(what)
            log.error(
                "shutdown: %s still running past SHUTDOWN_TIMEOUT (%.1f s); left behind",
                what,
                self.seconds,
            )
            return False
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("shutdown: %s failed: %s: %s", what, type(exc).__name__, exc)
        return True
