"""Queries of ``event_outbox``: one document per committed mark-read batch,
``{_id, events: [...]}``, until the publisher has streamed its events.

One document per batch, not per event: on the embedded SecantusDB a delete costs about
0.3 to 1.5 ms per document and a sorted find scans every document, so per-event documents
drained a backlog at about 400 events/s, while a batch's array is inserted, read and
deleted as one (``make eventbench``). ``_id`` is made before the batch's event ids, so
ids sort in the order the batches were built (within a process; across processes, by
time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import OUTBOX, Database


async def add(
    db: Database, doc: dict[str, Any] | None, *, session: AsyncClientSession | None = None
) -> None:
    """Insert a batch's events (``{_id, events}``; None: the batch has none) in one
    command, inside its transaction with ``session``."""
    if doc is not None and doc["events"]:
        await db[OUTBOX].insert_one(doc, session=session)


async def oldest(db: Database, events: int) -> list[dict[str, Any]]:
    """The oldest batches, oldest first, until they hold ``events`` events or more (at
    least one batch, when there is any)."""
    out: list[dict[str, Any]] = []
    held = 0
    cursor = db[OUTBOX].find().sort("_id", 1).limit(events)
    try:
        async for doc in cursor:
            out.append(doc)
            held += len(doc.get("events") or [])
            if held >= events:
                break
    finally:
        await cursor.close()
    return out


# SecantusDB's delete by ``$in`` grows with the square of the ids (100: 47 ms, 200: 125 ms,
# 400: 467 ms), so a round's ids go in slices.
DELETE_SLICE = 64


async def remove(db: Database, ids: Sequence[str]) -> int:
    """Delete streamed batches; how many were still there."""
    deleted = 0
    for start in range(0, len(ids), DELETE_SLICE):
        chunk = list(ids[start : start + DELETE_SLICE])
        deleted += (await db[OUTBOX].delete_many({"_id": {"$in": chunk}})).deleted_count
    return deleted


async def count(db: Database) -> int:
    """Batches waiting to be streamed."""
    return await db[OUTBOX].count_documents({})
