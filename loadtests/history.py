"""Reading histories for load tests: give a student N first reads in one bulk write."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from app.db import Database
from app.timefmt import utcnow
from app.training.curriculum import FALLBACK_AREA
from app.training.filters import SampleFilter
from app.training.progress import load_student_progress
from app.training.queries import reads as read_queries
from app.training.queries import samples
from app.training.reconcile import recompute_stats
from cache.student_progress import MongoProgress


async def seed_history(
    db: Database, *, student: str, language: str, reads: int, now: datetime | None = None
) -> int:
    """Give ``student`` ``reads`` first reads in ``language`` (existing ones kept).

    Reads go to the first samples of the language in curriculum order, one second apart;
    the student's stats are rebuilt from them. Returns how many progress documents the
    student has in the language afterwards.
    """
    now = now or utcnow()
    listing = await samples.find_all(db, SampleFilter().query(language))
    docs = []
    for i, sample in enumerate(listing[:reads]):
        read_at = now - timedelta(seconds=reads - i)
        docs.append(
            {
                "sidhi_id": student,
                "sample_id": sample["sample_id"],
                "language": language,
                "knowledge_area": sample.get("knowledge_area") or FALLBACK_AREA,
                "chapter": sample["chapter"],
                "read_at": read_at,
                "last_revisited": read_at,
                "time_spent": 30,
                "revisited_count": 1,
                "points_awarded": int(sample.get("read_points", 1)),
            }
        )
    await read_queries.insert_history(db, student, docs)
    # Written before the servers under test read this student: nothing kept to invalidate.
    progress = MongoProgress(functools.partial(load_student_progress, db))
    await recompute_stats(db=db, progress=progress, student=student)
    return await read_queries.count_of(db, student, language)
