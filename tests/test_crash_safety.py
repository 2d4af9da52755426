"""A mark-read killed at any step (SIGKILL, through the test-only hook in ``app.faults``)
leaves MongoDB consistent and the Redis caches converging, with no operator: after a
restart and the client's retry, the student's totals equal what ``sample_progress``
says, each first read's points counted exactly once.

``CRASH_ROUNDS`` (default 2) kills that many mark-reads at each step; ``make crashtest``
runs 20.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from app.auth import mint_token
from app.db import STATS
from app.embedded import free_port
from app.faults import STEPS
from app.training.reconcile import derived_stats
from tests.conftest import SECRET
from tests.live import mark_read_killing, start_server

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "2"))
COMMITTED = {"committed", "redis_written"}  # steps after the MongoDB commit


@pytest.fixture
async def env(
    mongo_url: str, catalog_db: str, shared_redis_url: str
) -> AsyncIterator[dict[str, str]]:
    """Server settings on the demo catalog and a real Redis, under a prefix of their own."""
    values = {
        **os.environ,
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": catalog_db,
        "REDIS_URL": shared_redis_url,
        "REDIS_PREFIX": f"lmxtest:{uuid.uuid4().hex[:8]}:",
        "JWT_SECRET": SECRET,
        "LUMETRIX_ENV": "test",
        "MARK_READ_RATE": "0",
        "WARM_ON_START": "false",
        "ACCESS_LOG": "false",
        # A killed worker's open transaction is aborted this soon after its last heartbeat.
        "WRITER_STALE_AFTER": "2",
    }
    values.pop("LUMETRIX_TEST_CRASH_AT", None)
    yield values
    client = aioredis.Redis.from_url(shared_redis_url)
    keys = [k async for k in client.scan_iter(match=values["REDIS_PREFIX"] + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        await asyncio.to_thread(proc.wait, 20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _consistent(db: Any, student: str) -> dict[str, Any]:
    """The stats document agrees with ``sample_progress``; returns what it derives."""
    derived = await derived_stats(db, student)
    stats = await db[STATS].find_one({"_id": student}) or {}
    assert stats.get("total_points", 0) == derived["total_points"]
    for language, counts in derived["languages"].items():
        kept = stats["languages"][language]
        for key in ("read", "points", "time_spent"):
            assert kept[key] == counts[key], (language, key)
        for chapter, entry in counts["chapters"].items():
            assert kept["chapters"][chapter]["read"] == entry["read"]
    return derived


@pytest.mark.parametrize("step", STEPS)
async def test_a_mark_read_killed_at_any_step_leaves_totals_exact(
    env: dict[str, str], mongo_client: Any, step: str
) -> None:
    db = mongo_client[env["MONGODB_DB"]]
    student = f"SIDHI_CRASH_{uuid.uuid4().hex[:10]}"
    token = mint_token(SECRET, sub=student, client_id="web")
    headers = {"Authorization": f"Bearer {token}", "X-Client-Id": "web"}
    page = {"language": "c", "limit": 20}
    async with httpx.AsyncClient(timeout=60, headers=headers) as http:
        for round_ in range(ROUNDS):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            doomed = await start_server(port, {**env, "LUMETRIX_TEST_CRASH_AT": step})
            try:
                # Caches loaded before the crash: the read set, the progress view, a board.
                samples = (await http.get(f"{base}/training/samples", params=page)).json()["data"]
                await http.get(f"{base}/training/my-progress", params={"language": "c"})
                await http.get(f"{base}/training/leaderboard", params={"language": "c"})
                sample_id = samples[round_]["sample_id"]
                assert samples[round_]["isRead"] is False
                await mark_read_killing(http, base, sample_id, doomed)
            finally:
                if doomed.poll() is None:
                    doomed.kill()
            # Consistent before anyone retries: all of the visit or none of it.
            await _consistent(db, student)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = await start_server(port, env)
            try:
                samples = (await http.get(f"{base}/training/samples", params=page)).json()["data"]
                assert samples[round_]["isRead"] is (step in COMMITTED)
                retry = await http.post(
                    f"{base}/training/samples/{sample_id}/mark-read", params={"time_spent": 7}
                )
                assert retry.status_code == 200, retry.text
                assert retry.json()["is_first_read"] is (step not in COMMITTED)
                derived = await _consistent(db, student)
                assert derived["total_points"] == retry.json()["total_points"]
                assert derived["languages"]["c"]["read"] == round_ + 1
                # The Redis caches converged on MongoDB's totals.
                mine = (
                    await http.get(f"{base}/training/my-progress", params={"language": "c"})
                ).json()
                assert mine["overview"]["samples_read"] == round_ + 1
                assert mine["overview"]["total_points"] == derived["total_points"]
                board = (
                    await http.get(f"{base}/training/leaderboard", params={"language": "c"})
                ).json()
                assert board["me"]["points"] == derived["languages"]["c"]["points"]
                samples = (await http.get(f"{base}/training/samples", params=page)).json()["data"]
                assert [s["isRead"] for s in samples[: round_ + 1]] == [True] * (round_ + 1)
            finally:
                await _stop(server)
