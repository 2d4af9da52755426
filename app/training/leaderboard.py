"""Leaderboards: top students by points per language and period (UTC weeks and months).

Redis boards are kept by write-through on first reads and rebuilt from ``sample_progress``
when missing; with Redis down the answer is computed from MongoDB. Students who opted out
are on no board: others never see them, they still see their own points and the rank
they would have.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.db import Database
from app.training import queries
from app.training.catalog import check_language
from app.training.timefmt import iso
from cache.backend import CacheUnavailable
from cache.leaderboard import Board, Leaderboards

PERIODS = ("week", "month", "all")
ALL_TTL = 30 * 24 * 3600


def _period_bounds(period: str, now: datetime) -> tuple[str, datetime | None, datetime | None]:
    """(key, start, end) of the period containing ``now``; open bounds for ``all``."""
    now = now.astimezone(UTC)
    if period == "week":
        start = (now - timedelta(days=now.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}", start, start + timedelta(days=7)
    if period == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        return f"{now:%Y-%m}", start, end
    return "all", None, None


def board_for(
    language: str, period: str, now: datetime
) -> tuple[Board, datetime | None, datetime | None]:
    """The board of ``period`` containing ``now``, with its bounds."""
    key, start, end = _period_bounds(period, now)
    # A period board lives until a while after its period ends, then expires by itself.
    ttl = ALL_TTL if end is None else int((end - now).total_seconds()) + 8 * 24 * 3600
    return Board(language, period, key, ttl), start, end


def boards_for(language: str, now: datetime) -> list[Board]:
    """Every board a first read at ``now`` counts on."""
    return [board_for(language, period, now)[0] for period in PERIODS]


async def award(
    *, boards: Leaderboards | None, student: str, language: str, points: int, now: datetime
) -> None:
    """Write-through of a first read's points (a failure leaves the board to be rebuilt)."""
    if boards is None or points <= 0:
        return
    try:
        await boards.award(boards_for(language, now), student, points)
    except CacheUnavailable:
        # The backend bumps the epoch before Redis is used again: boards loaded before
        # then count as missing and are rebuilt from MongoDB.
        pass


async def _from_mongo(
    db: Database, language: str, start: datetime | None, end: datetime | None
) -> dict[str, float]:
    hidden = await queries.opted_out_students(db)
    points = await queries.points_by_student(db, language, start, end)
    return {s: p for s, p in points.items() if s not in hidden and p > 0}


def _ranked(points: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(points.items(), key=lambda item: (-item[1], item[0]))


async def leaderboard(
    *,
    db: Database,
    boards: Leaderboards | None,
    student: str,
    language: str,
    period: str,
    limit: int,
    now: datetime,
) -> dict[str, Any]:
    """The top ``limit`` of a board and the caller's own rank and points."""
    check_language(language)
    board, start, end = board_for(language, period, now)
    prefs = await queries.get_prefs(db, student)
    hidden = bool(prefs.get("leaderboard_opt_out"))
    standing = None
    points: dict[str, float] | None = None
    if boards is not None:
        try:
            standing = await boards.standing(board, student, limit)
            if standing is None:
                points = await boards.rebuild(board, lambda: _from_mongo(db, language, start, end))
        except CacheUnavailable:
            standing = None
    if standing is not None:
        top = standing.top
        my_points, my_rank = standing.my_points, standing.my_rank
    else:
        if points is None:
            points = await _from_mongo(db, language, start, end)
        ranked = _ranked(points)
        top = ranked[:limit]
        my_points = points.get(student)
        my_rank = 1 + sum(1 for _, p in ranked if p > my_points) if my_points is not None else None
    if hidden:
        # Not on the board: their own points, and the rank they would have.
        own = await queries.points_by_student(db, language, start, end, student=student)
        my_points = own.get(student, 0.0)
        my_rank = None
        if standing is not None and boards is not None:
            try:
                my_rank = await boards.rank_of(board, my_points)
            except CacheUnavailable:
                pass
        if my_rank is None:
            everyone = points if points is not None else await _from_mongo(db, language, start, end)
            my_rank = 1 + sum(1 for p in everyone.values() if p > my_points)
    ranks = _competition_ranks([p for _, p in top])
    return {
        "language": language,
        "period": period,
        "period_key": board.key,
        "as_of": iso(now),
        "top": [
            {"rank": r, "student": s, "points": int(p)}
            for r, (s, p) in zip(ranks, top, strict=True)
        ],
        "me": {
            "student": student,
            "rank": my_rank,
            "points": int(my_points or 0),
            "hidden": hidden,
        },
    }


def _competition_ranks(scores: list[float]) -> list[int]:
    """1224 ranking: tied students share a rank, the next one skips."""
    ranks: list[int] = []
    for i, score in enumerate(scores):
        ranks.append(ranks[-1] if i and score == scores[i - 1] else i + 1)
    return ranks


async def set_opt_out(
    *, boards: Leaderboards | None, student: str, opted_out: bool, now: datetime
) -> None:
    """Take an opted-out student off the current boards (rebuilds leave them off too)."""
    if boards is None or not opted_out:
        return
    from app.training.curriculum import LANGUAGES

    try:
        await boards.remove([b for lang in LANGUAGES for b in boards_for(lang, now)], student)
    except CacheUnavailable:
        pass
