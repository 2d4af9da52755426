"""Learning records (``app.xapi``): progress events as xAPI statements in a real LRS (Ralph,
``tools.ralph_lrs``, one per session), each stored once whatever dies when: statements
valid by Ralph's own models, the forwarder end to end through the API on every Redis,
SIGKILLed mid-batch, an LRS stopped under writes, a refused statement dead-lettered, and
the backfill from ``sample_progress`` with the ids live forwarding gives."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.auth import mint_token
from app.db import PROGRESS, SAMPLES, Database
from app.embedded import free_port
from app.events.schema import POINTS_AWARDED, SAMPLE_READ, stream_fields, visit_events
from app.settings import Settings
from app.timefmt import iso, utcnow
from app.training.names import pseudonym
from app.xapi.backfill import Backfill
from app.xapi.forwarder import (
    GROUP,
    Forwarder,
    ForwardOptions,
    build_forwarder,
    dead_letters,
    statement_maker,
)
from app.xapi.lrs import LrsClient
from app.xapi.statements import (
    EXPERIENCED,
    NAMESPACE,
    SCORED,
    SampleInfo,
    StatementMaker,
    iso_duration,
    statement_id,
)
from cache.backend import CacheBackend, create_backend
from cache.events import EventStream
from tests.conftest import SECRET, Api, c_samples, make_settings, running_app
from tests.live import ROOT, start_server
from tests.test_cli import lumetrix
from tools.ralph_lrs import RalphLrs, validate

SAMPLE_IDS = [sample["sample_id"] for sample in c_samples(60)]
KEY = b"pseudonym-key-of-the-xapi-tests-32b!"


def _maker(homepage: str = "https://lumetrix.test", actor: Any = "pseudonym") -> StatementMaker:
    return StatementMaker(homepage=homepage, actor=actor, pseudonym_key=KEY)


def _event(kind: str = SAMPLE_READ, **over: Any) -> dict[str, Any]:
    event = visit_events(
        student="SIDHI_XAPI_A",
        sample_id="c_ch3_q_000021",
        language="c",
        first_read=True,
        points=2,
        totals={"total_points": 7, "language_read": 4, "language_points": 6},
        revisited_count=1,
        time_spent=3725,
        at="2026-03-01T10:15:00.250Z",
    )[0 if kind == SAMPLE_READ else 1]
    return {**event, **over}


def _homepage() -> str:
    return f"https://t{uuid.uuid4().hex[:10]}.lumetrix.test"


def _xapi(lrs: RalphLrs, homepage: str, **extra: Any) -> dict[str, Any]:
    """Settings of an app or forwarder sending to the session's LRS under ``homepage``."""
    return {
        "xapi_lrs_url": lrs.endpoint,
        "xapi_lrs_user": lrs.user,
        "xapi_lrs_password": lrs.password,
        "xapi_homepage": homepage,
        "events_poll_interval": 0.05,
        "events_lease_seconds": 1.0,
        **extra,
    }


def _agent(homepage: str, student: str, actor: str = "pseudonym") -> str:
    name = (
        student
        if actor == "id"
        else pseudonym(student, key=Settings(jwt_secret=SECRET).pseudonym_secret)
    )
    return json.dumps({"objectType": "Agent", "account": {"homePage": homepage, "name": name}})


def _of(lrs: RalphLrs, homepage: str, students: list[str]) -> list[dict[str, Any]]:
    """Every statement the LRS holds of these students (under ``homepage``)."""
    return [s for student in students for s in lrs.statements(agent=_agent(homepage, student))]


async def _wait_for(check: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


# --- statements --------------------------------------------------------------------


def test_statements_are_valid_xapi_by_ralphs_own_models() -> None:
    maker, info = _maker(), SampleInfo(chapter=3, knowledge_area="pointers")
    statements = [
        maker.statement(_event(SAMPLE_READ), info),
        maker.statement(_event(POINTS_AWARDED), info),
        maker.statement(_event(SAMPLE_READ, first_read=False, points=0, revisited_count=4), None),
        maker.statement(_event(SAMPLE_READ, time_spent=0), info, duration=False),
        _maker(actor="id").statement(_event(POINTS_AWARDED), None),
    ]
    assert validate(statements) == []
    # The validator does fail: a statement with no verb, one with a bad duration.
    broken = {k: v for k, v in statements[0].items() if k != "verb"}
    bad_duration = statements[0] | {"result": {"duration": "5 seconds"}}
    assert len(validate([broken, bad_duration])) == 2


def test_a_read_and_an_award_as_statements() -> None:
    maker, info = _maker(), SampleInfo(chapter=3, knowledge_area="pointers")
    read = maker.statement(_event(SAMPLE_READ), info)
    ext = maker.ext
    assert read["verb"] == EXPERIENCED and read["version"] == "1.0.3"
    assert read["timestamp"] == "2026-03-01T10:15:00.250Z"
    assert read["object"] == {
        "objectType": "Activity",
        "id": "https://lumetrix.test/training/samples/c_ch3_q_000021",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/lesson",
            "extensions": {
                ext("language"): "c",
                ext("chapter"): 3,
                ext("knowledge-area"): "pointers",
            },
        },
    }
    assert read["result"] == {
        "completion": True,
        "duration": "PT1H2M5S",
        "extensions": {
            ext("total-points"): 7,
            ext("language-read"): 4,
            ext("language-points"): 6,
            ext("visit"): 1,
        },
    }
    parent = read["context"]["contextActivities"]["parent"][0]["id"]
    assert parent == "https://lumetrix.test/training/languages/c/chapters/3"
    award = maker.statement(_event(POINTS_AWARDED), info)
    assert award["verb"] == SCORED and award["result"]["score"] == {"raw": 2, "min": 0}
    assert "duration" not in award["result"]
    assert [iso_duration(s) for s in (0, 59, 60, 3600, 86461)] == [
        "PT0S",
        "PT59S",
        "PT1M",
        "PT1H",
        "PT24H1M1S",
    ]


def test_statement_ids_are_uuid5_of_the_visit_the_same_for_every_delivery() -> None:
    read, award = _event(SAMPLE_READ), _event(POINTS_AWARDED)
    first = uuid.UUID(statement_id(read))
    assert first.version == 5
    # A redelivery, or the same read rebuilt without its event id (backfill): the same.
    assert statement_id({**read, "event_id": "another"}) == str(first)
    assert statement_id({k: v for k, v in read.items() if k != "event_id"}) == str(first)
    others = {
        statement_id(award),
        statement_id({**read, "revisited_count": 2}),
        statement_id({**read, "student": "SIDHI_XAPI_B"}),
        statement_id({**read, "at": "2026-03-01T10:15:00.251Z"}),
    }
    assert len(others | {str(first)}) == 5
    assert NAMESPACE == uuid.UUID("5c6f6e2a-8f3e-5b51-9a57-6c756d657472")  # never changes


def test_the_actor_is_the_leaderboard_pseudonym_unless_the_operator_says_id() -> None:
    settings = Settings(jwt_secret=SECRET)
    hidden = StatementMaker(
        homepage="https://p.test", actor="pseudonym", pseudonym_key=settings.pseudonym_secret
    )
    actor = hidden.statement(_event(), None)["actor"]
    assert actor == {
        "objectType": "Agent",
        "account": {
            "homePage": "https://p.test",
            "name": pseudonym("SIDHI_XAPI_A", key=settings.pseudonym_secret),
        },
    }
    assert "SIDHI" not in json.dumps(hidden.statement(_event(), None))
    shown = _maker(actor="id").statement(_event(), None)["actor"]
    assert shown["account"]["name"] == "SIDHI_XAPI_A"
    assert Settings(xapi_homepage="https://p.test/").xapi_homepage == "https://p.test"
    with pytest.raises(ValueError, match="XAPI_LRS_URL"):
        Settings(xapi_lrs_url="ftp://lrs.example/xAPI")


# --- end to end through the API ------------------------------------------------------


@pytest.fixture
async def db(fresh_db: Database) -> Database:
    """A database of this test's own holding 60 migrated C samples (one point each)."""
    await fresh_db[SAMPLES].insert_many(c_samples(60))
    return fresh_db


async def _read(api: Api, sample: int, student: str, seconds: int = 5) -> Any:
    res = await api.post(
        f"/training/samples/{SAMPLE_IDS[sample]}/mark-read", student=student, time_spent=seconds
    )
    assert res.status_code == 200, res.text
    return res.json()


async def test_every_read_and_award_reaches_the_lrs_once_through_the_serving_worker(
    mongo_url: str, db: Database, redis_kind: str, lrs: RalphLrs
) -> None:
    homepage = _homepage()
    settings = make_settings(mongo_url, db.name, redis_kind, **_xapi(lrs, homepage))
    students = [f"SIDHI_XE{n}_{uuid.uuid4().hex[:6]}" for n in range(5)]
    async with running_app(settings) as api:
        for n, student in enumerate(students):  # 4 first reads each, then 1 revisit
            for i in range(4):
                await _read(api, n * 4 + i, student, seconds=10 + i)
            await _read(api, n * 4, student, seconds=99)
        began = time.monotonic()

        async def arrived() -> bool:
            return len(_of(lrs, homepage, students)) >= 45

        await _wait_for(arrived, "45 statements in the LRS", 60)
        # Reported, not asserted (a shared machine): the issue asks for within 5 s.
        print(f"45 statements in the LRS {time.monotonic() - began:.2f} s after the last read")
        metrics = (await api.client.get("/metrics")).text
        assert "lumetrix_xapi_forwarded_total" in metrics
        assert "lumetrix_xapi_lag_seconds" in metrics
    stored = _of(lrs, homepage, students)
    verbs = Counter(s["verb"]["id"] for s in stored)
    assert verbs == {EXPERIENCED["id"]: 25, SCORED["id"]: 20}
    assert len({s["id"] for s in stored}) == 45  # each once
    assert validate(stored) == []
    for n, student in enumerate(students):
        mine = sorted(
            (s for s in _of(lrs, homepage, [student]) if s["verb"] == EXPERIENCED),
            key=lambda s: s["timestamp"],
        )
        ext = _maker(homepage).ext
        assert [s["result"]["extensions"][ext("total-points")] for s in mine] == [1, 2, 3, 4, 4]
        assert [s["result"]["extensions"][ext("visit")] for s in mine] == [1, 1, 1, 1, 2]
        assert [s["result"]["duration"] for s in mine] == [
            "PT10S",
            "PT11S",
            "PT12S",
            "PT13S",
            "PT1M39S",
        ]
        assert mine[-1]["object"]["id"] == f"{homepage}/training/samples/{SAMPLE_IDS[n * 4]}"
        assert lrs.statement(mine[0]["id"]) is not None
    # The backfill gives the live ids: nothing more is stored. The 5 revisited reads are
    # there with their first visit's duration, which sample_progress no longer knows: 409.
    job = Backfill(db, _client(lrs), statement_maker(settings))
    for student in students:
        await job.student(student, None)
    await job.lrs.close()
    assert (job.report.sent, job.report.stored, job.report.conflicts) == (20, 15, 5)
    assert len(_of(lrs, homepage, students)) == 45


async def test_lumetrix_serve_forwards_each_read_once_and_again_after_a_sigkill(
    mongo_url: str, db: Database, lrs: RalphLrs, real_backend: CacheBackend, shared_redis_url: str
) -> None:
    homepage = _homepage()
    env = {
        **{k: v for k, v in os.environ.items() if k != "LUMETRIX_TEST_CRASH_AT"},
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": db.name,
        "JWT_SECRET": SECRET,
        "LUMETRIX_ENV": "test",
        "MARK_READ_RATE": "0",
        "WARM_ON_START": "false",
        "ACCESS_LOG": "false",
        "REDIS_URL": shared_redis_url,
        "REDIS_PREFIX": real_backend.prefix,
        # Not a test of Redis blips: a loaded machine's 0.1 s timeouts open the breaker.
        "REDIS_TIMEOUT": "1",
        **{k.upper(): str(v) for k, v in _xapi(lrs, homepage).items()},
    }
    rounds = [[f"SIDHI_XS{r}{n}_{uuid.uuid4().hex[:6]}" for n in range(5)] for r in range(2)]
    for students in rounds:  # the second round on a server started after a SIGKILL
        port = free_port()
        server = await start_server(port, env, log=lrs.workdir / "serve.log")
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for n, student in enumerate(students):
                    token = mint_token(SECRET, sub=student, client_id="web")
                    headers = {"Authorization": f"Bearer {token}", "X-Client-Id": "web"}
                    for i in [0, 1, 2, 3, 0]:  # 4 first reads and a revisit
                        res = await http.post(
                            f"/training/samples/{SAMPLE_IDS[n * 4 + i]}/mark-read",
                            params={"time_spent": 20}, headers=headers,
                        )  # fmt: skip
                        assert res.status_code == 200, res.text

            async def arrived(students: list[str] = students) -> bool:
                return len(_of(lrs, homepage, students)) >= 45

            await _wait_for(arrived, f"45 statements of round {rounds.index(students)}", 60)
        finally:
            server.kill()  # SIGKILL: the worker, its publisher and its forwarder
            await asyncio.to_thread(server.wait, 20)
    for students in rounds:
        stored = _of(lrs, homepage, students)
        verbs = Counter(s["verb"]["id"] for s in stored)
        assert verbs == {EXPERIENCED["id"]: 25, SCORED["id"]: 20}
        assert len({s["id"] for s in stored}) == 45


def _client(lrs: RalphLrs) -> LrsClient:
    return LrsClient(lrs.endpoint, user=lrs.user, password=lrs.password)


# --- the forwarder killed, the LRS away, a statement refused ---------------------------


def _visits(students: list[str], count: int) -> list[dict[str, Any]]:
    """Events of ``count`` visits by ``students`` (first reads and revisits), as the
    outbox holds them, visit times a millisecond apart."""
    events: list[dict[str, Any]] = []
    start = utcnow()
    seen: Counter[tuple[str, str]] = Counter()
    points: Counter[str] = Counter()
    for n in range(count):
        student, sample = students[n % len(students)], SAMPLE_IDS[(n * 7) % 30]
        seen[(student, sample)] += 1
        first = seen[(student, sample)] == 1
        points[student] += int(first)
        total = points[student]
        events += visit_events(
            student=student,
            sample_id=sample,
            language="c",
            first_read=first,
            points=int(first),
            totals={"total_points": total, "language_read": total, "language_points": total},
            revisited_count=seen[(student, sample)],
            time_spent=1 + n % 90,
            at=iso(start + timedelta(milliseconds=n)),
        )
    return events


@pytest.fixture
async def real_backend(shared_redis_url: str) -> AsyncIterator[CacheBackend]:
    """The shared real Redis under a key prefix of this test's own, deleted afterwards."""
    from tests.conftest import drop_backend

    backend = create_backend(
        shared_redis_url, timeout=2, retry_after=0.1, prefix=f"lmxtest:{uuid.uuid4().hex}:"
    )
    yield backend
    await drop_backend(backend)


@pytest.fixture
def forwarders(
    mongo_url: str, db: Database, lrs: RalphLrs, real_backend: CacheBackend, shared_redis_url: str
) -> Iterator[Any]:
    """Starts ``lumetrix events forward-xapi`` processes (each with extra environment) on
    the real Redis; kills whichever still runs at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(homepage: str, **extra: str) -> subprocess.Popen[bytes]:
        env = {
            **{k: v for k, v in os.environ.items() if k != "LUMETRIX_TEST_CRASH_AT"},
            "MONGODB_URL": mongo_url,
            "MONGODB_DB": db.name,
            "JWT_SECRET": SECRET,
            "LUMETRIX_ENV": "test",
            "REDIS_URL": shared_redis_url,
            "REDIS_PREFIX": real_backend.prefix,
            "EVENTS_LEASE_SECONDS": "1",
            "EVENTS_POLL_INTERVAL": "0.05",
            "XAPI_LRS_URL": lrs.endpoint,
            "XAPI_LRS_USER": lrs.user,
            "XAPI_LRS_PASSWORD": lrs.password,
            "XAPI_HOMEPAGE": homepage,
            "XAPI_BATCH": "40",
            **extra,
        }
        log = open(Path(lrs.workdir) / f"forwarder-{uuid.uuid4().hex}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "events", "forward-xapi"],
            cwd=ROOT,
            env=env,
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


async def _delivered(stream: EventStream) -> int:
    """Entries the forwarder's group has been given so far (acknowledged or not)."""
    groups = await stream.backend.client.xinfo_groups(stream.key)
    return int(next(g["entries-read"] or 0 for g in groups if g["name"] == GROUP))


async def test_a_forwarder_killed_mid_batch_leaves_nothing_missing_nor_stored_twice(
    db: Database, lrs: RalphLrs, real_backend: CacheBackend, forwarders: Any
) -> None:
    homepage = _homepage()
    students = [f"SIDHI_XK{n}_{uuid.uuid4().hex[:6]}" for n in range(6)]
    events = _visits(students, 300)
    stream = EventStream(real_backend, "events", maxlen=1_000_000)
    # A publisher that died after its XADD republishes: some events twice on the stream.
    await stream.append(
        [stream_fields(e) for e in events] + [stream_fields(e) for e in events[:30]]
    )
    # The first dies the moment the LRS has stored its first batch, before the XACK.
    doomed = forwarders(homepage, LUMETRIX_TEST_CRASH_AT="xapi_stored")
    assert await asyncio.to_thread(doomed.wait, 60) == -signal.SIGKILL
    assert 0 < len(_of(lrs, homepage, students)) <= 40
    # The next one is killed as soon as it has been given more than the first batch. Its
    # batches are small, so that on a quiet machine it is still at work when the kill comes
    # (with batches of 40 it once stored all 330 before the kill).
    killed = forwarders(homepage, XAPI_BATCH="5")

    async def reading() -> bool:
        return await _delivered(stream) > 80

    await _wait_for(reading, "the second forwarder to read on")
    killed.kill()
    assert await asyncio.to_thread(killed.wait, 20) == -signal.SIGKILL
    assert len(_of(lrs, homepage, students)) < len(events), "it had finished before the kill"
    last = forwarders(homepage)

    async def done() -> bool:
        return await stream.oldest_unacked(GROUP) is None

    await _wait_for(done, "the last forwarder to finish", 120)
    last.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(last.wait, 20) == 0
    stored = _of(lrs, homepage, students)
    assert validate(stored) == []
    assert Counter(s["id"] for s in stored).most_common(1)[0][1] == 1  # nothing twice
    assert {s["id"] for s in stored} == {statement_id(e) for e in events}  # nothing missing


async def test_with_the_lrs_stopped_the_backlog_and_lag_grow_and_all_arrives_after(
    mongo_url: str, db: Database, lrs: RalphLrs
) -> None:
    homepage = _homepage()
    settings = make_settings(
        mongo_url, db.name, "fakeredis", **_xapi(lrs, homepage, xapi_forwarder=False)
    )
    students = [f"SIDHI_XO{n}_{uuid.uuid4().hex[:6]}" for n in range(3)]
    async with running_app(settings) as api:
        res = api.resources
        forwarder = build_forwarder(res.db, res.events, res.backend, res.settings)
        forwarder.options = ForwardOptions(lease_seconds=1, batch=20, poll=0.05, max_backoff=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(forwarder.run(stop))
        try:
            for n, student in enumerate(students):
                await _read(api, n, student)
            await _wait_for(lambda: _settled(forwarder), "the first reads to be forwarded")
            lrs.stop()
            try:
                for round_ in range(6):  # writes while the LRS is away, about 3 s
                    await asyncio.gather(*(_read(api, 3 + round_, s) for s in students))
                    await asyncio.sleep(0.5)
                assert forwarder.tally.retried > 0
                lag = await forwarder.measure_lag()
                assert lag > 2.0, lag
                assert await res.events.oldest_unacked(GROUP) is not None
            finally:
                lrs.start()
            await _wait_for(lambda: _settled(forwarder), "the backlog to reach the LRS")
        finally:
            stop.set()
            await task
            await forwarder.lrs.close()
    stored = _of(lrs, homepage, students)
    assert validate(stored) == []
    assert len(stored) == len({s["id"] for s in stored}) == 3 * 7 * 2
    assert forwarder.lag == 0.0


async def test_a_forwarder_whose_group_vanished_makes_it_again_and_goes_on(
    db: Database, lrs: RalphLrs, real_backend: CacheBackend
) -> None:
    homepage = _homepage()
    stream = EventStream(real_backend, "events", maxlen=1_000_000)
    settings = Settings(jwt_secret=SECRET, **_xapi(lrs, homepage))
    forwarder = Forwarder(
        db, stream, dead_letters(real_backend, settings), _client(lrs),
        statement_maker(settings), ForwardOptions(batch=50),
    )  # fmt: skip
    students = [f"SIDHI_XG_{uuid.uuid4().hex[:6]}"]
    events = _visits(students, 4)
    try:
        await stream.append([stream_fields(e) for e in events[:2]])
        assert await forwarder.forward_once() == 2
        await real_backend.client.delete(stream.key)  # Redis came back empty, say
        assert await forwarder.forward_once() == 0  # no error: the group is made again
        assert real_backend.available  # and Redis is not taken for away
        await stream.append([stream_fields(e) for e in events[2:]])
        assert await forwarder.forward_once() == len(events) - 2
    finally:
        await forwarder.lrs.close()
    stored = _of(lrs, homepage, students)
    assert sorted(s["id"] for s in stored) == sorted(statement_id(e) for e in events)


async def _settled(forwarder: Forwarder) -> bool:
    return forwarder.tally.forwarded > 0 and await forwarder.measure_lag() == 0.0


async def test_a_statement_the_lrs_refuses_is_dead_lettered_and_the_rest_stored(
    db: Database, lrs: RalphLrs, real_backend: CacheBackend
) -> None:
    homepage = _homepage()
    students = [f"SIDHI_XD{n}_{uuid.uuid4().hex[:6]}" for n in range(2)]
    events = _visits(students, 12)
    bad = {**events[5], "student": ""}  # an account with no name: Ralph refuses it (422)
    stream = EventStream(real_backend, "events", maxlen=1_000_000)
    # And an entry no statement can be made of (no totals, no sample).
    broken = {"event_id": "broken-1", "type": SAMPLE_READ, "data": b'{"type": "sample_read"}'}
    await stream.append([stream_fields(e) for e in [*events[:5], bad, *events[5:]]] + [broken])
    settings = Settings(**_xapi(lrs, homepage), xapi_actor="id", events_stream="events")
    dead = dead_letters(real_backend, settings)
    forwarder = Forwarder(
        db, stream, dead, _client(lrs), _maker(homepage, "id"), ForwardOptions(batch=50)
    )
    try:
        assert await forwarder.forward_once() == len(events) + 2
    finally:
        await forwarder.lrs.close()
    assert (forwarder.tally.forwarded, forwarder.tally.refused) == (len(events), 2)
    stored = [s for st in students for s in lrs.statements(agent=_agent(homepage, st, "id"))]
    assert {s["id"] for s in stored} == {statement_id(e) for e in events}
    parked = sorted((fields for _, fields in await dead.range_from()), key=lambda f: f["status"])
    assert len(parked) == 2
    never_sent, refused = parked
    assert never_sent["event_id"] == "broken-1" and never_sent["status"] == "0"
    assert (
        "no statement" in never_sent["reason"] and never_sent["data"] == '{"type": "sample_read"}'
    )
    assert refused["event_id"] == bad["event_id"] and refused["status"] == "422"
    assert "actor" in refused["reason"]
    assert orjson.loads(refused["statement"])["id"] == statement_id(bad)
    assert await stream.oldest_unacked(GROUP) is None  # all acknowledged, the bad one too


# --- backfill ------------------------------------------------------------------------


async def test_backfill_stores_each_past_read_once_however_often_it_runs(
    mongo_url: str, db: Database, lrs: RalphLrs, env_of: Any
) -> None:
    homepage = _homepage()
    student = f"SIDHI_XB_{uuid.uuid4().hex[:8]}"
    samples = c_samples(1500)
    await db[SAMPLES].insert_many(samples[60:])
    start = utcnow() - timedelta(days=30)
    await db[PROGRESS].insert_many(
        [
            {
                "sidhi_id": student,
                "sample_id": sample["sample_id"],
                "language": "c",
                "knowledge_area": "basics",
                "chapter": sample["chapter"],
                "read_at": start + timedelta(minutes=n),
                "points_awarded": 1 + n % 2,
                "time_spent": 30,
                "revisited_count": 1 + n % 3 // 2,
                "last_revisited": start + timedelta(minutes=n),
            }
            for n, sample in enumerate(samples)
        ]
    )
    # 500 a POST: Ralph's file backend reads its whole file for the ids of each one.
    xapi = _xapi(lrs, homepage, xapi_batch=500)
    env = env_of(db, **{k.upper(): str(v) for k, v in xapi.items()})
    out = await asyncio.to_thread(lumetrix, "xapi", "backfill", "--student", student, **env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("1500 statements of 1 students sent: 1500 stored")
    stored = lrs.statements(agent=_agent(homepage, student))
    assert len(stored) == len({s["id"] for s in stored}) == 1500
    assert validate(stored) == []
    ext = _maker(homepage).ext
    last = max(stored, key=lambda s: s["timestamp"])
    assert last["result"]["extensions"][ext("total-points")] == sum(1 + n % 2 for n in range(1500))
    assert last["result"]["extensions"][ext("language-read")] == 1500
    again = await asyncio.to_thread(lumetrix, "xapi", "backfill", "--student", student, **env)
    assert again.returncode == 0, again.stderr
    assert len(lrs.statements(agent=_agent(homepage, student))) == 1500
    # --since: only the reads from then on are sent (all already there).
    since = iso(start + timedelta(minutes=1400))
    later = await asyncio.to_thread(
        lumetrix, "xapi", "backfill", "--since", since, "--student", student, **env
    )
    assert later.stdout.strip().startswith("100 statements of 1 students sent"), later.stdout
    bad = await asyncio.to_thread(lumetrix, "xapi", "backfill", "--since", "last week", **env)
    assert bad.returncode == 1 and "--since must be a date" in bad.stderr


@pytest.fixture
def env_of(mongo_url: str) -> Any:
    """Environment of a ``lumetrix`` process on a database, with extra settings."""

    def make(db: Database, **extra: str) -> dict[str, str]:
        return {
            "MONGODB_URL": mongo_url,
            "MONGODB_DB": db.name,
            "JWT_SECRET": SECRET,
            "LUMETRIX_ENV": "test",
            "REDIS_URL": "",
            **extra,
        }

    return make


def test_forwarding_needs_a_shared_redis_and_an_lrs(env_of: Any, db: Database) -> None:
    out = lumetrix("events", "forward-xapi", **env_of(db, XAPI_LRS_URL="http://127.0.0.1:9/x"))
    assert out.returncode == 2 and "needs REDIS_URL" in out.stderr
    out = lumetrix("events", "forward-xapi", **env_of(db, REDIS_URL="redis://127.0.0.1:9/0"))
    assert out.returncode == 2 and "needs XAPI_LRS_URL" in out.stderr
    out = lumetrix("xapi", "backfill", **env_of(db))
    assert out.returncode == 1 and "needs XAPI_LRS_URL" in out.stderr
