"""Queries of the catalog collection (``training_samples_filtered``).

Listings sort on ``SAMPLE_ORDER`` (curriculum order), served by the
(language, chapter, sample_id) index; what a filter or a search matches is defined in
``app.training.filters``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from app.db import SAMPLES, Database

# Never let an ObjectId reach a response.
SAMPLE_FIELDS = {"_id": 0}
SAMPLE_ORDER = [("chapter", 1), ("sample_id", 1)]


async def find_all(db: Database, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sample matching ``query`` (e.g. a language), in curriculum order."""
    cursor = db[SAMPLES].find(query, SAMPLE_FIELDS).sort(SAMPLE_ORDER)
    return await cursor.to_list(None)


async def find_page(
    db: Database, query: dict[str, Any], *, skip: int, limit: int
) -> list[dict[str, Any]]:
    """One page of samples matching ``query``, in curriculum order."""
    cursor = db[SAMPLES].find(query, SAMPLE_FIELDS).sort(SAMPLE_ORDER).skip(skip).limit(limit)
    return await cursor.to_list(limit)


async def count(db: Database, query: dict[str, Any]) -> int:
    """How many samples match ``query``."""
    return await db[SAMPLES].count_documents(query)


async def get(db: Database, sample_id: str) -> dict[str, Any] | None:
    """One sample by id, or None."""
    return await db[SAMPLES].find_one({"sample_id": sample_id}, SAMPLE_FIELDS)


async def random(db: Database, query: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """Up to ``size`` distinct random samples matching ``query``."""
    pipeline: list[dict[str, Any]] = [
        {"$match": query},
        {"$sample": {"size": size}},
        {"$project": SAMPLE_FIELDS},
    ]
    cursor = await db[SAMPLES].aggregate(pipeline)
    return await cursor.to_list(size)


async def facet_counts(db: Database, language: str) -> list[dict[str, Any]]:
    """Sample counts per (chapter, knowledge_area, type, difficulty) of a language."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"language": language}},
        {
            "$group": {
                "_id": {
                    "chapter": "$chapter",
                    "knowledge_area": "$knowledge_area",
                    "type": "$type",
                    "difficulty": "$difficulty",
                },
                "count": {"$sum": 1},
            }
        },
    ]
    cursor = await db[SAMPLES].aggregate(pipeline)
    return [{**row["_id"], "count": row["count"]} for row in await cursor.to_list(None)]


async def language_counts(db: Database) -> dict[str, int]:
    """Sample count per language (documents without a language are not counted)."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"language": {"$type": "string"}}},
        {"$group": {"_id": "$language", "count": {"$sum": 1}}},
    ]
    cursor = await db[SAMPLES].aggregate(pipeline)
    return {row["_id"]: row["count"] for row in await cursor.to_list(None)}


async def is_empty(db: Database) -> bool:
    """True when the catalog holds no sample."""
    return await db[SAMPLES].find_one({}, {"_id": 1}) is None


# --- writes: seeding, import, migration ----------------------------------------------


async def insert_missing(db: Database, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Insert samples by ``sample_id`` where absent; return (inserted, already present)."""
    ops = [UpdateOne({"sample_id": d["sample_id"]}, {"$setOnInsert": d}, upsert=True) for d in docs]
    if not ops:
        return 0, 0
    result = await db[SAMPLES].bulk_write(ops, ordered=False)
    return result.upserted_count, len(ops) - result.upserted_count


@dataclass
class UpsertOutcome:
    """What one batch of ``upsert_fields`` did; ``failed`` maps batch index to reason."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: dict[int, str] = field(default_factory=dict)


async def upsert_fields(db: Database, batch: Sequence[dict[str, Any]]) -> UpsertOutcome:
    """``$set`` each record's fields on the sample with its ``sample_id`` (inserting it
    when absent), unordered; per-document failures are reported, not raised."""
    ops = [UpdateOne({"sample_id": f["sample_id"]}, {"$set": f}, upsert=True) for f in batch]
    try:
        result = await db[SAMPLES].bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        details = dict(exc.details)
        upserted, matched = int(details.get("nUpserted", 0)), int(details.get("nMatched", 0))
        modified = int(details.get("nModified", 0))
        failed = {
            int(err["index"]): str(err.get("errmsg", "write failed")).splitlines()[0]
            for err in details.get("writeErrors", [])
        }
    else:
        upserted, matched, modified = (
            result.upserted_count,
            result.matched_count,
            result.modified_count,
        )
        failed = {}
    return UpsertOutcome(upserted, modified, matched - modified, failed)


MIGRATION_FIELDS = {
    "sample_id": 1,
    "chapter": 1,
    "language": 1,
    "knowledge_area": 1,
    "read_points": 1,
    "tags": 1,
}


async def scan_for_migration(db: Database) -> AsyncIterator[dict[str, Any]]:
    """Every sample's migration-relevant fields (with ``_id``), in ``_id`` order."""
    async for doc in db[SAMPLES].find({}, MIGRATION_FIELDS).sort("_id", 1):
        yield doc


async def set_fields_by_id(db: Database, changes: Sequence[tuple[Any, dict[str, Any]]]) -> int:
    """Apply ``$set`` of each (``_id``, fields) pair in one unordered batch; return how
    many documents changed."""
    if not changes:
        return 0
    ops = [UpdateOne({"_id": _id}, {"$set": fields}) for _id, fields in changes]
    result = await db[SAMPLES].bulk_write(ops, ordered=False)
    return result.modified_count


async def placements(db: Database, sample_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Chapter and knowledge area of each of ``sample_ids`` the catalog holds."""
    cursor = db[SAMPLES].find(
        {"sample_id": {"$in": list(sample_ids)}},
        {"_id": 0, "sample_id": 1, "chapter": 1, "knowledge_area": 1},
    )
    return {str(doc["sample_id"]): doc async for doc in cursor}
