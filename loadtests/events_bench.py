"""``make eventbench``: what the progress-event stream costs and sustains.

1. **Publisher rate.** Fills the outbox of a fresh database on an embedded SecantusDB
   with ``--events`` events of the real shape (default 20,000; ``app.events.schema``) in
   documents of 1 and of 16 visits' events (a mark-read batch each), runs the publisher
   (``app.events.publisher``) against a real Redis until the outbox is empty, and prints
   events/s, once per ``--batch`` size (default 500, ``EVENTS_BATCH``'s default, and
   100). Redis: ``REDIS_URL``, else ``redis://127.0.0.1:6379/14``, under a key prefix of
   its own that is deleted afterwards.
2. **Mark-read cost.** Writes ``--visits`` visits (half first reads, half revisits, 50
   students) through the service's group-commit writer (``VisitCommitter``: one
   transaction per batch) with the outbox and, for comparison, with the outbox insert and
   the revisit-count read replaced by no-ops, alternating every 10 batches; prints ms per
   batch and visits/s for batches of 1 and 16.

    python -m loadtests.events_bench [--events 20000] [--batch 500,100] [--visits 800]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from app import visit_batches
from app.db import OUTBOX, Database, create_client
from app.embedded import EmbeddedMongo
from app.events import outbox
from app.events.publisher import Publisher, PublishOptions
from app.events.schema import new_id, visit_events
from app.timefmt import iso, utcnow
from app.training.queries.meta import ensure_indexes
from app.training.queries.reads import VisitWrite
from app.visit_batches import VisitCommitter
from app.writer_sessions import WriterSessions
from cache.backend import create_backend
from cache.events import EventStream
from loadtests import xapi_bench

DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def _sample(n: int) -> dict[str, Any]:
    """A migrated C sample, as the catalog holds it."""
    return {
        "sample_id": f"c_ch{1 + n % 10}_q_{n:06d}",
        "chapter": 1 + n % 10,
        "language": "c",
        "knowledge_area": "basics",
        "read_points": 1 + n % 3,
    }


def realistic_outbox(count: int, visits_per_batch: int) -> list[dict[str, Any]]:
    """Outbox documents holding ``count`` events as mark-reads write them: 200 students'
    visits, ``visits_per_batch`` to a batch (one document); a first read's
    ``sample_read`` followed by its ``points_awarded``, a revisit's ``sample_read`` alone."""
    docs: list[dict[str, Any]] = []
    at = iso(utcnow())
    made = n = 0
    while made < count:
        doc: dict[str, Any] = {"_id": new_id(), "events": []}
        for _ in range(visits_per_batch):
            sample = _sample(n % 1800)
            first = n % 3 != 2
            doc["events"] += visit_events(
                student=f"SIDHI_BENCH{n % 200:06d}",
                sample_id=sample["sample_id"],
                language="c",
                first_read=first,
                points=sample["read_points"] if first else 0,
                totals={"total_points": n, "language_read": n // 2, "language_points": n},
                revisited_count=1 if first else 2,
                time_spent=30 + n % 200,
                at=at,
            )
            n += 1
        doc["events"] = doc["events"][: count - made]
        made += len(doc["events"])
        docs.append(doc)
    return docs


@contextmanager
def embedded_database() -> Iterator[str]:
    """A SecantusDB server on a scratch directory, for the run."""
    with tempfile.TemporaryDirectory(prefix="lmx-eventbench-") as scratch:
        server = EmbeddedMongo(Path(scratch))
        url = server.start()
        try:
            yield url
        finally:
            server.stop()


async def publisher_rate(
    db: Database, redis_url: str, events: int, batch: int, visits_per_batch: int
) -> float:
    """Events/s the publisher streams an outbox of ``events`` events at."""
    docs = realistic_outbox(events, visits_per_batch)
    for start in range(0, len(docs), 500):
        await db[OUTBOX].insert_many(docs[start : start + 500])
    backend = create_backend(
        redis_url, timeout=5, retry_after=1, prefix=f"lmxbench:{uuid.uuid4().hex[:8]}:"
    )
    stream = EventStream(backend, "events", maxlen=1_000_000)
    publisher = Publisher(db, stream, PublishOptions(batch=batch))
    try:
        assert await publisher.lease.acquire()
        began = time.perf_counter()
        # The publisher's rounds back to back, as its loop runs them while a backlog waits.
        while await publisher.publish_once():
            pass
        took = time.perf_counter() - began
        assert await stream.length() == events and not await outbox.count(db)
    finally:
        await publisher.lease.release()
        keys = [k async for k in backend.client.scan_iter(match=backend.prefix + "*")]
        if keys:
            await backend.client.delete(*keys)
        await backend.close()
    return events / took


async def _no_events(*args: Any, **kwargs: Any) -> None:
    return None


async def _no_counts(*args: Any, **kwargs: Any) -> dict[tuple[str, str], int]:
    return {}


def _visits(count: int, tag: str) -> list[VisitWrite]:
    """``count`` visits of 50 students: each sample twice, so half are revisits."""
    now = utcnow()
    return [
        VisitWrite(f"SIDHI_{tag}{n % 50:04d}", _sample((n // 2) % 1800), "basics", 30, now)
        for n in range(count)
    ]


@contextmanager
def events_off() -> Iterator[None]:
    """Mark-read as it was before the events: no outbox insert, no visit-count read."""
    saved = visit_batches.outbox.add, visit_batches.visit_counts
    visit_batches.outbox.add = _no_events  # type: ignore[assignment]
    visit_batches.visit_counts = _no_counts
    try:
        yield
    finally:
        visit_batches.outbox.add, visit_batches.visit_counts = saved


ROUND = 10  # batches written in a row before switching between with and without


async def mark_read_cost(db: Database, visits: int) -> list[tuple[int, str, float]]:
    """(batch size, with/without the outbox, ms per batch) of the mark-read write. With
    and without alternate every ``ROUND`` batches, so a machine that slows down or speeds
    up during the run (a shared one) weighs on both alike."""
    sessions = WriterSessions(db, size=1)
    await sessions.start()
    committer = VisitCommitter(db, sessions)
    rows: list[tuple[int, str, float]] = []
    try:
        for size in (1, 16):
            queues = {
                label: [work[i : i + size] for i in range(0, len(work), size)]
                for label, work in (
                    ("with outbox", _visits(visits, f"{size}w{uuid.uuid4().hex[:4]}")),
                    ("without", _visits(visits, f"{size}o{uuid.uuid4().hex[:4]}")),
                )
            }
            batches = {label: len(queue) for label, queue in queues.items()}
            spent = dict.fromkeys(queues, 0.0)
            while any(queues.values()):
                for label, queue in queues.items():
                    turn, queues[label] = queue[:ROUND], queue[ROUND:]
                    with events_off() if label == "without" else nullcontext():
                        began = time.perf_counter()
                        for batch in turn:
                            await committer(batch)
                        spent[label] += time.perf_counter() - began
            rows += [(size, label, spent[label] * 1000 / batches[label]) for label in spent]
    finally:
        await sessions.close()
    return rows


async def run(args: argparse.Namespace, mongo_url: str) -> None:
    """Measure and print."""
    client = create_client(mongo_url, timeout_ms=5000)
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        if args.xapi_only:
            await xapi_bench.run(client[f"eventbench_{uuid.uuid4().hex[:8]}"], redis_url,
                                 realistic_outbox, args)  # fmt: skip
            return
        print(f"publisher: a backlog of {args.events:,} events, SecantusDB -> {redis_url}")
        for per_batch in (1, 16):
            for batch in args.batch:
                db = client[f"eventbench_{uuid.uuid4().hex[:8]}"]
                rate = await publisher_rate(db, redis_url, args.events, batch, per_batch)
                print(
                    f"  {per_batch:>2} visits per outbox document, EVENTS_BATCH={batch:<5}"
                    f" {rate:>9,.0f} events/s"
                )
                await client.drop_database(db.name)
        db = client[f"eventbench_{uuid.uuid4().hex[:8]}"]
        await ensure_indexes(db)
        print(f"mark-read write ({args.visits} visits, half revisits), one transaction a batch:")
        for size, label, ms in await mark_read_cost(db, args.visits):
            rate = size * 1000 / ms
            print(f"  batch {size:>2} {label:<12} {ms:7.2f} ms/batch  {rate:7.0f} visits/s")
        await client.drop_database(db.name)
        db = client[f"eventbench_{uuid.uuid4().hex[:8]}"]
        await xapi_bench.run(db, redis_url, realistic_outbox, args)
        await client.drop_database(db.name)
    finally:
        await client.close()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description="Progress-event publisher and outbox cost.")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--batch", type=lambda s: [int(x) for x in s.split(",")], default=[500, 100]
    )
    parser.add_argument("--visits", type=int, default=800)
    xapi_bench.add_arguments(parser)
    args = parser.parse_args()
    with embedded_database() as url:
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
