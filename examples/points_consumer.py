"""An example consumer of the progress-event stream: a points service keeping each
student's points, counted once per award although the stream delivers at least once.

The service streams every visit as events to the Redis Stream ``<REDIS_PREFIX>events``
(fields ``event_id``, ``type``, ``data`` = the event as JSON; see README, "Progress
events"). This consumer:

1. joins consumer group ``--group`` (``XGROUP CREATE … MKSTREAM``; a new group starts at
   the stream's oldest entry);
2. first reads its own pending entries (``XREADGROUP … 0``: delivered to it before but
   never acknowledged, e.g. when it was killed mid-batch), then new ones (``>``);
3. applies each ``points_awarded`` event with one Lua script that adds the event id to a
   set of seen ids and, only when it was not there yet, adds the points to the student's
   field of a totals hash: a redelivered or republished event (same ``event_id``) counts
   once, and a crash between the script and the ack loses nothing;
4. acknowledges the batch (``XACK``).

Its keys, ``<prefix>points:{<group>}:seen`` and ``…:totals``, share a hash tag, so the
script's two keys are in one slot on a Redis Cluster too. The seen set grows by one id per
award; a real service would expire it in slices older than the stream's retention.

    REDIS_URL=redis://127.0.0.1:6379/0 python -m examples.points_consumer \\
        [--prefix lmx:] [--group points] [--consumer points-1] [--until-idle]

It prints one line per batch and, on exit (Ctrl-C, or idle with ``--until-idle``), the
totals. ``consume`` and ``points`` are what the tests call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

# Count an award once: SADD says whether the id is new; only then add the points.
APPLY = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


@dataclass
class Report:
    """What one ``consume`` run did."""

    entries: int = 0  # stream entries read (and acknowledged)
    applied: int = 0  # awards counted
    duplicates: int = 0  # awards seen before (redelivered or republished)


def _keys(prefix: str, group: str) -> tuple[str, str]:
    """The seen-ids set and the totals hash of ``group`` (one hash tag: one slot)."""
    return f"{prefix}points:{{{group}}}:seen", f"{prefix}points:{{{group}}}:totals"


async def consume(
    redis_url: str,
    *,
    prefix: str = "lmx:",
    stream: str = "events",
    group: str = "points",
    consumer: str = "points-1",
    batch: int = 200,
    block_ms: int = 1000,
    until_idle: bool = False,
    verbose: bool = False,
) -> Report:
    """Consume the stream as ``consumer`` of ``group``: pending entries first, then new
    ones, until cancelled, or with ``until_idle`` until no new entry came for ``block_ms``."""
    client: Any = aioredis.Redis.from_url(redis_url, decode_responses=True)
    key = prefix + stream
    seen, totals = _keys(prefix, group)
    apply = client.register_script(APPLY)
    report = Report()
    try:
        try:
            await client.xgroup_create(key, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        pending = True  # what was delivered to us before and never acknowledged
        while True:
            found = await client.xreadgroup(
                group,
                consumer,
                {key: "0" if pending else ">"},
                count=batch,
                block=None if pending else block_ms,
            )
            entries = found[0][1] if found else []
            if not entries:
                if pending:
                    pending = False
                    continue
                if until_idle:
                    return report
                continue
            pipe = client.pipeline(transaction=False)
            awards = 0
            for _, fields in entries:
                if not fields or fields.get("type") != "points_awarded":
                    continue  # a trimmed entry still pending, or not an award
                event = json.loads(fields["data"])
                await apply(
                    keys=[seen, totals],
                    args=[event["event_id"], event["student"], int(event["points"])],
                    client=pipe,
                )
                awards += 1
            counted = sum(int(n) for n in await pipe.execute()) if awards else 0
            # Only once the awards are applied: a crash before this redelivers them.
            await client.xack(key, group, *[entry_id for entry_id, _ in entries])
            report.entries += len(entries)
            report.applied += counted
            report.duplicates += awards - counted
            if verbose:
                print(f"{len(entries)} entries: {counted} awards counted, {awards - counted} seen")
    finally:
        await client.aclose()


async def points(redis_url: str, *, prefix: str = "lmx:", group: str = "points") -> dict[str, int]:
    """Each student's points as the consumer group counted them."""
    client: Any = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        raw = await client.hgetall(_keys(prefix, group)[1])
    finally:
        await client.aclose()
    return {student: int(n) for student, n in raw.items()}


def main() -> None:
    """Command line: consume until Ctrl-C (or idle), then print the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--prefix", default=os.environ.get("REDIS_PREFIX", "lmx:"))
    parser.add_argument("--stream", default=os.environ.get("EVENTS_STREAM", "events"))
    parser.add_argument("--group", default="points")
    parser.add_argument("--consumer", default="points-1")
    parser.add_argument("--until-idle", action="store_true", help="Stop when no event comes.")
    args = parser.parse_args()
    if not args.redis_url:
        sys.exit("error: set REDIS_URL (or --redis-url) to the service's Redis")
    work = consume(
        args.redis_url,
        prefix=args.prefix,
        stream=args.stream,
        group=args.group,
        consumer=args.consumer,
        until_idle=args.until_idle,
        verbose=True,
    )
    try:
        report = asyncio.run(work)
        print(
            f"{report.entries} entries, {report.applied} awards counted, "
            f"{report.duplicates} duplicates"
        )
    except KeyboardInterrupt:
        pass
    totals = asyncio.run(points(args.redis_url, prefix=args.prefix, group=args.group))
    for student, total in sorted(totals.items()):
        print(f"{student}\t{total}")


if __name__ == "__main__":
    main()
