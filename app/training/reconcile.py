"""Derived state rebuilt from ``sample_progress`` (the source of truth): each student's
stats document (and with it their Redis progress view), and the Redis read sets,
compared, repaired and reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from app.db import Database
from app.timefmt import utcnow
from app.training.curriculum import LANGUAGES
from app.training.ports import ProgressSource, ReadState, SetCheck
from app.training.queries import reads, students

DRIFT = Counter("lumetrix_drift_repaired_total", "Drift found and repaired by reconcile.", ["kind"])
_DERIVED_ONLY = ("updated_at", "prefs")


async def derived_stats(db: Database, student: str) -> dict[str, Any]:
    """A student's stats document derived from ``sample_progress`` alone."""
    doc: dict[str, Any] = {"total_points": 0, "languages": {}}
    for row in await reads.totals_by_bucket(db, student):
        lang_doc = doc["languages"].setdefault(
            row["language"], {"read": 0, "points": 0, "time_spent": 0, "areas": {}, "chapters": {}}
        )
        doc["total_points"] += row["points"]
        for key in ("read", "points", "time_spent"):
            lang_doc[key] += row[key]
        for bucket, name in (("areas", row["knowledge_area"]), ("chapters", str(row["chapter"]))):
            entry = lang_doc[bucket].setdefault(name, {"read": 0, "time_spent": 0})
            entry["read"] += row["read"]
            entry["time_spent"] += row["time_spent"]
    doc["quarters"] = await reads.first_read_quarters(db, student)
    doc["recent"] = {}
    for lang in doc["languages"]:
        latest = await reads.latest(db, student, lang)
        doc["recent"][lang] = sorted(latest, key=lambda r: r["read_at"])
    return doc


async def recompute_stats(
    *, db: Database, progress: ProgressSource, student: str
) -> dict[str, Any]:
    """Overwrite a student's stats document with ``derived_stats`` (preferences kept); the
    student's progress view reloads from it."""
    doc = await derived_stats(db, student)
    await students.replace(db, student, doc, utcnow())
    await progress.invalidate(student)
    return doc


@dataclass
class ReconcileReport:
    """What a reconcile run looked at and repaired."""

    students: int = 0
    sets_checked: int = 0
    sets_repaired: list[str] = field(default_factory=list)
    stats_repaired: list[str] = field(default_factory=list)
    redis_unavailable: bool = False

    def lines(self) -> list[str]:
        """The report as printable lines."""
        return [
            f"students checked:     {self.students}",
            f"read sets checked:    {self.sets_checked}",
            f"read sets repaired:   {len(self.sets_repaired)}",
            *(f"  - {k}" for k in self.sets_repaired[:50]),
            f"stats repaired:       {len(self.stats_repaired)}",
            *(f"  - {k}" for k in self.stats_repaired[:50]),
            *(["redis unavailable: read sets were not checked"] if self.redis_unavailable else []),
        ]


def _comparable(doc: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (doc or {}).items() if k not in _DERIVED_ONLY}


async def reconcile(
    *,
    db: Database,
    read_state: ReadState,
    progress: ProgressSource,
    student: str | None = None,
) -> ReconcileReport:
    """Check one student (or every student with reads); repair what drifted."""
    report = ReconcileReport()
    for sid in [student] if student else await reads.students(db):
        report.students += 1
        derived = await derived_stats(db, sid)
        if _comparable(await students.get(db, sid)) != _comparable(derived):
            await students.replace(db, sid, derived, utcnow())
            await progress.invalidate(sid)
            report.stats_repaired.append(sid)
            DRIFT.labels("stats").inc()
        for language in LANGUAGES if not report.redis_unavailable else ():
            found = await read_state.check(sid, language)
            if found is SetCheck.UNAVAILABLE:
                report.redis_unavailable = True
                break
            if found is not SetCheck.NOT_KEPT:
                report.sets_checked += 1
            if found is SetCheck.REPAIRED:
                report.sets_repaired.append(f"{sid}:{language}")
                DRIFT.labels("progress_set").inc()
    return report
