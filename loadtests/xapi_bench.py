"""The xAPI part of ``make eventbench``: statements/s the forwarder stores in a local LRS,
and its lag while the LRS is away.

Both run against Ralph's LRS (``tools.ralph_lrs``: its own virtualenv, built once, file
backend in a scratch directory) on the stream of a real Redis and the embedded database
of ``loadtests.events_bench`` (for the lease and the catalog's chapters and areas).

1. **Rate.** ``--statements`` events (default 5,000; a first read's ``sample_read`` and
   ``points_awarded``, a revisit's ``sample_read``) are put on a fresh stream and the
   forwarder's rounds run back to back until its group has acknowledged them all:
   statements/s, once per ``XAPI_BATCH`` in ``--xapi-batch`` (default 100 and 500). Each
   run gets an LRS of its own, so none pays for another's stored statements (Ralph's
   file backend reads its whole file for the ids of every POST).
2. **Outage.** The forwarder runs as in a worker (``Forwarder.run``, 0.2 s poll) while
   events arrive at ``--rate`` a second (default 100: Ralph's file backend keeps up with
   that, not with much more) for ``--outage-run`` seconds (30); the LRS is stopped at a
   third of the run for ``--outage`` seconds (10) and started again. Printed: the lag
   every second, its peak, the backlog when the LRS was started again, how long after it
   answered everything was stored, and that every statement is in the LRS once.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.db import SAMPLES, Database
from app.events.schema import SAMPLE_READ, stream_fields
from app.settings import Settings
from app.timefmt import iso, utcnow
from app.xapi.forwarder import GROUP, Forwarder, ForwardOptions, dead_letters, statement_maker
from app.xapi.lrs import LrsClient
from cache.backend import CacheBackend, create_backend
from cache.events import EventStream
from tools.ralph_lrs import RalphLrs


def _events(count: int, make: Any) -> list[dict[str, Any]]:
    """``count`` events of the real shape (``realistic_outbox``'s, one visit a document),
    each visit a millisecond after the one before: ``realistic_outbox`` gives every visit
    one time, and statement ids are made from the visit (student, sample, visit, time)."""
    events = [event for doc in make(count, 1) for event in doc["events"]][:count]
    start, visit = utcnow(), -1
    for event in events:
        visit += event["type"] == SAMPLE_READ  # a visit's award follows its read
        event["at"] = iso(start + timedelta(milliseconds=visit))
    return events


def _forwarder(
    db: Database, backend: CacheBackend, lrs: RalphLrs, batch: int, poll: float = 0.2
) -> tuple[Forwarder, EventStream]:
    settings = Settings(
        xapi_lrs_url=lrs.endpoint,
        xapi_lrs_user=lrs.user,
        xapi_lrs_password=lrs.password,
        xapi_homepage=f"https://bench-{uuid.uuid4().hex[:6]}.lumetrix.test",
    )
    stream = EventStream(backend, "events", maxlen=1_000_000)
    forwarder = Forwarder(
        db,
        stream,
        dead_letters(backend, settings),
        LrsClient(lrs.endpoint, user=lrs.user, password=lrs.password),
        statement_maker(settings),
        ForwardOptions(lease_seconds=10, batch=batch, poll=poll, max_backoff=2.0),
    )
    return forwarder, stream


async def _drop(backend: CacheBackend) -> None:
    keys = [k async for k in backend.client.scan_iter(match=backend.prefix + "*")]
    if keys:
        await backend.client.delete(*keys)
    await backend.close()


def _backend(redis_url: str) -> CacheBackend:
    prefix = f"lmxbench:{uuid.uuid4().hex[:8]}:"
    return create_backend(redis_url, timeout=5, retry_after=0.5, prefix=prefix)


async def forward_rate(
    db: Database, redis_url: str, scratch: Path, make: Any, events: list[dict[str, Any]],
    batch: int,
) -> float:  # fmt: skip
    """Statements/s the forwarder stores ``events`` at, back to back, in a fresh LRS."""
    lrs = RalphLrs(scratch / f"lrs-rate-{batch}-{uuid.uuid4().hex[:4]}")
    lrs.start()
    backend = _backend(redis_url)
    forwarder, stream = _forwarder(db, backend, lrs, batch)
    try:
        # Ralph's first POST takes most of a second (it builds its models): not ours.
        await forwarder.lrs.post([forwarder.maker.statement(_events(1, make)[0], None)])
        await stream.append([stream_fields(e) for e in events])
        assert await forwarder.lease.acquire()
        began = time.perf_counter()
        while await forwarder.forward_once():
            pass
        took = time.perf_counter() - began
        assert await stream.oldest_unacked(GROUP) is None
        assert forwarder.tally.forwarded == len(events), forwarder.tally
    finally:
        await forwarder.lease.release()
        await forwarder.lrs.close()
        await _drop(backend)
        lrs.stop()
    return len(events) / took


async def outage(
    db: Database, redis_url: str, scratch: Path, make: Any, args: argparse.Namespace
) -> None:
    """Print the forwarder's lag each second while the LRS is stopped and started again."""
    lrs = RalphLrs(scratch / "lrs-outage")
    lrs.start()
    backend = _backend(redis_url)
    forwarder, stream = _forwarder(db, backend, lrs, 100)
    events = _events(int(args.rate * args.outage_run), make)
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    down_at, up_at = args.outage_run / 3, args.outage_run / 3 + args.outage
    began, sent, peak, backlog, back = time.monotonic(), 0, 0.0, 0, 0.0
    state = "up"
    try:
        while sent < len(events) or state != "back":
            now = time.monotonic() - began
            due = min(len(events), int(now * args.rate))
            if due > sent:
                await stream.append([stream_fields(e) for e in events[sent:due]])
                sent = due
            if state == "up" and now >= down_at:
                await asyncio.to_thread(lrs.stop)
                state = "down"
            elif state == "down" and now >= up_at:
                backlog = await _unacked(stream)
                await asyncio.to_thread(lrs.start)
                state, back = "back", time.monotonic()
            lag = await forwarder.measure_lag()
            peak = max(peak, lag)
            if int(now * 10) % 10 == 0:
                print(f"    t={now:5.1f} s  LRS {state:<4}  lag {lag:5.1f} s")
            await asyncio.sleep(0.1)
        while await stream.oldest_unacked(GROUP) is not None:  # noqa: ASYNC110 - Redis
            await asyncio.sleep(0.1)
        drained = time.monotonic() - back
    finally:
        stop.set()
        await task
        await forwarder.lrs.close()
        await _drop(backend)
    stored = lrs.statements()
    lrs.stop()
    print(
        f"  LRS away {args.outage:.0f} s (and its restart) under {args.rate:.0f} events/s: "
        f"peak lag {peak:.1f} s; backlog {backlog:,} entries when it was started again; all "
        f"stored {drained:.1f} s after it answered; {forwarder.tally.retried:,} statements "
        f"retried; {len(stored):,} stored, {len({s['id'] for s in stored}):,} distinct, of "
        f"{len(events):,} events"
    )


async def _unacked(stream: EventStream) -> int:
    """Entries the forwarder's group has not acknowledged (pending and not yet read)."""
    groups = await stream.backend.client.xinfo_groups(stream.key)
    mine = next(g for g in groups if g["name"] == GROUP)
    return int(mine["pending"]) + int(mine.get("lag") or 0)


async def run(db: Database, redis_url: str, make: Any, args: argparse.Namespace) -> None:
    """Both measurements, printed."""
    await db[SAMPLES].insert_many(
        [
            {"sample_id": f"c_ch{1 + n % 10}_q_{n:06d}", "chapter": 1 + n % 10,
             "language": "c", "knowledge_area": "basics", "read_points": 1 + n % 3}
            for n in range(1800)
        ]
    )  # fmt: skip
    events = _events(args.statements, make)
    with tempfile.TemporaryDirectory(prefix="lmx-xapibench-") as scratch:
        print(f"xAPI forwarder: {len(events):,} events -> Ralph's LRS (file backend), local")
        for batch in args.xapi_batch:
            rate = await forward_rate(db, redis_url, Path(scratch), make, events, batch)
            print(f"  XAPI_BATCH={batch:<5} {rate:>9,.0f} statements/s")
        await outage(db, redis_url, Path(scratch), make, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This part's options."""
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument(
        "--xapi-batch", type=lambda s: [int(x) for x in s.split(",")], default=[100, 500]
    )
    parser.add_argument("--rate", type=float, default=100.0, help="events/s in the outage run")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the LRS is away")
    parser.add_argument("--outage-run", type=float, default=30.0, help="seconds of the run")
    parser.add_argument("--xapi-only", action="store_true", help="Skip the publisher parts.")
