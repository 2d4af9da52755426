"""Read-through cache of catalog data, keyed by the catalog version.

Two tiers: an in-process ``TTLCache`` (catalog data only, never per-student state) in front
of Redis (JSON, shared by every worker). Every key carries the catalog version, which the
migration, ``seed-demo`` and ``import`` bump in MongoDB; a worker re-reads the version at
most every ``version_ttl`` seconds, so no count survives a data change for longer than that.
Concurrent misses of one key are coalesced into one load.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from pymongo.errors import ConnectionFailure

from app.stale import mark_stale
from cache.backend import CacheBackend
from cache.metrics import CACHE_LOOKUPS, STALE_SERVED
from cache.singleflight import SingleFlight

T = TypeVar("T")
# Bumped whenever the shape of a cached value changes, so a new release never reads what an
# older one wrote under the same catalog version.
SCHEMA = "s2"
L1_HIT = CACHE_LOOKUPS.labels("catalog_l1", "hit")
L1_MISS = CACHE_LOOKUPS.labels("catalog_l1", "miss")
REDIS_HIT = CACHE_LOOKUPS.labels("catalog_redis", "hit")
REDIS_MISS = CACHE_LOOKUPS.labels("catalog_redis", "miss")
_MISSING = object()


class LocalTier:
    """The in-process tier: values kept until ``ttl`` seconds after they were stored, at
    most ``maxsize`` of them.

    A hit is one dict lookup and one clock read: cachetools' ``TTLCache`` (a lookup for
    ``in``, another for the value, its timer and its linked list) was 2.5% of a cached
    page's worker time (py-spy). When full, expired values go first; if none has expired,
    everything goes (catalog data only: it is loaded again)."""

    def __init__(self, *, maxsize: int, ttl: float) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._items: dict[tuple[Any, ...], tuple[Any, float]] = {}

    def get(self, key: tuple[Any, ...]) -> Any:
        """The value stored under ``key`` and still fresh, else ``_MISSING``."""
        item = self._items.get(key)
        if item is None or item[1] <= time.monotonic():
            return _MISSING
        return item[0]

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` under ``key`` for the next ``ttl`` seconds."""
        now = time.monotonic()
        if key not in self._items and len(self._items) >= self.maxsize:
            fresh = {k: v for k, v in self._items.items() if v[1] > now}
            self._items = fresh if len(fresh) < self.maxsize else {}
        self._items[key] = (value, now + self.ttl)


class CatalogCache:
    """L1 (in-process) and L2 (Redis) read-through cache for catalog data."""

    def __init__(
        self,
        backend: CacheBackend,
        *,
        l1_ttl: float,
        version_ttl: float,
        redis_ttl: int = 24 * 3600,
        maxsize: int = 4096,
        retry_after: float = 1.0,
    ) -> None:
        self.backend = backend
        self.l1 = LocalTier(maxsize=maxsize, ttl=l1_ttl)
        self.l1_enabled = l1_ttl > 0
        self.version_ttl = version_ttl
        self.redis_ttl = redis_ttl
        self._version: int | None = None
        self._version_at = 0.0
        self._confirmed = 0.0  # wall-clock time the version was last read from MongoDB
        self._retry_at = 0.0  # while MongoDB is away: when to try it again
        self.retry_after = retry_after
        self._flights = SingleFlight()

    async def version(self, fetch: Callable[[], Awaitable[int]]) -> int:
        """The catalog version, re-read through ``fetch`` at most every ``version_ttl`` s.

        While MongoDB is unreachable, the last version read is used: the catalog data cached
        under it is served, marked stale, and the database is tried again after
        ``retry_after`` seconds rather than on every request (each try may wait out the
        server-selection timeout). With no version read yet, the failure is raised."""
        now = time.monotonic()
        if self._version is not None and now - self._version_at < self.version_ttl:
            return self._version
        if self._version is not None and now < self._retry_at:
            mark_stale(self._confirmed)
            return self._version
        try:
            version = await self._flights.run(("__version__",), fetch)
        except ConnectionFailure:
            if self._version is None:
                raise
            self._retry_at = time.monotonic() + self.retry_after
            STALE_SERVED.inc()
            mark_stale(self._confirmed)
            return self._version
        self._version, self._version_at = version, time.monotonic()
        self._confirmed, self._retry_at = time.time(), 0.0
        return version

    async def get(
        self,
        version: int,
        name: str,
        loader: Callable[[], Awaitable[T]],
        *,
        shared: bool = True,
    ) -> T:
        """``name`` at ``version``: L1, then Redis if ``shared`` (JSON), then ``loader``."""
        key = (version, name)
        if self.l1_enabled and (hit := self.l1.get(key)) is not _MISSING:
            L1_HIT.inc()
            return hit  # type: ignore[no-any-return]
        L1_MISS.inc()

        async def load() -> T:
            value: T | None = None
            if shared:
                value = await self._redis_get(version, name)
            if value is None:
                value = await loader()
                if shared:
                    await self._redis_set(version, name, value)
            if self.l1_enabled:
                self.l1.put(key, value)
            return value

        return await self._flights.run(key, load)

    def _redis_key(self, version: int, name: str) -> str:
        return self.backend.key("catalog", SCHEMA, f"v{version}", name)

    async def _redis_get(self, version: int, name: str) -> Any:
        key = self._redis_key(version, name)

        async def unavailable() -> None:
            return None  # counted by the breaker: the caller loads from MongoDB

        raw = await self.backend.or_else(
            lambda: self.backend.call(lambda r: r.get(key)), unavailable
        )
        if raw is None:
            REDIS_MISS.inc()
            return None
        REDIS_HIT.inc()
        return orjson.loads(raw)

    async def _redis_set(self, version: int, name: str, value: Any) -> None:
        key, raw = self._redis_key(version, name), orjson.dumps(value)
        # A failed store leaves the value correct; only the next worker pays the load.
        await self.backend.best_effort(
            lambda: self.backend.call(lambda r: r.set(key, raw, ex=self.redis_ttl))
        )
