"""The progress events a visit emits, as the outbox stores them and the stream carries them.

A visit emits a ``sample_read``; a first read also a ``points_awarded``. Each event's id
is a fresh ObjectId (as a string), made when the event is built inside the mark-read
transaction and stored as the outbox document's ``_id``: every stream entry of that event,
a republished one too, carries the same ``event_id``, which is what consumers dedupe by.
ObjectIds grow with time and, within a process, with each id made, so the outbox's ``_id``
order is the order the events were built in.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import orjson
from bson import ObjectId

EventType = Literal["sample_read", "points_awarded"]
SAMPLE_READ: EventType = "sample_read"
POINTS_AWARDED: EventType = "points_awarded"


class Totals(TypedDict):
    """The student's totals right after the visit."""

    total_points: int  # every language
    language_read: int  # first reads in the sample's language
    language_points: int  # points in the sample's language


class Event(TypedDict):
    """One event, as the stream's ``data`` field holds it (JSON)."""

    event_id: str
    type: EventType
    student: str
    sample_id: str
    language: str
    first_read: bool
    points: int  # awarded by this visit: 0 for a revisit
    totals: Totals
    revisited_count: int  # visits of this sample so far, this one included
    time_spent: int  # seconds of this visit
    at: str  # when the visit was recorded, ISO-8601 UTC


def visit_events(
    *,
    student: str,
    sample_id: str,
    language: str,
    first_read: bool,
    points: int,
    totals: Totals,
    revisited_count: int,
    time_spent: int,
    at: str,
) -> list[dict[str, Any]]:
    """The outbox documents of one visit: its ``sample_read``, then for a first read its
    ``points_awarded``; each with a fresh id as ``_id`` and ``event_id``."""
    types: list[EventType] = [SAMPLE_READ, POINTS_AWARDED] if first_read else [SAMPLE_READ]
    docs = []
    for kind in types:
        event_id = str(ObjectId())
        event: Event = {
            "event_id": event_id,
            "type": kind,
            "student": student,
            "sample_id": sample_id,
            "language": language,
            "first_read": first_read,
            "points": points,
            "totals": totals,
            "revisited_count": revisited_count,
            "time_spent": time_spent,
            "at": at,
        }
        docs.append({"_id": event_id, **event})
    return docs


def stream_fields(doc: dict[str, Any]) -> dict[str, str | bytes]:
    """The stream entry of an outbox document: ``event_id``, ``type`` and ``data`` (the
    whole event as JSON)."""
    event = {key: value for key, value in doc.items() if key != "_id"}
    return {"event_id": str(doc["_id"]), "type": str(doc["type"]), "data": orjson.dumps(event)}


def event_of(fields: dict[str, str]) -> dict[str, Any]:
    """The event a stream entry carries."""
    found: dict[str, Any] = orjson.loads(fields["data"])
    return found
