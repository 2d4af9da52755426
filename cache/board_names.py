"""The names shown on a leaderboard, kept in the worker under the board's names stamp.

A board answer shows every student in its top and the caller by name (a display name from
MongoDB, else a pseudonym). Reading those names from MongoDB on every answer made it the
leaderboard's bottleneck: one query per request at the pool's 50 ms queue budget, shed
with 503s at 50 connections. So a worker keeps the shown names it read per board, valid
while the board's *names stamp* is unchanged: the board's names generation, moved in Redis
by every display-name change (``Leaderboards.renamed``), a student's deletion and every
load of the board (one dropped by a repair, an expiry or the progress epoch reads every
name again), with the board's load time. A stamp is read before the names it keeps are read
from MongoDB, so a name read before a change is never kept under the stamp after it.

``MAX_AGE`` bounds what a lost change could leave wrong (a names generation that expired
and counts from 0 again, a rename whose Redis step failed without a board repair).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from cache.singleflight import SingleFlight

MAX_AGE = 60.0  # s: the longest a worker shows a name without reading it again
MAX_NAMES = 50_000  # names kept per board; past it the board's are read again
MAX_BOARDS = 1_000  # boards kept; past it all are forgotten (old periods' boards)

NameLoader = Callable[[Sequence[str]], Awaitable[Mapping[str, str]]]


class BoardNames:
    """Shown names per board tag, each kept under the stamp it was read under."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._kept: dict[str, tuple[str, float, dict[str, str]]] = {}
        # Concurrent answers missing the same names (a board's top, after a change)
        # share one MongoDB read.
        self._loads = SingleFlight()

    def _names(self, tag: str, stamp: str) -> dict[str, str]:
        """The names kept for ``tag`` under ``stamp`` (a new, empty set if none)."""
        now = self.clock()
        entry = self._kept.get(tag)
        if entry is None or entry[0] != stamp or now - entry[1] > MAX_AGE:
            if len(self._kept) >= MAX_BOARDS:
                self._kept.clear()
            entry = (stamp, now, {})
            self._kept[tag] = entry
        elif len(entry[2]) >= MAX_NAMES:
            entry[2].clear()
        return entry[2]

    async def shown(
        self, tag: str, stamp: str, ids: Sequence[str], load: NameLoader
    ) -> dict[str, str]:
        """The shown name of each of ``ids`` on board ``tag``: the kept ones, the others
        read through ``load`` (and kept under ``stamp``, read before the load)."""
        names = self._names(tag, stamp)
        found = {s: names[s] for s in ids if s in names}
        if len(found) == len(ids):
            return found
        missing = tuple(s for s in ids if s not in found)
        loaded = await self._loads.run((tag, stamp, missing), lambda: load(missing))
        names.update(loaded)
        found.update(loaded)
        return found
