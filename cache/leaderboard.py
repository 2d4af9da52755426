"""Leaderboards in Redis: one sorted set of points per (language, period), write-through.

Keys: ``{prefix}lb:{c:week:2026-W48}`` (hash tag = the board, so a board, its generation
key, its opted-out marker and its names generation share a Cluster slot). A ``__loaded__``
sentinel (an id no token can carry: ``app.auth`` reserves ids starting ``__``) marks a board
rebuilt from MongoDB; awards only ever increment loaded boards, and a rebuild only installs its
snapshot when no award landed while it read MongoDB (the generation check), exactly as for the read
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
or Redis fails; ``MongoBoards`` always uses the snapshot (``LUMETRIX_CACHE=off``). A loaded
board answers a caller in one round trip (``PLACING``: top, own rank, opted-out or not)
and the worker's kept names (``cache.board_names``): no MongoDB at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.training.ports import Board, BoardData, BoardSources, Placing, Snapshot, Standing
from cache.backend import CacheBackend, Repair
from cache.board_names import BoardNames
from cache.board_scripts import AWARD, LOAD, PLACING, PURGE
from cache.progress import BEGIN_LOAD
from cache.singleflight import SingleFlight

SENTINEL = "__loaded__"
OFFSET = 10**16  # > any epoch-ms timestamp: load time - OFFSET is always negative
ALL_TIME_TTL_MS = 30 * 24 * 3600 * 1000  # the longest a board lives


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class BoardRead:
    """A loaded board's answer to one caller: the standing, whether the caller is in the
    board's opted-out marker, and the names stamp (``cache.board_names``)."""

    standing: Standing
    hidden: bool
    stamp: str


class Leaderboards:
    """Leaderboard sorted sets in Redis; every method may raise CacheUnavailable."""

    def __init__(self, backend: CacheBackend) -> None:
        self.backend = backend
        # Boards being rebuilt by this process: concurrent misses wait for one rebuild
        # instead of each aggregating the whole period from MongoDB.
        self._rebuilding = SingleFlight()
        self._placing = backend.client.register_script(PLACING)

    async def rebuild(self, board: Board, snapshot: Snapshot) -> BoardData:
        """Rebuild ``board`` from ``snapshot()`` once per process at a time; return the
        snapshot (every waiter gets the same)."""

        async def load() -> BoardData:
            token = await self.begin_load(board)
            data = await snapshot()
            await self.load(board, data, token)
            return data

        return await self._rebuilding.run(self.keys(board)[0], load)

    @staticmethod
    def tag(board: Board) -> str:
        """The board's Cluster hash tag (without braces)."""
        return f"{board.language}:{board.period}:{board.key}"

    def keys(self, board: Board) -> tuple[str, str]:
        """The board key and its generation key."""
        key, gen, _, _ = self._keys_of(self.tag(board))
        return key, gen

    def out_key(self, board: Board) -> str:
        """The board's opted-out marker: students whose awards the board refuses."""
        return self._keys_of(self.tag(board))[2]

    def names_key(self, board: Board) -> str:
        """The board's names generation: moved by every display-name change
        (``cache.board_names``)."""
        return self._keys_of(self.tag(board))[3]

    def _keys_of(self, tag: str) -> tuple[str, str, str, str]:
        braced = "{" + tag + "}"
        key = self.backend.key
        return (
            key("lb", braced),
            key("lb-gen", braced),
            key("lb-out", braced),
            key("lb-names", braced),
        )

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
                    pipe.eval(PURGE, 4, *self._keys_of(tag), student, ALL_TIME_TTL_MS)
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
                    pipe.eval(AWARD, 3, key, gen, out, student, points, ttl, SENTINEL)
                await pipe.execute()

        await self.backend.call(op)

    async def read(self, board: Board, student: str, limit: int) -> BoardRead | None:
        """In one round trip: the top ``limit``, the student's points and rank (1 +
        students with more points), whether they opted out, and the names stamp; None if
        the board is not loaded."""
        key, _, out, names = self._keys_of(self.tag(board))
        keys = [key, self.backend.epoch_key(self.tag(board)), out, names]
        # The hot call of a leaderboard answer: on the pipelined path, as the page's lookup.
        found = await self.backend.run_script(self._placing, keys, [student, limit, SENTINEL])
        sentinel = found[0]
        if sentinel == "" or sentinel == b"":
            return None
        _, epoch, top, mine, above, out_flag, generation = found
        if epoch not in ("", b"") and float(sentinel) + OFFSET <= float(epoch):
            return None
        pairs = iter(top)
        entries = [(_text(m), float(p)) for m, p in zip(pairs, pairs, strict=True)]
        entries = [(m, p) for m, p in entries if m != SENTINEL][:limit]
        points = None if mine in ("", b"") else float(mine)
        standing = Standing(entries, points, None if points is None else int(above) + 1)
        stamp = f"{_text(generation)}|{_text(sentinel)}"
        return BoardRead(standing, int(out_flag) == 1, stamp)

    async def renamed(self, boards: Sequence[Board]) -> None:
        """Move the names generation of ``boards`` in one round trip: names kept under
        the old stamp are read again."""

        async def op(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for board in boards:
                    names = self.names_key(board)
                    pipe.incr(names)
                    pipe.pexpire(names, board.ttl_seconds * 1000)
                await pipe.execute()

        await self.backend.call(op)

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
        generation, started = token
        argv: list[Any] = [generation, board.ttl_seconds * 1000, SENTINEL, int(started) - OFFSET]
        argv.append(len(data.points))
        for student, score in data.points.items():
            argv += [score, student]
        argv += sorted(data.opted_out)
        keys = self._keys_of(self.tag(board))
        loaded = await self.backend.call(lambda r: r.eval(LOAD, 4, *keys, *argv))
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
    """The standing a points snapshot gives (tied students in the loaded board's order:
    ``ZREVRANGE`` lists them by student id, descending).

    ``hidden_points``: the caller is not on the board (opted out); their rank is the one
    a student with these points would have."""
    ranked = sorted(points.items(), key=lambda item: (item[1], item[0]), reverse=True)
    mine = hidden_points if hidden_points is not None else points.get(student)
    rank = None if mine is None else 1 + sum(1 for _, p in ranked if p > mine)
    return Standing(ranked[:limit], mine, rank)


async def from_mongo(
    student: str, limit: int, sources: BoardSources, data: BoardData | None = None
) -> Placing:
    """A placing from MongoDB alone: the snapshot (``data`` if already read; whether the
    caller opted out comes with it), an opted-out caller's points, and the names."""
    data = data if data is not None else await sources.snapshot()
    hidden = student in data.opted_out
    own = await sources.own_points() if hidden else None
    standing = standing_from(data.points, student, limit, own)
    ids = list(dict.fromkeys([*(s for s, _ in standing.top), student]))
    return Placing(standing, hidden, await sources.names(ids))


class MongoBoards:
    """Every standing computed from the snapshot; nothing is kept."""

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Nothing to write through: the snapshot reads the first reads themselves."""

    async def placing(
        self, board: Board, student: str, limit: int, sources: BoardSources
    ) -> Placing:
        """From a fresh snapshot."""
        return await from_mongo(student, limit, sources)

    async def renamed(self, boards: Sequence[Board], student: str) -> None:
        """Nothing kept; names are read with every answer."""

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
        self.names = BoardNames()

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Write-through; should Redis fail, the boards are dropped (and rebuilt on
        demand) once it is back."""
        await self.boards.backend.best_effort(
            lambda: self.boards.award(boards, student, points),
            [self.boards.repair_of(b) for b in boards],
        )

    async def placing(
        self, board: Board, student: str, limit: int, sources: BoardSources
    ) -> Placing:
        """From the loaded board, names as kept (``cache.board_names``); else rebuilt from
        the snapshot; else (Redis failing) MongoDB alone."""

        async def cached() -> Placing:
            found = await self.boards.read(board, student, limit)
            if found is None:
                data = await self.boards.rebuild(board, sources.snapshot)
                return await from_mongo(student, limit, sources, data)
            standing = found.standing
            if found.hidden:
                # On no board: their own points, and the rank they would have.
                own = await sources.own_points()
                standing = Standing(standing.top, own, await self.boards.rank_of(board, own))
            tag = self.boards.tag(board)
            top = [s for s, _ in standing.top]
            names = await self.names.shown(tag, found.stamp, top, sources.names)
            if student not in names:
                names.update(await self.names.shown(tag, found.stamp, [student], sources.names))
            return Placing(standing, found.hidden, names)

        async def fallback() -> Placing:
            return await from_mongo(student, limit, sources)

        return await self.boards.backend.or_else(cached, fallback)

    async def renamed(self, boards: Sequence[Board], student: str) -> None:
        """Best effort: should Redis fail, the boards are dropped once it is back (and
        read every name again when rebuilt)."""
        await self.boards.backend.best_effort(
            lambda: self.boards.renamed(boards),
            [self.boards.repair_of(b) for b in boards],
        )

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
