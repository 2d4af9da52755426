"""Several server processes on one MongoDB and one Redis behave as one service.

Two ``lumetrix serve`` processes stand for two workers behind a load balancer (and a
``--workers 2`` server checks that mode starts): a read marked through one is seen through
the other, and a catalog version bump reaches both.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from app.auth import mint_token
from app.embedded import free_port
from app.training.queries.meta import bump_catalog_version
from tests.conftest import SECRET
from tests.factories import make_sample
from tests.live import start_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def servers(mongo_url: str, fresh_db: Any, shared_redis_url: str) -> AsyncIterator[list[str]]:
    """Two single-worker servers and one two-worker server, all on one DB and Redis."""
    await fresh_db["training_samples_filtered"].insert_many(
        [
            make_sample(
                sample_id=f"c_ch1_q_{i:06d}",
                question=f"question {i}",
                answer="answer",
                read_points=2,
            )
            for i in range(1, 6)
        ]
    )
    env = {
        **os.environ,
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": fresh_db.name,
        "REDIS_URL": shared_redis_url,
        "REDIS_PREFIX": f"lmxtest:{uuid.uuid4().hex[:8]}:",
        "JWT_SECRET": SECRET,
        "CATALOG_VERSION_TTL": "0.2",
        "LUMETRIX_ENV": "test",
    }
    ports = [free_port(), free_port(), free_port()]
    procs = [
        await start_server(ports[0], env),
        await start_server(ports[1], env),
        await start_server(ports[2], env, workers=2),
    ]
    try:
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
        client = aioredis.Redis.from_url(shared_redis_url)
        keys = [k async for k in client.scan_iter(match=env["REDIS_PREFIX"] + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def _headers(student: str) -> dict[str, str]:
    token = mint_token(SECRET, sub=student, client_id="web")
    return {"Authorization": f"Bearer {token}", "X-Client-Id": "web"}


async def _reads(http: httpx.AsyncClient, base: str, student: str) -> list[bool]:
    res = await http.get(
        f"{base}/training/samples", params={"language": "c"}, headers=_headers(student)
    )
    return [s["isRead"] for s in res.json()["data"]]


async def _mark(http: httpx.AsyncClient, base: str, student: str, seconds: int) -> Any:
    res = await http.post(
        f"{base}/training/samples/c_ch1_q_000002/mark-read",
        params={"time_spent": seconds},
        headers=_headers(student),
    )
    return res.json()


async def _overview(http: httpx.AsyncClient, base: str, student: str) -> Any:
    res = await http.get(
        f"{base}/training/my-progress", params={"language": "c"}, headers=_headers(student)
    )
    return res.json()["overview"]


async def test_a_read_through_one_worker_is_seen_by_the_others(servers: list[str]) -> None:
    student = f"SIDHI_W{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=10) as http:
        for base in servers:  # every worker loads the read set and progress view first
            assert await _reads(http, base, student) == [False] * 5
            assert (await _overview(http, base, student))["samples_read"] == 0
        first = await _mark(http, servers[0], student, 9)
        assert first["is_first_read"] is True and first["points_awarded"] == 2
        for base in servers[1:]:
            for _ in range(6):  # the two-worker server: whichever worker answers
                assert await _reads(http, base, student) == [False, True, False, False, False]
                overview = await _overview(http, base, student)
                assert (overview["samples_read"], overview["points"]) == (1, 2)
                assert overview["total_time_seconds"] == 9
        again = await _mark(http, servers[1], student, 1)
        assert again["is_first_read"] is False and again["total_points"] == 2


async def test_a_catalog_version_bump_reaches_every_worker(
    servers: list[str], fresh_db: Any
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:

        async def totals() -> list[int]:
            out = []
            for base in servers:
                for _ in range(2):
                    res = await http.get(
                        f"{base}/training/stats",
                        params={"language": "c"},
                        headers=_headers("SIDHI_STATS"),
                    )
                    out.append(res.json()["total_samples"])
            return out

        assert await totals() == [5] * 6
        await fresh_db["training_samples_filtered"].insert_one(
            make_sample(sample_id="c_ch2_q_000009", chapter=2, knowledge_area="control_flow")
        )
        await bump_catalog_version(fresh_db)
        deadline = time.monotonic() + 5
        while (found := await totals()) != [6] * 6:
            assert time.monotonic() < deadline, found
            await asyncio.sleep(0.2)
