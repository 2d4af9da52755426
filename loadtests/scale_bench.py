"""``make scalebench``: the same service on one Redis and on a local 3-master Redis Cluster,
measured in one run, plus what 100k students cost the cluster in memory.

It starts a private standalone ``redis-server`` and a private cluster (both from the
machine's ``redis-server``, nothing on disk), one ``lumetrix serve`` worker on each, on
the same embedded SecantusDB, and loads the cached page (and my-progress) on each in
turn, alternating, ``--rounds`` times: the two servers share the machine, so
alternating keeps drift out of the ratio. Then it makes one real student through the API
(``--reads`` first reads, their page, my-progress and the leaderboard: every per-student
key the service keeps), copies that student's keys to ``--students`` others with
DUMP/RESTORE (same encodings, each under its own hash tag), adds them to the boards, and
reports the cluster's ``used_memory`` growth scaled to 100k students. Figures go to
``loadtests/results/scale.json``.

    python -m loadtests.scale_bench [--seconds 10] [--rounds 2] [--students 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from redis.asyncio.cluster import RedisCluster

from app.embedded import EmbeddedMongo, free_port
from app.settings import DEV_JWT_SECRET
from loadtests.bench import HEAVY, RESULTS, _env, _get, _serve_argv, prepare, server
from loadtests.loadgen import Request, run_load
from tools import redis_servers

PAGE = "/training/samples?language=c&limit=20"


def _post(path: str, student: str, secret: str) -> Request:
    req = _get(path, student, secret)
    return Request("POST", path, req.headers)


def _call(base: str, req: Request) -> bytes:
    r = urllib.request.Request(base + req.path, method=req.method, headers=req.headers)
    with urllib.request.urlopen(r, timeout=30) as res:
        return bytes(res.read())


def _scenarios(secret: str) -> dict[str, list[Request]]:
    return {
        "cached page, 1,500 reads": [_get(PAGE, HEAVY, secret)],
        "my-progress": [_get("/training/my-progress?language=c", HEAVY, secret)],
    }


def measure(
    bases: dict[str, str], secret: str, args: argparse.Namespace
) -> dict[str, dict[str, dict[str, float]]]:
    """Each scenario on each backend, alternating; median req/s and latency per pair."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, requests in _scenarios(secret).items():
        runs: dict[str, list[Any]] = {kind: [] for kind in bases}
        for base in bases.values():
            run_load(base, requests, connections=args.concurrency, seconds=args.warmup)
        for _ in range(args.rounds):
            for kind, base in bases.items():
                result = run_load(
                    base, requests, connections=args.concurrency, seconds=args.seconds
                )
                runs[kind].append(result)
                print(
                    f"  {name} on {kind}: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms, "
                    f"{result.errors} errors"
                )
        out[name] = {
            kind: {
                "rps": statistics.median(r.rps for r in results),
                "p50_ms": statistics.median(r.p50_ms for r in results),
                "p99_ms": statistics.median(r.p99_ms for r in results),
                "errors": sum(r.errors for r in results),
            }
            for kind, results in runs.items()
        }
    return out


def make_student(base: str, secret: str, student: str, reads: int) -> None:
    """One real student: ``reads`` first reads, then what a learner looks at."""
    page = json.loads(
        _call(base, _get(f"/training/samples?language=c&limit={reads}", student, secret))
    )
    for sample in page["data"]:
        _call(
            base,
            _post(
                f"/training/samples/{sample['sample_id']}/mark-read?time_spent=30", student, secret
            ),
        )
    for path in (PAGE, "/training/my-progress?language=c", "/training/leaderboard?language=c"):
        _call(base, _get(path, student, secret))
    for period in ("week", "month", "all"):
        _call(base, _get(f"/training/leaderboard?language=c&period={period}", student, secret))


async def memory_per_students(url: str, prefix: str, template: str, count: int) -> dict[str, Any]:
    """Copy ``template``'s keys to ``count`` students; the cluster's memory growth."""
    client = RedisCluster.from_url(url, decode_responses=False)
    try:
        await client.initialize()
        tag = "{" + template + "}"
        keys = [k async for k in client.scan_iter(match=f"{prefix}*{tag}*".encode())]
        dumps = {k: blob for k in keys if (blob := await client.dump(k)) is not None}
        usage = {
            k.decode().replace(template, "S"): int(await client.memory_usage(k, samples=0) or 0)
            for k in keys
        }
        boards = [k async for k in client.scan_iter(match=f"{prefix}lb:*".encode())]
        boards = [k for k in boards if b"lb-gen" not in k]

        async def used() -> int:
            info = await client.info("memory", target_nodes=RedisCluster.PRIMARIES)
            return sum(int(v["used_memory"]) for v in info.values())

        before = await used()
        started = time.monotonic()
        for at in range(0, count, 2000):
            async with client.pipeline() as pipe:
                for n in range(at, min(at + 2000, count)):
                    other = f"SCALE_{n:07d}"
                    for key, blob in dumps.items():
                        new = key.replace(tag.encode(), ("{" + other + "}").encode())
                        pipe.restore(new, 0, blob, replace=True)
                    for board in boards:
                        pipe.zadd(board, {other: n % 97})
                await pipe.execute()
        after = await used()
        return {
            "students": count,
            "keys_per_student": len(keys),
            "key_names": sorted(usage),
            "memory_usage_of_each_key": usage,
            "used_memory_growth": after - before,
            "bytes_per_student": (after - before) / count,
            "mb_per_100k_students": (after - before) / count * 100_000 / 2**20,
            "copy_seconds": time.monotonic() - started,
        }
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> int:
    """Run both measurements; print and save the figures."""
    parser = argparse.ArgumentParser(description="single Redis vs Redis Cluster")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--history", type=int, default=1500)
    parser.add_argument("--reads", type=int, default=30, help="first reads of the model student")
    parser.add_argument("--students", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not redis_servers.available():
        parser.error("needs redis-server and redis-cli (apt-get install redis-server)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    secret = os.environ.get("JWT_SECRET", DEV_JWT_SECRET)
    db_name = "lumetrix_scale_bench"
    work = Path(tempfile.mkdtemp(prefix="lmx-scale-"))
    with ExitStack() as stack:
        embedded = EmbeddedMongo(work / "mongo")
        mongo_url = embedded.start()
        stack.callback(embedded.stop)
        single = redis_servers.start_standalone(work / "single")
        stack.callback(single.kill)
        cluster = redis_servers.RedisCluster(work / "cluster")
        cluster.start()
        stack.callback(cluster.stop)
        asyncio.run(prepare(mongo_url, db_name, args.history))
        prefix = "lmxscale:"
        env = _env(MONGODB_URL=mongo_url, MONGODB_DB=db_name, REDIS_PREFIX=prefix)
        env |= {"MARK_READ_RATE": "0", "EVENTS_PUBLISHER": "false"}
        ports = {"single Redis": free_port(), "cluster": free_port()}
        envs = {
            "single Redis": env | {"REDIS_URL": single.url},
            "cluster": env | {"REDIS_URL": cluster.url, "REDIS_CLUSTER": "true"},
        }
        bases = {
            kind: stack.enter_context(server(_serve_argv(ports[kind], 1), envs[kind], ports[kind]))
            for kind in ports
        }
        print(f"one worker each, {args.concurrency} connections, {args.seconds:.0f} s a run")
        pages = measure(bases, secret, args)
        make_student(bases["cluster"], secret, "SCALE_MODEL", args.reads)
        memory = asyncio.run(memory_per_students(cluster.url, prefix, "SCALE_MODEL", args.students))
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "pages": pages,
        "memory": memory,
    }
    (RESULTS / "scale.json").write_text(json.dumps(data, indent=2))
    print("\n| scenario | single Redis req/s | p50 | p99 | cluster req/s | p50 | p99 | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kinds in pages.items():
        s, c = kinds["single Redis"], kinds["cluster"]
        print(
            f"| {name} | {s['rps']:,.0f} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} "
            f"| {c['rps']:,.0f} | {c['p50_ms']:.1f} | {c['p99_ms']:.1f} "
            f"| {c['rps'] / s['rps']:.2f} |"
        )
    print(
        f"\nmemory: {memory['students']:,} students of {args.reads} reads each "
        f"({memory['keys_per_student']} keys each: {', '.join(memory['key_names'])}) "
        f"grew the cluster's used_memory by {memory['used_memory_growth'] / 2**20:,.1f} MiB: "
        f"{memory['bytes_per_student']:,.0f} bytes a student, "
        f"{memory['mb_per_100k_students']:,.1f} MiB per 100k students"
    )
    print(f"MEMORY USAGE of the model student's keys: {memory['memory_usage_of_each_key']}")
    print(f"wrote {RESULTS / 'scale.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
