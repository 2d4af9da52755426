"""Read-state lookups (``cache.reads``): concurrent misses share one load from MongoDB, and
a request that joins a load which raced a write still sees that write."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import datetime

from app.timefmt import utcnow
from app.training.queries import reads as read_queries
from app.training.queries.reads import upsert_read
from cache.progress import ProgressSets
from cache.reads import CachedReads
from tests.conftest import Api


class Loader:
    """The real MongoDB query, counted; the first full load can be held after it read."""

    def __init__(self, api: Api) -> None:
        self.query = functools.partial(read_queries.read_times, api.db)
        self.full_loads = 0
        self.hold: asyncio.Event | None = None
        self.read_done = asyncio.Event()

    async def __call__(
        self, student: str, language: str, sample_ids: Sequence[str] | None = None
    ) -> dict[str, datetime]:
        found = await self.query(student, language, sample_ids)
        if sample_ids is None:
            self.full_loads += 1
            self.read_done.set()
            if self.hold is not None and self.full_loads == 1:
                await self.hold.wait()
        return found


async def _ids(api: Api, n: int) -> list[str]:
    page = (await api.get("/training/samples", language="c", limit=n)).json()
    return [s["sample_id"] for s in page["data"]]


async def test_concurrent_misses_share_one_load(api: Api) -> None:
    ids = await _ids(api, 5)
    for sid in ids[:3]:
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=2)
    loader = Loader(api)
    reads = CachedReads(ProgressSets(api.backend, ttl_seconds=600), loader)
    await reads.sets.forget(api.student, "c")
    answers = await asyncio.gather(*(reads.read_times(api.student, "c", ids) for _ in range(20)))
    assert loader.full_loads == 1
    assert all(set(a) == set(ids[:3]) for a in answers)


async def test_a_request_joining_a_load_that_raced_a_write_sees_the_write(api: Api) -> None:
    ids = await _ids(api, 3)
    loader = Loader(api)
    loader.hold = asyncio.Event()
    reads = CachedReads(ProgressSets(api.backend, ttl_seconds=600), loader)
    await reads.sets.forget(api.student, "c")  # listing the ids loaded it
    owner = asyncio.create_task(reads.read_times(api.student, "c", ids))
    await asyncio.wait_for(loader.read_done.wait(), 10)  # the owner read MongoDB: no reads
    # From the catalog: the sample endpoint would load the read set itself.
    sample = await api.resources.catalog.sample(ids[0])
    assert sample is not None
    now = utcnow()
    assert await upsert_read(
        api.db, student=api.student, sample=sample, knowledge_area="basics", time_spent=1, now=now
    )
    await reads.record(api.student, "c", ids[0], now)  # bumps the generation
    joiner = asyncio.create_task(reads.read_times(api.student, "c", ids))
    await asyncio.sleep(0.05)
    loader.hold.set()
    owner_saw, joiner_saw = await asyncio.wait_for(asyncio.gather(owner, joiner), 10)
    assert set(joiner_saw) == {ids[0]}  # it started after the write: it must see it
    assert set(owner_saw) == {ids[0]}  # the refused install made the owner read again too
    # The shared load, then both re-reads; the later of those may instead find the set
    # the earlier one installed (a load first looks whether the set is there now).
    assert loader.full_loads in (2, 3)


async def test_a_load_takes_a_set_another_worker_installed_meanwhile(api: Api) -> None:
    ids = await _ids(api, 3)
    for sid in ids[:2]:
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=2)
    here, there = Loader(api), Loader(api)
    worker = CachedReads(ProgressSets(api.backend, ttl_seconds=600), here)
    other = CachedReads(ProgressSets(api.backend, ttl_seconds=600), there)
    await worker.sets.forget(api.student, "c")
    # This worker missed the set; before its load starts, another worker loads and installs
    # it. The load this worker then runs takes the installed set: no second MongoDB read.
    assert await other.all_reads(api.student, "c") == set(ids[:2])
    assert there.full_loads == 1
    entries = await worker._load(api.student, "c")
    assert set(entries) == set(ids[:2]) and here.full_loads == 0
