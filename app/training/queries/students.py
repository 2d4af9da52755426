"""Queries of ``student_stats``: one document per student with counters, recent reads,
streak buckets and preferences (derived from ``sample_progress``, kept by mark-read)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from app.db import STATS, Database
from app.timefmt import quarter_of
from app.training.queries.meta import DISPLAY_NAME_INDEX
from app.training.queries.reads import DUPLICATE_KEY, RECENT


def visit_update(
    sample: dict[str, Any],
    *,
    knowledge_area: str,
    first_read: bool,
    time_spent: int,
    now: datetime,
) -> dict[str, Any]:
    """The update one visit makes to a student's stats document.

    Besides counters, a first read enters the language's ``recent`` list (the newest
    ``RECENT`` first reads), so recent activity never needs a sort over the history.
    """
    lang, chapter, area = sample["language"], sample["chapter"], knowledge_area
    inc = {
        f"languages.{lang}.time_spent": time_spent,
        f"languages.{lang}.areas.{area}.time_spent": time_spent,
        f"languages.{lang}.chapters.{chapter}.time_spent": time_spent,
    }
    update: dict[str, Any] = {"$inc": inc, "$set": {"updated_at": now}}
    if first_read:
        points = int(sample.get("read_points", 1))
        inc |= {
            f"quarters.{quarter_of(now)}": 1,
            "total_points": points,
            f"languages.{lang}.read": 1,
            f"languages.{lang}.points": points,
            f"languages.{lang}.areas.{area}.read": 1,
            f"languages.{lang}.chapters.{chapter}.read": 1,
        }
        update["$push"] = {
            f"recent.{lang}": {
                "$each": [{"sample_id": sample["sample_id"], "read_at": now}],
                "$sort": {"read_at": 1},
                "$slice": -RECENT,
            }
        }
    return update


async def apply_visits(
    db: Database,
    updates: Sequence[tuple[str, dict[str, Any]]],
    *,
    session: AsyncClientSession | None = None,
) -> list[Exception | None]:
    """Apply visits' stats updates, in order, in one unordered bulk write; per update None,
    or the error that failed it alone. An upsert that lost a race with another writer's
    insert of the same student is applied again alone (it did not apply). In a transaction
    (``session``) any error is raised: it aborted the transaction."""
    if not updates:
        return []
    ops = [UpdateOne({"_id": student}, update, upsert=True) for student, update in updates]
    failed: dict[int, dict[str, Any]] = {}
    try:
        await db[STATS].bulk_write(ops, ordered=False, session=session)
    except BulkWriteError as exc:
        if session is not None:
            raise
        failed = {int(e["index"]): e for e in exc.details.get("writeErrors", [])}
    out: list[Exception | None] = []
    for index, (student, update) in enumerate(updates):
        error = failed.get(index)
        if error is None:
            out.append(None)
        elif error.get("code") == DUPLICATE_KEY:
            await db[STATS].update_one({"_id": student}, update, upsert=True)
            out.append(None)
        else:
            out.append(WriteError(str(error.get("errmsg")), error.get("code"), error))
    return out


async def points_and_prefs(
    db: Database,
    ids: Iterable[str],
    *,
    languages: Iterable[str] = (),
    session: AsyncClientSession | None = None,
) -> dict[str, dict[str, Any]]:
    """Total points and preferences of each of ``ids`` that has a stats document, and
    their read count and points in each of ``languages``."""
    fields = {"total_points": 1, "prefs": 1}
    for lang in languages:
        fields |= {f"languages.{lang}.read": 1, f"languages.{lang}.points": 1}
    cursor = db[STATS].find({"_id": {"$in": list(ids)}}, fields, session=session)
    return {str(doc["_id"]): doc for doc in await cursor.to_list(None)}


class NameInUse(Exception):
    """The display name's key is already another student's (the unique index said so)."""


def _is_name_conflict(exc: DuplicateKeyError) -> bool:
    """Whether a duplicate key is the display-name index's (not a racing ``_id`` upsert)."""
    pattern = (exc.details or {}).get("keyPattern") or {}
    return "prefs.name_key" in pattern or DISPLAY_NAME_INDEX in str(exc) or "name_key" in str(exc)


async def update_prefs(
    db: Database,
    student: str,
    changes: dict[str, Any],
    now: datetime,
    *,
    unset: Sequence[str] = (),
) -> dict[str, Any]:
    """Set (``changes``) and remove (``unset``) preference fields of a student's stats
    document; return all preferences. ``NameInUse`` when a display name is taken."""
    update: dict[str, Any] = {"$setOnInsert": {"total_points": 0}}
    if changes or unset:
        update["$set"] = {**changes, "updated_at": now}
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    try:
        doc = await db[STATS].find_one_and_update(
            {"_id": student},
            update,
            upsert=True,
            return_document=ReturnDocument.AFTER,
            projection={"_id": 0, "prefs": 1},
        )
    except DuplicateKeyError as exc:
        if _is_name_conflict(exc):
            raise NameInUse(str(changes.get("prefs.name_key"))) from exc
        raise
    if doc is None:  # SecantusDB's racing-upsert quirk: read it back
        doc = await db[STATS].find_one({"_id": student}, {"_id": 0, "prefs": 1})
    return dict((doc or {}).get("prefs") or {})


async def display_names(db: Database, ids: Iterable[str]) -> dict[str, str]:
    """The display names of those of ``ids`` that set one, in one query."""
    cursor = db[STATS].find(
        {"_id": {"$in": list(ids)}, "prefs.display_name": {"$type": "string"}},
        {"prefs.display_name": 1},
    )
    return {str(doc["_id"]): doc["prefs"]["display_name"] async for doc in cursor}


async def get(db: Database, student: str) -> dict[str, Any] | None:
    """A student's stats document."""
    return await db[STATS].find_one({"_id": student}, {"_id": 0})


async def get_prefs(db: Database, student: str) -> dict[str, Any]:
    """A student's preferences (time zone, leaderboard opt-out, display name)."""
    doc = await db[STATS].find_one({"_id": student}, {"_id": 0, "prefs": 1})
    return dict((doc or {}).get("prefs") or {})


async def replace(db: Database, student: str, doc: dict[str, Any], now: datetime) -> None:
    """Overwrite a student's derived stats, keeping their preferences."""
    current = await db[STATS].find_one({"_id": student}, {"prefs": 1}) or {}
    prefs = {"prefs": current["prefs"]} if "prefs" in current else {}
    await db[STATS].replace_one({"_id": student}, {**doc, **prefs, "updated_at": now}, upsert=True)


async def opted_out(db: Database) -> set[str]:
    """Students who asked to be hidden from leaderboards."""
    cursor = db[STATS].find({"prefs.leaderboard_opt_out": True}, {"_id": 1})
    return {str(doc["_id"]) async for doc in cursor}


async def count_of(db: Database, student: str) -> int:
    """1 when the student has a stats document, else 0."""
    return await db[STATS].count_documents({"_id": student})


async def delete_of(db: Database, student: str) -> int:
    """Delete the student's stats document; return how many were deleted."""
    return (await db[STATS].delete_many({"_id": student})).deleted_count
