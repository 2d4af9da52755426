"""Progress service: read state per student, mark-read, and progress analytics.

MongoDB (``sample_progress``, ``student_stats``) is the source of truth; the Redis read
sets only make ``isRead``/``readAt`` cheap. Every Redis failure falls back to MongoDB.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db import Database
from app.errors import NotFound
from app.observability import FIRST_READS, POINTS, REVISITS
from app.training import catalog as catalog_service
from app.training import leaderboard, queries
from app.training.curriculum import language_of
from app.training.streaks import streak, zone
from app.training.timefmt import from_ms, iso, to_ms, utcnow
from cache.backend import CacheUnavailable
from cache.catalog import CatalogCache
from cache.leaderboard import Leaderboards
from cache.progress import ProgressSets


async def _load_set(
    *, db: Database, progress: ProgressSets, student: str, language: str
) -> dict[str, datetime]:
    """Read a student's whole read set from MongoDB and install it in Redis."""
    token = await progress.begin_load(student, language)
    entries = await queries.read_times(db, student, language)
    try:
        await progress.load(student, language, {k: to_ms(v) for k, v in entries.items()}, token)
    except CacheUnavailable:
        pass  # the answer below is still right; the next request tries again
    return entries


async def read_map(
    *,
    db: Database,
    progress: ProgressSets | None,
    student: str,
    language: str,
    sample_ids: Sequence[str],
) -> dict[str, datetime]:
    """First-read time of each of ``sample_ids`` the student has read (one Redis trip)."""
    if not sample_ids:
        return {}
    if progress is not None:
        try:
            scores = await progress.scores(student, language, sample_ids)
            if scores is not None:
                return {
                    sid: from_ms(score)
                    for sid, score in zip(sample_ids, scores, strict=True)
                    if score is not None
                }
            entries = await _load_set(db=db, progress=progress, student=student, language=language)
            return {sid: entries[sid] for sid in sample_ids if sid in entries}
        except CacheUnavailable:
            pass
    return await queries.read_times(db, student, language, sample_ids)


async def all_reads(
    *, db: Database, progress: ProgressSets | None, student: str, language: str
) -> set[str]:
    """Every sample id the student has read in a language."""
    if progress is not None:
        try:
            members = await progress.members(student, language)
            if members is not None:
                return set(members)
            return set(
                await _load_set(db=db, progress=progress, student=student, language=language)
            )
        except CacheUnavailable:
            pass
    return set(await queries.read_times(db, student, language))


def enrich(samples: Sequence[dict[str, Any]], reads: dict[str, datetime]) -> list[dict[str, Any]]:
    """Copies of ``samples`` with ``isRead`` and ``readAt`` for the student."""
    out = []
    for sample in samples:
        read_at = reads.get(sample["sample_id"])
        out.append({**sample, "isRead": read_at is not None, "readAt": iso(read_at)})
    return out


async def enriched_page(
    *,
    db: Database,
    progress: ProgressSets | None,
    student: str,
    language: str,
    samples: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """``samples`` (all of ``language``) with the student's read state."""
    reads = await read_map(
        db=db,
        progress=progress,
        student=student,
        language=language,
        sample_ids=[s["sample_id"] for s in samples],
    )
    return enrich(samples, reads)


async def random_sample(
    *,
    db: Database,
    catalog: CatalogCache | None,
    progress: ProgressSets | None,
    student: str,
    language: str,
    flt: catalog_service.SampleFilter,
    unread_only: bool,
) -> dict[str, Any] | None:
    """A random sample passing ``flt`` (unread by the student if asked), enriched; or None."""
    picks = await catalog_service.random_candidates(
        db=db, catalog=catalog, language=language, flt=flt, size=20 if unread_only else 1
    )
    reads = await read_map(
        db=db,
        progress=progress,
        student=student,
        language=language,
        sample_ids=[p["sample_id"] for p in picks],
    )
    if not unread_only:
        return enrich(picks, reads)[0] if picks else None
    unread = [p for p in picks if p["sample_id"] not in reads]
    if not unread:
        # Most of the listing is read: pick among what is left (needs the whole read set).
        read_ids = await all_reads(db=db, progress=progress, student=student, language=language)
        rows = await catalog_service.filtered_rows(
            db=db, catalog=catalog, language=language, flt=flt
        )
        unread = [r for r in rows if r["sample_id"] not in read_ids]
    return enrich([random.choice(unread)], {})[0] if unread else None


async def sample_detail(
    *, db: Database, catalog: CatalogCache | None, student: str, sample_id: str
) -> dict[str, Any]:
    """One sample with the student's read state, time spent and visit count."""
    sample = await catalog_service.find_sample(
        db=db, catalog=catalog, sample_id=sample_id, language=language_of(sample_id)
    )
    if sample is None:
        raise NotFound(f"sample '{sample_id}' not found")
    record = await queries.get_progress(db, student, sample_id)
    return {
        **sample,
        "isRead": record is not None,
        "readAt": iso(record["read_at"]) if record else None,
        "timeSpent": int(record.get("time_spent", 0)) if record else 0,
        "revisitedCount": int(record.get("revisited_count", 0)) if record else 0,
    }


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What one mark-read did."""

    sample_id: str
    language: str
    is_first_read: bool
    points_awarded: int
    total_points: int


async def mark_read(
    *,
    db: Database,
    catalog: CatalogCache | None,
    progress: ProgressSets | None,
    boards: Leaderboards | None = None,
    student: str,
    sample_id: str,
    time_spent: int,
) -> ReadResult:
    """Record a visit: the first read awards the sample's points exactly once.

    MongoDB first (one atomic upsert decides the first read), then the stats document,
    then write-through to the student's Redis read set.
    """
    sample = await catalog_service.find_sample(
        db=db, catalog=catalog, sample_id=sample_id, language=language_of(sample_id)
    )
    if sample is None:
        raise NotFound(f"sample '{sample_id}' not found")
    if not sample.get("language") or not isinstance(sample.get("chapter"), int):
        raise NotFound(f"sample '{sample_id}' is not in the migrated catalog yet")
    sample.setdefault("knowledge_area", "general")
    now = utcnow()
    first = await queries.upsert_read(
        db, student=student, sample=sample, time_spent=time_spent, now=now
    )
    update = queries.stats_update(sample, first_read=first, time_spent=time_spent, now=now)
    stats = await queries.apply_stats(db, student, update)
    points = int(sample.get("read_points", 1)) if first else 0
    if first:
        FIRST_READS.inc()
        POINTS.inc(points)
        if not (stats.get("prefs") or {}).get("leaderboard_opt_out"):
            await leaderboard.award(
                boards=boards, student=student, language=sample["language"], points=points, now=now
            )
    else:
        REVISITS.inc()
    if first and progress is not None:
        try:
            await progress.add(student, sample["language"], sample_id, to_ms(now))
        except CacheUnavailable:
            # The backend's recovery bumps the progress epoch before Redis is used again,
            # so the set that missed this write is reloaded from MongoDB.
            pass
    return ReadResult(
        sample_id=sample_id,
        language=sample["language"],
        is_first_read=first,
        points_awarded=points,
        total_points=int(stats.get("total_points", 0)),
    )


def _pct(part: int, whole: int) -> float:
    return round(part / whole * 100, 2) if whole else 0.0


def _lang_stats(stats: dict[str, Any] | None, language: str) -> dict[str, Any]:
    return ((stats or {}).get("languages") or {}).get(language) or {}


async def chapters_with_progress(
    *, db: Database, catalog: CatalogCache | None, student: str, language: str
) -> list[dict[str, Any]]:
    """Each chapter of a language with its totals and the student's reads."""
    table = await catalog_service.chapters(db=db, catalog=catalog, language=language)
    chapters_read = _lang_stats(await queries.get_stats(db, student), language).get("chapters", {})
    out = []
    for chapter in table:
        read = int(chapters_read.get(str(chapter["chapter"]), {}).get("read", 0))
        out.append(
            {
                **chapter,
                "read_questions": read,
                "progress_percentage": _pct(read, chapter["total_questions"]),
            }
        )
    return out


async def my_progress(
    *,
    db: Database,
    catalog: CatalogCache | None,
    student: str,
    language: str,
    tz: str | None = None,
    streak_minimum: int = 1,
) -> dict[str, Any]:
    """A student's progress in a language: overview, chapters, areas, recent reads, and the
    daily streak in ``tz`` (else the student's stored zone, else UTC)."""
    now = utcnow()
    chapter_rows = await catalog_service.chapters(db=db, catalog=catalog, language=language)
    area_rows = await catalog_service.knowledge_areas(db=db, catalog=catalog, language=language)
    stats = await queries.get_stats(db, student)
    mine = _lang_stats(stats, language)
    latest = list(reversed(((stats or {}).get("recent") or {}).get(language) or []))
    details = await queries.progress_of(db, student, [r["sample_id"] for r in latest])
    recent = [details[r["sample_id"]] for r in latest if r["sample_id"] in details]
    total = sum(c["total_questions"] for c in chapter_rows)
    read, seconds = int(mine.get("read", 0)), int(mine.get("time_spent", 0))
    chapters, areas = mine.get("chapters", {}), mine.get("areas", {})
    prefs = (stats or {}).get("prefs") or {}
    streak_zone = zone(tz or prefs.get("tz"))
    return {
        "as_of": iso(now),
        "streak": streak(
            (stats or {}).get("quarters") or {}, tz=streak_zone, now=now, minimum=streak_minimum
        ),
        "overview": {
            "samples_read": read,
            "samples_total": total,
            "progress_percentage": _pct(read, total),
            "total_time_seconds": seconds,
            "total_time_minutes": round(seconds / 60, 1),
            "points": int(mine.get("points", 0)),
            "total_points": int((stats or {}).get("total_points", 0)),
        },
        "by_chapter": [
            {
                "chapter": ch["chapter"],
                "knowledge_area": ch["knowledge_area"],
                "read": (n := int(chapters.get(str(ch["chapter"]), {}).get("read", 0))),
                "total": ch["total_questions"],
                "percentage": _pct(n, ch["total_questions"]),
            }
            for ch in chapter_rows
        ],
        "by_knowledge_area": [
            {
                "area": area["knowledge_area"],
                "read": (n := int(areas.get(area["knowledge_area"], {}).get("read", 0))),
                "total": area["total_samples"],
                "percentage": _pct(n, area["total_samples"]),
                "time_spent_minutes": round(
                    int(areas.get(area["knowledge_area"], {}).get("time_spent", 0)) / 60, 1
                ),
            }
            for area in area_rows
        ],
        "recent_activity": [
            {
                "sample_id": r["sample_id"],
                "chapter": r.get("chapter"),
                "knowledge_area": r.get("knowledge_area"),
                "read_at": iso(r.get("read_at")),
                "last_revisited": iso(r.get("last_revisited")),
                "time_spent": int(r.get("time_spent", 0)),
                "revisited_count": int(r.get("revisited_count", 0)),
            }
            for r in recent
        ],
    }


async def set_preferences(
    *, db: Database, student: str, tz: str | None, leaderboard_opt_out: bool | None
) -> dict[str, Any]:
    """Store the student's time zone and leaderboard opt-out; return the preferences."""
    changes: dict[str, Any] = {}
    if tz is not None:
        changes["prefs.tz"] = str(zone(tz))
    if leaderboard_opt_out is not None:
        changes["prefs.leaderboard_opt_out"] = leaderboard_opt_out
    return await queries.update_prefs(db, student, changes, utcnow())


async def recompute_stats(*, db: Database, student: str) -> dict[str, Any]:
    """Rebuild a student's stats document from ``sample_progress`` alone."""
    doc = await queries.stats_from_progress(db, student)
    await queries.replace_stats(db, student, doc, utcnow())
    return doc
