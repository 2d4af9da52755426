"""The progress events a visit emits, as the outbox stores them and the stream carries them.

A visit emits a ``sample_read``; a first read also a ``points_awarded``. Each event's id
is a fresh ObjectId (as a string), made when the event is built inside the mark-read
transaction and stored with it in the outbox: every stream entry of that event, a
republished one too, carries the same ``event_id``, which is what consumers dedupe by.
ObjectIds grow with time and, within a process, with each id made, so ids made one after
the other sort in the order they were made.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def new_id() -> str:
    """A fresh id: an ObjectId as 24 hex digits (sorts by creation within a process)."""
    return str(ObjectId())


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
) -> list[Event]:
    """The events of one visit: its ``sample_read``, then for a first read its
    ``points_awarded``; each with a fresh ``event_id``."""
    types: list[EventType] = [SAMPLE_READ, POINTS_AWARDED] if first_read else [SAMPLE_READ]
    return [
        {
            "event_id": new_id(),
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
        for kind in types
    ]


def stream_fields(event: Mapping[str, Any]) -> dict[str, str | bytes]:
    """The stream entry of an event: ``event_id``, ``type`` and ``data`` (the whole event
    as JSON)."""
    return {
        "event_id": str(event["event_id"]),
        "type": str(event["type"]),
        "data": orjson.dumps(dict(event)),
    }


def event_of(fields: dict[str, str]) -> dict[str, Any]:
    """The event a stream entry carries."""
    found: dict[str, Any] = orjson.loads(fields["data"])
    return found
