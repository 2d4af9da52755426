"""MongoDB: the client, collection names, indexes and the catalog version."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

SAMPLES = "training_samples_filtered"
PROGRESS = "sample_progress"
STATS = "student_stats"
META = "meta"
CATALOG_VERSION_ID = "catalog_version"

Database = AsyncDatabase[dict[str, Any]]

SAMPLE_INDEXES = [
    IndexModel([("sample_id", ASCENDING)], unique=True, name="sample_id_unique"),
    IndexModel(
        [("language", ASCENDING), ("chapter", ASCENDING), ("sample_id", ASCENDING)],
        name="language_chapter_sample",
    ),
    IndexModel([("language", ASCENDING), ("sample_id", ASCENDING)], name="language_sample"),
]
# The seed's three, the unique one first; the fourth serves recent activity.
PROGRESS_INDEXES = [
    IndexModel(
        [("sidhi_id", ASCENDING), ("sample_id", ASCENDING)],
        unique=True,
        name="student_sample_unique",
    ),
    IndexModel([("sidhi_id", ASCENDING), ("language", ASCENDING)], name="student_language"),
    IndexModel([("sidhi_id", ASCENDING), ("knowledge_area", ASCENDING)], name="student_area"),
    IndexModel(
        [("sidhi_id", ASCENDING), ("language", ASCENDING), ("read_at", DESCENDING)],
        name="student_language_read_at",
    ),
]


def create_client(url: str, *, timeout_ms: int) -> AsyncMongoClient[dict[str, Any]]:
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


async def ensure_indexes(db: Database) -> None:
    """Create every index the API relies on (idempotent)."""
    await db[SAMPLES].create_indexes(SAMPLE_INDEXES)
    await db[PROGRESS].create_indexes(PROGRESS_INDEXES)


async def catalog_version(db: Database) -> int:
    """The current catalog version (0 before any bump)."""
    doc = await db[META].find_one({"_id": CATALOG_VERSION_ID})
    return int(doc["version"]) if doc else 0


async def bump_catalog_version(db: Database) -> int:
    """Increment the catalog version so every cache tier refreshes; return the new one."""
    doc = await db[META].find_one_and_update(
        {"_id": CATALOG_VERSION_ID},
        {"$inc": {"version": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None
    return int(doc["version"])
