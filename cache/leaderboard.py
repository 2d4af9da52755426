"""Leaderboards in Redis: one sorted set of points per (language, period), write-through.

Keys: ``{prefix}lb:{c:week:2026-W48}`` (hash tag = the board, so a board and its
generation key share a Cluster slot). A ``__loaded__`` sentinel marks a board rebuilt from
MongoDB; awards only ever increment loaded boards, and a rebuild only installs its snapshot
when no award landed while it read MongoDB (the generation check), exactly as for the read
sets. The sentinel's score is its load time (ms) minus ``OFFSET``: below every real score,
and comparable with the progress epoch (moved only when more repairs were needed than the
backend remembers). An award Redis failed or skipped is undone by the board's ``Repair``
(drop it; the next standing rebuilds it). Period boards expire on their own.

``BoardStore`` is what the leaderboard service uses: ``RedisBoards`` answers from these
sets and falls back to a MongoDB snapshot (given by the caller) when a board is missing
or Redis fails; ``MongoBoards`` always uses the snapshot (``LUMETRIX_CACHE=off``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cache.backend import CacheBackend, Repair
from cache.progress import BEGIN_LOAD, LOAD
from cache.singleflight import SingleFlight

SENTINEL = "__loaded__"
OFFSET = 10**16  # > any epoch-ms timestamp: load time - OFFSET is always negative

_AWARD = """
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZINCRBY', KEYS[1], ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Board:
    """One leaderboard: a language and a period instance, with its lifetime."""

    language: str
    period: str  # week | month | all
    key: str  # e.g. 2026-W48, 2026-11, all
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class Standing:
    """What a board says: the top entries and the caller's points and rank."""

    top: list[tuple[str, float]]
    my_points: float | None
    my_rank: int | None


class Leaderboards:
    """Leaderboard sorted sets in Redis; every method may raise CacheUnavailable."""

    def __init__(self, backend: CacheBackend) -> None:
        self.backend = backend
        # Boards being rebuilt by this process: concurrent misses wait for one rebuild
        # instead of each aggregating the whole period from MongoDB.
        self._rebuilding = SingleFlight()

    async def rebuild(
        self, board: Board, snapshot: Callable[[], Awaitable[dict[str, float]]]
    ) -> dict[str, float]:
        """Rebuild ``board`` from ``snapshot()`` once per process at a time; return the
        snapshot (every waiter gets the same one)."""

        async def load() -> dict[str, float]:
            token = await self.begin_load(board)
            points = await snapshot()
            await self.load(board, points, token)
            return points

        return await self._rebuilding.run(self.keys(board)[0], load)

    @staticmethod
    def tag(board: Board) -> str:
        """The board's Cluster hash tag (without braces)."""
        return f"{board.language}:{board.period}:{board.key}"

    def keys(self, board: Board) -> tuple[str, str]:
        """The board key and its generation key."""
        tag = "{" + self.tag(board) + "}"
        return self.backend.key("lb", tag), self.backend.key("lb-gen", tag)

    def repair_of(self, board: Board) -> Repair:
        """Drop the board and move its generation: the next standing rebuilds it."""
        key, gen = self.keys(board)
        return Repair(gen, (key,), board.ttl_seconds * 1000)

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Add ``points`` to ``student`` on every loaded board, in one round trip."""

        async def op(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for board in boards:
                    key, gen = self.keys(board)
                    pipe.eval(
                        _AWARD, 2, key, gen, student, points, board.ttl_seconds * 1000, SENTINEL
                    )
                await pipe.execute()

        await self.backend.call(op)

    async def standing(self, board: Board, student: str, limit: int) -> Standing | None:
        """Top ``limit`` and the student's rank (1 + students with more points); None if the
        board is not loaded."""
        key, _ = self.keys(board)
        epoch_key = self.backend.epoch_key(self.tag(board))

        async def op(r: Any) -> list[Any]:
            async with r.pipeline(transaction=False) as pipe:
                pipe.zscore(key, SENTINEL)
                pipe.zrevrange(key, 0, limit, withscores=True)
                pipe.zscore(key, student)
                pipe.get(epoch_key)
                return list(await pipe.execute())

        sentinel, top, mine, epoch = await self.backend.call(op)
        if sentinel is None or (epoch is not None and sentinel + OFFSET <= float(epoch)):
            return None
        entries = [(m, float(s)) for m, s in top if m != SENTINEL][:limit]
        rank = None
        if mine is not None:
            above = await self.backend.call(lambda r: r.zcount(key, f"({mine}", "+inf"))
            rank = int(above) + 1
        return Standing(entries, None if mine is None else float(mine), rank)

    async def rank_of(self, board: Board, points: float) -> int:
        """1 + how many students on the board have more than ``points``."""
        key, _ = self.keys(board)
        above = await self.backend.call(lambda r: r.zcount(key, f"({points}", "+inf"))
        return int(above) + 1

    async def begin_load(self, board: Board) -> tuple[str, str]:
        """(generation, Redis time in ms): read both before the MongoDB snapshot."""
        _, gen = self.keys(board)
        generation, now = await self.backend.call(lambda r: r.eval(BEGIN_LOAD, 1, gen))
        return str(generation), str(now)

    async def load(self, board: Board, points: Mapping[str, float], token: tuple[str, str]) -> bool:
        """Install a MongoDB snapshot unless an award landed since ``token`` was taken."""
        key, gen = self.keys(board)
        generation, started = token
        argv: list[Any] = [generation, board.ttl_seconds * 1000, SENTINEL, int(started) - OFFSET]
        for student, score in points.items():
            argv += [score, student]
        loaded = await self.backend.call(lambda r: r.eval(LOAD, 2, key, gen, *argv))
        return int(loaded) == 1

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Take a student off boards (opt-out)."""
        await self._regenerate(boards, lambda pipe, key: pipe.zrem(key, student))

    async def _regenerate(self, boards: Sequence[Board], change: Callable[[Any, str], Any]) -> None:
        """Give each board a new generation, then ``change(pipe, board key)``, in one round
        trip: a rebuild that read MongoDB before the change cannot install what it read."""

        async def op(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for board in boards:
                    key, gen = self.keys(board)
                    pipe.incr(gen)
                    pipe.pexpire(gen, board.ttl_seconds * 1000)
                    change(pipe, key)
                await pipe.execute()

        await self.backend.call(op)


Snapshot = Callable[[], Awaitable[dict[str, float]]]
"""Points per visible student on a board, computed from MongoDB."""


def standing_from(
    points: Mapping[str, float], student: str, limit: int, hidden_points: float | None = None
) -> Standing:
    """The standing a points snapshot gives (ties broken by student id).

    ``hidden_points``: the caller is not on the board (opted out); their rank is the one
    a student with these points would have."""
    ranked = sorted(points.items(), key=lambda item: (-item[1], item[0]))
    mine = hidden_points if hidden_points is not None else points.get(student)
    rank = None if mine is None else 1 + sum(1 for _, p in ranked if p > mine)
    return Standing(ranked[:limit], mine, rank)


class BoardStore(Protocol):
    """Leaderboards as the service sees them: always an answer."""

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Count a first read's points on every board it belongs to."""
        ...

    async def standing(
        self,
        board: Board,
        student: str,
        limit: int,
        snapshot: Snapshot,
        *,
        hidden_points: float | None = None,
    ) -> Standing:
        """Top ``limit`` and the student's points and rank (see ``standing_from``)."""
        ...

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Take a student off boards."""
        ...

    async def invalidate(self, boards: Sequence[Board]) -> None:
        """Forget what is kept of boards; their next standing comes from MongoDB."""
        ...


class MongoBoards:
    """Every standing computed from the snapshot; nothing is kept."""

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Nothing to write through: the snapshot reads the first reads themselves."""

    async def standing(
        self,
        board: Board,
        student: str,
        limit: int,
        snapshot: Snapshot,
        *,
        hidden_points: float | None = None,
    ) -> Standing:
        """From a fresh snapshot."""
        return standing_from(await snapshot(), student, limit, hidden_points)

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Nothing kept; the snapshot leaves opted-out students out."""

    async def invalidate(self, boards: Sequence[Board]) -> None:
        """Nothing kept; every snapshot is fresh."""


class RedisBoards:
    """Redis boards, rebuilt from the snapshot when missing, bypassed while Redis fails."""

    def __init__(self, boards: Leaderboards) -> None:
        self.boards = boards

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Write-through; should Redis fail, the boards are dropped (and rebuilt on
        demand) once it is back."""
        await self.boards.backend.best_effort(
            lambda: self.boards.award(boards, student, points),
            [self.boards.repair_of(b) for b in boards],
        )

    async def standing(
        self,
        board: Board,
        student: str,
        limit: int,
        snapshot: Snapshot,
        *,
        hidden_points: float | None = None,
    ) -> Standing:
        """From the loaded board; else rebuilt from the snapshot; else the snapshot."""

        async def cached() -> Standing:
            found = await self.boards.standing(board, student, limit)
            if found is None:
                points = await self.boards.rebuild(board, snapshot)
                return standing_from(points, student, limit, hidden_points)
            if hidden_points is None:
                return found
            rank = await self.boards.rank_of(board, hidden_points)
            return Standing(found.top, hidden_points, rank)

        async def fallback() -> Standing:
            return standing_from(await snapshot(), student, limit, hidden_points)

        return await self.boards.backend.or_else(cached, fallback)

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Best effort: should Redis fail, the boards are dropped once it is back, and a
        rebuild leaves opted-out students out."""
        await self.boards.backend.best_effort(
            lambda: self.boards.remove(boards, student),
            [self.boards.repair_of(b) for b in boards],
        )

    async def invalidate(self, boards: Sequence[Board]) -> None:
        """Drop the boards now (a rebuild already reading MongoDB is refused: new
        generation), or once Redis is back should it fail."""
        await self.boards.backend.repair(
            [self.boards.repair_of(b) for b in boards], reason="invalidated"
        )
