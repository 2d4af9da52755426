"""A student's progress as the services read it: counters, preferences, streak buckets
and recent reads, from the student's Redis view (``cache.progress_view``) with MongoDB
behind it.

``CachedProgress`` answers from the view in one round trip, loads it from MongoDB through
the given loader on a miss, and answers from MongoDB alone while Redis fails; it also keeps
the answers built from the view, serialised (``cache.progress_answers``). ``MongoProgress``
always asks the loader and keeps nothing (``LUMETRIX_CACHE=off``).
"""

from __future__ import annotations

from collections.abc import Mapping

from app.timefmt import from_ms, to_ms
from app.training.ports import Kept, ProgressLoader, StudentProgress, VisitNote
from cache.metrics import CACHE_LOADS
from cache.progress_answers import ProgressAnswers
from cache.progress_view import ProgressViews, ViewRead, decode_fields, encode_fields
from cache.singleflight import NextFlight, SingleFlight

VIEW_LOADS = CACHE_LOADS.labels("progress_view")


class MongoProgress:
    """Every answer from MongoDB; nothing kept."""

    def __init__(self, loader: ProgressLoader) -> None:
        self.loader = loader

    async def get(self, student: str, language: str) -> StudentProgress:
        """The loader's answer."""
        return await self.loader(student)

    async def record(
        self, student: str, language: str, increments: Mapping[str, int], visit: VisitNote
    ) -> None:
        """Nothing to write through."""

    async def invalidate(self, student: str) -> None:
        """Nothing kept."""

    async def answer(self, student: str, name: str, *, language: str, at_ms: int) -> Kept:
        """Nothing kept."""
        return Kept(None)

    async def keep(
        self, student: str, name: str, body: bytes, *, stamp: str, until_ms: int
    ) -> None:
        """Nothing kept."""

    async def forget(self, student: str) -> int:
        """Nothing kept."""
        return 0


class CachedProgress:
    """Redis views, loaded from MongoDB on a miss, bypassed while Redis fails."""

    def __init__(self, views: ProgressViews, loader: ProgressLoader) -> None:
        self.views = views
        self.answers = ProgressAnswers(views)
        self.loader = loader
        self._loads = SingleFlight()  # concurrent misses of one view share one load
        # While Redis fails every request needs MongoDB: a student's requests share loads
        # (one at a time, each started after its callers came) instead of queueing one
        # each at the load gate, where they were shed with 503s under load.
        self._away = NextFlight()

    async def _load(self, student: str) -> StudentProgress:
        """Load the view from MongoDB, sharing a load under way (see ``CachedReads``)."""
        found, installed = await self._loads.run(student, lambda: self._load_now(student))
        if installed:
            return found
        found, _ = await self._load_now(student)  # the shared load raced a visit
        return found

    async def _load_now(self, student: str) -> tuple[StudentProgress, bool]:
        """Read the student's progress from MongoDB and install it as the view (unless a
        visit was recorded meanwhile); whether the install happened."""
        token = await self.views.begin_load(student)
        VIEW_LOADS.inc()
        found = await self.loader(student)
        recent = found.stats.get("recent") or {}
        details = {
            sid: {
                **doc,
                "read_at": to_ms(doc["read_at"]) if doc.get("read_at") else 0,
                "last_revisited": to_ms(doc["last_revisited"]) if doc.get("last_revisited") else 0,
            }
            for sid, doc in found.details.items()
        }
        pairs = {
            lang: [(float(to_ms(r["read_at"])), str(r["sample_id"])) for r in rows]
            for lang, rows in recent.items()
        }
        fields = encode_fields(found.stats, details)

        async def refused() -> bool:
            return False  # the answer is still right; the next request loads again

        installed = await self.views.backend.or_else(
            lambda: self.views.load(student, fields, pairs, token), refused
        )
        # Installed, the view is this snapshot at the token's generation and load time.
        return (found._replace(stamp="|".join(token)) if installed else found), installed

    async def get(self, student: str, language: str) -> StudentProgress:
        """One round trip on a hit."""

        async def cached() -> StudentProgress:
            found = await self.views.read(student, language)
            if found is None:
                return await self._load(student)
            return _decoded(found, language)

        return await self.views.backend.or_else(cached, lambda: self._without_redis(student))

    async def _without_redis(self, student: str) -> StudentProgress:
        return await self._away.run(student, lambda: self.loader(student))

    async def answer(self, student: str, name: str, *, language: str, at_ms: int) -> Kept:
        """One round trip: the kept answer, or on a miss the view (if kept); nothing
        while Redis fails."""

        async def kept() -> Kept:
            found = await self.answers.get(student, name, language=language, at_ms=at_ms)
            if isinstance(found, bytes):
                return Kept(found)
            return Kept(None, None if found is None else _decoded(found, language))

        async def unavailable() -> Kept:
            return Kept(None)

        return await self.views.backend.or_else(kept, unavailable)

    async def keep(
        self, student: str, name: str, body: bytes, *, stamp: str, until_ms: int
    ) -> None:
        """Best effort: an answer not kept is built again next time."""
        await self.views.backend.best_effort(
            lambda: self.answers.keep(student, name, body, stamp=stamp, until_ms=until_ms)
        )

    async def record(
        self, student: str, language: str, increments: Mapping[str, int], visit: VisitNote
    ) -> None:
        """Counters and recent details; should Redis fail, the view is dropped once it
        is back."""
        await self.views.backend.best_effort(
            lambda: self.views.record(
                student,
                language,
                increments,
                sample_id=visit.sample_id,
                first_read=visit.first_read,
                now_ms=to_ms(visit.at),
                time_spent=visit.time_spent,
                chapter=visit.chapter,
                knowledge_area=visit.knowledge_area,
            ),
            [self.views.repair_of(student)],
        )

    async def invalidate(self, student: str) -> None:
        """Drop the view now, or once Redis is back should it fail."""
        await self.views.backend.repair([self.views.repair_of(student)], reason="invalidated")

    async def forget(self, student: str) -> int:
        """May raise CacheUnavailable: a deletion must not pass silently."""
        return await self.views.forget(student)


def _decoded(found: ViewRead, language: str) -> StudentProgress:
    """A view as read (``ProgressViews.read``) as the services see progress."""
    fields, latest, stamp = found
    stats, raw = decode_fields(fields)
    stats["recent"] = {language: [{"sample_id": m, "read_at": from_ms(s)} for m, s in latest]}
    details = {
        sid: {
            **doc,
            "sample_id": sid,
            "read_at": from_ms(doc["read_at"]) if doc.get("read_at") else None,
            "last_revisited": from_ms(doc["last_revisited"]) if doc.get("last_revisited") else None,
        }
        for sid, doc in raw.items()
    }
    return StudentProgress(stats, details, stamp)
