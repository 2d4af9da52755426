"""Prometheus counters of the cache layer (the registry is process-wide by design)."""

from __future__ import annotations

from prometheus_client import Counter

CACHE_LOOKUPS = Counter(
    "lumetrix_cache_lookups_total",
    "Cache lookups by cache and outcome.",
    ["cache", "outcome"],  # cache: catalog_l1 | catalog_redis | progress_set; outcome: hit|miss
)
REDIS_FALLBACKS = Counter(
    "lumetrix_redis_fallbacks_total",
    "Redis calls that failed or were skipped by the open breaker (answered from MongoDB).",
)
STALE_SERVED = Counter(
    "lumetrix_stale_version_total",
    "Times MongoDB could not be asked for the catalog version and the last one was used.",
)
CACHE_LOADS = Counter(
    "lumetrix_cache_loads_total",
    "Per-student caches loaded from MongoDB into Redis, by cache (read_set | progress_view).",
    ["cache"],
)
CACHE_REPAIRS = Counter(
    "lumetrix_cache_repairs_total",
    "Per-student (or per-board) caches invalidated by name, by reason: redis_outage (a "
    "write-through failed or was skipped), dead_worker (a worker died between a commit and "
    "its write-throughs), invalidated (a change that is not a visit).",
    ["reason"],
)
GLOBAL_INVALIDATIONS = Counter(
    "lumetrix_cache_global_invalidations_total",
    "Times more write-throughs were lost than REDIS_REPAIR_MAX holds and the progress epoch "
    "made every per-student cache reload.",
)
