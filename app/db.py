"""MongoDB: the client and the collection names (every call lives in ``app.training.queries``)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

SAMPLES = "training_samples_filtered"
PROGRESS = "sample_progress"
STATS = "student_stats"
META = "meta"
# Progress events written in the mark-read transaction, until the publisher streams them.
OUTBOX = "event_outbox"
# Mark-read batches committed to MongoDB whose Redis write-throughs may not be done yet.
INTENTS = "writethrough_intents"

Database = AsyncDatabase[dict[str, Any]]
MongoClient = AsyncMongoClient[dict[str, Any]]


def create_client(
    url: str, *, timeout_ms: int, max_in_flight: int = 100, queue_timeout_ms: int | None = None
) -> MongoClient:
    """An async client: aware-UTC datetimes, journaled writes, bounded waits on a dead server.

    ``max_in_flight`` bounds the operations this process has at the server at once (the
    pool's size); an operation that finds them all busy waits at most ``queue_timeout_ms``
    and then fails (``WaitQueueTimeoutError``, answered 503), so an overloaded database
    sheds load in milliseconds instead of queueing requests for seconds."""
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 5, 10_000),
        # Notice a dead server within a second or so, not the default 10 s.
        heartbeatFrequencyMS=1000,
        maxPoolSize=max_in_flight,
        waitQueueTimeoutMS=queue_timeout_ms,
        retryWrites=True,
        # Acknowledge a write only once it is in the journal: SecantusDB otherwise lost the
        # last few dozen of 1,000 acknowledged upserts to a kill -9 (0 lost with j=true, for
        # ~7% more time per write); mongod gives the same guarantee.
        journal=True,
    )
