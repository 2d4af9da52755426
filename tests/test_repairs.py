"""Caches are repaired by name: a worker's start invalidates nothing of other workers';
a dead worker's unfinished batches reload exactly their students; a Redis blip reloads
only the students written meanwhile; past the bound, the global epoch still repairs
everyone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.settings import Settings
from app.timefmt import utcnow
from app.training.mark_read import Written
from app.training.queries import intents, meta
from app.training.queries.reads import VisitWrite
from app.visit_batches import VisitCommitter
from app.writer_sessions import WriterSessions
from cache.metrics import CACHE_LOADS, GLOBAL_INVALIDATIONS
from tests.conftest import (
    REDIS_BACKENDS,
    Api,
    make_settings,
    real_redis_url,
    redis_cluster,
    running_app,
    unique_name,
)
from tests.test_cache import redis_outage, wait_recovered

SET_LOADS = CACHE_LOADS.labels("read_set")
VIEW_LOADS = CACHE_LOADS.labels("progress_view")


def _loads() -> tuple[float, float]:
    return SET_LOADS._value.get(), VIEW_LOADS._value.get()


async def _ids(api: Api, count: int = 3) -> list[str]:
    page = await api.get("/training/samples", language="c", chapter=4, limit=count)
    return [s["sample_id"] for s in page.json()["data"]]


async def _warm(api: Api, student: str, sample_id: str) -> None:
    """One first read, then the page and my-progress: the student's caches loaded."""
    res = await api.post(f"/training/samples/{sample_id}/mark-read", student, time_spent=4)
    assert res.status_code == 200, res.text
    await api.get("/training/samples", student, language="c", chapter=4, limit=3)
    await api.get("/training/my-progress", student, language="c")
    assert await _loaded(api, student)


async def _loaded(api: Api, student: str) -> bool:
    """Whether the student's read set and progress view are both in Redis."""
    views = api.resources.progress.views  # type: ignore[attr-defined]
    found_set = await api.read_sets.members(student, "c")
    return found_set is not None and await views.read(student, "c") is not None


async def _reads(api: Api, student: str) -> list[bool]:
    page = await api.get("/training/samples", student, language="c", chapter=4, limit=3)
    return [s["isRead"] for s in page.json()["data"]]


@pytest.fixture(params=["redis", "cluster"])
def shared_settings(request: pytest.FixtureRequest, mongo_url: str, catalog_db: str) -> Settings:
    """Settings of workers sharing one real Redis (or cluster) and key prefix."""
    if request.param == "redis":
        return make_settings(mongo_url, catalog_db, "fakeredis", redis_url=real_redis_url())
    return make_settings(mongo_url, catalog_db, "cluster", redis_url=redis_cluster().url)


async def test_a_worker_start_leaves_other_workers_caches_loaded(
    shared_settings: Settings,
) -> None:
    async with running_app(shared_settings) as first:
        ids = await _ids(first)
        students = [unique_name("SIDHI") for _ in range(5)]
        for student in students:
            await _warm(first, student, ids[0])
        before = _loads()
        async with running_app(shared_settings) as second:
            for student in students:
                assert await _loaded(first, student)
                assert await _reads(first, student) == [True, False, False]
                assert await _reads(second, student) == [True, False, False]
        assert _loads() == before  # not one load from MongoDB, on either worker


@pytest.fixture(params=REDIS_BACKENDS)
async def api_no_lookback(
    request: pytest.FixtureRequest, mongo_url: str, catalog_db: str
) -> AsyncIterator[Api]:
    """The app on each Redis, repairing only the write-throughs Redis failed."""
    settings = make_settings(mongo_url, catalog_db, request.param, redis_repair_lookback=0)
    async with running_app(settings) as api:
        yield api


async def _commit_and_die(api: Api, student: str, sample_id: str) -> WriterSessions:
    """Another worker commits a first read of ``student`` and dies before writing it
    through to Redis (its heartbeat stops; its registration and notes stay)."""
    dead = WriterSessions(api.db, size=1, beat=60, stale=60)
    await dead.start()
    sample = await api.resources.catalog.sample(sample_id)
    assert sample is not None
    visit = VisitWrite(student, sample, sample["knowledge_area"], 6, utcnow())
    [written] = await VisitCommitter(api.db, dead)([visit])
    assert isinstance(written, Written) and written.first_read
    dead._stop.set()
    assert dead._task is not None
    await dead._task
    await meta.expire_writer(api.db, meta.WRITER_PREFIX + dead.name)
    return dead


async def test_a_dead_workers_unfinished_students_and_no_one_else_reload(
    api_no_lookback: Api,
) -> None:
    api = api_no_lookback
    ids = await _ids(api)
    victim, others = api.student, [unique_name("SIDHI") for _ in range(3)]
    for student in [victim, *others]:
        await _warm(api, student, ids[0])
    dead = await _commit_and_die(api, victim, ids[1])
    # Before the sweep the victim's set is short of the dead worker's commit.
    members = await api.read_sets.members(victim, "c")
    assert members is not None and ids[1] not in members

    assert await api.resources.sessions.sweep() == 1
    assert not await _loaded(api, victim)
    for student in others:
        assert await _loaded(api, student)
    assert await intents.of_writer(api.db, dead.name) == []
    before = _loads()
    assert await _reads(api, victim) == [True, True, False]
    for student in others:
        assert await _reads(api, student) == [True, False, False]
    assert _loads()[0] - before[0] == 1  # the victim's set alone
    mine = (await api.get("/training/my-progress", victim, language="c")).json()
    assert mine["overview"]["samples_read"] == 2


async def test_finished_write_throughs_leave_nothing_to_repair(api: Api) -> None:
    ids = await _ids(api)
    for sample_id in ids:
        res = await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=4)
        assert res.status_code == 200
    sessions = api.resources.sessions
    assert sessions.intents.unfinished == 0
    # What the last batches left noted is unset soon after, with no batch to do it.
    for _ in range(50):
        if await intents.of_writer(api.db, sessions.name) == []:
            break
        await asyncio.sleep(0.05)
    assert await intents.of_writer(api.db, sessions.name) == []


async def test_a_blip_invalidates_only_the_students_written_meanwhile(
    api_no_lookback: Api,
) -> None:
    api = api_no_lookback
    ids = await _ids(api)
    writers, idle = (
        [unique_name("SIDHI") for _ in range(2)],
        [unique_name("SIDHI") for _ in range(3)],
    )
    for student in [*writers, *idle]:
        await _warm(api, student, ids[0])
    async with redis_outage(api):
        for student in writers:
            res = await api.post(f"/training/samples/{ids[1]}/mark-read", student, time_spent=4)
            assert res.status_code == 200 and res.json()["is_first_read"] is True
        assert api.backend.pending_repairs > 0
    await wait_recovered(api)
    assert api.backend.pending_repairs == 0
    for student in writers:
        assert not await _loaded(api, student)
        assert await _reads(api, student) == [True, True, False]
    for student in idle:
        assert await _loaded(api, student)


@pytest.mark.parametrize("redis_kind", REDIS_BACKENDS)
async def test_the_lookback_repairs_what_was_written_just_before_a_failure(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    settings = make_settings(mongo_url, catalog_db, redis_kind, redis_repair_lookback=60)
    async with running_app(settings) as api:
        ids = await _ids(api)
        recent, student = unique_name("SIDHI"), unique_name("SIDHI")
        await _warm(api, recent, ids[0])
        async with redis_outage(api):
            res = await api.post(f"/training/samples/{ids[1]}/mark-read", student, time_spent=4)
            assert res.status_code == 200
        await wait_recovered(api)
        # Written through before the failure, but a restarted Redis may have lost it.
        assert not await _loaded(api, recent)


@pytest.mark.parametrize("redis_kind", REDIS_BACKENDS)
async def test_past_the_bound_the_global_epoch_repairs_everyone(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    settings = make_settings(
        mongo_url, catalog_db, redis_kind, redis_repair_max=2, redis_repair_lookback=0
    )
    async with running_app(settings) as api:
        ids = await _ids(api)
        writers, idle = [unique_name("SIDHI") for _ in range(3)], unique_name("SIDHI")
        for student in [*writers, idle]:
            await _warm(api, student, ids[0])
        global_before = GLOBAL_INVALIDATIONS._value.get()
        async with redis_outage(api):
            for student in writers:
                res = await api.post(f"/training/samples/{ids[1]}/mark-read", student, time_spent=4)
                assert res.status_code == 200
        await wait_recovered(api)
        assert GLOBAL_INVALIDATIONS._value.get() == global_before + 1
        for student in [*writers, idle]:
            assert not await _loaded(api, student)  # everyone reloads, the idle one too
        for student in writers:
            assert await _reads(api, student) == [True, True, False]
        assert await _reads(api, idle) == [True, False, False]
