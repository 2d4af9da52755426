"""The embedded database's own limit for mark-read: the batch's commands alone.

``make bench`` compares the service's mark-read with what the database can do for it in
the same run. This drives the service's own batch writer (``VisitCommitter``: the intents
note, the progress upserts, the stats updates, the totals' read-back, the visit counts,
the outbox insert, the commit and the journal flush, all as the service sends them)
straight from one asyncio task per in-flight batch, with no HTTP, no Redis and no group
commit in front: ready batches of visits, each ``Ticket`` marked done at once. Students
and samples are drawn as the bench's mark-read scenario draws them (200 students, 40
samples each, so revisits soon dominate). It runs in a scratch database of its own on the
same server (the service's event publisher never sees its outbox) and drops it after.

The figure is the best visits/s over the batch sizes tried; per command it also reports
the mean round trip (a ``pymongo`` command listener), which is where the database's time
per batch goes.

    python -m loadtests.db_limit [--seconds 5] [--batch 25,50] [--in-flight 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from app.db import SAMPLES, Database
from app.embedded import EmbeddedMongo
from app.seed import catalog_is_empty, seed_demo
from app.timefmt import utcnow
from app.training.curriculum import FALLBACK_AREA
from app.training.queries import meta
from app.training.queries.reads import VisitWrite
from app.visit_batches import VisitCommitter
from app.writer_sessions import WriterSessions
from migrations.add_language_to_samples import migrate

STUDENTS, PER_STUDENT, PREFIX = 200, 40, "DBLIMIT_"


class CommandTimes(monitoring.CommandListener):
    """Round trips per (command, collection): how many, and their total time."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.count: dict[str, int] = defaultdict(int)
        self.micros: dict[str, int] = defaultdict(int)
        self.on = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Remember what the request is (its collection, when it names one)."""
        target = event.command.get(event.command_name)
        name = event.command_name + (f" {target}" if isinstance(target, str) else "")
        self.names[event.request_id] = name

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Count the round trip."""
        self._done(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Count the round trip (a failed command took the time too)."""
        self._done(event.request_id, event.duration_micros)

    def _done(self, request_id: int, micros: int) -> None:
        name = self.names.pop(request_id, "?")
        if self.on:
            self.count[name] += 1
            self.micros[name] += micros

    def reset(self) -> None:
        """Forget what was counted."""
        self.count.clear()
        self.micros.clear()


@dataclass
class Limit:
    """What one batch size reached: visits and batches per second, per command timing."""

    batch: int
    in_flight: int
    seconds: float
    visits: int
    batches: int
    visits_per_s: float
    batches_per_s: float
    db_cpu_ms_per_visit: float | None = None  # the server's CPU time, when it runs here
    commands: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time of process ``pid`` so far (None: not on this machine)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _samples(db: Database, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The samples as stored (what mark-read's catalog hands the batch writer)."""
    cursor = db[SAMPLES].find({"sample_id": {"$in": list(ids)}}, {"_id": 0})
    found = {d["sample_id"]: d for d in await cursor.to_list(None)}
    return [found[i] for i in ids if i in found]


def _visits(
    samples: Sequence[dict[str, Any]], n: int, rng: random.Random, *, part: int, parts: int
) -> list[VisitWrite]:
    """``n`` visits drawn like the bench's mark-read scenario's requests, from the students
    of partition ``part`` of ``parts`` (concurrent batches never share a student, as the
    service's never do)."""
    out = []
    now = utcnow()
    for _ in range(n):
        i, j = rng.randrange(part, STUDENTS, parts), rng.randrange(PER_STUDENT)
        sample = samples[(i * 7 + j) % len(samples)]
        area = sample.get("knowledge_area") or FALLBACK_AREA
        out.append(VisitWrite(f"{PREFIX}{i:03d}", sample, area, 30, now))
    return out


async def _drive(
    committer: VisitCommitter,
    samples: Sequence[dict[str, Any]],
    *,
    batch: int,
    until: float,
    part: int,
    parts: int,
) -> tuple[int, int]:
    """Write batches of partition ``part``'s students back to back until ``until``;
    (visits, batches) written."""
    rng = random.Random(part)
    visits = batches = 0
    while time.monotonic() < until:
        out = await committer(_visits(samples, batch, rng, part=part, parts=parts))
        for written in out:
            if isinstance(written, Exception):
                raise written
            if written.ticket is not None:
                written.ticket.done()  # the write-through is instant here
        visits += len(out)
        batches += 1
    return visits, batches


async def measure(
    db: Database,
    samples: Sequence[dict[str, Any]],
    times: CommandTimes,
    *,
    batch: int,
    in_flight: int,
    seconds: float,
    server_pid: int | None = None,
) -> Limit:
    """Batches of ``batch`` visits, ``in_flight`` at a time, for ``seconds`` (with the
    server's CPU time per visit when ``server_pid`` runs on this machine)."""
    sessions = WriterSessions(db, size=in_flight)
    await sessions.start()
    try:
        committer = VisitCommitter(db, sessions)
        warm = time.monotonic() + min(1.0, seconds / 4)
        await asyncio.gather(
            *[
                _drive(committer, samples, batch=batch, until=warm, part=s, parts=in_flight)
                for s in range(in_flight)
            ]
        )
        times.reset()
        times.on = True
        cpu = cpu_seconds(server_pid)
        started = time.monotonic()
        done = await asyncio.gather(
            *[
                _drive(
                    committer,
                    samples,
                    batch=batch,
                    until=started + seconds,
                    part=s,
                    parts=in_flight,
                )
                for s in range(in_flight)
            ]
        )
        elapsed = time.monotonic() - started
        cpu_end = cpu_seconds(server_pid)
        times.on = False
    finally:
        await sessions.close()
    visits, batches = sum(v for v, _ in done), sum(b for _, b in done)
    commands = {
        name: {
            "per_batch": times.count[name] / max(batches, 1),
            "mean_ms": times.micros[name] / times.count[name] / 1000,
        }
        for name in sorted(times.count, key=lambda n: -times.micros[n])
    }
    per_visit = None if cpu is None or cpu_end is None else (cpu_end - cpu) * 1000 / visits
    return Limit(
        batch,
        in_flight,
        elapsed,
        visits,
        batches,
        visits / elapsed,
        batches / elapsed,
        per_visit,
        commands,
    )


async def db_limit(
    mongo_url: str,
    db_name: str,
    sample_ids: Sequence[str],
    *,
    batches: Sequence[int] = (25, 50),
    in_flight: int = 2,
    seconds: float = 5.0,
    server_pid: int | None = None,
) -> list[Limit]:
    """One ``Limit`` per batch size, in a scratch database ``<db_name>_dblimit`` (dropped
    after); the samples are read from ``db_name``."""
    times = CommandTimes()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, journal=True, retryWrites=True, event_listeners=[times]
    )
    try:
        samples = await _samples(client[db_name], sample_ids)
        scratch = client[f"{db_name}_dblimit"]
        await client.drop_database(scratch.name)
        await meta.ensure_indexes(scratch)
        out = []
        for size in batches:
            out.append(
                await measure(
                    scratch,
                    samples,
                    times,
                    batch=size,
                    in_flight=in_flight,
                    seconds=seconds,
                    server_pid=server_pid,
                )
            )
        await client.drop_database(scratch.name)
        return out
    finally:
        await client.close()


def best(limits: Sequence[Limit]) -> Limit:
    """The batch size that reached the most visits/s."""
    return max(limits, key=lambda limit: limit.visits_per_s)


def report(limits: Sequence[Limit], mark_read_rps: float | None = None) -> dict[str, Any]:
    """Print each batch size's rate and the best one's commands; with the service's
    mark-read req/s, its share of the best rate. Returns the figures as plain data."""
    print("\nembedded database's own mark-read limit (the batch's commands, no service):")
    for limit in limits:
        print(
            f"  batch {limit.batch:>3} x {limit.in_flight} in flight: "
            f"{limit.visits_per_s:>7.0f} visits/s, {limit.batches_per_s:>6.1f} batches/s, "
            f"{1000 / limit.batches_per_s * limit.in_flight:>6.1f} ms per batch"
            + (
                ""
                if limit.db_cpu_ms_per_visit is None
                else f", database CPU {limit.db_cpu_ms_per_visit:.2f} ms per visit"
            )
        )
    top = best(limits)
    print(f"  where a batch of {top.batch} spends the database's time (round trips):")
    for name, row in top.commands.items():
        print(f"    {name:<40}{row['per_batch']:>6.2f}/batch {row['mean_ms']:>7.2f} ms")
    data: dict[str, Any] = {
        "limits": [limit.as_dict() for limit in limits],
        "best_visits_per_s": top.visits_per_s,
    }
    if mark_read_rps is not None:
        data["mark_read_share"] = mark_read_rps / top.visits_per_s
        print(f"{'mark-read / db limit (rps)':<32}{data['mark_read_share']:>9.2f}")
    return data


def bench_figure(
    mongo_url: str,
    db_name: str,
    sample_ids: Sequence[str],
    mark_read_rps: float,
    *,
    server_pid: int | None = None,
    seconds: float = 5.0,
) -> dict[str, Any]:
    """``make bench``'s figure: the limit measured now (the service's servers stopped),
    printed with the service's mark-read as a share of it."""
    limits = asyncio.run(
        db_limit(mongo_url, db_name, sample_ids, seconds=seconds, server_pid=server_pid)
    )
    return report(limits, mark_read_rps)


async def _catalog(mongo_url: str, db_name: str) -> list[str]:
    """The demo catalog, seeded and migrated when need be; the Python samples' ids (the
    bench's mark-read scenario's)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        db = client[db_name]
        if await catalog_is_empty(db):
            await seed_demo(db, show_progress=False)
        await migrate(db, show_progress=False)
        cursor = db[SAMPLES].find({"language": "python"}, {"sample_id": 1})
        return [d["sample_id"] for d in await cursor.to_list(None)]
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    """Measure on ``--mongodb-url``, or on an embedded server of its own."""
    parser = argparse.ArgumentParser(description="the embedded database's mark-read limit")
    parser.add_argument("--mongodb-url")
    parser.add_argument("--db", default="lumetrix_bench")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--batch", default="25,50", help="batch sizes, comma-separated")
    parser.add_argument("--in-flight", type=int, default=2)
    args = parser.parse_args(argv)
    embedded = None
    url = args.mongodb_url
    if not url:
        embedded = EmbeddedMongo(Path(".lumetrix-bench"))
        url = embedded.start()
    try:
        ids = asyncio.run(_catalog(url, args.db))
        limits = asyncio.run(
            db_limit(
                url,
                args.db,
                ids,
                batches=[int(b) for b in args.batch.split(",")],
                in_flight=args.in_flight,
                seconds=args.seconds,
                server_pid=embedded.proc.pid if embedded and embedded.proc else None,
            )
        )
        report(limits)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
