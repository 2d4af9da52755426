"""A worker stops within ``SHUTDOWN_TIMEOUT`` whatever its background work is doing:
heartbeats, the event publisher and group commits mid-flight, a cancel swallowed inside
a library, a step that never returns."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import pytest

from app.batching import GroupCommit
from app.handles import resources_of
from app.main import create_app
from app.training.queries import meta
from app.writer_sessions import WriterSessions
from tests.conftest import Api, make_settings

SHUTDOWN = 3.0
STOPS = 50
SLACK = 2.0  # on top of the bound: a loaded machine's scheduling, not a performance claim


async def _finishes(step: Any, within: float) -> bool:
    """Whether ``step`` finishes within ``within`` s (never waits on it longer)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        task.cancel()
    return bool(done)


async def test_a_heartbeat_that_swallows_a_cancel_still_stops(
    fresh_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What was seen on Python 3.11: PyMongo's ``wait_for`` ate the one cancel that
    # ``close`` sent, and the heartbeat went back to sleep inside ``while True``.
    real_beat = meta.beat_writer

    async def stubborn_beat(*args: Any) -> None:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            pass  # swallowed, as inside the library
        await real_beat(*args)

    monkeypatch.setattr(meta, "beat_writer", stubborn_beat)
    sessions = WriterSessions(fresh_db, size=1, beat=0.02, stale=5)
    await sessions.start()
    for _ in range(20):
        await asyncio.sleep(random.uniform(0.0, 0.05))  # land the stop anywhere in a beat
        assert await _finishes(sessions.close(wait=2.0), 2.0 + SLACK)
        sessions = WriterSessions(fresh_db, size=1, beat=0.02, stale=5)
        await sessions.start()
    await sessions.close()


async def test_a_step_that_never_returns_is_left_behind_within_the_bound(
    mongo_url: str, catalog_db: str, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    async def hang(self: Any) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(GroupCommit, "close", hang)
    app = create_app(make_settings(mongo_url, catalog_db, "fakeredis", shutdown_timeout=1.0))
    life = app.router.lifespan_context(app)
    await life.__aenter__()
    started = time.monotonic()
    assert await _finishes(life.__aexit__(None, None, None), 1.0 + SLACK)
    assert time.monotonic() - started >= 0.9  # it did wait for the step, up to the bound
    assert "mark-read batches still running past SHUTDOWN_TIMEOUT" in caplog.text


async def test_stops_mid_flight_never_outlast_the_bound(mongo_url: str, catalog_db: str) -> None:
    """Heartbeats every 40 ms, the publisher polling, mark-read batches being written:
    stop at a random moment, ``STOPS`` times."""
    settings = make_settings(
        mongo_url,
        catalog_db,
        "fakeredis",
        shutdown_timeout=SHUTDOWN,
        writer_stale_after=0.2,
        events_poll_interval=0.01,
    )
    slowest = 0.0
    sample_ids: list[str] = []
    for round_ in range(STOPS):
        app = create_app(settings)
        life = app.router.lifespan_context(app)
        await life.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        api = Api(app, client, settings)
        if not sample_ids:
            page = await api.get("/training/samples", language="c", limit=50)
            sample_ids = [s["sample_id"] for s in page.json()["data"]]
        writes = [
            asyncio.ensure_future(api.post(f"/training/samples/{sid}/mark-read", time_spent=3))
            for sid in random.sample(sample_ids, 12)
        ]
        await asyncio.sleep(random.uniform(0.0, 0.06))
        started = time.monotonic()
        stopped = await _finishes(life.__aexit__(None, None, None), SHUTDOWN + SLACK)
        took = time.monotonic() - started
        slowest = max(slowest, took)
        assert stopped, f"stop {round_} outlasted {SHUTDOWN + SLACK} s"
        await asyncio.gather(*writes, return_exceptions=True)
        await client.aclose()
        assert resources_of(app).backend is not None
    print(f"{STOPS} stops, slowest {slowest:.2f} s")
