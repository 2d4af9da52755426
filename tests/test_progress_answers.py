"""my-progress and chapters kept serialised next to the student's progress view
(``cache.progress_answers``, ``app.training.answers``): the bytes the normal path gives,
stale as soon as the view changes (a write-through, a repair by name, a load, the epoch),
and right through a Redis outage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from app.db import PROGRESS, STATS
from app.training import progress as service
from app.training.answers import AS_OF_MARK, Serialised
from app.training.streaks import day_ends
from cache.progress_answers import HIT
from cache.repairs import NamedRepairs
from cache.singleflight import NextFlight
from tests.conftest import Api, make_settings, running_app
from tests.test_cache import redis_outage, wait_recovered

NOW = datetime(2026, 12, 5, 12, 0, 7, 123000, tzinfo=UTC)


@pytest.fixture
async def api(mongo_url: str, catalog_db: str, redis_kind: str) -> AsyncIterator[Api]:
    """The app with a Redis timeout a busy machine does not reach: these tests tell a kept
    answer from MongoDB's, and a false timeout would answer from MongoDB."""
    settings = make_settings(mongo_url, catalog_db, redis_kind, redis_timeout=5.0)
    async with running_app(settings) as client:
        yield client


async def _ids(api: Api, language: str, limit: int) -> list[str]:
    page = (await api.get("/training/samples", language=language, limit=limit)).json()
    return [s["sample_id"] for s in page["data"]]


def _args(api: Api, language: str = "c") -> dict[str, Any]:
    res = api.resources
    return {
        "catalog": res.catalog,
        "progress": res.progress,
        "student": api.student,
        "language": language,
    }


async def _progress_pair(api: Api, tz: str | None, now: datetime) -> tuple[bytes, Serialised]:
    """(the normal path's bytes, the kept path's answer) at ``now``."""
    args = {**_args(api), "tz": tz, "streak_minimum": 1, "now": now}
    normal = orjson.dumps(await service.my_progress(**args))
    return normal, await service.my_progress_answer(**args)


async def _chapters_pair(api: Api, now: datetime) -> tuple[bytes, Serialised]:
    normal = orjson.dumps(await service.chapters(**_args(api), now=now))
    return normal, await service.chapters_answer(**_args(api), now=now)


def _hits() -> float:
    return HIT._value.get()


async def test_a_kept_answer_is_the_bytes_the_normal_path_gives(api: Api) -> None:
    ids = await _ids(api, "c", 3)
    for sid in ids:
        assert (
            await api.post(f"/training/samples/{sid}/mark-read", time_spent=12)
        ).status_code == 200
    for tz in (None, "Asia/Kolkata"):
        for now in (NOW, NOW + timedelta(seconds=3)):  # built and kept, then a hit
            before = _hits()
            normal, kept = await _progress_pair(api, tz, now)
            assert kept.body == normal
            assert AS_OF_MARK.encode() not in kept.body
            assert orjson.loads(kept.body)["as_of"] == "2026-12-05T12:00:" + (
                "07.123Z" if now == NOW else "10.123Z"
            )
        assert _hits() == before + 1  # the second was answered from what was kept
    for now in (NOW, NOW + timedelta(seconds=1)):
        before = _hits()
        normal, kept = await _chapters_pair(api, now)
        assert kept.body == normal
    assert _hits() == before + 1
    # Over HTTP: the same bytes each time but for as_of, and the declared headers.
    first = await api.get("/training/my-progress", language="c")
    second = await api.get("/training/my-progress", language="c")
    assert first.status_code == second.status_code == 200
    assert first.headers["cache-control"] == second.headers["cache-control"] == "private, no-store"
    assert first.headers["content-type"] == "application/json"
    strip = lambda r: {k: v for k, v in r.json().items() if k != "as_of"}  # noqa: E731
    assert strip(first) == strip(second) and strip(first)["overview"]["samples_read"] == 3


async def test_a_mark_read_is_seen_by_the_next_answer(api: Api) -> None:
    ids = await _ids(api, "c", 2)
    for path in ("/training/my-progress", "/training/chapters"):
        await api.get(path, language="c")
        await api.get(path, language="c")  # kept
    for n, sid in enumerate(ids, start=1):
        assert (
            await api.post(f"/training/samples/{sid}/mark-read", time_spent=5)
        ).status_code == 200
        mine = (await api.get("/training/my-progress", language="c")).json()
        chapters = (await api.get("/training/chapters", language="c")).json()
        assert mine["overview"]["samples_read"] == n
        assert mine["recent_activity"][0]["sample_id"] == sid
        assert sum(c["read_questions"] for c in chapters["chapters"]) == n
    # A revisit moves the generation too: its time shows at once.
    await api.post(f"/training/samples/{ids[0]}/mark-read", time_spent=40)
    mine = (await api.get("/training/my-progress", language="c")).json()
    assert mine["overview"]["total_time_seconds"] == 50


async def _read_behind_the_cache(api: Api, sid: str) -> None:
    """A first read MongoDB holds and Redis never heard of (a lost write-through)."""
    await api.db[STATS].update_one(
        {"_id": api.student},
        {"$inc": {"languages.c.read": 1, "languages.c.points": 1, "total_points": 1}},
        upsert=True,
    )


async def test_a_repair_by_name_and_the_epoch_make_answers_stale(api: Api) -> None:
    [sid] = await _ids(api, "c", 1)
    for _ in range(2):
        assert (await api.get("/training/my-progress", language="c")).json()["overview"][
            "samples_read"
        ] == 0
    await _read_behind_the_cache(api, sid)
    # Kept: still what the view said (a hit reads nothing from MongoDB).
    assert (await api.get("/training/my-progress", language="c")).json()["overview"][
        "samples_read"
    ] == 0
    views = api.resources.progress.views  # type: ignore[attr-defined]
    named = NamedRepairs(api.read_sets, views, api.boards)  # what a dead worker's survivor does
    assert await named.repair({(api.student, "c")}, [])
    mine = (await api.get("/training/my-progress", language="c")).json()
    assert mine["overview"]["samples_read"] == 1
    await api.get("/training/my-progress", language="c")  # kept again
    await _read_behind_the_cache(api, sid)
    await api.backend.bump_epoch()
    assert (await api.get("/training/my-progress", language="c")).json()["overview"][
        "samples_read"
    ] == 2


async def test_a_hit_reads_nothing_from_mongodb(api: Api) -> None:
    [sid] = await _ids(api, "c", 1)
    await api.post(f"/training/samples/{sid}/mark-read", time_spent=9)
    kept = [(await api.get("/training/my-progress", language="c")).json() for _ in range(2)]
    await api.db[STATS].delete_one({"_id": api.student})
    await api.db[PROGRESS].delete_many({"sidhi_id": api.student})
    again = (await api.get("/training/my-progress", language="c")).json()
    assert again["overview"] == kept[0]["overview"] and again["overview"]["samples_read"] == 1
    assert again["recent_activity"] == kept[0]["recent_activity"]


async def test_a_progress_answer_lasts_until_the_local_day_ends(api: Api) -> None:
    args = {**_args(api), "tz": "Asia/Kolkata", "streak_minimum": 1}
    await service.my_progress_answer(**args, now=NOW)
    name = f"progress:{await api.resources.catalog.version()}:c:Asia/Kolkata:1"
    progress = api.resources.progress
    ends = day_ends(ZoneInfo("Asia/Kolkata"), NOW)
    assert (await progress.answer(api.student, name, language="c", at_ms=ends - 1)).body
    missed = await progress.answer(api.student, name, language="c", at_ms=ends)
    assert missed.body is None and missed.found is not None  # the view, same round trip
    before = _hits()
    await service.my_progress_answer(**args, now=datetime.fromtimestamp(ends / 1000, UTC))
    assert _hits() == before  # the next local day: built again, not the kept one
    # The kept hash never outlives the generation key it is stamped with.
    views = api.resources.progress.views  # type: ignore[attr-defined]
    _, gen = views.keys(api.student)
    # The kept hash takes the generation's remaining TTL, read in the same script just before
    # its PEXPIRE; script time is not frozen on Redis 7.0 nor fakeredis, so it may outlive the
    # generation by the milliseconds between the two (harmless: with the generation gone, no
    # stamp matches). What must not happen is a whole answer TTL past it.
    gen_ttl = await api.backend.client.pttl(gen)
    answers_ttl = await api.backend.client.pttl(views.answers_key(api.student))
    assert 0 < answers_ttl <= gen_ttl + 50


async def test_answers_stay_right_through_a_redis_outage(api: Api) -> None:
    [sid] = await _ids(api, "cpp", 1)
    for _ in range(2):
        await api.get("/training/my-progress", language="cpp")
        await api.get("/training/chapters", language="cpp")
    async with redis_outage(api):
        assert (
            await api.post(f"/training/samples/{sid}/mark-read", time_spent=4)
        ).status_code == 200
        during = (await api.get("/training/my-progress", language="cpp")).json()
        assert during["overview"]["samples_read"] == 1  # from MongoDB
        chapters = await api.get("/training/chapters", language="cpp")
        assert chapters.status_code == 200
    await wait_recovered(api)
    for _ in range(2):
        after = (await api.get("/training/my-progress", language="cpp")).json()
        chapters = (await api.get("/training/chapters", language="cpp")).json()
        assert after["overview"]["samples_read"] == 1
        assert sum(c["read_questions"] for c in chapters["chapters"]) == 1


async def test_while_redis_is_away_a_students_requests_share_fresh_loads(api: Api) -> None:
    progress: Any = api.resources.progress
    real, calls, running = progress.loader, [], [0]
    most = 0

    async def counted(student: str) -> Any:
        nonlocal most
        calls.append(student)
        running[0] += 1
        most = max(most, running[0])
        try:
            return await real(student)
        finally:
            running[0] -= 1

    progress.loader = counted
    [sid] = await _ids(api, "python", 1)
    async with redis_outage(api):
        answers = await asyncio.gather(
            *(api.get("/training/my-progress", language="python") for _ in range(40))
        )
        assert {r.status_code for r in answers} == {200}
        # One load of the student at a time, shared by the requests that came meanwhile
        # (a fakeredis outage answers at once: 2 loads; a Cluster's fails request by
        # request as its connects time out, so more waves), not one load each at once.
        assert most == 1 and len(calls) < 40
        # A read acknowledged before a request is in its answer, loads shared or not.
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=3)
        after = await asyncio.gather(
            *(api.get("/training/my-progress", language="python") for _ in range(10))
        )
        assert {r.json()["overview"]["samples_read"] for r in after} == {1}


async def test_a_caller_never_shares_a_load_that_started_before_it() -> None:
    flight, started, release = NextFlight(), [], asyncio.Event()
    state = {"value": 0}

    async def load() -> int:
        seen = state["value"]  # what the load reads when it starts
        started.append(seen)
        await release.wait()
        return seen

    first = asyncio.create_task(flight.run("k", load))
    await asyncio.sleep(0)
    state["value"] = 1  # a write lands while the first load runs
    later = [asyncio.create_task(flight.run("k", load)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await first == 0
    assert {await t for t in later} == {1}
    assert started == [0, 1]  # one load for all five later callers
