"""A student's preferences: the time zone streaks are counted in, leaderboard opt-out, and
the display name leaderboards show."""

from __future__ import annotations

from enum import Enum
from typing import Any

from app.db import Database
from app.errors import NameTaken
from app.timefmt import utcnow
from app.training import names
from app.training.leaderboard import leave_boards, rejoin_boards, renamed
from app.training.ports import BoardStore, ProgressSource
from app.training.queries import students
from app.training.shapes import PreferencesOut
from app.training.streaks import zone


class Keep(Enum):
    """A field left out of the request: the stored value stays (null means something else)."""

    KEEP = "keep"


KEEP = Keep.KEEP


async def update_preferences(
    *,
    db: Database,
    boards: BoardStore,
    progress: ProgressSource,
    student: str,
    tz: str | None,
    leaderboard_opt_out: bool | None,
    display_name: str | Keep | None = KEEP,
    pseudonym_key: bytes,
) -> PreferencesOut:
    """Store the fields given (absent ones stay; a null ``display_name`` clears it); an
    opted-out student leaves the boards, one opting back in returns to them with every
    point. A name another student has is ``NameTaken``."""
    # Only a change from out to in rebuilds boards; a client that resends false is free.
    was_out = leaderboard_opt_out is False and bool(
        (await students.get_prefs(db, student)).get("leaderboard_opt_out")
    )
    changes: dict[str, Any] = {}
    unset: list[str] = []
    if tz is not None:
        changes["prefs.tz"] = str(zone(tz))
    if leaderboard_opt_out is not None:
        changes["prefs.leaderboard_opt_out"] = leaderboard_opt_out
    if isinstance(display_name, str):
        name = names.checked_display_name(display_name)
        changes["prefs.display_name"] = name
        changes["prefs.name_key"] = names.name_key(name)
    elif display_name is None:
        unset += ["prefs.display_name", "prefs.name_key"]
    now = utcnow()
    try:
        prefs = await students.update_prefs(db, student, changes, now, unset=unset)
    except students.NameInUse:
        raise NameTaken(
            f"display_name {display_name!r} is already used by another student "
            "(names are compared ignoring case); choose another"
        ) from None
    await progress.invalidate(student)  # the view keeps preferences too
    opted_out = bool(prefs.get("leaderboard_opt_out"))
    if opted_out:
        await leave_boards(boards=boards, student=student, now=now)
    elif was_out:
        await rejoin_boards(boards=boards, student=student, now=now)
    if display_name is not KEEP:
        # Workers keep the names boards show: a new (or cleared) name shows at once.
        await renamed(boards=boards, student=student, now=now)
    chosen = prefs.get("display_name")
    return {
        "status": "success",
        "tz": prefs.get("tz"),
        "leaderboard_opt_out": opted_out,
        "display_name": chosen if isinstance(chosen, str) else None,
        "name": names.shown_name(student, chosen, key=pseudonym_key),
    }
