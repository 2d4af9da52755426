"""The publisher's lease: one document in ``meta`` saying which process streams the outbox
and until when, so one publisher among every worker and machine streams at a time.

``{_id: "events-publisher", owner, until}`` is taken with one conditional
``find_one_and_update`` that matches only when the lease has expired or is already ours;
when another holds it, the upsert's insert collides on ``_id`` and we know it is taken.
The holder renews it every third of its length. ``until`` is the taker's clock: keep the
hosts NTP-synchronised. Mutual exclusion is best effort (a publisher paused for longer
than the lease may publish next to its successor), which costs only duplicates: the
stream is at-least-once and consumers dedupe by event id.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from contextlib import suppress
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from app.db import META, Database
from app.timefmt import utcnow

LEASE_ID = "events-publisher"


def owner_name() -> str:
    """A name for this publisher, unique to this process and start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """Takes, renews and releases the lease ``name`` (default: the publisher's) for
    ``owner``."""

    def __init__(
        self, db: Database, *, seconds: float, owner: str | None = None, name: str = LEASE_ID
    ) -> None:
        self.db = db
        self.name = name  # the lease's _id: one per kind of worker (publisher, forwarder)
        self.seconds = seconds
        self.owner = owner or owner_name()
        self._renewed = float("-inf")  # monotonic time of the last successful take or renewal

    async def hold(self) -> bool:
        """Whether we hold the lease, taking or renewing it once a third of its length has
        gone since the last time (so a holder that keeps working never lets it run out)."""
        now = time.monotonic()
        if now - self._renewed < self.seconds / 3:
            return True
        self._renewed = now if await self.acquire() else float("-inf")
        return self._renewed == now

    def doubt(self) -> None:
        """Prove the lease again at the next ``hold`` (after a failure)."""
        self._renewed = float("-inf")

    async def let_go(self) -> None:
        """Release the lease if we took it (a clean stop); MongoDB away: it runs out."""
        if self._renewed > float("-inf"):
            with suppress(PyMongoError):
                await self.release()

    async def acquire(self) -> bool:
        """Take the lease when it has expired or is ours (renewing it); whether we hold it."""
        now = utcnow()
        try:
            doc = await self.db[META].find_one_and_update(
                {"_id": self.name, "$or": [{"until": {"$lt": now}}, {"owner": self.owner}]},
                {"$set": {"owner": self.owner, "until": now + timedelta(seconds=self.seconds)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False  # it exists and is another's, unexpired
        if doc is None:  # SecantusDB's racing-upsert quirk: read it back
            doc = await self.db[META].find_one({"_id": self.name})
        return doc is not None and doc.get("owner") == self.owner

    async def release(self) -> None:
        """Give the lease up now (a clean stop), so another publisher need not wait it out."""
        await self.db[META].update_one(
            {"_id": self.name, "owner": self.owner}, {"$set": {"until": utcnow()}}
        )

    async def holder(self) -> str | None:
        """Who holds the lease now, if anyone."""
        doc = await self.db[META].find_one({"_id": self.name})
        if doc is None or doc["until"] < utcnow():
            return None
        return str(doc["owner"])
