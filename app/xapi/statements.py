"""Progress events as xAPI 1.0.3 statements (the ADL Experience API).

A ``sample_read`` (a first read or a revisit) becomes *experienced* and a
``points_awarded`` becomes *scored*, both verbs of the ADL vocabulary
(``http://adlnet.gov/expapi/verbs/``), on the sample as an ADL *lesson* activity
``<home page>/training/samples/<id>`` whose definition carries its language, chapter and
knowledge area as extensions; the chapter and the language's course are its context's
parent and grouping activities. ``result`` holds the visit's time as an ISO 8601
``duration`` (reads), the points as ``score`` (awards) and the student's totals right
after the visit as extensions; ``timestamp`` is the visit time.

The statement ``id`` is a UUIDv5 under ``NAMESPACE`` of the visit's key (event type,
student, sample, which visit of that sample it is, visit time): every delivery of one
event gives the same id, and ``app.xapi.backfill`` gives a past first read the same id
from ``sample_progress`` (which keeps no event ids), so an LRS, which dedupes by
statement id, stores each once however often and from wherever it is sent.

The actor is an ``account`` on the platform's home page named by the student's keyed
pseudonym (``app.training.names.pseudonym``, as on the leaderboards), or by the raw id
when the operator chooses ``XAPI_ACTOR=id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.events.schema import POINTS_AWARDED, SAMPLE_READ
from app.training.names import pseudonym

XAPI_VERSION = "1.0.3"
# Fixed forever: changing it changes every statement id, and the LRS would store again.
NAMESPACE = uuid.UUID("5c6f6e2a-8f3e-5b51-9a57-6c756d657472")
EXPERIENCED = {
    "id": "http://adlnet.gov/expapi/verbs/experienced",
    "display": {"en-US": "experienced"},
}
SCORED = {"id": "http://adlnet.gov/expapi/verbs/scored", "display": {"en-US": "scored"}}
LESSON = "http://adlnet.gov/expapi/activities/lesson"
MODULE = "http://adlnet.gov/expapi/activities/module"
COURSE = "http://adlnet.gov/expapi/activities/course"
PLATFORM = "Lumetrix"
VERBS = {SAMPLE_READ: EXPERIENCED, POINTS_AWARDED: SCORED}


@dataclass(frozen=True, slots=True)
class SampleInfo:
    """What the catalog says of a sample beyond the event: its chapter and area."""

    chapter: int | None
    knowledge_area: str | None


@dataclass(frozen=True, slots=True)
class StatementMaker:
    """Builds statements for one platform (home page), actor policy and pseudonym key."""

    homepage: str
    actor: Literal["pseudonym", "id"]
    pseudonym_key: bytes

    def ext(self, name: str) -> str:
        """The IRI of one of our extensions."""
        return f"{self.homepage}/xapi/extensions/{name}"

    def agent(self, student: str) -> dict[str, Any]:
        """The actor: an account on the home page, named by pseudonym or (opt-in) id."""
        name = student if self.actor == "id" else pseudonym(student, key=self.pseudonym_key)
        return {"objectType": "Agent", "account": {"homePage": self.homepage, "name": name}}

    def activity(self, sample_id: str, language: str, info: SampleInfo | None) -> dict[str, Any]:
        """The sample as an activity, its language, chapter and area as extensions."""
        extensions: dict[str, Any] = {self.ext("language"): language}
        if info is not None and info.chapter is not None:
            extensions[self.ext("chapter")] = info.chapter
        if info is not None and info.knowledge_area is not None:
            extensions[self.ext("knowledge-area")] = info.knowledge_area
        return {
            "objectType": "Activity",
            "id": f"{self.homepage}/training/samples/{sample_id}",
            "definition": {"type": LESSON, "extensions": extensions},
        }

    def context(self, language: str, info: SampleInfo | None) -> dict[str, Any]:
        """The platform, and the chapter (parent) and language course (grouping)."""
        course = f"{self.homepage}/training/languages/{language}"
        activities: dict[str, Any] = {
            "grouping": [{"objectType": "Activity", "id": course, "definition": {"type": COURSE}}]
        }
        if info is not None and info.chapter is not None:
            chapter = f"{course}/chapters/{info.chapter}"
            activities["parent"] = [
                {"objectType": "Activity", "id": chapter, "definition": {"type": MODULE}}
            ]
        return {"platform": PLATFORM, "contextActivities": activities}

    def statement(
        self, event: Mapping[str, Any], info: SampleInfo | None, *, duration: bool = True
    ) -> dict[str, Any]:
        """The statement of one event (``app.events.schema.Event``). ``duration=False``
        leaves ``result.duration`` out (a backfilled read whose own time is unknown)."""
        kind = str(event["type"])
        if kind not in VERBS:
            raise ValueError(f"no xAPI statement for event type {kind!r}")
        totals = event["totals"]
        result: dict[str, Any] = {
            "extensions": {
                self.ext("total-points"): int(totals["total_points"]),
                self.ext("language-read"): int(totals["language_read"]),
                self.ext("language-points"): int(totals["language_points"]),
                self.ext("visit"): int(event["revisited_count"]),
            }
        }
        if kind == SAMPLE_READ:
            result["completion"] = True
            if duration:
                result["duration"] = iso_duration(int(event["time_spent"]))
        else:
            result["score"] = {"raw": int(event["points"]), "min": 0}
        language = str(event["language"])
        return {
            "id": statement_id(event),
            "actor": self.agent(str(event["student"])),
            "verb": VERBS[kind],
            "object": self.activity(str(event["sample_id"]), language, info),
            "result": result,
            "context": self.context(language, info),
            "timestamp": str(event["at"]),
            "version": XAPI_VERSION,
        }


def statement_id(event: Mapping[str, Any]) -> str:
    """The statement id of an event: a UUIDv5 of the visit's key, the same for every
    delivery of the event and for a backfill of the same first read."""
    key = "\x1f".join(
        (
            str(event["type"]),
            str(event["student"]),
            str(event["sample_id"]),
            str(int(event["revisited_count"])),
            str(event["at"]),
        )
    )
    return str(uuid.uuid5(NAMESPACE, key))


def iso_duration(seconds: int) -> str:
    """Seconds as an ISO 8601 duration: ``PT1H2M5S``; ``PT0S`` for none."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return "PT" + parts + (f"{secs}S" if secs or not parts else "")
