"""The sessions a worker's mark-read transactions run in, and the clean-up of a dead
worker's: its open transactions, and the caches its unfinished write-throughs left short.

A worker killed inside a transaction leaves it open on the server. The transaction holds
its documents, so every later write to them conflicts until the server gives up on it:
60 s on SecantusDB, which cannot be changed there (mongod's
``transactionLifetimeLimitSeconds``). So each worker runs its transactions in a few
sessions of its own. It registers their ids in ``meta`` and renews a heartbeat, and every
worker sweeps: a registration whose heartbeat is older than ``stale`` seconds belongs to a
dead worker, and so does one of this host (and PID namespace) whose process is gone, which
a restart on the same machine sees at once. The sweeper kills that worker's sessions
(``killSessions`` aborts their transactions at once), repairs the caches of the students
its committed batches noted as not yet written through (``app.writethroughs``), and drops
the registration. A crash therefore blocks its students' writes for about
``stale + beat`` seconds, not a minute, and reloads exactly its unfinished students.

Background work stops on an event it checks, never on a lone ``cancel()`` (on Python 3.11
``asyncio.wait_for``, which PyMongo awaits on every socket write, can swallow one), and
``close`` waits for it a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from app.db import Database
from app.timefmt import utcnow
from app.training.queries import intents, meta
from app.training.queries.intents import PendingVisit
from app.writethroughs import WriteThroughs

log = logging.getLogger("lumetrix")

CLEAR_AFTER = 0.1  # seconds a finished batch's note may wait for the slot's next batch

Repairer = Callable[[Sequence[PendingVisit]], Awaitable[bool]]
"""Invalidates the caches of visits a dead worker may not have written through; False
when the caches could not be reached (the sweep then tries again)."""


def _pid_namespace() -> str:
    """This process's PID namespace (containers sharing a hostname do not share it)."""
    try:
        return os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        return "-"


def _running(pid: int) -> bool:
    """Whether process ``pid`` of this namespace is alive (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def gone_here(name: str) -> bool:
    """Whether the worker ``name`` ran on this host and PID namespace and its process is
    gone (a name of another form, or of another machine, says nothing)."""
    parts = name.split(":")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, namespace, pid = parts[0], parts[1], int(parts[2])
    if host != socket.gethostname() or namespace != _pid_namespace() or pid == os.getpid():
        return False
    return not _running(pid)


class WriterSessions:
    """A worker's transaction sessions, registered with a heartbeat; sweeps dead workers'."""

    def __init__(
        self,
        db: Database,
        *,
        size: int,
        beat: float = 2.0,
        stale: float = 10.0,
        repair: Repairer | None = None,
    ) -> None:
        self.db = db
        self.name = (
            f"{socket.gethostname()}:{_pid_namespace()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        self.beat = beat
        self.stale = stale
        self.repair = repair
        self._sessions = [db.client.start_session() for _ in range(size)]
        self._free: asyncio.Queue[int] = asyncio.Queue()
        for index in range(size):
            self._free.put_nowait(index)
        self._ids = [session.session_id for session in self._sessions]
        self.intents = WriteThroughs(db, self.name, size, on_finish=self._soon_clear)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._clearing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register, sweep once, and keep both going in the background."""
        await self._tick()
        self._task = asyncio.create_task(self._run(), name="writer-sessions")

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[tuple[int, AsyncClientSession]]:
        """One of this worker's sessions and its slot number, one transaction at a time."""
        index = await self._free.get()
        try:
            yield index, self._sessions[index]
        finally:
            self._free.put_nowait(index)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncClientSession]:
        """One of this worker's sessions, for one transaction at a time."""
        async with self.slot() as (_, session):
            yield session

    async def sweep(self) -> int:
        """Clean up after the workers that stopped; how many were cleaned up."""
        before = utcnow() - timedelta(seconds=self.stale)
        gone = [
            writer
            for writer in await meta.writers(self.db)
            if writer["_id"] != meta.WRITER_PREFIX + self.name
            and (writer["beat"] < before or gone_here(writer["_id"][len(meta.WRITER_PREFIX) :]))
        ]
        cleaned = 0
        for writer in gone:
            if await self._clean_up(writer):
                cleaned += 1
        return cleaned

    async def _clean_up(self, writer: dict[str, Any]) -> bool:
        """Kill a dead worker's sessions, repair what its unfinished batches touched, and
        drop its registration; False when the repair must wait (caches unreachable)."""
        name = writer["_id"][len(meta.WRITER_PREFIX) :]
        await meta.kill_sessions(self.db, list(writer.get("sessions") or []))
        pending = await intents.of_writer(self.db, name)
        if pending:
            if self.repair is None or not await self.repair(pending):
                log.warning("a stopped worker (%s) left caches to repair; trying again", name)
                return False
            students = len({visit.student for visit in pending})
            log.warning(
                "repaired the caches of %d students a stopped worker (%s) had not written through",
                students,
                name,
            )
        await intents.forget(self.db, name)
        await meta.forget_writer(self.db, writer["_id"])
        log.warning("cleaned up after a stopped worker (%s)", name)
        return True

    async def _tick(self) -> None:
        try:
            await meta.beat_writer(self.db, self.name, self._ids, utcnow())
            await self.sweep()
            await self._clear_idle()
        except PyMongoError as exc:  # the database is away: the next tick tries again
            log.debug("writer heartbeat failed: %s", exc)

    def _soon_clear(self) -> None:
        """A batch finished: unset it within ``CLEAR_AFTER`` unless a batch does first."""
        if (self._clearing is None or self._clearing.done()) and not self._stop.is_set():
            self._clearing = asyncio.get_running_loop().create_task(self._clear_later())

    async def _clear_later(self) -> None:
        await asyncio.sleep(CLEAR_AFTER)
        with suppress(PyMongoError):  # the heartbeat tries again
            await self._clear_idle()

    async def _clear_idle(self) -> None:
        """Unset the finished batches of slots no batch has used since they finished."""
        taken: list[int] = []
        while not self._free.empty():
            index = self._free.get_nowait()
            taken.append(index)
        try:
            for index in taken:
                await self.intents.clear(index, self._sessions[index])
        finally:
            for index in taken:
                self._free.put_nowait(index)

    async def _run(self) -> None:
        while not self._stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.beat)
                return
            await self._tick()

    async def close(self, *, wait: float = 5.0) -> None:
        """Stop the heartbeat (waiting at most ``wait`` seconds for a tick under way),
        then, when every write-through of this worker is through, drop its notes and
        registration; otherwise leave both for the other workers' sweep."""
        self._stop.set()
        if self._clearing is not None:
            await asyncio.wait({self._clearing}, timeout=wait)
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=wait)
            if not done:
                self._task.cancel()
                log.warning("writer heartbeat still busy after %.1f s; left behind", wait)
        with suppress(PyMongoError):
            if self.intents.unfinished:
                log.warning(
                    "stopping with %d batches not written through to Redis: left to the "
                    "other workers' sweep",
                    self.intents.unfinished,
                )
                await meta.expire_writer(self.db, meta.WRITER_PREFIX + self.name)
            else:
                await self.intents.forget()
                await meta.forget_writer(self.db, meta.WRITER_PREFIX + self.name)
        for session in self._sessions:
            with suppress(PyMongoError):
                await session.end_session()
