"""Load shedding: a worker holds at most ``MONGO_MAX_IN_FLIGHT`` MongoDB operations; past
that, a request that needs MongoDB is refused within ``MONGO_QUEUE_TIMEOUT_MS`` (503
``service_unavailable`` with ``Retry-After``) instead of queueing, while answers from the
caches keep flowing. Loads of a student's caches wait ``MONGO_LOAD_WAIT_MS`` instead: a
cold Redis makes learners wait, not fail."""

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
    # Loads shed too here (a 1 ms budget), so every new student's my-progress needs MongoDB.
    settings = make_settings(mongo_url, catalog_db, redis_kind, mongo_load_wait_ms=1, **TIGHT)
    async with running_app(settings) as api:
        # This student has no reads: their (empty) read set is installed as a load would.
        sets = api.read_sets
        await sets.load(api.student, "c", {}, await sets.begin_load(api.student, "c"))
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


async def test_cold_caches_wait_for_their_loads_instead_of_being_shed(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    # The same two slots and 1 ms queue as above, but loads may wait the default second.
    settings = make_settings(mongo_url, catalog_db, redis_kind, **TIGHT)
    async with running_app(settings) as api:
        # The catalog and its derived tables loaded: what is left is per-student loads.
        await api.get("/training/samples", language="c", limit=20)
        await api.get("/training/my-progress", language="c")
        answers = await asyncio.gather(
            *[
                api.get(path, student=unique_name("SIDHI"), language="c", limit=20)
                for _ in range(20)
                for path in ("/training/my-progress", "/training/samples")
            ]
        )
    assert [a.status_code for a in answers] == [200] * 40


async def test_a_load_cut_off_by_its_budget_is_shed_not_an_outage(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    """A load that outlasts ``MONGO_LOAD_WAIT_MS`` is cut off by PyMongo's client-side
    timeout, which raises a ``NetworkTimeout``: it is answered like every shed request (503
    ``service_unavailable``, busy, ``Retry-After``), not as the database being down."""
    from loadtests.history import seed_history

    settings = make_settings(mongo_url, catalog_db, redis_kind, mongo_load_wait_ms=2)
    async with running_app(settings) as api:
        heavy = unique_name("SIDHI")
        await seed_history(api.db, student=heavy, language="c", reads=800)
        sets = api.read_sets
        await sets.load(api.student, "c", {}, await sets.begin_load(api.student, "c"))
        assert (await api.get("/training/samples", language="c", limit=20)).status_code == 200
        # The heavy student's read set (800 reads) takes far longer than 2 ms to load.
        answers = [
            await api.get("/training/samples", student=heavy, language="c", limit=20)
            for _ in range(3)
        ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "service_unavailable"
        assert "busy" in answer.json()["detail"] and answer.headers["retry-after"] == "1"
