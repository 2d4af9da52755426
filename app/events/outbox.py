"""Queries of ``event_outbox``: the events mark-read transactions wrote and the publisher
has not yet streamed (``_id`` is the event id, in the order the events were built)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import OUTBOX, Database


async def add(
    db: Database, docs: Sequence[dict[str, Any]], *, session: AsyncClientSession | None = None
) -> None:
    """Insert a batch's events in one command (inside its transaction, with ``session``)."""
    if docs:
        await db[OUTBOX].insert_many(list(docs), ordered=False, session=session)


async def oldest(db: Database, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` oldest events, oldest first."""
    return await db[OUTBOX].find().sort("_id", 1).limit(limit).to_list(limit)


async def remove(db: Database, ids: Sequence[str]) -> int:
    """Delete streamed events; how many were still there."""
    return (await db[OUTBOX].delete_many({"_id": {"$in": list(ids)}})).deleted_count


async def count(db: Database) -> int:
    """Events waiting to be streamed."""
    return await db[OUTBOX].count_documents({})
