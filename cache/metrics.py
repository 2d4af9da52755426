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
