"""Progress service: one sample with the student's visits, chapters with progress, and
the my-progress overview (counters, areas, recent reads, streak).

Counters come from the student's ``ProgressSource`` (a Redis view kept by mark-read's
write-through, or the stats document in MongoDB); catalog totals from the process's
``CatalogSource``. The HTTP layer asks for my-progress and chapters serialised
(``*_answer``): kept next to the student's view, an unchanged view's answer is one round
trip and a byte copy (``app.training.answers``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from pymongo.errors import ConnectionFailure

from app.db import Database
from app.errors import NotFound
from app.stale import mark_stale
from app.timefmt import iso, to_ms, utcnow
from app.training.answers import Serialised, freeze, thaw
from app.training.curriculum import Language
from app.training.ports import CatalogSource, ProgressSource, ReadState, StudentProgress
from app.training.queries import reads as read_queries
from app.training.queries import students
from app.training.shapes import (
    AreaProgress,
    Chapter,
    ChapterProgress,
    ChaptersOut,
    ChapterTotals,
    KnowledgeArea,
    ProgressOut,
    RecentRead,
    SampleDetail,
    SampleOut,
    Streak,
)
from app.training.streaks import day_ends, saved_zone, streak, zone
from app.training.tables import area_table, chapter_table


def _pct(part: int, whole: int) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def _language_stats(stats: dict[str, Any] | None, language: str) -> dict[str, Any]:
    return ((stats or {}).get("languages") or {}).get(language) or {}


async def load_student_progress(db: Database, student: str) -> StudentProgress:
    """From MongoDB: the stats document, and the progress documents of every language's
    recent first reads (unique-index lookups)."""
    stats = await students.get(db, student) or {}
    ids = [r["sample_id"] for rows in (stats.get("recent") or {}).values() for r in rows]
    return StudentProgress(stats, await read_queries.of_samples(db, student, ids) if ids else {})


async def sample_detail(
    *,
    db: Database,
    catalog: CatalogSource,
    reads: ReadState,
    progress: ProgressSource,
    student: str,
    sample_id: str,
) -> SampleOut:
    """One sample with the student's read state, time spent and visit count.

    The read state comes from the student's read set, as a page's does: an unread sample
    needs no more. A read one's visit counts come from MongoDB; while MongoDB is away,
    from the progress view when it holds the read (its recent ones), else 0 (the answer
    is marked stale, like the page's)."""
    sample = await catalog.sample(sample_id)
    if sample is None:
        raise NotFound(f"sample '{sample_id}' not found")
    language = str(sample.get("language") or "")
    if not language:  # not migrated yet: no read set names it
        record = await read_queries.get(db, student, sample_id) or {}
        read_at = record.get("read_at")
    else:
        read_at = (await reads.read_times(student, language, [sample_id])).get(sample_id)
        record = {}
    if read_at is not None and not record:
        try:
            record = await read_queries.get(db, student, sample_id) or {}
        except ConnectionFailure:
            record = await _remembered_visit(progress, student, language, sample_id)
            mark_stale(time.time())
    detail = {
        **sample,
        "isRead": read_at is not None,
        "readAt": iso(read_at) if read_at is not None else None,
        "timeSpent": int(record.get("time_spent", 0)),
        "revisitedCount": int(record.get("revisited_count", 0)),
    }
    return {"status": "success", "data": cast(SampleDetail, detail)}


async def _remembered_visit(
    progress: ProgressSource, student: str, language: str, sample_id: str
) -> dict[str, Any]:
    """The visit counts the student's progress view keeps of a read, if it keeps them."""
    try:
        found = await progress.get(student, language)
    except ConnectionFailure:  # not kept: loading it needs MongoDB too
        return {}
    return found.details.get(sample_id) or {}


# Kept answers never expire by time unless they say so (my-progress: at local midnight).
FOREVER_MS = 2**62


async def chapters_answer(
    *,
    catalog: CatalogSource,
    progress: ProgressSource,
    student: str,
    language: Language,
    now: datetime | None = None,
) -> Serialised:
    """``chapters``, serialised: the answer kept from the student's view when it has not
    changed since, else built and kept."""
    now = now or utcnow()

    async def build(found: StudentProgress) -> tuple[ChaptersOut, int]:
        return await _chapters(catalog, found, language, now), FOREVER_MS

    name = f"chapters:{await catalog.version()}:{language}"
    return await _kept_or_built(progress, student, language, name, now, build)


async def _kept_or_built(
    progress: ProgressSource,
    student: str,
    language: Language,
    name: str,
    now: datetime,
    build: Callable[[StudentProgress], Awaitable[tuple[Mapping[str, Any], int]]],
) -> Serialised:
    """The answer kept as ``name`` if still valid, else ``build`` it from the student's
    progress (answer, valid until ms) and keep it when that came from the kept view."""
    kept = await progress.answer(student, name, language=language, at_ms=to_ms(now))
    if kept.body is not None:
        return thaw(kept.body, now)
    found = kept.found or await progress.get(student, language)
    body, until = await build(found)
    frozen = freeze(body)
    if found.stamp is not None:
        await progress.keep(student, name, frozen, stamp=found.stamp, until_ms=until)
    return thaw(frozen, now)


async def chapters(
    *,
    catalog: CatalogSource,
    progress: ProgressSource,
    student: str,
    language: Language,
    now: datetime | None = None,
) -> ChaptersOut:
    """Each chapter of a language with its totals and the student's reads."""
    found = await progress.get(student, language)
    return await _chapters(catalog, found, language, now or utcnow())


async def _chapters(
    catalog: CatalogSource, found: StudentProgress, language: Language, now: datetime
) -> ChaptersOut:
    table = await catalog.derived(language, "chapters", chapter_table)
    mine = _language_stats(found.stats, language).get("chapters", {})
    rows: list[Chapter] = []
    for chapter in table:
        read = int(mine.get(str(chapter["chapter"]), {}).get("read", 0))
        rows.append(
            {
                "chapter": chapter["chapter"],
                "knowledge_area": chapter["knowledge_area"],
                "total_questions": chapter["total_questions"],
                "breakdown": chapter["breakdown"],
                "read_questions": read,
                "progress_percentage": _pct(read, chapter["total_questions"]),
            }
        )
    return {
        "status": "success",
        "language": language,
        "as_of": iso(now),
        "total_chapters": len(rows),
        "chapters": rows,
    }


def _recent(rows: list[dict[str, Any]]) -> list[RecentRead]:
    return [
        {
            "sample_id": r["sample_id"],
            "chapter": r.get("chapter"),
            "knowledge_area": r.get("knowledge_area"),
            "read_at": iso(r.get("read_at")),
            "last_revisited": iso(r.get("last_revisited")),
            "time_spent": int(r.get("time_spent", 0)),
            "revisited_count": int(r.get("revisited_count", 0)),
        }
        for r in rows
    ]


def _chapter_progress(
    rows: list[ChapterTotals], by_chapter: dict[str, Any]
) -> list[ChapterProgress]:
    """Each chapter of the catalog with the student's reads in it."""
    out: list[ChapterProgress] = []
    for ch in rows:
        n = int(by_chapter.get(str(ch["chapter"]), {}).get("read", 0))
        out.append(
            {
                "chapter": ch["chapter"],
                "knowledge_area": ch["knowledge_area"],
                "read": n,
                "total": ch["total_questions"],
                "percentage": _pct(n, ch["total_questions"]),
            }
        )
    return out


def _area_progress(rows: list[KnowledgeArea], by_area: dict[str, Any]) -> list[AreaProgress]:
    """Each knowledge area of the catalog with the student's reads and time in it."""
    out: list[AreaProgress] = []
    for area in rows:
        counts = by_area.get(area["knowledge_area"], {})
        n = int(counts.get("read", 0))
        out.append(
            {
                "area": area["knowledge_area"],
                "read": n,
                "total": area["total_samples"],
                "percentage": _pct(n, area["total_samples"]),
                "time_spent_minutes": round(int(counts.get("time_spent", 0)) / 60, 1),
            }
        )
    return out


async def my_progress_answer(
    *,
    catalog: CatalogSource,
    progress: ProgressSource,
    student: str,
    language: Language,
    tz: str | None,
    streak_minimum: int,
    now: datetime | None = None,
) -> Serialised:
    """``my_progress``, serialised: the answer kept from the student's view when it has not
    changed since and the local day (the streak's) has not ended, else built and kept."""
    now = now or utcnow()

    async def build(found: StudentProgress) -> tuple[ProgressOut, int]:
        body, streak_zone = await _my_progress(
            catalog, found, language=language, tz=tz, streak_minimum=streak_minimum, now=now
        )
        return body, day_ends(streak_zone, now)  # the streak counts days: valid until then

    name = f"progress:{await catalog.version()}:{language}:{tz or ''}:{streak_minimum}"
    return await _kept_or_built(progress, student, language, name, now, build)


async def my_progress(
    *,
    catalog: CatalogSource,
    progress: ProgressSource,
    student: str,
    language: Language,
    tz: str | None,
    streak_minimum: int,
    now: datetime | None = None,
) -> ProgressOut:
    """A student's progress in a language: overview, chapters, areas, recent reads, and the
    daily streak in ``tz`` (else the student's stored zone, else UTC)."""
    found = await progress.get(student, language)
    body, _ = await _my_progress(
        catalog,
        found,
        language=language,
        tz=tz,
        streak_minimum=streak_minimum,
        now=now or utcnow(),
    )
    return body


async def _my_progress(
    catalog: CatalogSource,
    found: StudentProgress,
    *,
    language: Language,
    tz: str | None,
    streak_minimum: int,
    now: datetime,
) -> tuple[ProgressOut, ZoneInfo]:
    """The answer, and the zone its streak was counted in."""
    chapter_rows = await catalog.derived(language, "chapters", chapter_table)
    area_rows = await catalog.derived(language, "areas", area_table)
    stats, details = found.stats, found.details
    mine = _language_stats(stats, language)
    latest = list(reversed((stats.get("recent") or {}).get(language) or []))
    recent = [details[r["sample_id"]] for r in latest if r["sample_id"] in details]
    total = sum(c["total_questions"] for c in chapter_rows)
    read, seconds = int(mine.get("read", 0)), int(mine.get("time_spent", 0))
    by_chapter, by_area = mine.get("chapters", {}), mine.get("areas", {})
    stored = (stats.get("prefs") or {}).get("tz")
    streak_zone = zone(tz) if tz else saved_zone(stored)
    chapter_progress = _chapter_progress(chapter_rows, by_chapter)
    area_progress = _area_progress(area_rows, by_area)
    days: Streak = streak(
        stats.get("quarters") or {}, tz=streak_zone, now=now, minimum=streak_minimum
    )
    body: ProgressOut = {
        "status": "success",
        "language": language,
        "as_of": iso(now),
        "streak": days,
        "overview": {
            "samples_read": read,
            "samples_total": total,
            "progress_percentage": _pct(read, total),
            "total_time_seconds": seconds,
            "total_time_minutes": round(seconds / 60, 1),
            "points": int(mine.get("points", 0)),
            "total_points": int(stats.get("total_points", 0)),
        },
        "by_chapter": chapter_progress,
        "by_knowledge_area": area_progress,
        "recent_activity": _recent(recent),
    }
    return body, streak_zone
