"""A student's read state (``isRead``/``readAt``), with MongoDB behind it.

``CachedReads`` answers from the student's Redis read set (one round trip for a page),
loads the set from MongoDB through the given loader on a miss, and answers from MongoDB
alone while Redis fails; ``MongoReads`` always asks the loader (``LUMETRIX_CACHE=off``).
Callers never learn which happened: a Redis failure costs speed, never an answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from app.timefmt import from_ms, to_ms
from app.training.ports import ReadLoader, SetCheck
from cache.metrics import CACHE_LOADS
from cache.progress import ProgressSets
from cache.singleflight import SingleFlight

SET_LOADS = CACHE_LOADS.labels("read_set")


def stamps_of(times: Mapping[str, datetime], sample_ids: Sequence[str]) -> list[int | None]:
    """``ReadState.read_stamps`` of first-read times: epoch ms in the ids' order."""
    return [None if (at := times.get(sid)) is None else to_ms(at) for sid in sample_ids]


class MongoReads:
    """Every answer from MongoDB; nothing is kept."""

    def __init__(self, loader: ReadLoader) -> None:
        self.loader = loader

    async def read_times(
        self, student: str, language: str, sample_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """An ``$in`` on the unique (student, sample) index."""
        return await self.loader(student, language, sample_ids) if sample_ids else {}

    async def read_stamps(
        self, student: str, language: str, sample_ids: Sequence[str]
    ) -> list[int | None]:
        """``read_times`` as epoch ms, in the ids' order."""
        return stamps_of(await self.read_times(student, language, sample_ids), sample_ids)

    async def all_reads(self, student: str, language: str) -> set[str]:
        """The student's history in the language."""
        return set(await self.loader(student, language))

    async def record(self, student: str, language: str, sample_id: str, at: datetime) -> None:
        """Nothing to write through."""

    async def check(self, student: str, language: str) -> SetCheck:
        """Nothing is kept, so nothing drifts."""
        return SetCheck.NOT_KEPT

    async def forget(self, student: str, language: str) -> int:
        """Nothing is kept."""
        return 0


class CachedReads:
    """Redis read sets, loaded from MongoDB on a miss, bypassed while Redis fails."""

    def __init__(self, sets: ProgressSets, loader: ReadLoader) -> None:
        self.sets = sets
        self.loader = loader
        # Concurrent misses of one set share one load: 50 requests of a student whose set
        # expired otherwise read their whole history from MongoDB 50 times at once.
        self._loads = SingleFlight()

    async def _load(self, student: str, language: str) -> dict[str, datetime]:
        """Read the whole set from MongoDB and install it, sharing a load under way."""
        entries, installed = await self._loads.run(
            (student, language), lambda: self._load_now(student, language)
        )
        if installed:
            return entries
        # The shared load raced a write (its install was refused): a request that joined
        # it after that write must not miss it, so read again, alone.
        entries, _ = await self._load_now(student, language)
        return entries

    async def _load_now(self, student: str, language: str) -> tuple[dict[str, datetime], bool]:
        """Read the whole set from MongoDB and install it (see ``ProgressSets.load``);
        whether the install happened. A set that another load (of this process, whose
        flight ended between our miss and now, or of another worker) installed meanwhile
        is taken as it is, with no MongoDB read."""
        loaded = await self.sets.members(student, language)
        if loaded is not None:
            return {sid: from_ms(ms) for sid, ms in loaded.items()}, True
        token = await self.sets.begin_load(student, language)
        SET_LOADS.inc()
        entries = await self.loader(student, language)
        scores = {k: to_ms(v) for k, v in entries.items()}

        async def refused() -> bool:
            return False  # the answer is still right; the next request loads again

        installed = await self.sets.backend.or_else(
            lambda: self.sets.load(student, language, scores, token), refused
        )
        return entries, installed

    async def read_times(
        self, student: str, language: str, sample_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """One ZMSCORE for the ids; the set is loaded first if missing or stale."""
        if not sample_ids:
            return {}

        async def cached() -> dict[str, datetime]:
            stamps = await self.sets.stamps(student, language, sample_ids)
            if stamps is None:
                entries = await self._load(student, language)
                return {sid: entries[sid] for sid in sample_ids if sid in entries}
            return {
                sid: from_ms(ms)
                for sid, ms in zip(sample_ids, stamps, strict=True)
                if ms is not None
            }

        return await self.sets.backend.or_else(
            cached, lambda: self.loader(student, language, sample_ids)
        )

    async def read_stamps(
        self, student: str, language: str, sample_ids: Sequence[str]
    ) -> list[int | None]:
        """A page's lookup in one round trip: the script's integer reply as it comes (no
        conversion per read); loaded from MongoDB on a miss, MongoDB alone when Redis
        fails, as ``read_times``."""
        if not sample_ids:
            return []

        async def cached() -> list[int | None]:
            stamps = await self.sets.stamps(student, language, sample_ids)
            if stamps is None:
                return stamps_of(await self._load(student, language), sample_ids)
            return stamps

        async def fallback() -> list[int | None]:
            return stamps_of(await self.loader(student, language, sample_ids), sample_ids)

        return await self.sets.backend.or_else(cached, fallback)

    async def all_reads(self, student: str, language: str) -> set[str]:
        """The whole set (loading it when missing)."""

        async def cached() -> set[str]:
            members = await self.sets.members(student, language)
            if members is None:
                return set(await self._load(student, language))
            return set(members)

        async def fallback() -> set[str]:
            return set(await self.loader(student, language))

        return await self.sets.backend.or_else(cached, fallback)

    async def record(self, student: str, language: str, sample_id: str, at: datetime) -> None:
        """Add to a loaded set; should Redis fail, the set is dropped once it is back."""
        await self.sets.backend.best_effort(
            lambda: self.sets.add(student, language, sample_id, to_ms(at)),
            [self.sets.repair_of(student, language)],
        )

    async def check(self, student: str, language: str) -> SetCheck:
        """Compare the set with MongoDB's history; drop it if it differs."""

        async def cached() -> SetCheck:
            members = await self.sets.members(student, language)
            if members is None:
                return SetCheck.NOT_KEPT
            truth = {k: float(to_ms(v)) for k, v in (await self.loader(student, language)).items()}
            if members == truth:
                return SetCheck.SAME
            await self.sets.forget(student, language)
            return SetCheck.REPAIRED

        async def unavailable() -> SetCheck:
            return SetCheck.UNAVAILABLE

        return await self.sets.backend.or_else(cached, unavailable)

    async def forget(self, student: str, language: str) -> int:
        """Delete the set and its generation key (may raise CacheUnavailable)."""
        return await self.sets.forget(student, language)
