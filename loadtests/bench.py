"""``make bench``: the service side by side with its two yardsticks and its uncached self.

One run, one machine, one concurrency: it starts three servers on the same database —
the yardsticks (``loadtests.ceiling``: the ceiling, same stack answering a static 20-sample
page, and the floor of the design, the same after one ``EVALSHA`` of the page's read-set
lookup on the real Redis), the service with caches on, and the service with
``LUMETRIX_CACHE=off`` — loads each scenario in turn and prints a table of requests/s,
latency percentiles and each scenario's share of the ceiling and of the floor, with the
ratios the performance issue asks about. ``--rounds N`` loads the scenarios N times,
interleaved, and reports each one's median round; ``--floor-clients`` adds the floor
through other Redis clients (``loadtests.floor_clients``) to compare them in one run. Each
worker count in ``--workers`` (default ``1,2``) is one configuration, all on a real Redis
(``REDIS_URL``, else the local one on DB 14; ``--fakeredis`` measures 1 worker on the
embedded default). The rate limit is off for the benchmark. Figures go to
``loadtests/results/bench.json`` and one chart per configuration, ``bench-<n>w.png``.

    python -m loadtests.bench [--concurrency 50] [--seconds 10] [--workers 1,2] [--rounds 1]
        [--floor-clients redis-py,coredis,glide,redis-rs]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from app.auth import mint_token
from app.db import PROGRESS, STATS, Database, create_client
from app.embedded import EmbeddedMongo, free_port
from app.seed import catalog_is_empty, seed_demo
from app.settings import DEV_JWT_SECRET
from loadtests import db_limit
from loadtests.history import seed_history
from loadtests.loadgen import Request, Result, run_load
from migrations.add_language_to_samples import migrate

RESULTS = Path(__file__).parent / "results"
SERVER_PIDS: dict[str, int] = {}  # base URL -> pid of the server process serving it
HEAVY, LIGHT, WRITER = "BENCH_H1500", "BENCH_H0", "BENCH_MR_"
WRITERS = 200


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.setdefault("JWT_SECRET", DEV_JWT_SECRET)
    return env


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {base} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as res:
                if res.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server for {base} did not become healthy")


@contextmanager
def server(
    argv: list[str], env: dict[str, str], port: int, cwd: Path | None = None
) -> Iterator[str]:
    """Run a server process (in ``cwd``: another checkout) until the block ends; yield
    its base URL."""
    base = f"http://127.0.0.1:{port}"
    log = open(RESULTS / f"server-{port}.log", "wb")
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(base, proc)
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


_SHED_METRICS = re.compile(
    r'^(?:lumetrix_shed_requests_total|lumetrix_refused_requests_total\{reason="over_capacity"\})'
    r" (\S+)$",
    re.M,
)


def server_shed(base: str) -> int:
    """Requests the server at ``base`` has refused on purpose so far (503 + Retry-After:
    MongoDB's slots or the worker's capacity full), from its own metrics; 0 for a server
    without them (the yardsticks)."""
    try:
        with urllib.request.urlopen(base + "/metrics", timeout=10) as res:
            text = res.read().decode()
    except OSError:
        return 0
    return round(sum(float(v) for v in _SHED_METRICS.findall(text)))


def server_cpu(base: str) -> float:
    """CPU seconds used so far by the server at ``base``: its process and its workers
    (every thread, a client library's own included)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [SERVER_PIDS[base]]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        todo += [int(c) for c in children]
    return total


def _serve_argv(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def _ceiling_argv(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "loadtests.ceiling:create_app",
        "--factory",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


async def ensure_catalog(db: Database) -> None:
    """The demo catalog, seeded when empty, and migrated (what every benchmark serves)."""
    if await catalog_is_empty(db):
        await seed_demo(db, show_progress=False)
    await migrate(db, show_progress=False)


async def prepare(mongo_url: str, db_name: str, history: int) -> list[str]:
    """Seed and migrate when empty; give the heavy student ``history`` reads; reset writers.

    Returns sample ids for the mark-read scenario."""
    client = create_client(mongo_url, timeout_ms=10_000)
    db = client[db_name]
    try:
        await ensure_catalog(db)
        await db[PROGRESS].delete_many({"sidhi_id": {"$in": [LIGHT]}})
        await db[PROGRESS].delete_many({"sidhi_id": {"$regex": f"^{WRITER}"}})
        await db[STATS].delete_many({"_id": {"$regex": f"^{WRITER}"}})
        await seed_history(db, student=HEAVY, language="c", reads=history)
        cursor = db["training_samples_filtered"].find({"language": "python"}, {"sample_id": 1})
        return [d["sample_id"] for d in await cursor.to_list(None)]
    finally:
        await client.close()


def _get(path: str, student: str, secret: str, encoding: str = "identity") -> Request:
    token = mint_token(secret, sub=student, client_id="bench", ttl=3600)
    headers = {"Authorization": f"Bearer {token}", "X-Client-Id": "bench"}
    return Request("GET", path, headers | {"Accept-Encoding": encoding})


PAGE_100 = "/training/samples?language=c&limit=100"
FLOOR = "floor"
SHED = "uncached 200 connections"
SHED_CONNECTIONS = 200
ENCODINGS = ("identity", "gzip", "br", "zstd")


def scenarios(
    secret: str, sample_ids: list[str], floor_clients: Sequence[str] = ()
) -> dict[str, tuple[str, list[Request]]]:
    """Scenario name → (which server, requests to pick from); the floors need a real Redis."""
    page = "/training/samples?language=c&limit=20"
    writers = [
        mint_token(secret, sub=f"{WRITER}{i:03d}", client_id="bench", ttl=3600)
        for i in range(WRITERS)
    ]
    # First reads and revisits: each writer draws from 40 samples, so revisits soon dominate.
    mark = [
        Request(
            "POST",
            f"/training/samples/{sample_ids[(i * 7 + j) % len(sample_ids)]}"
            f"/mark-read?time_spent=30",
            {"Authorization": f"Bearer {writers[i]}", "X-Client-Id": "bench"},
        )
        for i in range(WRITERS)
        for j in range(40)
    ]
    # The uncached scenario goes last: the requests it leaves queued in the database would
    # otherwise slow down whatever runs after it.
    return {
        "ceiling": ("ceiling", [Request("GET", "/ceiling", {})]),
        FLOOR: ("ceiling", [Request("GET", "/floor", {})]),
        **{f"{FLOOR} {c}": ("ceiling", [Request("GET", f"/floor/{c}", {})]) for c in floor_clients},
        "samples cached (1500 reads)": ("cached", [_get(page, HEAVY, secret)]),
        "samples cached (0 reads)": ("cached", [_get(page, LIGHT, secret)]),
        "mark-read": ("cached", mark),
        "my-progress": ("cached", [_get("/training/my-progress?language=c", HEAVY, secret)]),
        "chapters": ("cached", [_get("/training/chapters?language=c", HEAVY, secret)]),
        "next": ("cached", [_get("/training/next?language=c", HEAVY, secret)]),
        # The same 100-sample page in each encoding: what compression costs in CPU.
        **{
            f"page100 {encoding}": ("cached", [_get(PAGE_100, HEAVY, secret, encoding)])
            for encoding in ENCODINGS
        },
        "leaderboard": (
            "cached",
            [
                _get(
                    "/training/leaderboard?language=python&period=week&limit=10",
                    f"{WRITER}{i:03d}",
                    secret,
                )
                for i in range(0, WRITERS, 10)
            ],
        ),
        "samples uncached (1500 reads)": ("uncached", [_get(page, HEAVY, secret)]),
        # Far more than the database can take: the excess must be refused in milliseconds
        # (503 + Retry-After: the "shed" column, from the server's own counters), not queued
        # for seconds.
        SHED: ("uncached", [_get(page, HEAVY, secret)]),
    }


def _fetch(base: str, req: Request) -> bytes:
    with urllib.request.urlopen(
        urllib.request.Request(base + req.path, headers=req.headers, method=req.method)
    ) as res:
        return bytes(res.read())


def report(results: dict[str, Result], config: dict[str, Any], args: argparse.Namespace) -> Any:
    """Print one configuration's table and ratios; return everything as plain data."""
    print(
        f"\nconcurrency {args.concurrency}, {args.seconds:.0f} s per scenario, "
        f"{config['workers']} worker(s), generator {next(iter(results.values())).generator}, "
        f"Redis {config['redis']}"
    )
    print(
        f"{'scenario':<32}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'shed':>7}{'errors':>7}{'÷ceil':>7}{'÷floor':>7}"
    )
    shares = yardstick_shares(results)
    for name, r in results.items():
        share = "".join(
            f"{shares[name][y]:>7.2f}" if y in shares[name] else f"{'':>7}"
            for y in ("ceiling", FLOOR)
        )
        print(
            f"{name:<32}{r.rps:>9.0f}{r.p50_ms:>9.1f}{r.p90_ms:>9.1f}{r.p99_ms:>9.1f}"
            f"{r.max_ms:>9.1f}{r.shed:>7}{r.errors - r.shed:>7}{share}"
        )
    ratios: dict[str, float] = {}
    cached = results.get("samples cached (1500 reads)")
    pairs = {
        "cached / ceiling (rps)": ("samples cached (1500 reads)", "ceiling", "rps"),
        "cached / uncached (rps)": (
            "samples cached (1500 reads)",
            "samples uncached (1500 reads)",
            "rps",
        ),
        "p50 1500 reads / 0 reads": (
            "samples cached (1500 reads)",
            "samples cached (0 reads)",
            "p50_ms",
        ),
        "my-progress / cached (rps)": ("my-progress", "samples cached (1500 reads)", "rps"),
        "chapters / cached (rps)": ("chapters", "samples cached (1500 reads)", "rps"),
        **{
            f"page100 {e} / identity (rps)": (f"page100 {e}", "page100 identity", "rps")
            for e in ENCODINGS[1:]
        },
    }
    for label, (top, bottom, field) in pairs.items():
        if cached is not None and top in results and bottom in results:
            ratios[label] = getattr(results[top], field) / getattr(results[bottom], field)
    print()
    for name, value in ratios.items():
        print(f"{name:<32}{value:>9.2f}")
    for encoding, size in config.get("page100_bytes", {}).items():
        print(f"{'page100 bytes, ' + encoding:<32}{size:>9}")
    return {
        **config,
        "results": {k: v.as_dict() for k, v in results.items()},
        "ratios": ratios,
        "shares": shares,
    }


def yardstick_shares(results: dict[str, Result]) -> dict[str, dict[str, float]]:
    """Each scenario's requests/s as a share of the ceiling's and of the floor's (same run)."""
    return {
        name: {y: r.rps / results[y].rps for y in ("ceiling", FLOOR) if results.get(y)}
        for name, r in results.items()
    }


def paired_ratios(rounds: dict[str, list[Result]], cpu_us: dict[str, list[float]]) -> None:
    """With several rounds: each scenario's req/s over the ceiling's and the floor's of the
    same round (median, and the range), and its server CPU per request (median)."""
    if len(next(iter(rounds.values()), [])) < 2:
        return
    print(f"\n{'per round':<32}{'÷ceil':>7}{'range':>12}{'÷floor':>8}{'range':>12}{'µs/req':>8}")
    for name, results in rounds.items():
        cells = []
        for y in ("ceiling", FLOOR):
            if y not in rounds:
                cells += ["", ""]
                continue
            q = [r.rps / b.rps for r, b in zip(results, rounds[y], strict=True) if b.rps]
            cells += [f"{statistics.median(q):.2f}", f"{min(q):.2f}-{max(q):.2f}"]
        widths = (7, 12, 8, 12)
        text = "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        print(f"{name:<32}{text}{statistics.median(cpu_us[name]):>8.0f}")


def median_round(rounds: list[Result]) -> Result:
    """The round with the median requests/s (the lower middle of an even count)."""
    ranked = sorted(rounds, key=lambda r: r.rps)
    return ranked[(len(ranked) - 1) // 2]


def workers_side_by_side(configs: list[dict[str, Any]]) -> None:
    """With several worker counts: each scenario's requests/s per count, and each count's
    over the first's (how far the service scales with the workers)."""
    if len(configs) < 2:
        return
    counts = [c["workers"] for c in configs]
    print(f"\n{'scenario':<32}" + "".join(f"{f'{n}w req/s':>11}" for n in counts), end="")
    print("".join(f"{f'{n}w/{counts[0]}w':>9}" for n in counts[1:]))
    for name, first in configs[0]["results"].items():
        rps = [c["results"].get(name, {}).get("rps") for c in configs]
        cells = "".join(f"{r:>11.0f}" if r else f"{'-':>11}" for r in rps)
        ratios = "".join(
            f"{r / first['rps']:>9.2f}" if r and first["rps"] else f"{'-':>9}" for r in rps[1:]
        )
        print(f"{name:<32}{cells}{ratios}")


def chart(data: dict[str, Any], path: Path) -> None:
    """Latency percentiles per scenario, requests/s on the labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(data["results"])
    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.27
    for i, key in enumerate(("p50_ms", "p90_ms", "p99_ms")):
        values = [data["results"][n][key] for n in names]
        ax.bar(
            [x + (i - 1) * width for x in range(len(names))],
            values,
            width,
            label=key.removesuffix("_ms"),
        )
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (log)")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\n{data['results'][n]['rps']:.0f} req/s" for n in names], fontsize=8)
    ax.set_title(
        f"Lumetrix bench: {data['concurrency']} connections, "
        f"{data['workers']} worker(s), {data['redis']}"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _redis_url(args: argparse.Namespace) -> str | None:
    """The real Redis of the run: ``REDIS_URL``, else the local one on DB 14 if it answers."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex(("127.0.0.1", 6379)) == 0:
            return "redis://127.0.0.1:6379/14"
    return None


def _forget_prefix(url: str, prefix: str) -> None:
    """Delete the run's keys from a real Redis."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def _floor_env(args: argparse.Namespace, redis_url: str | None, prefix: str) -> dict[str, str]:
    """What the yardsticks' server needs for the floor: the real Redis, a key prefix of the
    run's own, the clients to compare."""
    if not redis_url:
        return {}
    return {
        "BENCH_FLOOR_REDIS": redis_url,
        "BENCH_FLOOR_PREFIX": prefix + "floor:",
        "BENCH_FLOOR_CLIENTS": ",".join(args.floor_clients),
    }


def run_config(
    args: argparse.Namespace,
    *,
    workers: int,
    redis_url: str | None,
    mongo_url: str,
    db_name: str,
    secret: str,
    sample_ids: list[str],
    sizes: dict[str, int],
    cpu_us: dict[str, list[float]],
) -> dict[str, Result]:
    """Start the three servers for one configuration and load every wanted scenario;
    ``sizes`` gets the 100-sample page's bytes on the wire in each encoding, ``cpu_us``
    each round's server CPU per request."""
    prefix = f"lmxbench:{os.getpid()}:{workers}w:"
    env = _env(MONGODB_URL=mongo_url, MONGODB_DB=db_name, REDIS_PREFIX=prefix, MARK_READ_RATE="0")
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    results: dict[str, Result] = {}
    try:
        with ExitStack() as stack:
            ports = {"cached": free_port(), "uncached": free_port(), "ceiling": free_port()}
            bases = {
                "cached": stack.enter_context(
                    server(_serve_argv(ports["cached"], workers), env, ports["cached"])
                ),
                "uncached": stack.enter_context(
                    server(
                        _serve_argv(ports["uncached"], workers),
                        {**env, "LUMETRIX_CACHE": "off"},
                        ports["uncached"],
                    )
                ),
            }
            page = _fetch(
                bases["cached"], _get("/training/samples?language=c&limit=20", HEAVY, secret)
            )
            sizes.update(
                {
                    e: len(_fetch(bases["cached"], _get(PAGE_100, HEAVY, secret, e)))
                    for e in ENCODINGS
                }
            )
            body = RESULTS / "ceiling-body.json"
            body.write_bytes(page)
            bases["ceiling"] = stack.enter_context(
                server(
                    _ceiling_argv(ports["ceiling"], workers),
                    {**env, **_floor_env(args, redis_url, prefix), "BENCH_CEILING_BODY": str(body)},
                    ports["ceiling"],
                )
            )
            wanted = set(args.only.split(",")) if args.only else None
            plan = {
                name: spec
                for name, spec in scenarios(secret, sample_ids, args.floor_clients).items()
                if (not wanted or name in wanted or name.split(" ")[0] in wanted)
                and (redis_url or name.split(" ")[0] != FLOOR)
            }
            rounds: dict[str, list[Result]] = {name: [] for name in plan}
            for n in range(args.rounds):
                for name, (target, requests) in plan.items():
                    connections = SHED_CONNECTIONS if name == SHED else args.concurrency
                    run_load(bases[target], requests, connections=connections, seconds=args.warmup)
                    # Uncached requests take seconds each at this concurrency: measure long
                    # enough for every connection to finish several.
                    seconds = max(args.seconds, 30) if target == "uncached" else args.seconds
                    cpu, shed = server_cpu(bases[target]), server_shed(bases[target])
                    r = run_load(bases[target], requests, connections=connections, seconds=seconds)
                    # Requests still queued when a run ends are refused in the next one's
                    # window: never more shed than the run's own non-2xx answers.
                    shed = min(r.errors, server_shed(bases[target]) - shed)
                    r = dataclasses.replace(r, shed=shed)
                    cpu_us.setdefault(name, []).append(
                        (server_cpu(bases[target]) - cpu) / max(r.requests, 1) * 1e6
                    )
                    rounds[name].append(r)
                    print(
                        f"  {workers}w round {n + 1} {name}: {r.rps:.0f} req/s, "
                        f"p99 {r.p99_ms:.1f} ms, server CPU {cpu_us[name][-1]:.0f} µs/req",
                        flush=True,
                    )
            results.update({name: median_round(r) for name, r in rounds.items()})
            paired_ratios(rounds, cpu_us)
    finally:
        if redis_url:
            _forget_prefix(redis_url, prefix)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark: every configuration in ``--workers`` (e.g. ``1,2``)."""
    parser = argparse.ArgumentParser(description="side-by-side benchmark")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument(
        "--workers", default="1,2", help="worker counts to measure, each a configuration"
    )
    parser.add_argument("--history", type=int, default=1500)
    parser.add_argument("--only", help="comma-separated scenario names to run")
    parser.add_argument(
        "--rounds", type=int, default=1, help="load every scenario N times, interleaved; medians"
    )
    parser.add_argument(
        "--floor-clients",
        type=lambda v: [c for c in v.split(",") if c],
        default=["redis-py"],
        help="the floor also through these clients (redis-py, coredis, glide)",
    )
    parser.add_argument(
        "--fakeredis", action="store_true", help="1 worker on the embedded fakeredis instead"
    )
    args = parser.parse_args(argv)
    counts = [int(n) for n in str(args.workers).split(",")]
    redis_url = None if args.fakeredis else _redis_url(args)
    if redis_url is None and max(counts) > 1:
        parser.error("several workers need a real Redis (REDIS_URL, or one on 127.0.0.1:6379)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    secret = os.environ.get("JWT_SECRET", DEV_JWT_SECRET)
    db_name = os.environ.get("MONGODB_DB", "lumetrix_bench")
    configs: list[dict[str, Any]] = []
    with ExitStack() as stack:
        mongo_url = os.environ.get("MONGODB_URL")
        server_pid = None
        if not mongo_url:
            embedded = EmbeddedMongo(Path(os.environ.get("DATA_DIR", ".lumetrix-bench")))
            mongo_url = embedded.start()
            server_pid = embedded.proc.pid if embedded.proc else None
            stack.callback(embedded.stop)
        for workers in counts:
            sample_ids = asyncio.run(prepare(mongo_url, db_name, args.history))
            sizes: dict[str, int] = {}
            cpu_us: dict[str, list[float]] = {}
            results = run_config(
                args,
                workers=workers,
                redis_url=redis_url,
                mongo_url=mongo_url,
                db_name=db_name,
                secret=secret,
                sample_ids=sample_ids,
                sizes=sizes,
                cpu_us=cpu_us,
            )
            config = {
                "workers": workers,
                "redis": "real Redis" if redis_url else "fakeredis",
                "page100_bytes": sizes,
                "server_cpu_us_per_request": {k: statistics.median(v) for k, v in cpu_us.items()},
            }
            configs.append(report(results, config, args))
            if "mark-read" in results:  # the database alone, its servers stopped
                configs[-1]["db_limit"] = db_limit.bench_figure(
                    mongo_url, db_name, sample_ids, results["mark-read"].rps, server_pid=server_pid
                )
    workers_side_by_side(configs)
    if args.only:
        return 0
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "configs": configs,
    }
    (RESULTS / "bench.json").write_text(json.dumps(data, indent=2))
    for config in configs:
        chart({**data, **config}, RESULTS / f"bench-{config['workers']}w.png")
    print(f"\nwrote {RESULTS / 'bench.json'} and the charts bench-<n>w.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
