"""``make deploybench``: what a deploy, a crash and Redis blips cost the first worker.

N students (``--students``, each with ``--reads`` first reads in C) are seeded straight into
the embedded SecantusDB: one template student goes through ``seed_history`` (the bulk
first reads and the stats rebuild ``recompute_stats`` does), and its ``sample_progress``
and ``student_stats`` documents are copied to every student in ``insert_many`` batches, so
each student holds exactly what their reads would have written (SecantusDB takes about
2 minutes for 5,000 x 60 reads with the progress indexes, so the seeded database is kept in
``.lumetrix-deploybench/<students>x<reads>/`` and later runs start from a copy;
``--reseed`` seeds again). A private
``redis-server`` (``--cluster``: a local 3-master cluster) holds the caches. Worker 1 (one
``lumetrix serve`` process) warms every student's cached page and my-progress, then serves
a rotating load over all of them (``--connections`` keep-alive connections, each sending
its next request when the last is answered) beside a small mark-read load. At fixed
times (every ``--event-gap`` seconds):

(a) a second worker starts on the same MongoDB and Redis and serves a little mark-read
    load;
(b) that second worker is SIGKILLed while its mark-reads are in flight (its writers stop
    pausing a second before, so the kill lands in the middle of batches);
(c) Redis is restarted with its data kept: ``SHUTDOWN SAVE``, ``--redis-down`` seconds
    away, then a new process on the same port loads the RDB (on the cluster: one master);
(d) Redis is restarted empty: SIGKILL, the RDB deleted, ``--redis-down`` seconds away, a
    new process (on the cluster: the same master).

Each second it records worker 1's answers by status (client side) and worker 1's MongoDB
loads of read sets and progress views from its ``/metrics``
(``lumetrix_cache_loads_total{cache="read_set"|"progress_view"}``, or where that counter
does not exist, ``lumetrix_cache_lookups_total{cache="progress_set",outcome="miss"}``).
It prints the per-second table, then per event over the seconds until the next event (the
last: ``--seconds-after``): non-200 answers, loads, seconds whose 200s fell below half
the median rate before (a), how long until the rate stayed back, p99; for (b) the
students the killed worker had mark-reads in flight for, for (c) the students written
while Redis was away. Figures go to ``loadtests/results/deploy.json``
(``deploy-cluster.json`` with ``--cluster``).

    python -m loadtests.deploy_bench [--students 5000] [--reads 60] [--event-gap 15]
        [--seconds-after 15] [--cluster]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop
from tqdm import tqdm

from app.auth import mint_token
from app.db import PROGRESS, STATS, create_client
from app.embedded import EmbeddedMongo, free_port
from app.timefmt import utcnow
from app.training.filters import SampleFilter
from app.training.queries import samples
from loadtests.bench import RESULTS, _env, _serve_argv, _wait_healthy, ensure_catalog, server
from loadtests.history import seed_history
from tools import redis_servers

PAGE = "/training/samples?language=c&limit=20"
MY_PROGRESS = "/training/my-progress?language=c"
TEMPLATE = "DEPLOY_TEMPLATE"
DB_NAME = "lumetrix_deploy_bench"
SEED_CACHE = Path(".lumetrix-deploybench")  # seeded databases, one per --students x --reads
SEED_BATCH = 1000
WARM_CONNECTIONS = 8  # the worker's MongoDB in-flight bound: more would only queue or shed
MARKS_PER_STUDENT = 5  # a writer marks this many new samples, then takes another student
W1_WRITERS, W1_PAUSE = 3, 0.5  # beside the readers on worker 1: about 6 mark-reads/s
W2_WRITERS, W2_PAUSE = 8, 0.2  # on worker 2: about 40/s, closed loop in its last second
BURST = 1.0  # seconds before (b) in which worker 2's writers stop pausing
TIMEOUT = 10.0  # longest wait for one answer
EVENTS = {
    "a": "second worker starts",
    "b": "second worker SIGKILLed mid mark-read",
    "c": "Redis restarts, data kept",
    "d": "Redis restarts empty",
}
HTTP_ERRORS = (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError)


# --- seeding ----------------------------------------------------------------------------


async def seed(mongo_url: str, db_name: str, students: list[str], reads: int) -> None:
    """Catalog (demo seed + migration) and ``reads`` first reads in C for every student,
    each with the stats document those reads give."""
    client = create_client(mongo_url, timeout_ms=10_000)
    db = client[db_name]
    try:
        await ensure_catalog(db)
        # One student through the service's own code; everyone else gets copies of its
        # documents (same samples, same times: the same stats).
        await seed_history(db, student=TEMPLATE, language="c", reads=reads, now=utcnow())
        template = await db[PROGRESS].find({"sidhi_id": TEMPLATE}, {"_id": 0}).to_list(None)
        stats = await db[STATS].find_one({"_id": TEMPLATE})
        if stats is None:
            raise RuntimeError("seed_history left no stats document for the template")
        docs = ({**doc, "sidhi_id": s} for s in students for doc in template)
        with tqdm(total=len(students) * len(template), unit="doc", desc="seed reads") as bar:
            while batch := list(itertools.islice(docs, SEED_BATCH)):
                await db[PROGRESS].insert_many(batch, ordered=False)
                bar.update(len(batch))
        for at in range(0, len(students), SEED_BATCH):
            chunk = students[at : at + SEED_BATCH]
            await db[STATS].insert_many([{**stats, "_id": s} for s in chunk], ordered=False)
        await db[PROGRESS].delete_many({"sidhi_id": TEMPLATE})
        await db[STATS].delete_many({"_id": TEMPLATE})
    finally:
        await client.close()


async def unread(mongo_url: str, db_name: str, student: str) -> list[str]:
    """The C samples ``student`` (as every student) has not read, in curriculum order:
    what the writers mark."""
    client = create_client(mongo_url, timeout_ms=10_000)
    db = client[db_name]
    try:
        read = await db[PROGRESS].distinct("sample_id", {"sidhi_id": student})
        listing = await samples.find_all(db, SampleFilter().query("c"))
        return [s["sample_id"] for s in listing if s["sample_id"] not in set(read)]
    finally:
        await client.close()


def seeded_database(args: argparse.Namespace, work: Path, students: list[str]) -> EmbeddedMongo:
    """The embedded database under ``work``, started, holding the seeded students: a copy
    of the snapshot in SEED_CACHE when there is one for this ``--students``/``--reads``
    (seeding 300,000 reads takes SecantusDB minutes), else seeded now and snapshotted."""
    snapshot = SEED_CACHE / f"{args.students}x{args.reads}"
    target = work / "mongo"
    junk = shutil.ignore_patterns("embedded-db.*", "secantus.log")  # this run's, not data
    if snapshot.is_dir() and not args.reseed:
        started = time.monotonic()
        shutil.copytree(snapshot, target, ignore=junk)
        print(f"copied the seeded database from {snapshot} in {time.monotonic() - started:.1f} s")
    else:
        embedded = EmbeddedMongo(target)
        try:
            started = time.monotonic()
            asyncio.run(seed(embedded.start(), DB_NAME, students, args.reads))
            print(
                f"seeded {len(students):,} students x {args.reads} reads "
                f"in {time.monotonic() - started:.1f} s"
            )
        finally:
            embedded.stop()
        partial = snapshot.with_name(snapshot.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(target, partial, ignore=junk)
        shutil.rmtree(snapshot, ignore_errors=True)
        partial.rename(snapshot)
        print(f"snapshot kept in {snapshot} (--reseed to seed again)")
    embedded = EmbeddedMongo(target)
    embedded.start()
    return embedded


# --- a minimal HTTP/1.1 client (keep-alive; light enough to load one worker from here) ---


def _raw(method: str, path: str, token: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "X-Client-Id: deploybench\r\nAccept-Encoding: identity\r\nContent-Length: 0\r\n\r\n"
    ).encode()


class Conn:
    """One keep-alive connection to a worker, reopened after any failure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, raw: bytes, limit: float = TIMEOUT) -> tuple[int, bytes]:
        """Send one request; its status and body. Raises on a transport failure."""
        try:
            return await asyncio.wait_for(self._send(raw), limit)
        except BaseException:
            self.close()
            raise

    async def _send(self, raw: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        reader = self.reader
        self.writer.write(raw)
        line = await reader.readline()
        if not line:
            raise ConnectionResetError("closed by the server")
        status = int(line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                close = value == b"close"
        if chunked:
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size + 2))
            await reader.readline()
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await reader.readexactly(length)
        if close:
            self.close()
        return status, body


# --- what the run records -----------------------------------------------------------------


@dataclass
class MarkRead:
    """One mark-read the writers sent."""

    worker: int
    student: str
    sent: float
    answered: float
    status: str


@dataclass
class Record:
    """Everything measured, by second since the load began (``t0``)."""

    t0: float = 0.0
    answers: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    loads: dict[int, dict[str, float]] = field(default_factory=dict)
    load_source: str = ""
    marks: list[MarkRead] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    redis_away: tuple[float, float] = (0.0, 0.0)  # (c): when Redis went, when it was back
    # Set when the run ends: loops stop on it, not on a cancel alone (on Python 3.11 the
    # wait_for around each request can swallow one, and the loop would go on for ever).
    stopping: bool = False
    stopped_workers: set[int] = field(default_factory=set)  # their writers stop too

    def now(self) -> float:
        """Seconds since the load began."""
        return time.monotonic() - self.t0

    def answer(self, status: str, latency: float) -> None:
        """One reader answer, in the second it arrived."""
        second = int(self.now())
        self.answers[second][status] += 1
        self.latencies[second].append(latency)


_SAMPLE = re.compile(r"^(lumetrix_cache_(?:loads|lookups)_total)\{([^}]*)\}\s+(\S+)$", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')
_FALLBACKS = re.compile(r"^lumetrix_redis_fallbacks_total\s+(\S+)$", re.M)
FALLBACKS = "redis_fallbacks"  # not a load: Redis calls skipped or failed, served by MongoDB


def parse_loads(text: str) -> tuple[str, dict[str, float]]:
    """Worker's MongoDB loads so far from a ``/metrics`` text: the read-set and progress-view
    load counters, else (a service without them) the read-set misses. Returns which
    counter was read and its values by cache, plus the Redis fallbacks (``FALLBACKS``)."""
    have_loads = "lumetrix_cache_loads_total" in text
    found: dict[str, float] = {}
    for name, labels, value in _SAMPLE.findall(text):
        label = dict(_LABEL.findall(labels))
        if have_loads and name == "lumetrix_cache_loads_total":
            if label.get("cache") in ("read_set", "progress_view"):
                found[label["cache"]] = found.get(label["cache"], 0.0) + float(value)
        elif not have_loads and label == {"cache": "progress_set", "outcome": "miss"}:
            found["read_set"] = found.get("read_set", 0.0) + float(value)
    found[FALLBACKS] = sum(float(v) for v in _FALLBACKS.findall(text))
    if have_loads:
        return 'lumetrix_cache_loads_total{cache="read_set"|"progress_view"}', found
    return 'lumetrix_cache_lookups_total{cache="progress_set",outcome="miss"}', found


async def scrape_loads(port: int) -> tuple[str, dict[str, float]] | None:
    """Worker's loads so far, or None if ``/metrics`` did not answer."""
    conn = Conn(port)
    try:
        status, body = await conn.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 3.0)
    except HTTP_ERRORS:
        return None
    finally:
        conn.close()
    return parse_loads(body.decode()) if status == 200 else None


# --- the load -----------------------------------------------------------------------------


class Supply:
    """Students to write for and the new samples each marks next; a student is with one
    writer at a time and goes back to the end of the queue after MARKS_PER_STUDENT."""

    def __init__(self, students: list[str], fresh: list[str]) -> None:
        self.queue = deque(reversed(students))  # writers start at the end of the rotation
        self.fresh = fresh
        self.used: dict[str, int] = {}

    def take(self) -> str:
        """The next student with new samples left."""
        for _ in range(len(self.queue)):
            student = self.queue.popleft()
            if self.used.get(student, 0) < len(self.fresh):
                return student
            self.queue.append(student)
        raise RuntimeError("every student has read every C sample: use more students")

    def sample(self, student: str) -> str | None:
        """The student's next new sample, or None when they have read them all."""
        n = self.used.get(student, 0)
        if n >= len(self.fresh):
            return None
        self.used[student] = n + 1
        return self.fresh[n]

    def give_back(self, student: str) -> None:
        """Back to the end of the queue."""
        self.queue.append(student)


async def reader(port: int, raws: list[bytes], turn: Iterator[int], rec: Record) -> None:
    """One connection rotating over every student's cached page until cancelled."""
    conn = Conn(port)
    while not rec.stopping:
        raw = raws[next(turn) % len(raws)]
        started = time.monotonic()
        try:
            status, _ = await conn.send(raw)
            rec.answer(str(status), time.monotonic() - started)
        except HTTP_ERRORS as exc:
            rec.answer(type(exc).__name__, time.monotonic() - started)
            await asyncio.sleep(0.05)


async def writer(
    worker: int,
    port: int,
    supply: Supply,
    tokens: dict[str, str],
    rec: Record,
    pause: Callable[[], float],
    in_flight: dict[int, str],
) -> None:
    """Mark new samples read for one student after another until cancelled; while a
    mark-read is unanswered its student is in ``in_flight``."""
    conn = Conn(port)
    me = id(asyncio.current_task())
    while not rec.stopping and worker not in rec.stopped_workers:
        student = supply.take()
        try:
            for _ in range(MARKS_PER_STUDENT):
                sample = supply.sample(student)
                if sample is None:
                    break
                path = f"/training/samples/{sample}/mark-read?time_spent=30"
                sent = time.monotonic()
                in_flight[me] = student
                try:
                    code, _ = await conn.send(_raw("POST", path, tokens[student]))
                    status = str(code)
                except HTTP_ERRORS as exc:
                    status = type(exc).__name__
                finally:
                    in_flight.pop(me, None)
                rec.marks.append(MarkRead(worker, student, sent, time.monotonic(), status))
                await asyncio.sleep(pause() if status == "200" else max(pause(), 0.2))
        finally:
            supply.give_back(student)


async def sample_loads(port: int, rec: Record, seconds: int) -> None:
    """Read worker 1's load counters at every whole second; each second's loads are the
    difference (a failed scrape lumps its second into the next)."""
    last = await scrape_loads(port)
    if last is None:
        raise RuntimeError("worker 1 answered no /metrics")
    rec.load_source = last[0]
    for second in range(1, seconds + 1):
        await asyncio.sleep(max(0.0, rec.t0 + second - time.monotonic()))
        now = await scrape_loads(port)
        if now is None:
            continue
        rec.loads[second - 1] = {k: v - last[1].get(k, 0.0) for k, v in now[1].items()}
        last = now


async def warm(port: int, students: list[str], tokens: dict[str, str]) -> int:
    """Every student's page and my-progress once through worker 1; answers not 200 after
    retries."""
    jobs = iter([(s, path) for s in students for path in (PAGE, MY_PROGRESS)])
    failed = 0
    bar = tqdm(total=2 * len(students), unit="req", desc="warm")

    async def one_connection() -> None:
        nonlocal failed
        conn = Conn(port)
        for student, path in jobs:
            for _ in range(50):
                try:
                    status, _ = await conn.send(_raw("GET", path, tokens[student]))
                except HTTP_ERRORS:
                    status = 0
                if status == 200:
                    break
                await asyncio.sleep(0.05)
            else:
                failed += 1
            bar.update(1)
        conn.close()

    await asyncio.gather(*(one_connection() for _ in range(WARM_CONNECTIONS)))
    bar.close()
    return failed


# --- the events ---------------------------------------------------------------------------


@dataclass
class Setup:
    """What the events act on."""

    env: dict[str, str]
    node: redis_servers.RedisNode  # the Redis (or the cluster master) (c) and (d) restart
    cluster: redis_servers.RedisCluster | None
    redis_down: float


def start_worker(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``lumetrix serve`` (one process) on ``port``, once healthy; its log beside the others."""
    with open(RESULTS / f"server-{port}.log", "wb") as log:
        proc = subprocess.Popen(_serve_argv(port, 1), env=env, stdout=log, stderr=log)
    _wait_healthy(f"http://127.0.0.1:{port}", proc)
    return proc


def restart_redis(setup: Setup, *, keep: bool) -> tuple[float, float]:
    """Restart the Redis node (``keep``: SHUTDOWN SAVE and load the RDB again; else SIGKILL
    and start with no data). Returns when it went away and when it answered again
    (monotonic)."""
    gone = time.monotonic()
    if keep:
        setup.node.shutdown_save()
    else:
        setup.node.kill()
        setup.node.rdb.unlink(missing_ok=True)
    time.sleep(setup.redis_down)
    setup.node.start()
    if setup.cluster is not None:
        setup.cluster.wait_ok()
    return gone, time.monotonic()


async def run_events(
    setup: Setup,
    args: argparse.Namespace,
    rec: Record,
    supply: Supply,
    tokens: dict[str, str],
    stack: ExitStack,
) -> None:
    """(a) to (d), each at its time, then the tail; records what each did."""
    gap = args.event_gap

    async def at(second: float) -> None:
        await asyncio.sleep(max(0.0, rec.t0 + second - time.monotonic()))

    # (a) a second worker on the same MongoDB and Redis, with a little mark-read load.
    await at(gap)
    port = free_port()
    started = rec.now()
    proc = await asyncio.to_thread(start_worker, port, setup.env)
    stack.callback(proc.kill)  # should the run fail before (b); a no-op after it
    rec.events["a"] = {"at": started, "healthy_after": rec.now() - started, "port": port}
    kill_at = 2 * gap
    in_flight: dict[int, str] = {}

    def w2_pause() -> float:
        return 0.0 if rec.now() >= kill_at - BURST else W2_PAUSE

    writers = [
        asyncio.create_task(writer(2, port, supply, tokens, rec, w2_pause, in_flight))
        for _ in range(W2_WRITERS)
    ]
    # (b) SIGKILL while its mark-reads are in flight.
    await at(kill_at)
    unanswered = sorted(set(in_flight.values()))
    requests_in_flight = len(in_flight)
    proc.send_signal(signal.SIGKILL)
    killed = rec.now()
    await asyncio.to_thread(proc.wait)
    rec.stopped_workers.add(2)
    for task in writers:
        task.cancel()
    await asyncio.wait(writers, timeout=TIMEOUT + 1)
    w2_marks = [m for m in rec.marks if m.worker == 2]
    rec.events["b"] = {
        "at": killed,
        "students_in_flight": len(unanswered),
        "mark_reads_in_flight": requests_in_flight,
        "worker2_mark_reads": Counter(m.status for m in w2_marks),
    }
    # (c) Redis restarts with its data kept, while worker 1's writers go on.
    await at(3 * gap)
    gone, back = await asyncio.to_thread(restart_redis, setup, keep=True)
    rec.events["c"] = {"at": gone - rec.t0, "away_s": back - gone, "back_at": back - rec.t0}
    rec.redis_away = (gone, back)
    # (d) Redis restarts empty.
    await at(4 * gap)
    gone, back = await asyncio.to_thread(restart_redis, setup, keep=False)
    rec.events["d"] = {"at": gone - rec.t0, "away_s": back - gone, "back_at": back - rec.t0}
    await at(4 * gap + args.seconds_after)


def written_while_away(rec: Record, retry_after: float = 2.0) -> dict[str, int]:
    """Distinct students whose acknowledged mark-read overlapped (c)'s Redis absence, and
    the same with the ``retry_after`` seconds after it in which a worker's breaker may
    still skip Redis (REDIS_RETRY_AFTER's default)."""
    gone, back = rec.redis_away

    def students(until: float) -> int:
        return len(
            {
                m.student
                for m in rec.marks
                if m.status == "200" and m.sent <= until and m.answered >= gone
            }
        )

    return {
        "students_written_while_away": students(back),
        "students_written_until_breaker": students(back + retry_after),
    }


# --- the report ---------------------------------------------------------------------------


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def back_after(window: list[dict[str, Any]], median: float, hold: int = 3) -> int:
    """Seconds from the window's start until, after its first second below half the
    median, its 200s stayed at half the median or more for ``hold`` seconds in a row (a
    later dip is noise of the shared machine, not the event); 0 when no second fell below,
    the whole window when they never came back."""
    slow = [at for at, r in enumerate(window) if r["ok"] < median / 2]
    for at in range(slow[0] if slow else 0, len(window)):
        if all(r["ok"] >= median / 2 for r in window[at : at + hold]):
            return at
    return len(window)


def summarise(rec: Record, seconds: int) -> dict[str, Any]:
    """Per-second rows and per-event windows."""
    rows: list[dict[str, Any]] = []
    for s in range(seconds):
        answers = rec.answers.get(s, Counter())
        loads = dict(rec.loads.get(s, {}))
        fallbacks = loads.pop(FALLBACKS, 0.0)
        rows.append(
            {
                "second": s,
                "ok": answers.get("200", 0),
                "other": {k: v for k, v in answers.items() if k != "200"},
                "loads": round(sum(loads.values())),
                "loads_by_cache": {k: round(v) for k, v in loads.items()},
                "redis_fallbacks": round(fallbacks),
                "p99_ms": round(_p99(rec.latencies.get(s, [])), 1),
            }
        )
    first = int(rec.events["a"]["at"])
    baseline = [r["ok"] for r in rows[1:first]] or [r["ok"] for r in rows]
    median = statistics.median(baseline)
    starts = {name: int(event["at"]) for name, event in rec.events.items()}
    ends = [*list(starts.values())[1:], seconds]
    events = {}
    for (name, start), end in zip(starts.items(), ends, strict=True):
        window = rows[start:end]
        slow = [r["second"] for r in window if r["ok"] < median / 2]
        lat = [x for s in range(start, end) for x in rec.latencies.get(s, [])]
        other: Counter[str] = Counter()
        for r in window:
            other.update(r["other"])
        marks = [m for m in rec.marks if m.worker == 1 and start <= m.answered - rec.t0 < end]
        split = {}
        if "back_at" in rec.events[name]:  # answers while Redis was away, and after
            back = int(rec.events[name]["back_at"])
            split = {
                "non_200_while_away": sum(sum(r["other"].values()) for r in rows[start:back]),
                "non_200_after_back": sum(sum(r["other"].values()) for r in rows[back:end]),
                "loads_after_back": sum(r["loads"] for r in rows[back:end]),
            }
        events[name] = {
            "what": EVENTS[name],
            "window_s": [start, end],
            "non_200": sum(other.values()),
            "non_200_by_status": dict(other),
            "loads": sum(r["loads"] for r in window),
            "seconds_below_half_median": len(slow),
            "back_after_s": back_after(window, median),
            "p99_ms": round(_p99(lat), 1),
            "max_ms": round(max(lat, default=0.0) * 1000, 1),
            "worker1_mark_reads": dict(Counter(m.status for m in marks)),
            "redis_fallbacks": sum(r["redis_fallbacks"] for r in window),
            **split,
            **{k: v for k, v in rec.events[name].items() if k != "at"},
            "at_s": round(rec.events[name]["at"], 2),
        }
    events["c"] |= written_while_away(rec)
    return {"median_ok_per_s": median, "per_second": rows, "events": events}


def print_report(summary: dict[str, Any], rec: Record) -> None:
    """The per-second table, then one line per event and a chart-friendly table."""
    marks = {int(e["at_s"]): name for name, e in summary["events"].items()}
    print(f"\nloads: {rec.load_source}; fallbacks: lumetrix_redis_fallbacks_total")
    print(f"{'s':>4}{'200':>7}  {'non-200':<24}{'loads':>7}{'fallbk':>8}{'p99 ms':>9}  event")
    for r in summary["per_second"]:
        other = " ".join(f"{k}:{v}" for k, v in sorted(r["other"].items())) or "-"
        event = marks.get(r["second"], "")
        label = f"({event}) {EVENTS[event]}" if event else ""
        print(
            f"{r['second']:>4}{r['ok']:>7}  {other:<24}{r['loads']:>7}{r['redis_fallbacks']:>8}"
            f"{r['p99_ms']:>9.1f}  {label}"
        )
    print(f"\nmedian before (a): {summary['median_ok_per_s']:.0f} answers 200/s")
    for name, e in summary["events"].items():
        extra = ""
        if name == "a":
            extra = f"; worker 2 healthy after {e['healthy_after']:.1f} s"
        if name == "b":
            extra = (
                f"; killed worker had {e['students_in_flight']} students "
                f"({e['mark_reads_in_flight']} mark-reads) in flight"
            )
        if name in ("c", "d"):
            extra = (
                f"; Redis away {e['away_s']:.1f} s: {e['non_200_while_away']} non-200 while away, "
                f"{e['non_200_after_back']} non-200 and {e['loads_after_back']} loads after"
            )
        if name == "c":
            extra += (
                f", {e['students_written_while_away']} students written while away "
                f"({e['students_written_until_breaker']} until the breaker's 2 s after)"
            )
        print(
            f"({name}) {e['what']}, s {e['window_s'][0]}-{e['window_s'][1]}: "
            f"{e['non_200']} non-200 {e['non_200_by_status'] or ''}, {e['loads']} loads, "
            f"{e['seconds_below_half_median']} s below half the median, back after "
            f"{e['back_after_s']} s, p99 {e['p99_ms']:.0f} ms, max {e['max_ms']:.0f} ms, "
            f"worker 1 mark-reads {e['worker1_mark_reads']}{extra}"
        )
    print("\n| event | non-200 | loads | s below ½ median | back after s | p99 ms | students |")
    print("|---|---|---|---|---|---|---|")
    for name, e in summary["events"].items():
        students = {
            "b": e.get("students_in_flight", ""),
            "c": e.get("students_written_while_away", ""),
        }.get(name, "")
        print(
            f"| ({name}) {e['what']} | {e['non_200']} | {e['loads']} "
            f"| {e['seconds_below_half_median']} | {e['back_after_s']} | {e['p99_ms']:.0f} "
            f"| {students} |"
        )


# --- main -----------------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace,
    setup: Setup,
    port: int,
    students: list[str],
    fresh: list[str],
    stack: ExitStack,
) -> Record:
    """Warm, load, run the events; what was seen."""
    secret = setup.env["JWT_SECRET"]
    mint = functools.partial(mint_token, secret, client_id="deploybench", ttl=6 * 3600)
    tokens = {s: mint(sub=s) for s in students}
    started = time.monotonic()
    failed = await warm(port, students, tokens)
    print(
        f"warmed {len(students):,} students in {time.monotonic() - started:.1f} s "
        f"({failed} requests never answered 200)"
    )
    seconds = int(4 * args.event_gap + args.seconds_after)
    rec = Record(t0=time.monotonic())
    supply = Supply(students, fresh)
    raws = [_raw("GET", PAGE, tokens[s]) for s in students]
    turn = itertools.count()
    tasks = [asyncio.create_task(reader(port, raws, turn, rec)) for _ in range(args.connections)]
    tasks += [
        asyncio.create_task(writer(1, port, supply, tokens, rec, lambda: W1_PAUSE, {}))
        for _ in range(W1_WRITERS)
    ]
    metrics = asyncio.create_task(sample_loads(port, rec, seconds))
    print(
        f"load: {args.connections} connections over {len(students):,} students, events every "
        f"{args.event_gap:.0f} s, {seconds} s in all"
    )
    try:
        await run_events(setup, args, rec, supply, tokens, stack)
        await metrics
    finally:
        rec.stopping = True
        for task in [*tasks, metrics]:
            task.cancel()
        await asyncio.wait([*tasks, metrics], timeout=TIMEOUT + 1)
    return rec


def main(argv: list[str] | None = None) -> int:
    """Seed, start, measure, report."""
    parser = argparse.ArgumentParser(description="deploys, crashes and Redis blips under load")
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--reads", type=int, default=60, help="first C reads of each student")
    parser.add_argument("--event-gap", type=float, default=15, help="seconds between events")
    parser.add_argument(
        "--seconds-after", type=float, default=15, help="seconds measured after (d)"
    )
    parser.add_argument("--connections", type=int, default=50, help="reader connections")
    parser.add_argument(
        "--redis-down", type=float, default=2.0, help="seconds Redis stays away in (c), (d)"
    )
    parser.add_argument("--cluster", action="store_true", help="a local 3-master Redis Cluster")
    parser.add_argument(
        "--reseed", action="store_true", help=f"seed again instead of copying {SEED_CACHE}/"
    )
    args = parser.parse_args(argv)
    if not redis_servers.available():
        parser.error("needs redis-server and redis-cli (apt-get install redis-server)")
    if args.students < 10 or args.event_gap < 5:
        parser.error("--students at least 10, --event-gap at least 5")
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lmx-deploy-"))
    students = [f"DEPLOY_{n:06d}" for n in range(args.students)]
    with ExitStack() as stack:
        embedded = seeded_database(args, work, students)
        stack.callback(embedded.stop)
        mongo_url = embedded.url
        cluster: redis_servers.RedisCluster | None = None
        if args.cluster:
            cluster = redis_servers.RedisCluster(work / "cluster")
            cluster.start()
            stack.callback(cluster.stop)
            node, redis_url = cluster.nodes[-1], cluster.url
        else:
            node = redis_servers.start_standalone(work / "redis")
            stack.callback(node.kill)
            redis_url = node.url
        fresh = asyncio.run(unread(mongo_url, DB_NAME, students[0]))
        env = _env(
            MONGODB_URL=mongo_url,
            MONGODB_DB=DB_NAME,
            REDIS_URL=redis_url,
            REDIS_PREFIX="lmxdeploy:",
            DATA_DIR=str(work / "data"),
            MARK_READ_RATE="0",
        )
        env["REDIS_CLUSTER"] = "true" if args.cluster else "false"
        setup = Setup(env=env, node=node, cluster=cluster, redis_down=args.redis_down)
        port = free_port()
        stack.enter_context(server(_serve_argv(port, 1), env, port))
        rec = uvloop.run(measure(args, setup, port, students, fresh, stack))
    summary = summarise(rec, int(4 * args.event_gap + args.seconds_after))
    print_report(summary, rec)
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "students": args.students,
        "reads": args.reads,
        "redis": "cluster (3 masters)" if args.cluster else "standalone",
        "connections": args.connections,
        "event_gap": args.event_gap,
        "redis_down": args.redis_down,
        "load_counter": rec.load_source,
        **summary,
    }
    out = RESULTS / ("deploy-cluster.json" if args.cluster else "deploy.json")
    out.write_text(json.dumps(data, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
