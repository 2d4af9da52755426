"""Mark-read: record a visit; the first read of a sample awards its points exactly once.

Order of writes, MongoDB first: one atomic upsert on the unique (student, sample) index
decides the first read; then the student's stats document; then, for a first read, the
write-throughs to the leaderboards and the student's Redis read set (each repaired by
the backend's epoch bump if Redis misses it).
"""

from __future__ import annotations

from app.db import Database
from app.errors import NotFound
from app.observability import FIRST_READS, POINTS, REVISITS
from app.training.catalog_source import CatalogSource
from app.training.curriculum import FALLBACK_AREA
from app.training.leaderboard import boards_for
from app.training.queries import reads as read_queries
from app.training.queries import students
from app.training.shapes import MarkReadOut
from app.training.timefmt import utcnow
from cache.leaderboard import BoardStore
from cache.reads import ReadState


async def mark_read(
    *,
    db: Database,
    catalog: CatalogSource,
    reads: ReadState,
    boards: BoardStore,
    student: str,
    sample_id: str,
    time_spent: int,
) -> MarkReadOut:
    """Record one visit of ``sample_id`` lasting ``time_spent`` seconds."""
    sample = await catalog.sample(sample_id)
    if sample is None:
        raise NotFound(f"sample '{sample_id}' not found")
    if not sample.get("language") or not isinstance(sample.get("chapter"), int):
        raise NotFound(f"sample '{sample_id}' is not in the migrated catalog yet")
    # The sample may be the worker's shared cached copy: never write the default into it.
    area = sample.get("knowledge_area") or FALLBACK_AREA
    language = sample["language"]
    now = utcnow()
    first = await read_queries.upsert_read(
        db, student=student, sample=sample, knowledge_area=area, time_spent=time_spent, now=now
    )
    update = students.visit_update(
        sample, knowledge_area=area, first_read=first, time_spent=time_spent, now=now
    )
    stats = await students.apply_visit(db, student, update)
    points = int(sample.get("read_points", 1)) if first else 0
    if first:
        FIRST_READS.inc()
        POINTS.inc(points)
        if points > 0 and not (stats.get("prefs") or {}).get("leaderboard_opt_out"):
            await boards.award(boards_for(language, now), student, points)
        await reads.record(student, language, sample_id, now)
    else:
        REVISITS.inc()
    return {
        "status": "success",
        "sample_id": sample_id,
        "is_first_read": first,
        "points_awarded": points,
        "total_points": int(stats.get("total_points", 0)),
        "message": "Sample marked as read" if first else "Sample revisited",
    }
