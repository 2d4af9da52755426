"""Leaderboards: top students by points per language and period (UTC weeks and months).

The boards live in the process's ``BoardStore`` (``cache.leaderboard``): Redis sorted sets
kept by write-through on first reads, rebuilt from the MongoDB snapshot below when
missing, or that snapshot alone when Redis fails or the cache is off. Students who opted
out are on no board: others never see them; they still see their own points and the
rank they would have.

Boards are keyed by student id; ids become names only in the answer (``app.training.names``):
others are shown by display name or pseudonym, never by id, and only the caller's own
entry (``me``) carries their id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from app.db import Database
from app.timefmt import iso
from app.training import names
from app.training.curriculum import LANGUAGES, Language
from app.training.loaders import within
from app.training.ports import Board, BoardData, BoardSources, BoardStore
from app.training.queries import reads, students
from app.training.shapes import LeaderboardOut

Period = Literal["week", "month", "all"]

PERIODS: tuple[Period, ...] = ("week", "month", "all")
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


def _sources(
    db: Database,
    student: str,
    language: str,
    bounds: tuple[datetime | None, datetime | None],
    *,
    pseudonym_key: bytes,
    load_wait: float,
) -> BoardSources:
    """What a board answer may read from MongoDB. Names are kept once read (they serve
    every later answer) and come after the board was read, so like the per-student loads
    they may wait ``load_wait`` seconds for a connection instead of being shed at the
    pool's short queue budget. The board itself is an aggregation of the whole period: it
    keeps that budget (a worker rebuilds a board once at a time, ``cache.leaderboard``)."""
    start, end = bounds
    memo: BoardData | None = None

    async def snapshot() -> BoardData:
        # Read at most once per answer, however many times the store asks.
        nonlocal memo
        if memo is None:
            hidden = await students.opted_out(db)
            points = await reads.points_by_student(db, language, start, end)
            visible = {s: p for s, p in points.items() if s not in hidden and p > 0}
            memo = BoardData(visible, frozenset(hidden))
        return memo

    async def shown(ids: Sequence[str]) -> dict[str, str]:
        with within(load_wait):
            chosen = await students.display_names(db, ids)
        return {s: names.shown_name(s, chosen.get(s), key=pseudonym_key) for s in ids}

    async def own_points() -> float:
        own = await reads.points_by_student(db, language, start, end, student=student)
        return own.get(student, 0.0)

    return BoardSources(snapshot, shown, own_points)


def _competition_ranks(scores: list[float]) -> list[int]:
    """1224 ranking: tied students share a rank, the next one skips."""
    ranks: list[int] = []
    for i, score in enumerate(scores):
        ranks.append(ranks[-1] if i and score == scores[i - 1] else i + 1)
    return ranks


async def leaderboard(
    *,
    db: Database,
    boards: BoardStore,
    student: str,
    language: Language,
    period: Period,
    limit: int,
    now: datetime,
    pseudonym_key: bytes,
    load_wait: float = 2.0,
) -> LeaderboardOut:
    """The top ``limit`` of a board, by name, and the caller's own rank and points."""
    board, start, end = board_for(language, period, now)
    sources = _sources(
        db, student, language, (start, end), pseudonym_key=pseudonym_key, load_wait=load_wait
    )
    placing = await boards.placing(board, student, limit, sources)
    found, shown = placing.standing, placing.names
    ranks = _competition_ranks([p for _, p in found.top])
    return {
        "status": "success",
        "language": language,
        "period": period,
        "period_key": board.key,
        "as_of": iso(now),
        "top": [
            {"rank": r, "name": shown[s], "points": int(p), "is_me": s == student}
            for r, (s, p) in zip(ranks, found.top, strict=True)
        ],
        "me": {
            "student": student,
            "name": shown[student],
            "rank": found.my_rank,
            "points": int(found.my_points or 0),
            "hidden": placing.hidden,
        },
    }


async def renamed(*, boards: BoardStore, student: str, now: datetime) -> None:
    """A student's display name changed: the current boards show it from now on."""
    await boards.renamed([b for lang in LANGUAGES for b in boards_for(lang, now)], student)


async def leave_boards(*, boards: BoardStore, student: str, now: datetime) -> None:
    """Take an opted-out student off the current boards (rebuilds leave them off too)."""
    await boards.remove([b for lang in LANGUAGES for b in boards_for(lang, now)], student)


async def rejoin_boards(*, boards: BoardStore, student: str, now: datetime) -> None:
    """Put a student who opted back in on the current boards with all their points: the
    boards are rebuilt from MongoDB. (Awards skipped them while they were out, so adding
    later awards to the board would show only the points earned since.)"""
    await boards.readmit([b for lang in LANGUAGES for b in boards_for(lang, now)], student)
