"""The cache layer of a process, chosen once when its resources open.

``LUMETRIX_CACHE=on`` (the default): catalog data from the worker's memory and Redis
(``CachedCatalog``), read state from Redis read sets (``CachedReads``), progress counters
from per-student Redis views (``CachedProgress``), leaderboards from Redis sorted sets
(``RedisBoards``); each falls back to MongoDB by itself when Redis fails.
``LUMETRIX_CACHE=off`` (the benchmark's baseline): every request reads MongoDB
(``MongoCatalog``, ``MongoReads``, ``MongoProgress``, ``MongoBoards``). The rate limiter
uses Redis in both modes and lets calls through when Redis fails. Nothing outside this
module asks which mode is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.training.ports import (
    BoardStore,
    CatalogSource,
    ProgressLoader,
    ProgressSource,
    ReadLoader,
    ReadState,
    StaleCaches,
)
from cache.backend import CacheBackend
from cache.catalog import CatalogCache
from cache.catalog_source import CachedCatalog
from cache.leaderboard import Leaderboards, MongoBoards, RedisBoards
from cache.progress import ProgressSets
from cache.progress_view import ProgressViews
from cache.reads import CachedReads, MongoReads
from cache.repairs import NamedRepairs, NothingKept
from cache.student_progress import CachedProgress, MongoProgress


@dataclass(frozen=True, slots=True)
class CacheLayer:
    """The read paths the services use."""

    catalog: CatalogSource
    reads: ReadState
    progress: ProgressSource
    boards: BoardStore
    stale: StaleCaches


def build_layer(
    backend: CacheBackend,
    *,
    enabled: bool,
    catalog: CatalogSource,
    read_loader: ReadLoader,
    progress_loader: ProgressLoader,
    languages: tuple[str, ...],
    l1_ttl: float,
    version_ttl: float,
    progress_ttl: int,
) -> CacheLayer:
    """The cached layer over ``catalog`` and ``read_loader`` (MongoDB), or those alone."""
    if not enabled:
        return CacheLayer(
            catalog,
            MongoReads(read_loader),
            MongoProgress(progress_loader),
            MongoBoards(),
            NothingKept(),
        )
    sets = ProgressSets(backend, ttl_seconds=progress_ttl)
    views = ProgressViews(backend, ttl_seconds=progress_ttl, languages=languages)
    boards = Leaderboards(backend)
    return CacheLayer(
        CachedCatalog(catalog, CatalogCache(backend, l1_ttl=l1_ttl, version_ttl=version_ttl)),
        CachedReads(sets, read_loader),
        CachedProgress(views, progress_loader),
        RedisBoards(boards),
        NamedRepairs(sets, views, boards),
    )
