"""Progress events (``app.events``, ``cache.events``, ``examples/points_consumer.py``): the
outbox is written in the mark-read transaction, the lease-holding publisher streams it to
Redis at least once, ``lumetrix events tail`` prints it, and the example consumer's
totals equal MongoDB's even when the publisher is killed mid-stream."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from bson import ObjectId

from app.db import META, OUTBOX, PROGRESS, SAMPLES, STATS, Database
from app.embedded import free_port
from app.events import outbox
from app.events.lease import LEASE_ID, Lease
from app.events.publisher import Publisher, PublishOptions
from app.events.schema import POINTS_AWARDED, SAMPLE_READ, Event, event_of, stream_fields
from app.timefmt import iso, utcnow
from app.training.queries.reads import progress_id, upsert_read, visit_counts
from cache.backend import CacheBackend, create_backend
from cache.events import EventStream
from examples.points_consumer import consume, points
from tests.conftest import (
    SECRET,
    Api,
    backend_of,
    c_samples,
    drop_backend,
    make_settings,
    running_app,
)
from tests.live import ROOT, mark_read_killing, start_server
from tests.test_cli import lumetrix

FAST = PublishOptions(lease_seconds=1.0, batch=7, poll=0.05)
SAMPLE_IDS = [sample["sample_id"] for sample in c_samples(60)]


def _app(mongo_url: str, db: Database, **extra: Any) -> running_app:
    """The app on ``db`` with its own publisher off: the outbox keeps what it writes."""
    settings = make_settings(mongo_url, db.name, "fakeredis", events_publisher=False, **extra)
    return running_app(settings)


@pytest.fixture
async def db(fresh_db: Database) -> Database:
    """A database of this test's own holding 60 migrated C samples (one point each)."""
    await fresh_db[SAMPLES].insert_many(c_samples(60))
    return fresh_db


@pytest.fixture
async def fake_backend() -> AsyncIterator[CacheBackend]:
    """An in-process Redis of this test's own."""
    backend = create_backend(None, timeout=1, retry_after=0.1)
    yield backend
    await backend.close()


@pytest.fixture
async def any_backend(redis_kind: str) -> AsyncIterator[CacheBackend]:
    """A backend of this test's own on each Redis of the suite (fakeredis, a real Redis,
    a Redis Cluster), its keys deleted afterwards."""
    backend = backend_of(redis_kind)
    yield backend
    await drop_backend(backend)


@pytest.fixture
async def real_backend(shared_redis_url: str) -> AsyncIterator[CacheBackend]:
    """That Redis, under a key prefix of this test's own; its keys are deleted afterwards."""
    backend = create_backend(
        shared_redis_url, timeout=2, retry_after=0.1, prefix=f"lmxtest:{uuid.uuid4().hex}:"
    )
    yield backend
    await drop_backend(backend)


def _stream(backend: CacheBackend) -> EventStream:
    return EventStream(backend, "events", maxlen=1_000_000)


async def _read(api: Api, sample: int, student: str | None = None, seconds: int = 5) -> Any:
    res = await api.post(
        f"/training/samples/{SAMPLE_IDS[sample]}/mark-read",
        student=student,
        time_spent=seconds,
    )
    assert res.status_code == 200, res.text
    return res.json()


async def _outbox(db: Database, **match: Any) -> list[dict[str, Any]]:
    """The events waiting in the outbox (those matching ``match``), in the order the
    publisher streams them."""
    batches = await db[OUTBOX].find().sort("_id", 1).to_list(None)
    return [
        event
        for batch in batches
        for event in batch["events"]
        if all(event[k] == v for k, v in match.items())
    ]


async def _all_entries(stream: EventStream) -> list[dict[str, Any]]:
    """Every event on the stream, oldest first (duplicates included)."""
    out: list[dict[str, Any]] = []
    start = "-"
    while entries := await stream.range_from(start, 500):
        out += [event_of(fields) for _, fields in entries]
        start = "(" + entries[-1][0]
    return out


async def test_a_visit_writes_its_events_in_its_transaction(mongo_url: str, db: Database) -> None:
    async with _app(mongo_url, db) as api:
        await _read(api, 0, seconds=5)
        first = await _outbox(db, student=api.student)
        assert [e["type"] for e in first] == [SAMPLE_READ, POINTS_AWARDED]
        record = await db[PROGRESS].find_one({"sidhi_id": api.student})
        assert record is not None
        for event in first:
            assert ObjectId.is_valid(event["event_id"])
            assert set(event) == set(Event.__annotations__)
            assert event | {"event_id": "", "type": ""} == {
                "event_id": "",
                "type": "",
                "student": api.student,
                "sample_id": record["sample_id"],
                "language": "c",
                "first_read": True,
                "points": 1,
                "totals": {"total_points": 1, "language_read": 1, "language_points": 1},
                "revisited_count": 1,
                "time_spent": 5,
                "at": iso(record["read_at"]),
            }
        await _read(api, 0, seconds=9)
        revisit = (await _outbox(db, student=api.student))[2:]
        assert [(e["type"], e["first_read"], e["points"]) for e in revisit] == [
            (SAMPLE_READ, False, 0)
        ]
        assert revisit[0]["revisited_count"] == 2 and revisit[0]["time_spent"] == 9
        assert revisit[0]["totals"] == first[0]["totals"]


async def test_each_event_of_a_batch_carries_the_totals_after_its_own_visit(
    mongo_url: str, db: Database
) -> None:
    # A long window gathers the concurrent calls into one batch (one transaction).
    async with _app(mongo_url, db, mark_read_batch_window=0.2) as api:
        other = f"SIDHI_OTHER_{uuid.uuid4().hex[:8]}"
        await _read(api, 0)  # a first read before the batch
        calls = [_read(api, i) for i in (0, 1, 2, 3, 1, 2)] + [_read(api, 5, other)]
        await asyncio.gather(*calls)
        events = await _outbox(db, student=api.student)
        reads = [e for e in events if e["type"] == SAMPLE_READ]
        assert len(reads) == 7 and len(events) == 7 + 4
        awards = [e for e in events if e["type"] == POINTS_AWARDED]
        assert [e["totals"]["total_points"] for e in awards] == [1, 2, 3, 4]
        assert [e["totals"]["language_read"] for e in awards] == [1, 2, 3, 4]
        # Every visit counts its own visit of the sample, the batch's repeats included.
        counts = Counter[str]()
        for event in reads:
            counts[event["sample_id"]] += 1
            assert event["revisited_count"] == counts[event["sample_id"]]
            assert event["first_read"] is (counts[event["sample_id"]] == 1)
        stats = await db[STATS].find_one({"_id": api.student})
        assert stats is not None and reads[-1]["totals"]["total_points"] == stats["total_points"]
        assert len(await _outbox(db, student=other)) == 2
        # One outbox document per batch (one insert per transaction): the lone read's and
        # the concurrent calls'.
        assert await db[OUTBOX].count_documents({}) == 2


async def test_the_service_drains_its_outbox_into_its_own_stream_by_default(
    mongo_url: str, db: Database
) -> None:
    # The development default: no REDIS_URL, the publisher on in the serving worker.
    settings = make_settings(mongo_url, db.name, "fakeredis", events_poll_interval=0.05)
    async with running_app(settings) as api:
        await _read(api, 3)
        await _read(api, 3)
        await _drain(db)
        stream = api.resources.events
        assert stream.maxlen == 10_000  # in-process: the newest events only
        events = [event_of(fields) for _, fields in await stream.range_from()]
        assert [(e["type"], e["revisited_count"]) for e in events] == [
            (SAMPLE_READ, 1),
            (POINTS_AWARDED, 1),
            (SAMPLE_READ, 2),
        ]


@pytest.fixture
async def env(mongo_url: str, db: Database) -> dict[str, str]:
    """Environment of a ``lumetrix`` process on ``db``: server settings, publisher off."""
    values = {
        **os.environ,
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": db.name,
        "JWT_SECRET": SECRET,
        "LUMETRIX_ENV": "test",
        "MARK_READ_RATE": "0",
        "WARM_ON_START": "false",
        "ACCESS_LOG": "false",
        "EVENTS_PUBLISHER": "false",
        "WRITER_STALE_AFTER": "2",
    }
    for name in ("LUMETRIX_TEST_CRASH_AT", "REDIS_URL", "REDIS_PREFIX"):
        values.pop(name, None)
    return values


@pytest.mark.parametrize(("step", "committed"), [("events_written", False), ("committed", True)])
async def test_a_crash_keeps_the_events_with_their_visit(
    env: dict[str, str], db: Database, step: str, committed: bool
) -> None:
    import httpx

    from app.auth import mint_token

    student = f"SIDHI_EVCRASH_{uuid.uuid4().hex[:8]}"
    headers = {
        "Authorization": f"Bearer {mint_token(SECRET, sub=student, client_id='web')}",
        "X-Client-Id": "web",
    }
    port = free_port()
    server = await start_server(port, {**env, "LUMETRIX_TEST_CRASH_AT": step})
    try:
        async with httpx.AsyncClient(timeout=60, headers=headers) as http:
            await mark_read_killing(http, f"http://127.0.0.1:{port}", SAMPLE_IDS[0], server)
    finally:
        if server.poll() is None:
            server.kill()
    events = await _outbox(db, student=student)
    reads = await db[PROGRESS].count_documents({"sidhi_id": student})
    assert reads == int(committed)
    assert [e["type"] for e in events] == ([SAMPLE_READ, POINTS_AWARDED] if committed else [])


async def _fill(mongo_url: str, db: Database, students: int = 3, visits: int = 12) -> list[str]:
    """Mark-reads by a few students (first reads and revisits); the outbox's ids, in order."""
    async with _app(mongo_url, db) as api:
        names = [f"SIDHI_FILL{n}_{uuid.uuid4().hex[:6]}" for n in range(students)]
        for n in range(visits):
            await asyncio.gather(
                *(_read(api, (n * 7 + i) % 9, name) for i, name in enumerate(names))
            )
    return [event["event_id"] for event in await _outbox(db)]


async def _drain(db: Database) -> None:
    await _wait_for(lambda: _empty(db), "the outbox to drain", 30)


async def test_the_publisher_streams_the_outbox_in_order_and_empties_it(
    mongo_url: str, db: Database, any_backend: CacheBackend
) -> None:
    ids = await _fill(mongo_url, db)
    events = await _outbox(db)
    stream = _stream(any_backend)
    publisher = Publisher(db, stream, FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run(stop))
    await _drain(db)
    stop.set()
    await task
    entries = await stream.range_from("-", 10_000)
    assert [fields["event_id"] for _, fields in entries] == ids == sorted(ids)
    assert [fields["type"] for _, fields in entries] == [e["type"] for e in events]
    assert [event_of(fields) for _, fields in entries] == events
    assert publisher.published == len(ids)
    # A clean stop gives the lease up at once.
    assert await publisher.lease.holder() is None


async def test_the_lease_lets_one_publisher_at_a_time(
    mongo_url: str, db: Database, fake_backend: CacheBackend
) -> None:
    stream = _stream(fake_backend)
    first = Publisher(db, stream, FAST, owner="first")
    second = Publisher(db, stream, FAST, owner="second")
    assert await first.lease.acquire() and not await second.lease.acquire()
    assert await first.lease.acquire()  # renewing what is ours
    await first.lease.release()
    assert await second.lease.acquire() and not await first.lease.acquire()
    await second.lease.release()

    ids = await _fill(mongo_url, db, students=2, visits=6)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(p.run(stop)) for p in (first, second)]
    await _drain(db)
    holder, standby = (first, second) if first.published else (second, first)
    assert holder.published == len(ids) and standby.published == 0

    # The holder dies without giving the lease up: the other takes over after the lease.
    async def gone() -> None:
        return None

    holder.lease.release = gone  # type: ignore[method-assign]
    tasks[[first, second].index(holder)].cancel()
    died = time.monotonic()
    more = await _fill(mongo_url, db, students=1, visits=3)
    await _drain(db)
    took = time.monotonic() - died
    assert standby.published == len(more)
    assert FAST.lease_seconds * 0.5 < took < FAST.lease_seconds + 5
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert [fields["event_id"] for _, fields in await stream.range_from()] == ids + more


async def test_a_holder_renews_its_lease_every_third_of_its_length(
    db: Database, fake_backend: CacheBackend
) -> None:
    publisher = Publisher(db, _stream(fake_backend), FAST, owner="holder")

    async def until() -> Any:
        doc = await db[META].find_one({"_id": LEASE_ID})
        assert doc is not None and doc["owner"] == "holder"
        return doc["until"]

    assert await publisher.lease.hold()
    taken = await until()
    # Asked again before a third of the lease has gone: held, no write.
    assert await publisher.lease.hold() and await until() == taken
    # Past a third (well before the lease ends): renewed, so a holder that keeps working
    # never lets its lease run out between two renewals.
    await asyncio.sleep(FAST.lease_seconds / 3 + 0.15)
    assert await publisher.lease.hold()
    assert await until() > taken
    assert not await Lease(db, seconds=FAST.lease_seconds, owner="rival").acquire()


async def test_removing_streamed_batches_deletes_every_id_across_slices(db: Database) -> None:
    # Two full delete slices and a part of a third: no id at a slice's edge is left behind.
    ids = [f"batch-{i:04d}" for i in range(2 * outbox.DELETE_SLICE + 5)]
    for i, batch in enumerate(ids):
        await outbox.add(db, {"_id": batch, "events": [{"event_id": f"e{i}"}]})
    assert await outbox.count(db) == len(ids)
    assert await outbox.remove(db, ids) == len(ids)
    assert await outbox.count(db) == 0


async def test_with_redis_away_the_publisher_keeps_the_outbox_and_waits(
    mongo_url: str, db: Database
) -> None:
    ids = await _fill(mongo_url, db, students=1, visits=2)
    dead = create_backend(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2, retry_after=0.2)
    publisher = Publisher(db, _stream(dead), FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run(stop))
    await asyncio.sleep(1.5)
    assert not task.done()  # it backs off and tries again; it never gives up
    assert [event["event_id"] for event in await _outbox(db)] == ids
    stop.set()
    await asyncio.wait_for(task, 10)
    await dead.close()


async def test_consumer_group_reads_pending_then_new_and_acks(any_backend: CacheBackend) -> None:
    stream = _stream(any_backend)
    await stream.ensure_group("g")
    await stream.ensure_group("g")  # an existing group is left alone
    added = await stream.append(
        [{"event_id": str(n), "type": "t", "data": b"{}"} for n in range(3)]
    )
    assert await stream.last_id() == added[-1] and await stream.length() == 3
    new = await stream.read_group("g", "c1", pending=False, count=2, block_ms=None)
    assert [i for i, _ in new] == added[:2]
    # Delivered but unacknowledged: read again as pending, until acknowledged.
    pending = await stream.read_group("g", "c1", pending=True, count=10, block_ms=None)
    assert [i for i, _ in pending] == added[:2]
    assert await stream.ack("g", added[:2]) == 2
    assert await stream.read_group("g", "c1", pending=True, count=10, block_ms=None) == []
    rest = await stream.read_group("g", "c1", pending=False, count=10, block_ms=10)
    assert [i for i, _ in rest] == added[2:]
    assert await stream.read_after(added[0], count=10, block_ms=10) == [
        (i, {"event_id": str(n + 1), "type": "t", "data": "{}"}) for n, i in enumerate(added[1:])
    ]


def test_events_commands_need_a_shared_redis() -> None:
    for command in (["events", "publish"], ["events", "tail", "--limit", "1"]):
        out = lumetrix(*command, REDIS_URL="")
        assert out.returncode == 2, out.stderr
        assert "needs REDIS_URL" in out.stderr and "Traceback" not in out.stderr


async def test_tail_prints_events_as_json_lines(
    mongo_url: str,
    db: Database,
    env: dict[str, str],
    real_backend: CacheBackend,
    shared_redis_url: str,
) -> None:
    await _fill(mongo_url, db, students=2, visits=4)
    stream = _stream(real_backend)
    events = await _outbox(db)
    await stream.append([stream_fields(event) for event in events])
    tail_env = {
        **env,
        "REDIS_URL": shared_redis_url,
        "REDIS_PREFIX": real_backend.prefix,
    }
    out = await asyncio.to_thread(
        lumetrix, "events", "tail", "--from-start", "--limit", "5", **tail_env
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [orjson.loads(line) for line in lines] == events[:5]

    # Without --from-start: only what is added once it runs.
    follow = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant; waiting is async
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "events",
            "tail",
            "--limit",
            "2",
        ],
        cwd=ROOT,
        env=tail_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while follow.poll() is None and time.monotonic() < deadline:
            fresh = {"event_id": f"new-{uuid.uuid4().hex}", "type": "t", "data": b'{"new": true}'}
            await stream.append([fresh])
            await asyncio.sleep(0.3)
        stdout, stderr = follow.communicate(timeout=10)
    finally:
        if follow.poll() is None:
            follow.kill()
    assert follow.returncode == 0, stderr
    assert [orjson.loads(line) for line in stdout.splitlines()] == [{"new": True}] * 2


async def test_the_consumer_counts_a_redelivered_award_once(
    real_backend: CacheBackend, shared_redis_url: str
) -> None:
    stream = _stream(real_backend)
    awards = [
        {"event_id": f"e{n}", "type": POINTS_AWARDED, "student": f"S{n % 2}", "points": 1 + n}
        for n in range(4)
    ]
    fields = [
        {"event_id": a["event_id"], "type": a["type"], "data": orjson.dumps(a)} for a in awards
    ]
    other = {"event_id": "r", "type": SAMPLE_READ, "data": b'{"type": "sample_read"}'}
    await stream.append([*fields, other, *fields[:2]])  # two republished
    url, prefix = shared_redis_url, real_backend.prefix
    report = await consume(url, prefix=prefix, group="pts", until_idle=True, block_ms=200)
    assert (report.entries, report.applied, report.duplicates) == (7, 4, 2)
    assert await points(url, prefix=prefix, group="pts") == {"S0": 1 + 3, "S1": 2 + 4}
    # Read again: nothing pending, nothing new, nothing counted twice.
    again = await consume(url, prefix=prefix, group="pts", until_idle=True, block_ms=200)
    assert again.entries == 0
    assert await points(url, prefix=prefix, group="pts") == {"S0": 4, "S1": 6}


@pytest.fixture
def publishers(
    env: dict[str, str], real_backend: CacheBackend, shared_redis_url: str
) -> Iterator[Any]:
    """Starts ``lumetrix events publish`` processes on ``db`` and the real Redis (each with
    extra environment); kills whichever is still running at the end."""
    started: list[subprocess.Popen[bytes]] = []
    publish_env = {
        **env,
        "REDIS_URL": shared_redis_url,
        "REDIS_PREFIX": real_backend.prefix,
        "EVENTS_LEASE_SECONDS": "1",
        "EVENTS_BATCH": "20",
        "EVENTS_POLL_INTERVAL": "0.05",
    }

    def start(**extra: str) -> subprocess.Popen[bytes]:
        log = open(
            Path(os.environ.get("TMPDIR", "/tmp")) / f"publisher-{uuid.uuid4().hex}.log", "wb"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "events", "publish"],
            cwd=ROOT,
            env={**publish_env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def _wait_for(check: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_killed_publisher_loses_no_event_and_the_consumer_counts_each_award_once(
    mongo_url: str,
    db: Database,
    real_backend: CacheBackend,
    shared_redis_url: str,
    publishers: Any,
) -> None:
    stream = _stream(real_backend)
    rng = random.Random(14)
    names = [f"SIDHI_KILL{n}_{uuid.uuid4().hex[:6]}" for n in range(8)]
    done: list[Any] = []

    killed_both = asyncio.Event()

    async def learner(api: Api, name: str) -> None:
        # At least 40 visits of 25 samples (first reads and revisits), about 4 a second,
        # and on until both publishers are dead, so the kills land mid-stream.
        visits = 0
        while visits < 40 or (not killed_both.is_set() and visits < 400):
            done.append(await _read(api, rng.randrange(25), name, rng.randrange(1, 60)))
            visits += 1
            await asyncio.sleep(0.25)

    # The first publisher dies between its XADD and the outbox delete: a certain duplicate.
    doomed = publishers(LUMETRIX_TEST_CRASH_AT="events_published")
    async with _app(mongo_url, db) as api:
        load = asyncio.gather(*(learner(api, name) for name in names))
        try:
            assert await asyncio.to_thread(doomed.wait, 60) == -signal.SIGKILL
            # The next one is killed as soon as it has streamed something, mid-load.
            killed = publishers()
            streamed = await stream.length()
            await _wait_for(lambda: _longer(stream, streamed), "the second publisher")
            killed.kill()
            assert await asyncio.to_thread(killed.wait, 20) == -signal.SIGKILL
            assert not load.done(), "the load ended before the publisher was killed"
            killed_both.set()
            last = publishers()
        finally:
            killed_both.set()
            await load
    assert len(done) >= 8 * 40
    await _drain(db)
    last.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(last.wait, 20) == 0

    entries = await _all_entries(stream)
    ids = Counter(e["event_id"] for e in entries)
    assert len(entries) > len(ids), "no event was republished"
    unique = {e["event_id"]: e for e in entries}.values()
    reads = [e for e in unique if e["type"] == SAMPLE_READ]
    assert len(reads) == len(done)
    firsts = {(e["student"], e["sample_id"]) for e in reads if e["first_read"]}
    progress = await db[PROGRESS].find({"sidhi_id": {"$in": names}}).to_list(None)
    assert firsts == {(p["sidhi_id"], p["sample_id"]) for p in progress}
    assert sum(a["is_first_read"] for a in done) == len(progress)

    url, prefix = shared_redis_url, real_backend.prefix
    report = await consume(url, prefix=prefix, group="points", until_idle=True, block_ms=300)
    assert report.duplicates > 0 and report.entries == len(entries)
    mongo_points = Counter[str]()
    for p in progress:
        mongo_points[p["sidhi_id"]] += p["points_awarded"]
    stats = await db[STATS].find({"_id": {"$in": names}}).to_list(None)
    assert {s["_id"]: s["total_points"] for s in stats} == dict(mongo_points)
    assert await points(url, prefix=prefix, group="points") == dict(mongo_points)


async def _longer(stream: EventStream, than: int) -> bool:
    return await stream.length() > than


async def _empty(db: Database) -> bool:
    return await outbox.count(db) == 0


async def test_visit_counts_of_several_students_in_one_transaction(fresh_db: Database) -> None:
    # One query per student: each student's pairs, not the cross product of students and
    # samples (a's s3 exists but was not asked for), and a pair with no document is absent.
    await fresh_db[PROGRESS].insert_many(
        [
            {"sidhi_id": "a", "sample_id": "s1", "revisited_count": 3},
            {"sidhi_id": "a", "sample_id": "s2", "revisited_count": 1},
            {"sidhi_id": "a", "sample_id": "s3", "revisited_count": 7},
            {"sidhi_id": "b", "sample_id": "s3", "revisited_count": 2},
        ]
    )
    wanted = [("a", "s1"), ("a", "s2"), ("b", "s3"), ("b", "s1"), ("c", "s9")]
    assert await visit_counts(fresh_db, wanted) == {("a", "s1"): 3, ("a", "s2"): 1, ("b", "s3"): 2}
    async with fresh_db.client.start_session() as session:
        await session.start_transaction()
        await fresh_db[PROGRESS].update_one(
            {"sidhi_id": "b", "sample_id": "s3"}, {"$inc": {"revisited_count": 1}}, session=session
        )
        counts = await visit_counts(fresh_db, [("b", "s3")], session=session)
        await session.abort_transaction()
    assert counts == {("b", "s3"): 3}  # its own transaction's write included


async def test_visit_counts_read_new_documents_by_id_and_older_ones_by_the_unique_index(
    fresh_db: Database,
) -> None:
    # A mark-read's new document is keyed by its pair; an older (or imported) one keeps an
    # ObjectId. A batch's counts take both, for the same student too, in its transaction.
    now = utcnow()
    sample = {"sample_id": "s1", "language": "python", "chapter": 1, "read_points": 2}
    for _ in range(3):
        await upsert_read(
            fresh_db, student="a", sample=sample, knowledge_area="x", time_spent=5, now=now
        )
    await fresh_db[PROGRESS].insert_many(
        [
            {"sidhi_id": "a", "sample_id": "s2", "revisited_count": 4},
            {"sidhi_id": "b", "sample_id": "s1", "revisited_count": 6},
        ]
    )
    new = await fresh_db[PROGRESS].find_one({"sidhi_id": "a", "sample_id": "s1"})
    old = await fresh_db[PROGRESS].find_one({"sidhi_id": "a", "sample_id": "s2"})
    assert new is not None and new["_id"] == progress_id("a", "s1")
    assert old is not None and isinstance(old["_id"], ObjectId)
    wanted = [("a", "s1"), ("a", "s2"), ("b", "s1"), ("b", "s9")]
    async with fresh_db.client.start_session() as session:
        await session.start_transaction()
        await fresh_db[PROGRESS].update_one(
            {"sidhi_id": "a", "sample_id": "s1"}, {"$inc": {"revisited_count": 1}}, session=session
        )
        counts = await visit_counts(fresh_db, wanted, session=session)
        await session.abort_transaction()
    assert counts == {("a", "s1"): 4, ("a", "s2"): 4, ("b", "s1"): 6}


def test_progress_ids_of_distinct_pairs_differ() -> None:
    # A separator alone could not tell ("a/b", "c") from ("a", "b/c"): the length does.
    pairs = [("a/b", "c"), ("a", "b/c"), ("1:a", "b"), ("1", ":a/b"), ("", "a"), ("a", "")]
    assert len({progress_id(student, sample) for student, sample in pairs}) == len(pairs)
