"""The MongoDB loaders behind the per-student caches.

A load serves every later request of its student until the next write, so it may wait
for MongoDB far longer than a one-off query: each load has ``wait`` seconds in all
(PyMongo's client-side ``timeout``, which replaces the pool's short queue timeout for
it). Loads also queue among themselves for at most ``slots`` of the worker's MongoDB
connections, so that when many students' caches are cold at once (a new or flushed
Redis) learners wait briefly for their loads instead of being shed, and mark-reads and
one-off queries still find a free connection (``make deploybench``, event (d)).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime

import pymongo
from pymongo.errors import ExecutionTimeout, NetworkTimeout, WaitQueueTimeoutError

from app.db import Database
from app.training.ports import ProgressLoader, ReadLoader, StudentProgress
from app.training.progress import load_student_progress
from app.training.queries import reads

SLACK = 0.001  # s: a socket timeout this close to the budget's end is the budget's


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """PyMongo's client-side timeout of ``seconds`` around a load. A load it cuts off is
    shed (``ExecutionTimeout``: a 503 ``service_unavailable`` with ``Retry-After``), not
    a database outage: PyMongo raises the cut-off as a ``NetworkTimeout``, which the error
    handler would otherwise answer ``database_unavailable`` and log once per request."""
    deadline = time.monotonic() + seconds
    try:
        with pymongo.timeout(seconds):
            yield
    except NetworkTimeout as exc:
        if time.monotonic() < deadline - SLACK:
            raise  # the connection failed before the budget ran out: a real failure
        raise ExecutionTimeout(f"the load outlasted its {seconds:.3g} s budget") from exc


class LoadGate:
    """At most ``slots`` loads at MongoDB at once, each within ``wait`` seconds."""

    def __init__(self, *, slots: int, wait: float) -> None:
        self.wait = wait
        self._slots = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        """A load's turn, then its MongoDB budget: what is left of ``wait``. Raises
        ``WaitQueueTimeoutError`` when no turn came, ``ExecutionTimeout`` when the budget
        ran out (both a 503 ``service_unavailable``)."""
        deadline = time.monotonic() + self.wait
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            raise WaitQueueTimeoutError(f"no load slot within {self.wait:.1f} s") from None
        try:
            with within(max(0.001, deadline - time.monotonic())):
                yield
        finally:
            self._slots.release()


def read_loader(db: Database, gate: LoadGate) -> ReadLoader:
    """First-read times of a student through ``gate``: a whole set (a load), or a page's
    ids, which the cache asks only when Redis is away (then every page needs MongoDB, and
    a page that waits is better than a 503)."""

    async def load(
        student: str, language: str, sample_ids: Sequence[str] | None = None
    ) -> dict[str, datetime]:
        async with gate.enter():
            return await reads.read_times(db, student, language, sample_ids)

    return load


def progress_loader(db: Database, gate: LoadGate) -> ProgressLoader:
    """A student's progress (stats document and recent reads) through ``gate``."""

    async def load(student: str) -> StudentProgress:
        async with gate.enter():
            return await load_student_progress(db, student)

    return load
