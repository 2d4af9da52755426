"""Abuse defences: the per-student mark-read rate limit (429 with Retry-After, kept in Redis,
fail-open), body limits before auth, and metric series that odd methods cannot multiply."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from app.observability import REQUEST_SECONDS
from cache.ratelimit import RateLimiter
from tests.conftest import backend_of, drop_backend, make_settings, running_app, unique_name
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


async def test_a_burst_straddling_a_window_boundary_gets_one_budget(redis_kind: str) -> None:
    """A fixed window let the calls sent just before its end and just after both through
    (2 x limit in a fraction of the window); the limit now holds over any span of time."""
    limit, window = 10, 2.0
    backend = backend_of(redis_kind)
    limiter = RateLimiter(backend, action="straddle", limit=limit, window=window)
    student = unique_name("SIDHI_RL")
    try:
        start = time.monotonic()
        assert await limiter.retry_after(student) is None  # the fixed window began here
        await asyncio.sleep(window - 0.3 - (time.monotonic() - start))
        burst_started = time.monotonic()
        allowed = [await limiter.retry_after(student) is None for _ in range(limit - 1)]
        # Just past where the fixed window ended: its new budget would let `limit` more in.
        await asyncio.sleep(max(0.0, window + 0.05 - (time.monotonic() - start)))
        allowed += [await limiter.retry_after(student) is None for _ in range(limit)]
        span = time.monotonic() - burst_started
        # One burst's budget, plus what the span earns at the steady rate (limit/window).
        budget = limit + span * limit / window
        assert sum(allowed) <= budget + 1, (sum(allowed), span)
        assert sum(allowed) < 2 * limit - 1
        # Refused calls are told when the next one is allowed: within one interval.
        wait = await limiter.retry_after(student)
        assert wait is not None and 0 < wait <= window / limit
    finally:
        await drop_backend(backend)


# Every method llhttp (uvicorn's parser) accepts beyond the usual seven, and a few it would
# not (an in-process client sends anything): 35 in all.
ODD_METHODS = [
    *"CONNECT TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH UNLOCK BIND REBIND".split(),
    *"UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE".split(),
    *"UNSUBSCRIBE PURGE MKCALENDAR LINK UNLINK SOURCE QUERY PRI DESCRIBE ANNOUNCE".split(),
    *"SETUP PLAY PAUSE TEARDOWN".split(),
]


def _series() -> set[tuple[str, ...]]:
    return {
        tuple(sorted(sample.labels.items()))
        for metric in REQUEST_SECONDS.collect()
        for sample in metric.samples
        if sample.name.endswith("_count")
    }


async def test_odd_methods_do_not_multiply_metric_series(mongo_url: str, catalog_db: str) -> None:
    assert len(set(ODD_METHODS)) == 35
    paths = [
        "/health",
        "/metrics",
        "/training/samples",
        "/training/preferences",
        "/training/samples/c_ch1_q_000001/mark-read",
        "/no/such/path",
        "/wp-login.php",
    ]
    async with running_app(make_settings(mongo_url, catalog_db, "fakeredis")) as api:
        before = _series()
        for method in ODD_METHODS:
            for path in paths:
                res = await api.client.request(method, path)
                assert res.status_code in (401, 404, 405), (method, path, res.status_code)
        new = _series() - before
    methods = {dict(labels)["method"] for labels in new}
    assert methods <= {"OTHER"}, methods
    # At most one series per path and status class, whatever the number of methods.
    assert len(new) <= len(paths), new


async def test_oversized_bodies_are_413_before_auth(mongo_url: str, catalog_db: str) -> None:
    settings = make_settings(mongo_url, catalog_db, "fakeredis", max_body_bytes=1024)
    async with running_app(settings) as api:
        path = "/training/samples/c_ch1_q_000001/mark-read"

        async def stream() -> Any:
            for _ in range(100):
                yield b"x" * 1000

        for res in (
            await api.client.post(path, content=b"{" + b" " * 2000 + b"}"),  # Content-Length
            await api.client.post(path, content=stream()),  # chunked, no length
            await api.client.put("/training/preferences", content=stream(), headers=api.headers()),
        ):
            assert res.status_code == 413, res.text
            assert res.json()["code"] == "payload_too_large"
            assert res.headers["connection"] == "close"
        # Under the limit, requests are what they were.
        assert (await api.client.post(path, json={"time_spent": 5})).status_code == 401
        ok = await api.client.put(
            "/training/preferences", json={"tz": "UTC"}, headers=api.headers()
        )
        assert ok.status_code == 200, ok.text
