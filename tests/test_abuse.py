"""Per-student rate limit on mark-read: 429 with Retry-After, kept in Redis, fail-open."""

from __future__ import annotations

import asyncio

from tests.conftest import make_settings, running_app, unique_name
from tests.test_cache import redis_outage


async def test_mark_read_is_rate_limited_per_student(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    settings = make_settings(
        mongo_url, catalog_db, redis_kind, mark_read_rate=3, mark_read_window=5
    )
    async with running_app(settings) as api:
        [sample] = (await api.get("/training/samples", language="c", limit=1)).json()["data"]
        path = f"/training/samples/{sample['sample_id']}/mark-read"
        codes = [(await api.post(path, time_spent=5)).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = await api.post(path, time_spent=5)
        assert limited.json()["code"] == "rate_limited" and limited.json()["detail"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 5
        doc = await api.db["sample_progress"].find_one({"sidhi_id": api.student})
        assert doc["revisited_count"] == 3  # refused calls changed nothing
        # Another student has a budget of their own.
        other = unique_name("SIDHI_RL")
        assert (await api.post(path, student=other, time_spent=5)).status_code == 200
        # With Redis down the limiter allows rather than locking students out.
        async with redis_outage(api):
            assert (await api.post(path, time_spent=5)).status_code == 200


async def test_window_reopens(mongo_url: str, catalog_db: str, redis_kind: str) -> None:
    settings = make_settings(
        mongo_url, catalog_db, redis_kind, mark_read_rate=1, mark_read_window=0.3
    )
    async with running_app(settings) as api:
        [sample] = (await api.get("/training/samples", language="cpp", limit=1)).json()["data"]
        path = f"/training/samples/{sample['sample_id']}/mark-read"
        assert (await api.post(path, time_spent=5)).status_code == 200
        assert (await api.post(path, time_spent=5)).status_code == 429
        await asyncio.sleep(0.4)
        assert (await api.post(path, time_spent=5)).status_code == 200
