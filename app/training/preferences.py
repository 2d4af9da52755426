"""A student's preferences: the time zone streaks are counted in, and leaderboard opt-out."""

from __future__ import annotations

from typing import Any

from app.db import Database
from app.training.leaderboard import leave_boards
from app.training.queries import students
from app.training.shapes import PreferencesOut
from app.training.streaks import zone
from app.training.timefmt import utcnow
from cache.leaderboard import BoardStore
from cache.student_progress import ProgressSource


async def update_preferences(
    *,
    db: Database,
    boards: BoardStore,
    progress: ProgressSource,
    student: str,
    tz: str | None,
    leaderboard_opt_out: bool | None,
) -> PreferencesOut:
    """Store the fields given (absent ones stay); an opted-out student leaves the boards."""
    changes: dict[str, Any] = {}
    if tz is not None:
        changes["prefs.tz"] = str(zone(tz))
    if leaderboard_opt_out is not None:
        changes["prefs.leaderboard_opt_out"] = leaderboard_opt_out
    now = utcnow()
    prefs = await students.update_prefs(db, student, changes, now)
    await progress.invalidate(student)  # the view keeps preferences too
    opted_out = bool(prefs.get("leaderboard_opt_out"))
    if opted_out:
        await leave_boards(boards=boards, student=student, now=now)
    return {"status": "success", "tz": prefs.get("tz"), "leaderboard_opt_out": opted_out}
