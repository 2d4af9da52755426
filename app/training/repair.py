"""Repairing the caches of visits whose write-throughs may have been lost: a worker that
died between a batch's commit and its Redis writes (``app.writer_sessions``) leaves its
students' read sets, progress views and the boards of their reads possibly short; these
and nothing else are invalidated, to reload from MongoDB on their next use."""

from __future__ import annotations

from collections.abc import Sequence

from app.training.leaderboard import boards_for
from app.training.ports import StaleCaches
from app.training.queries.intents import PendingVisit


async def repair_visits(caches: StaleCaches, visits: Sequence[PendingVisit]) -> bool:
    """Invalidate what the write-throughs of ``visits`` would have touched."""
    students = {(visit.student, visit.language) for visit in visits}
    boards = {board for visit in visits for board in boards_for(visit.language, visit.at)}
    return await caches.repair(students, boards)
