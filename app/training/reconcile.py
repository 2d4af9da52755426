"""Reconciliation: compare each student's Redis read sets and stats document with
``sample_progress`` (the source of truth), repair drift, and report it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from app.db import Database
from app.training import queries
from app.training.curriculum import LANGUAGES
from app.training.timefmt import to_ms, utcnow
from cache.backend import CacheUnavailable
from cache.progress import ProgressSets

DRIFT = Counter("lumetrix_drift_repaired_total", "Drift found and repaired by reconcile.", ["kind"])
_DERIVED_ONLY = ("updated_at", "prefs")


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
    *, db: Database, progress: ProgressSets | None, student: str | None = None
) -> ReconcileReport:
    """Check one student (or every student with reads); repair what drifted."""
    report = ReconcileReport()
    students = [student] if student else await queries.students_with_progress(db)
    for sid in students:
        report.students += 1
        derived = await queries.stats_from_progress(db, sid)
        if _comparable(await queries.get_stats(db, sid)) != _comparable(derived):
            await queries.replace_stats(db, sid, derived, utcnow())
            report.stats_repaired.append(sid)
            DRIFT.labels("stats").inc()
        if progress is None or report.redis_unavailable:
            continue
        for language in LANGUAGES:
            try:
                members = await progress.members(sid, language)
                if members is None:
                    continue  # not loaded: the next read loads it from MongoDB
                report.sets_checked += 1
                truth = {
                    k: float(to_ms(v))
                    for k, v in (await queries.read_times(db, sid, language)).items()
                }
                if members != truth:
                    await progress.forget(sid, language)
                    report.sets_repaired.append(f"{sid}:{language}")
                    DRIFT.labels("progress_set").inc()
            except CacheUnavailable:
                report.redis_unavailable = True
                break
    return report
