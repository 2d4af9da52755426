"""Operations routes: readiness is checked at most once a second per worker, and callers
meanwhile share the answer (a flood of probes is not a flood of pings)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import make_settings, running_app


async def test_readiness_is_checked_once_a_second_and_shared(
    mongo_url: str, catalog_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_app(make_settings(mongo_url, catalog_db, "fakeredis")) as api:
        pings = 0
        redis_up = True
        real_ping = api.backend.ping

        async def counted_ping() -> bool:
            """The real ping (a spy, not a stand-in), counted; reports down when told."""
            nonlocal pings
            pings += 1
            await asyncio.sleep(0.05)  # a round trip long enough for callers to pile up
            return bool(await real_ping()) and redis_up

        monkeypatch.setattr(api.backend, "ping", counted_ping)
        started = time.monotonic()
        flood = await asyncio.gather(*(api.client.get("/ready") for _ in range(100)))
        elapsed = time.monotonic() - started
        assert {r.status_code for r in flood} == {200}
        assert {r.json()["redis"] for r in flood} == {"ok"}
        # At most one check per second started: 100 callers, one ping (more only if the
        # flood itself lasted over a second on a loaded machine).
        assert 1 <= pings <= 1 + int(elapsed), (pings, elapsed)

        # A second later the next caller checks again, and sees what changed.
        redis_up = False
        before = pings
        await asyncio.sleep(1.1)
        again = await api.client.get("/ready")
        assert pings == before + 1
        assert again.status_code == 200 and again.json()["redis"] == "down"
