"""Load shedding: a worker holds at most ``MONGO_MAX_IN_FLIGHT`` MongoDB operations; past
that, a request that needs MongoDB is refused at once (503 ``service_unavailable`` with
``Retry-After``) instead of queueing, while answers from the caches keep flowing."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import make_settings, running_app, unique_name

TIGHT = {"mongo_max_in_flight": 2, "mongo_queue_timeout_ms": 1}


async def test_past_the_bound_requests_needing_mongodb_are_shed(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    settings = make_settings(mongo_url, catalog_db, redis_kind, lumetrix_cache="off", **TIGHT)
    async with running_app(settings) as api:
        answers = await asyncio.gather(
            *[api.get("/training/search", language="c", q=f"pointer{i}") for i in range(40)]
        )
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 503} and 200 in statuses and 503 in statuses
    shed = next(a for a in answers if a.status_code == 503)
    assert shed.headers["retry-after"] == "1"
    assert shed.json()["code"] == "service_unavailable"
    assert "busy" in shed.json()["detail"]


async def test_cached_reads_flow_while_mongodb_work_is_shed(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    settings = make_settings(mongo_url, catalog_db, redis_kind, **TIGHT)
    async with running_app(settings) as api:
        warm = await api.get("/training/samples", language="c", limit=20)
        assert warm.status_code == 200  # the catalog and this student's read set are loaded

        async def heavy(i: int) -> Any:
            # New students: every one needs its progress loaded from MongoDB.
            return await api.get(
                "/training/my-progress", student=unique_name("SIDHI"), language="c"
            )

        async def cached(i: int) -> Any:
            return await api.get("/training/samples", language="c", limit=20)

        results = await asyncio.gather(
            *[heavy(i) for i in range(40)], *[cached(i) for i in range(40)]
        )
    heavy_statuses = {r.status_code for r in results[:40]}
    assert 503 in heavy_statuses and heavy_statuses <= {200, 503}
    assert all(r.status_code == 200 and r.json() == warm.json() for r in results[40:])
