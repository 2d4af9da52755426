"""Indexes of every collection, and the catalog version every cache tier is keyed by."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import OperationFailure

from app.db import META, PROGRESS, SAMPLES, STATS, Database

CATALOG_VERSION_ID = "catalog_version"
INDEX_NOT_FOUND = 27

SAMPLE_ID_INDEX = IndexModel([("sample_id", ASCENDING)], unique=True, name="sample_id_unique")
SAMPLE_INDEXES = [
    SAMPLE_ID_INDEX,
    IndexModel(
        [("language", ASCENDING), ("chapter", ASCENDING), ("sample_id", ASCENDING)],
        name="language_chapter_sample",
    ),
    IndexModel([("language", ASCENDING), ("sample_id", ASCENDING)], name="language_sample"),
]
# The unique one decides a first read and serves every lookup by student (its prefix);
# (sidhi_id, language, read_at) serves a student's reads in one language and the latest of
# them. No other: SecantusDB rewrites every index entry of a document on each of its
# updates and reads each index's definition several times per written document, so each
# index costs every mark-read (two fewer cut its CPU per visit by about 13%).
PROGRESS_INDEXES = [
    IndexModel(
        [("sidhi_id", ASCENDING), ("sample_id", ASCENDING)],
        unique=True,
        name="student_sample_unique",
    ),
    IndexModel(
        [("sidhi_id", ASCENDING), ("language", ASCENDING), ("read_at", DESCENDING)],
        name="student_language_read_at",
    ),
]
# The seed's (sidhi_id, language), a prefix of the index above, and (sidhi_id,
# knowledge_area), which no query filters on: dropped where an older release made them.
RETIRED_PROGRESS_INDEXES = ("student_language", "student_area")

# One display name per student, compared by its folded key (``app.training.names``). Partial:
# only documents with a key are indexed, so the students without a name do not collide.
DISPLAY_NAME_INDEX = "display_name_unique"
STATS_INDEXES = [
    IndexModel(
        [("prefs.name_key", ASCENDING)],
        unique=True,
        name=DISPLAY_NAME_INDEX,
        partialFilterExpression={"prefs.name_key": {"$type": "string"}},
    )
]


async def ensure_indexes(db: Database) -> None:
    """Create every index the API relies on (idempotent)."""
    await db[SAMPLES].create_indexes(SAMPLE_INDEXES)
    await db[PROGRESS].create_indexes(PROGRESS_INDEXES)
    await db[STATS].create_indexes(STATS_INDEXES)
    await drop_retired_indexes(db)


async def drop_retired_indexes(db: Database) -> list[str]:
    """Drop the indexes a release no longer uses (idempotent); the names dropped."""
    present = await db[PROGRESS].index_information()
    dropped = []
    for name in RETIRED_PROGRESS_INDEXES:
        if name in present:
            try:
                await db[PROGRESS].drop_index(name)
            except OperationFailure as exc:
                if exc.code != INDEX_NOT_FOUND:  # another worker dropped it meanwhile
                    raise
            dropped.append(name)
    return dropped


async def ensure_sample_id_index(db: Database) -> None:
    """The unique ``sample_id`` index alone: what makes seeding's upserts race-free."""
    await db[SAMPLES].create_indexes([SAMPLE_ID_INDEX])


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
    assert doc is not None  # an upsert returning AFTER always has a document
    return int(doc["version"])


async def ping(db: Database) -> None:
    """Raise a PyMongoError unless the server answers now."""
    await db.command("ping")


async def drop_database(db: Database) -> None:
    """Drop the whole database (the docs generator's and tests' scratch databases)."""
    await db.client.drop_database(db.name)


WRITER_PREFIX = "writer:"


async def beat_writer(db: Database, name: str, session_ids: list[Any], now: datetime) -> None:
    """Register a worker's transaction sessions, or renew its heartbeat."""
    await db[META].update_one(
        {"_id": WRITER_PREFIX + name},
        {"$set": {"sessions": session_ids, "beat": now}},
        upsert=True,
    )


async def writers(db: Database) -> list[dict[str, Any]]:
    """Every worker registration."""
    cursor = db[META].find({"_id": {"$regex": f"^{WRITER_PREFIX}"}})
    return list(await cursor.to_list(None))


async def expire_writer(db: Database, writer_id: str) -> None:
    """Date a registration's heartbeat back, so the next sweep cleans up after it."""
    await db[META].update_one(
        {"_id": writer_id}, {"$set": {"beat": datetime(1970, 1, 1, tzinfo=UTC)}}
    )


async def stale_writers(db: Database, before: datetime) -> list[dict[str, Any]]:
    """Registrations whose heartbeat stopped before ``before``: their workers are gone."""
    cursor = db[META].find({"_id": {"$regex": f"^{WRITER_PREFIX}"}, "beat": {"$lt": before}})
    return list(await cursor.to_list(None))


async def kill_sessions(db: Database, session_ids: list[Any]) -> None:
    """Abort whatever those sessions left open on the server (their transactions)."""
    if session_ids:
        await db.client.admin.command({"killSessions": session_ids})


async def forget_writer(db: Database, writer_id: str) -> None:
    """Drop a registration (``writer_id`` is its ``_id``)."""
    await db[META].delete_one({"_id": writer_id})
