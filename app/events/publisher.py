"""The event publisher: streams the outbox to Redis, at least once, while holding the lease.

One round: the events of the oldest outbox documents (about ``batch`` events, whole
mark-read batches) are XADDed to the stream in one pipeline, and only then are those
documents deleted from the outbox. A crash between the two republishes
them (the same event ids: consumers dedupe); a crash before the XADD loses nothing, since
the outbox still holds them. An idle publisher looks again every ``poll`` seconds. When
MongoDB or Redis fails, it logs once, backs off (up to ``MAX_BACKOFF`` seconds) and tries
again, forever: it never stops the process it runs in and never drops an outbox row.

It runs in every serving worker (``app.main``; ``EVENTS_PUBLISHER=false`` turns it off)
and as ``lumetrix events publish``; the lease (``app.events.lease``) lets one of them
publish at a time, and another takes over within a lease after the holder dies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from prometheus_client import Counter
from pymongo.errors import PyMongoError

from app.db import Database
from app.events import outbox
from app.events.lease import Lease
from app.events.schema import stream_fields
from app.faults import crash_point
from app.settings import Settings
from app.shutdown import ShutdownBudget
from cache.backend import CacheUnavailable
from cache.events import EventStream

log = logging.getLogger("lumetrix")
PUBLISHED = Counter("lumetrix_events_published_total", "Outbox events streamed to Redis.")
MAX_BACKOFF = 5.0  # seconds between attempts while MongoDB or Redis is away


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """How a publisher works: lease length, batch size, idle poll interval (seconds)."""

    lease_seconds: float = 10.0
    batch: int = 500
    poll: float = 0.2

    @classmethod
    def of(cls, settings: Settings) -> PublishOptions:
        """The options ``settings`` name (``EVENTS_*``)."""
        return cls(
            lease_seconds=settings.events_lease_seconds,
            batch=settings.events_batch,
            poll=settings.events_poll_interval,
        )


class Publisher:
    """Streams ``db``'s outbox to ``stream`` whenever it holds the lease."""

    def __init__(
        self,
        db: Database,
        stream: EventStream,
        options: PublishOptions,
        *,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.stream = stream
        self.options = options
        self.lease = Lease(db, seconds=options.lease_seconds, owner=owner)
        self.published = 0  # events this publisher streamed (republished ones included)

    async def publish_once(self) -> int:
        """One round: stream the oldest outbox events, then delete them; how many."""
        docs = await outbox.oldest(self.db, self.options.batch)
        if not docs:
            return 0
        events = [stream_fields(event) for doc in docs for event in doc.get("events") or []]
        await self.stream.append(events)
        crash_point("events_published")  # streamed, not yet deleted: a duplicate window
        await outbox.remove(self.db, [str(doc["_id"]) for doc in docs])
        self.published += len(events)
        PUBLISHED.inc(len(events))
        return len(events)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Publish until ``stop`` is set (checked between rounds and during pauses); then
        give the lease up."""
        stop = stop or asyncio.Event()
        backoff = self.options.poll
        failing = False
        try:
            while not stop.is_set():
                try:
                    if not await self.lease.hold():
                        pause = self.options.lease_seconds / 3
                    elif await self.publish_once() >= self.options.batch:
                        pause = 0.0  # more is waiting: go on at once
                    else:
                        pause = self.options.poll
                    if failing:
                        log.warning("event publisher: working again")
                    failing, backoff = False, self.options.poll
                except Exception as exc:  # MongoDB or Redis away, mostly: never give up
                    if not failing:
                        expected = isinstance(exc, PyMongoError | CacheUnavailable)
                        log.log(
                            logging.WARNING if expected else logging.ERROR,
                            "event publisher: %s: %s; retrying (outbox kept)",
                            type(exc).__name__,
                            exc,
                            exc_info=not expected,
                        )
                    failing, pause = True, backoff
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    self.lease.doubt()  # prove the lease again before publishing
                if pause:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
        finally:
            await self.lease.let_go()


@asynccontextmanager
async def background_publisher(
    publisher: Publisher | None, shutdown: ShutdownBudget
) -> AsyncIterator[None]:
    """Run ``publisher`` (None: nothing) in a task for the block; on the way out, signal
    it to stop and wait for it what ``shutdown`` allows."""
    if publisher is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run(stop), name="event-publisher")
    try:
        yield
    finally:
        stop.set()
        await shutdown.run("event publisher", task)
