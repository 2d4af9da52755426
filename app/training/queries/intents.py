"""Queries of ``writethrough_intents``: which students a worker's committed mark-read
batches touched whose Redis write-throughs may not have finished.

One document per (worker, transaction session), ``{_id: "<worker>#<slot>", writer,
batches: {"<seq>": [[student, language, visit time], ...]}}``. A batch's entry is set in
the batch's own transaction (committed with its visits, or not at all); the entries of
batches whose write-throughs have finished are unset by the next batch's update of the
same document, or by the heartbeat when the slot is idle. One document per session, not
one per worker: a worker's concurrent transactions would conflict on one document; not
one per batch: an insert plus a delete per batch costs a command more than one update.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import INTENTS, Database


class PendingVisit(NamedTuple):
    """A visit committed to MongoDB whose write-throughs may be missing from Redis."""

    student: str
    language: str
    at: datetime


def doc_id(writer: str, slot: int) -> str:
    """The intents document of a worker's session slot."""
    return f"{writer}#{slot}"


async def note(
    db: Database,
    *,
    writer: str,
    slot: int,
    seq: int,
    visits: Iterable[PendingVisit],
    finished: Sequence[int],
    session: AsyncClientSession | None = None,
) -> None:
    """Set batch ``seq``'s visits and unset the ``finished`` batches, in one update."""
    update: dict[str, Any] = {
        "$set": {"writer": writer, f"batches.{seq}": [list(v) for v in dict.fromkeys(visits)]}
    }
    if finished:
        update["$unset"] = {f"batches.{done}": "" for done in finished}
    await db[INTENTS].update_one(
        {"_id": doc_id(writer, slot)}, update, upsert=True, session=session
    )


async def clear(
    db: Database, *, writer: str, slot: int, finished: Sequence[int], session: AsyncClientSession
) -> None:
    """Unset the ``finished`` batches of a slot's document."""
    await db[INTENTS].update_one(
        {"_id": doc_id(writer, slot)},
        {"$unset": {f"batches.{done}": "" for done in finished}},
        session=session,
    )


async def of_writer(db: Database, writer: str) -> list[PendingVisit]:
    """Every visit a worker's documents still name (deduplicated)."""
    found: dict[PendingVisit, None] = {}
    async for doc in db[INTENTS].find({"writer": writer}):
        for entries in (doc.get("batches") or {}).values():
            for student, language, at in entries:
                found[PendingVisit(student, language, at)] = None
    return list(found)


async def forget(db: Database, writer: str) -> None:
    """Drop a worker's documents (its write-throughs are done, or repaired)."""
    await db[INTENTS].delete_many({"writer": writer})
