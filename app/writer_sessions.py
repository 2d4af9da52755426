"""The sessions a worker's mark-read transactions run in, and the clean-up of a dead
worker's.

A worker killed inside a transaction leaves it open on the server. The transaction holds
its documents, so every later write to them conflicts until the server gives up on it:
60 s on SecantusDB, which cannot be changed there (mongod's
``transactionLifetimeLimitSeconds``). So each worker runs its transactions in a few
sessions of its own. It registers their ids in ``meta`` and renews a heartbeat, and every
worker sweeps: a registration whose heartbeat is older than ``stale`` seconds belongs to a
dead worker. The sweeper kills that worker's sessions (``killSessions`` aborts their
transactions at once) and drops the registration. A crash therefore blocks its students'
writes for about ``stale + beat`` seconds, not a minute.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from app.db import Database
from app.training.queries import meta
from app.training.timefmt import utcnow

log = logging.getLogger("lumetrix")


class WriterSessions:
    """A worker's transaction sessions, registered with a heartbeat; sweeps dead workers'."""

    def __init__(self, db: Database, *, size: int, beat: float = 2.0, stale: float = 10.0) -> None:
        self.db = db
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.beat = beat
        self.stale = stale
        self._sessions = [db.client.start_session() for _ in range(size)]
        self._free: asyncio.Queue[AsyncClientSession] = asyncio.Queue()
        for session in self._sessions:
            self._free.put_nowait(session)
        self._ids = [session.session_id for session in self._sessions]
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register, sweep once, and keep both going in the background."""
        await self._tick()
        self._task = asyncio.create_task(self._run(), name="writer-sessions")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncClientSession]:
        """One of this worker's sessions, for one transaction at a time."""
        session = await self._free.get()
        try:
            yield session
        finally:
            self._free.put_nowait(session)

    async def sweep(self) -> int:
        """Kill the sessions of workers whose heartbeat stopped; how many workers."""
        before = utcnow() - timedelta(seconds=self.stale)
        gone = await meta.stale_writers(self.db, before)
        for writer in gone:
            await meta.kill_sessions(self.db, list(writer.get("sessions") or []))
            await meta.forget_writer(self.db, writer["_id"])
            log.warning("killed the open sessions of a stopped worker (%s)", writer["_id"])
        return len(gone)

    async def _tick(self) -> None:
        try:
            await meta.beat_writer(self.db, self.name, self._ids, utcnow())
            await self.sweep()
        except PyMongoError as exc:  # the database is away: the next tick tries again
            log.debug("writer heartbeat failed: %s", exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.beat)
            await self._tick()

    async def close(self) -> None:
        """Stop the heartbeat, drop the registration, end the sessions."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        with suppress(PyMongoError):
            await meta.forget_writer(self.db, meta.WRITER_PREFIX + self.name)
        for session in self._sessions:
            with suppress(PyMongoError):
                await session.end_session()
