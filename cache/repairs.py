"""Repairs by name for the domain (``app.training.ports.StaleCaches``): the read sets,
progress views and boards a lost write-through may have left short."""

from __future__ import annotations

from collections.abc import Collection

from app.training.ports import Board
from cache.leaderboard import Leaderboards
from cache.progress import ProgressSets
from cache.progress_view import ProgressViews


class NamedRepairs:
    """Drops the named caches (and moves their generations) in Redis."""

    def __init__(self, sets: ProgressSets, views: ProgressViews, boards: Leaderboards) -> None:
        self.sets = sets
        self.views = views
        self.boards = boards

    async def repair(
        self, students: Collection[tuple[str, str]], boards: Collection[Board]
    ) -> bool:
        """One pipeline per 500 caches; False (and kept for Redis' return) when Redis fails."""
        repairs = [self.sets.repair_of(student, language) for student, language in students]
        repairs += [self.views.repair_of(student) for student in {s for s, _ in students}]
        repairs += [self.boards.repair_of(board) for board in boards]
        return await self.sets.backend.repair(repairs, reason="dead_worker")


class NothingKept:
    """The cache is off: nothing to repair."""

    async def repair(
        self, students: Collection[tuple[str, str]], boards: Collection[Board]
    ) -> bool:
        """Always done."""
        return True
