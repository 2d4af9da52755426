"""MongoDB: the client and the collection names (every call lives in ``app.training.queries``)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

SAMPLES = "training_samples_filtered"
PROGRESS = "sample_progress"
STATS = "student_stats"
META = "meta"

Database = AsyncDatabase[dict[str, Any]]
MongoClient = AsyncMongoClient[dict[str, Any]]


def create_client(url: str, *, timeout_ms: int) -> MongoClient:
    """An async client: aware-UTC datetimes, journaled writes, bounded waits on a dead server."""
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 5, 10_000),
        maxPoolSize=100,
        retryWrites=True,
        # Acknowledge a write only once it is in the journal: SecantusDB otherwise lost the
        # last few dozen of 1,000 acknowledged upserts to a kill -9 (0 lost with j=true, for
        # ~7% more time per write); mongod gives the same guarantee.
        journal=True,
    )
