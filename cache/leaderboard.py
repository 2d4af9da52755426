"""Leaderboards in Redis: one sorted set of points per (language, period), write-through.

Keys: ``{prefix}lb:{c:week:2026-W48}`` (hash tag = the board, so a board, its generation
key and its opted-out marker share a Cluster slot). A ``__loaded__`` sentinel (an id no
token can carry: ``app.auth`` reserves ids starting ``__``) marks a board rebuilt from
MongoDB; awards only ever increment loaded boards, and a rebuild only installs its snapshot
when no award landed while it read MongoDB (the generation check), exactly as for the read
sets. The sentinel's score is its load time (ms) minus ``OFFSET``: below every real score,
and comparable with the progress epoch (moved only when more repairs were needed than the
backend remembers). An award Redis failed or skipped is undone by the board's ``Repair``
(drop it; the next standing rebuilds it). Period boards expire on their own.

Opt-out: a mark-read decides whether to award from the preferences it read in its MongoDB
transaction, and awards after its commit. One that read them just before an opt-out
committed awards after the opt-out took the student off (or after a rebuild left them out),
which would put them back. So the opt-out first adds the student to the board's
opted-out marker ``{prefix}lb-out:{…}`` (a set, in the board's slot, living as long as the
board), then takes them off; the award script refuses a student in the marker. Opting back
in takes them out of the marker and drops the board (rebuilt with all their points).

``BoardStore`` is what the leaderboard service uses: ``RedisBoards`` answers from these
sets and falls back to a MongoDB snapshot (given by the caller) when a board is missing
or Redis fails; ``MongoBoards`` always uses the snapshot (``LUMETRIX_CACHE=off``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.training.ports import Board, BoardData, Snapshot, Standing
from cache.backend import CacheBackend, Repair
from cache.progress import BEGIN_LOAD
from cache.singleflight import SingleFlight

SENTINEL = "__loaded__"
OFFSET = 10**16  # > any epoch-ms timestamp: load time - OFFSET is always negative
ALL_TIME_TTL_MS = 30 * 24 * 3600 * 1000  # the longest a board lives

# KEYS: board, generation, opted-out marker. ARGV: student, points, ttl ms, sentinel.
_AWARD = """
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZINCRBY', KEYS[1], ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""


# Install a snapshot unless the generation moved: the board with its sentinel, and the
# opted-out marker replaced by the snapshot's (a marker a lost write left behind heals here).
# KEYS: board, generation, marker. ARGV: generation, ttl ms, sentinel, sentinel score,
# number of students n, n score/member pairs, then the opted-out students.
_LOAD = """
local g = redis.call('GET', KEYS[2]) or ''
if g ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
local n = tonumber(ARGV[5])
for i = 6, 5 + 2 * n, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 6 + 2 * n, #ARGV do
  redis.call('SADD', KEYS[3], ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if 6 + 2 * n <= #ARGV then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
return 1
"""


# A deleted student off a board and its marker, with a new generation (a rebuild that read
# MongoDB before the deletion cannot install it). KEYS: board, generation, marker.
# ARGV: student, generation ttl ms when the board has none. How many of the two held them.
_PURGE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('SREM', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[2]) end
redis.call('PEXPIRE', KEYS[2], ttl)
return removed
"""


class Leaderboards:
    """Leaderboard sorted sets in Redis; every method may raise CacheUnavailable."""

    def __init__(self, backend: CacheBackend) -> None:
        self.backend = backend
        # Boards being rebuilt by this process: concurrent misses wait for one rebuild
        # instead of each aggregating the whole period from MongoDB.
        self._rebuilding = SingleFlight()

    async def rebuild(self, board: Board, snapshot: Snapshot) -> dict[str, float]:
        """Rebuild ``board`` from ``snapshot()`` once per process at a time; return the
        snapshot's points (every waiter gets the same)."""

        async def load() -> dict[str, float]:
            token = await self.begin_load(board)
            data = await snapshot()
            await self.load(board, data, token)
            return data.points

        return await self._rebuilding.run(self.keys(board)[0], load)

    @staticmethod
    def tag(board: Board) -> str:
        """The board's Cluster hash tag (without braces)."""
        return f"{board.language}:{board.period}:{board.key}"

    def keys(self, board: Board) -> tuple[str, str]:
        """The board key and its generation key."""
        key, gen, _ = self._keys_of(self.tag(board))
        return key, gen

    def out_key(self, board: Board) -> str:
        """The board's opted-out marker: students whose awards the board refuses."""
        return self._keys_of(self.tag(board))[2]

    def _keys_of(self, tag: str) -> tuple[str, str, str]:
        braced = "{" + tag + "}"
        key = self.backend.key
        return key("lb", braced), key("lb-gen", braced), key("lb-out", braced)

    async def stored_tags(self) -> set[str]:
        """The tags of every board in Redis now (a scan of every node of a Cluster)."""
        head = self.backend.key("lb", "{")

        async def op(r: Any) -> set[str]:
            found: set[str] = set()
            async for key in r.scan_iter(match=head + "*}", count=1000):
                text = key.decode() if isinstance(key, bytes) else str(key)
                found.add(text[len(head) : -1])
            return found

        return await self.backend.call(op)

    async def forget(self, student: str, tags: Sequence[str]) -> list[str]:
        """Take a deleted student off the boards tagged ``tags`` and out of their markers;
        the tags of those that held them."""

        async def op(r: Any) -> list[Any]:
            async with r.pipeline(transaction=False) as pipe:
                for tag in tags:
                    pipe.eval(_PURGE, 3, *self._keys_of(tag), student, ALL_TIME_TTL_MS)
                return list(await pipe.execute())

        removed = await self.backend.call(op) if tags else []
        return [tag for tag, n in zip(tags, removed, strict=True) if int(n) > 0]

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
                    ttl = board.ttl_seconds * 1000
                    out = self.out_key(board)
                    pipe.eval(_AWARD, 3, key, gen, out, student, points, ttl, SENTINEL)
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

    async def load(self, board: Board, data: BoardData, token: tuple[str, str]) -> bool:
        """Install a MongoDB snapshot unless an award or opt-out landed since ``token`` was
        taken (so the snapshot's opted-out students are at least those whose opt-out's
        Redis step came before: the marker may be replaced by them)."""
        key, gen = self.keys(board)
        generation, started = token
        argv: list[Any] = [generation, board.ttl_seconds * 1000, SENTINEL, int(started) - OFFSET]
        argv.append(len(data.points))
        for student, score in data.points.items():
            argv += [score, student]
        argv += sorted(data.opted_out)
        out = self.out_key(board)
        loaded = await self.backend.call(lambda r: r.eval(_LOAD, 3, key, gen, out, *argv))
        return int(loaded) == 1

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Take an opted-out student off boards for good: into each board's marker first
        (an award racing the opt-out is refused from then on), then off the board (one
        that landed before is taken back)."""

        def leave(pipe: Any, board: Board, key: str) -> None:
            out = self.out_key(board)
            pipe.sadd(out, student)
            pipe.pexpire(out, board.ttl_seconds * 1000)
            pipe.zrem(key, student)

        await self._regenerate(boards, leave)

    async def readmit(self, boards: Sequence[Board], student: str) -> None:
        """A student opted back in: out of each board's marker, and the boards dropped so
        their next standing rebuilds them with all the student's points."""

        def rejoin(pipe: Any, board: Board, key: str) -> None:
            pipe.srem(self.out_key(board), student)
            pipe.delete(key)

        await self._regenerate(boards, rejoin)

    async def _regenerate(
        self, boards: Sequence[Board], change: Callable[[Any, Board, str], Any]
    ) -> None:
        """Give each board a new generation, then ``change(pipe, board, board key)``, in one
        round trip: a rebuild that read MongoDB before the change cannot install what it
        read."""

        async def op(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for board in boards:
                    key, gen = self.keys(board)
                    pipe.incr(gen)
                    pipe.pexpire(gen, board.ttl_seconds * 1000)
                    change(pipe, board, key)
                await pipe.execute()

        await self.backend.call(op)


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
        return standing_from((await snapshot()).points, student, limit, hidden_points)

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Nothing kept; the snapshot leaves opted-out students out."""

    async def readmit(self, boards: Sequence[Board], student: str) -> None:
        """Nothing kept; every snapshot is fresh."""

    async def invalidate(self, boards: Sequence[Board]) -> None:
        """Nothing kept; every snapshot is fresh."""

    async def forget(self, boards: Sequence[Board], student: str) -> list[str]:
        """Nothing kept."""
        return []


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
            return standing_from((await snapshot()).points, student, limit, hidden_points)

        return await self.boards.backend.or_else(cached, fallback)

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Best effort: should Redis fail, the boards are dropped once it is back, and a
        rebuild leaves opted-out students out."""
        await self.boards.backend.best_effort(
            lambda: self.boards.remove(boards, student),
            [self.boards.repair_of(b) for b in boards],
        )

    async def readmit(self, boards: Sequence[Board], student: str) -> None:
        """Best effort, repaired like ``remove``; a marker left behind only keeps the
        student's new points off the boards until they are rebuilt."""
        await self.boards.backend.best_effort(
            lambda: self.boards.readmit(boards, student),
            [self.boards.repair_of(b) for b in boards],
        )

    async def invalidate(self, boards: Sequence[Board]) -> None:
        """Drop the boards now (a rebuild already reading MongoDB is refused: new
        generation), or once Redis is back should it fail."""
        await self.boards.backend.repair(
            [self.boards.repair_of(b) for b in boards], reason="invalidated"
        )

    async def forget(self, boards: Sequence[Board], student: str) -> list[str]:
        """The boards of ``boards`` (those the student's first reads count on) and every
        board a scan finds: an old period's, or one of a read MongoDB no longer shows."""
        tags = {self.boards.tag(b) for b in boards} | await self.boards.stored_tags()
        return await self.boards.forget(student, sorted(tags))
