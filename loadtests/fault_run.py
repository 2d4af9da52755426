"""Load with a fault: the locust load while Redis is restarted mid-run, then an audit.

Starts its own ``redis-server`` (AOF persistence on, so a restart keeps the read sets while
the writes made during the outage are missing from them) and its own embedded database,
runs ``loadtests.run_locust`` against them with several server workers, restarts Redis at
``--restart-at`` seconds into the run, and afterwards checks MongoDB against what the
responses said: progress documents created = first reads answered, ``total_points`` = points
answered, ``revisited_count`` = mark-reads answered (seeded history included). Finally it
sweeps the run's Redis read sets: a set loaded after the last progress epoch must hold
exactly the student's sample ids in MongoDB. The exit code is 1 on any mismatch, on a stale
set, when the fault was never injected, or when more than 0.1% of the requests failed.

Run: ``python -m loadtests.fault_run [--users 200] [--run-time 60] [--restart-at 30] [--kill]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
LANGUAGES = ("c", "cpp", "python")
SENTINEL = "__loaded__"  # cache.progress.SENTINEL: marks a loaded read set
MAX_FAILURE_RATIO = 0.001  # the limit run_locust applies too
RUN_START_MARKERS = ("Ramping to",)  # locust's log line when the users start
SERVER_UP_MARKER = "server: http"  # run_locust's line just before it starts locust
REDIS_START_TIMEOUT = 30.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m loadtests.fault_run", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--users", type=int, default=200, help="Concurrent learners (default 200).")
    p.add_argument("--spawn-rate", type=float, default=50, help="Users started per second.")
    p.add_argument("--run-time", type=int, default=60, help="Duration in seconds (default 60).")
    p.add_argument(
        "--restart-at", type=float, default=30, help="Seconds into the run (default 30)."
    )
    p.add_argument("--down", type=float, default=2.0, help="Seconds Redis stays down (2).")
    p.add_argument(
        "--kill", action="store_true", help="Stop Redis with SIGKILL instead of SIGTERM."
    )
    p.add_argument("--workers", type=int, default=2, help="Server workers (default 2).")
    p.add_argument("--history", type=int, default=0, help="Reads seeded per student first.")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("FAULTLOAD_DATA_DIR", "./.lumetrix-fault")),
        help="Embedded database of the run (default ./.lumetrix-fault).",
    )
    p.add_argument("--results", type=Path, default=RESULTS, help="Parent of the run's folder.")
    args = p.parse_args(argv)
    if args.users < 1 or args.workers < 1 or args.history < 0 or args.run_time < 1:
        p.error("--users, --workers and --run-time must be >= 1, --history >= 0")
    if not 0 < args.restart_at < args.run_time:
        p.error("--restart-at must lie inside the run (0 < restart-at < run-time)")
    if args.down < 0:
        p.error("--down must be >= 0")
    return args


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# -- redis-server ---------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` child on a fixed loopback port with AOF persistence in ``directory``."""

    def __init__(self, port: int, directory: Path, logfile: Path) -> None:
        self.port = port
        self.directory = directory
        self.logfile = logfile
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        """The URL the service is given (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> float:
        """Start the server and wait until it answers PING; seconds that took."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        started = time.monotonic()
        cmd = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--dir", str(self.directory), "--logfile", str(self.logfile),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self.starts += 1
        self._wait_ready(started + REDIS_START_TIMEOUT)
        return time.monotonic() - started

    def _wait_ready(self, deadline: float) -> None:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with {self.proc.returncode}; see {self.logfile}"
                    )
                try:
                    if client.ping():  # also fails while the AOF is still loading
                        return
                except (redis.RedisError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer in time; see {self.logfile}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Send ``sig`` to the server we started and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the fault and the load -------------------------------------------------------------------


@dataclass
class Timeline:
    """When things happened, in seconds since the run (locust's users) started."""

    run_started: float | None = None  # monotonic clock
    start_source: str = ""
    stopped_at: float | None = None
    back_at: float | None = None
    signal_name: str = ""
    error: str = ""

    def rel(self, moment: float | None) -> str:
        """``moment`` as seconds into the run."""
        if moment is None or self.run_started is None:
            return "-"
        return f"{moment - self.run_started:.1f}s"


@dataclass
class FaultInjector:
    """Restarts Redis ``restart_at`` seconds after ``started`` is set."""

    redis_server: RedisServer
    restart_at: float
    down: float
    sig: signal.Signals
    timeline: Timeline
    started: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)

    def mark_start(self, source: str) -> None:
        """The run has started (first call wins)."""
        if not self.started.is_set():
            self.timeline.run_started = time.monotonic()
            self.timeline.start_source = source
            self.started.set()

    def run(self) -> None:
        """Thread body: wait for the run, stop Redis, wait ``down`` seconds, start it again."""
        while not self.started.wait(0.2):
            if self.cancel.is_set():
                return
        assert self.timeline.run_started is not None
        remaining = self.timeline.run_started + self.restart_at - time.monotonic()
        if self.cancel.wait(max(remaining, 0)):
            return
        try:
            print(f"\n*** fault: {self.sig.name} to redis-server", flush=True)
            self.redis_server.stop(self.sig)
            self.timeline.stopped_at = time.monotonic()
            self.timeline.signal_name = self.sig.name
            self.cancel.wait(self.down)  # start it again even when cancelled: we stop it later
            self.redis_server.start()
            self.timeline.back_at = time.monotonic()
            print(
                f"*** fault: redis-server back after "
                f"{self.timeline.back_at - self.timeline.stopped_at:.1f}s",
                flush=True,
            )
        except (RuntimeError, OSError) as exc:
            self.timeline.error = str(exc)
            print(f"*** fault: {exc}", file=sys.stderr, flush=True)


def pump_output(stream: IO[str], injector: FaultInjector) -> None:
    """Echo run_locust's (and locust's) output; spot the moment the users start."""
    for line in stream:
        sys.stdout.write(line)
        sys.stdout.flush()
        if any(marker in line for marker in RUN_START_MARKERS):
            injector.mark_start("locust ramp-up")
    stream.close()


def run_load(
    args: argparse.Namespace, out_dir: Path, env: dict[str, str], injector: FaultInjector
) -> int:
    """``python -m loadtests.run_locust`` to completion, with the fault thread armed."""
    cmd = [
        sys.executable, "-m", "loadtests.run_locust",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{args.run_time}s", "--workers", str(args.workers),
        "--history", str(args.history), "--data-dir", str(args.data_dir),
        "--results", str(out_dir),
    ]  # fmt: skip
    fault = threading.Thread(target=injector.run, name="fault", daemon=True)
    fault.start()
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    pump = threading.Thread(target=pump_output, args=(proc.stdout, injector), daemon=True)
    pump.start()
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)  # a terminal Ctrl-C reached it already; this is fine
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    finally:
        injector.cancel.set()
        pump.join(5)
        fault.join(REDIS_START_TIMEOUT + args.down + 5)
    return code


# -- the audit ------------------------------------------------------------------------------


@dataclass
class Check:
    """Expected vs found; ``slack`` allows for mark-reads whose outcome nobody saw."""

    name: str
    expected: int
    found: int
    slack: int = 0

    @property
    def ok(self) -> bool:
        """Whether ``found`` is what the responses imply (plus at most ``slack``)."""
        return self.expected <= self.found <= self.expected + self.slack


@dataclass
class SetSweep:
    """What the Redis read sets of the run's students looked like after the run."""

    epoch: float | None = None
    keys: int = 0  # read-set keys found
    unloaded: int = 0  # keys without the sentinel (not counted as loaded)
    fresh: int = 0  # sentinel newer than the epoch: must equal MongoDB
    pre_epoch: int = 0  # loaded before the last epoch bump: stale by definition
    pre_epoch_differing: int = 0  # ... of which differ from MongoDB (expected after a fault)
    stale: int = 0  # fresh and different from MongoDB: a bug
    score_mismatches: int = 0  # fresh sets whose scores differ from MongoDB's read_at
    examples: list[dict[str, Any]] = field(default_factory=list)


def load_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def the_file(out_dir: Path, suffix: str) -> Path:
    """The one ``*<suffix>`` file run_locust wrote into ``out_dir``."""
    found = sorted(out_dir.glob(f"*{suffix}"))
    if not found:
        raise RuntimeError(f"run_locust wrote no *{suffix} into {out_dir}")
    return found[-1]


def audit_mongo(
    url: str, counts: dict[str, Any]
) -> tuple[list[Check], dict[str, dict[str, dict[str, int]]], int]:
    """The checks; MongoDB's sample ids (with read_at ms) per student and language; how many
    students' own numbers differ from their responses."""
    from pymongo import MongoClient

    from app.db import PROGRESS, SAMPLES, STATS
    from app.settings import Settings

    students = list(counts["students"])
    history = counts.get("history") or {}
    hist_reads, hist_points = int(history.get("reads", 0)), int(history.get("points", 0))
    m = counts["mark_read"]
    unknown = int(m["failed"]) + int(m["unconfirmed"]) + int(counts.get("still_in_flight", 0))

    client: MongoClient[dict[str, Any]] = MongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=10_000
    )
    try:
        db = client[Settings().mongodb_db]
        top = db[SAMPLES].find_one({}, {"read_points": 1}, sort=[("read_points", -1)])
        max_points = max(int((top or {}).get("read_points", 1)), 1)
        ids: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        docs = revisited = doc_points = 0
        per_student: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # docs, pts, visits
        projection = {
            "_id": 0, "sidhi_id": 1, "sample_id": 1, "language": 1, "read_at": 1,
            "revisited_count": 1, "points_awarded": 1,
        }  # fmt: skip
        for doc in db[PROGRESS].find({"sidhi_id": {"$in": students}}, projection):
            docs += 1
            revisited += int(doc.get("revisited_count", 0))
            doc_points += int(doc.get("points_awarded", 0))
            read_at = doc.get("read_at")
            ms = round(read_at.timestamp() * 1000) if read_at is not None else -1
            ids[doc["sidhi_id"]][str(doc.get("language"))][doc["sample_id"]] = ms
            per_student[doc["sidhi_id"]][0] += 1
            per_student[doc["sidhi_id"]][2] += int(doc.get("revisited_count", 0))
        points = 0
        for stats in db[STATS].find({"_id": {"$in": students}}, {"total_points": 1}):
            points += int(stats.get("total_points", 0))
            per_student[stats["_id"]][1] = int(stats.get("total_points", 0))
    finally:
        client.close()

    first, awarded = int(counts["first_reads"]), int(counts["points_awarded"])
    revisits = int(m["revisits"])
    checks = [
        Check("progress documents created", first, docs - hist_reads, unknown),
        Check("student_stats.total_points", hist_points + awarded, points, unknown * max_points),
        Check("sum(points_awarded) in progress", hist_points + awarded, doc_points,
              unknown * max_points),
        Check("sum(revisited_count)", hist_reads + first + revisits, revisited, unknown),
    ]  # fmt: skip
    return checks, ids, differing_students(counts, per_student)


def differing_students(counts: dict[str, Any], found: dict[str, list[int]]) -> int:
    """Students whose documents, points or visits differ from their own responses.

    ``found`` is student → [documents, total_points, sum(revisited_count)]. With seeded
    history only the totals per student are known when every student got all its reads, and
    the points then are not checked per student.
    """
    history = counts.get("history") or {}
    hist_reads = int(history.get("reads", 0))
    each = int(history.get("reads_per_student", 0)) if hist_reads else 0
    if hist_reads != each * len(counts["students"]):
        return 0  # some language had fewer samples than --history: nothing exact to compare
    odd = 0
    for student in counts["students"]:
        mine = counts.get("per_student", {}).get(student, {})
        first, pts = int(mine.get("first_reads", 0)), int(mine.get("points", 0))
        visits = first + int(mine.get("revisits", 0))
        docs, total_points, revisited = found.get(student, [0, 0, 0])
        if docs != each + first or revisited != each + visits or (not each and total_points != pts):
            odd += 1
    return odd


def sweep_sets(
    redis_url: str, students: dict[str, str], mongo_ids: dict[str, dict[str, dict[str, int]]]
) -> SetSweep:
    """Compare every loaded read set of the run's students with MongoDB."""
    import redis

    from app.settings import Settings

    prefix = Settings().redis_prefix
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=10)
    sweep = SetSweep()
    try:
        raw_epoch = client.get(f"{prefix}progress-epoch")
        sweep.epoch = float(raw_epoch) if raw_epoch is not None else None
        pairs = [(s, lang) for s in students for lang in LANGUAGES]
        pipe = client.pipeline(transaction=False)
        for student, lang in pairs:
            pipe.zrange(f"{prefix}progress:{{{student}}}:{lang}", 0, -1, withscores=True)
        results = pipe.execute()
    finally:
        client.close()
    for (student, lang), members in zip(pairs, results, strict=True):
        if not members:
            continue
        sweep.keys += 1
        found = {str(k): float(v) for k, v in members}
        sentinel = found.pop(SENTINEL, None)
        if sentinel is None:
            sweep.unloaded += 1
            continue
        truth = mongo_ids.get(student, {}).get(lang, {})
        differs = set(found) != set(truth)
        if sweep.epoch is not None and sentinel <= sweep.epoch:
            sweep.pre_epoch += 1
            sweep.pre_epoch_differing += differs
            continue
        sweep.fresh += 1
        if differs:
            sweep.stale += 1
            if len(sweep.examples) < 5:
                sweep.examples.append(
                    {
                        "key": f"{prefix}progress:{{{student}}}:{lang}",
                        "sentinel": sentinel,
                        "epoch": sweep.epoch,
                        "missing_in_redis": sorted(set(truth) - set(found))[:10],
                        "extra_in_redis": sorted(set(found) - set(truth))[:10],
                        "missing_read_at_ms": sorted(truth[s] for s in set(truth) - set(found))[
                            :10
                        ],
                    }
                )
        elif any(int(found[s]) != truth[s] for s in found):
            sweep.score_mismatches += 1
    return sweep


# -- report ---------------------------------------------------------------------------------


def count_lines(path: Path | None, needle: str) -> int:
    """Lines of ``path`` containing ``needle`` (0 when there is no file)."""
    if path is None or not path.exists():
        return 0
    with open(path, errors="replace") as fh:
        return sum(needle in line for line in fh)


def print_report(
    counts: dict[str, Any],
    stats: dict[str, Any],
    checks: list[Check],
    sweep: SetSweep,
    timeline: Timeline,
    server_log: Path | None,
) -> list[str]:
    """The table; the list of problems (empty: the run passed)."""
    problems: list[str] = []
    m, total = counts["mark_read"], stats["total"]
    requests, failures = int(total["requests"]), int(total["failures"])
    ratio = failures / requests if requests else 1.0
    history = counts.get("history") or {}
    print("\n=== load with a fault ===")
    if timeline.stopped_at is not None:
        print(
            f"redis-server: {timeline.signal_name} at {timeline.rel(timeline.stopped_at)}, "
            f"back at {timeline.rel(timeline.back_at)} (run start: {timeline.start_source})"
        )
    trips = count_lines(server_log, "redis unavailable")
    backs = count_lines(server_log, "redis is back")
    print(f"server log: {trips} 'redis unavailable', {backs} 'redis is back'")
    if not trips:
        print("warning: the service never noticed the outage (no 'redis unavailable' logged)")
    w = 34
    print(f"\n{'responses':<{w}} {'count':>10}")
    print("-" * (w + 11))
    for name, value in (
        ("requests (all endpoints)", requests),
        ("failures (all endpoints)", failures),
        ("mark-read sent", m["requests"]),
        ("  first reads", m["first_reads"]),
        ("  revisits", m["revisits"]),
        ("  429 rate-limited", m["rate_limited"]),
        ("  failed (non-2xx)", m["failed"]),
        ("  unconfirmed / still in flight",
         f"{m['unconfirmed']} / {counts.get('still_in_flight', 0)}"),
        ("points awarded (responses)", counts["points_awarded"]),
        ("history seeded (reads / points)",
         f"{history.get('reads', 0)} / {history.get('points', 0)}"),
    ):  # fmt: skip
        print(f"{name:<{w}} {value!s:>10}")
    print(f"failure ratio {ratio:.4%} (limit {MAX_FAILURE_RATIO:.1%})")
    if ratio > MAX_FAILURE_RATIO:
        problems.append(f"failure ratio {ratio:.4%} > {MAX_FAILURE_RATIO:.1%}")

    print(f"\n{'MongoDB (run students)':<{w}} {'expected':>10} {'found':>10} {'slack':>6}  ok")
    print("-" * (w + 34))
    for c in checks:
        print(
            f"{c.name:<{w}} {c.expected:>10} {c.found:>10} {c.slack:>6}  {'yes' if c.ok else 'NO'}"
        )
        if not c.ok:
            problems.append(f"{c.name}: expected {c.expected} (+{c.slack}), found {c.found}")

    print(f"\n{'Redis read sets (run students)':<{w}} {'count':>10}")
    print("-" * (w + 11))
    for name, value in (
        ("keys", sweep.keys),
        ("  loaded after the epoch (checked)", sweep.fresh),
        ("  loaded before the epoch", sweep.pre_epoch),
        ("    of which differ (expected)", sweep.pre_epoch_differing),
        ("  without sentinel", sweep.unloaded),
        ("stale sets found", sweep.stale),
        ("fresh sets with other scores", sweep.score_mismatches),
    ):
        print(f"{name:<{w}} {value:>10}")
    print(f"epoch: {sweep.epoch if sweep.epoch is not None else 'never bumped'}")
    for example in sweep.examples:
        print(f"  stale: {json.dumps(example)}")
    if sweep.stale:
        problems.append(f"{sweep.stale} read set(s) loaded after the epoch differ from MongoDB")
    if timeline.stopped_at is None or timeline.back_at is None:
        problems.append(f"the fault was not injected as planned {timeline.error}".strip())
    return problems


def main(argv: list[str] | None = None) -> int:
    """Start Redis and the database, run the load with the fault, audit; the exit code."""
    from app.embedded import EmbeddedMongo, free_port

    args = parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    tag = time.strftime("%Y%m%d-%H%M%S")
    out_dir = (args.results / f"fault-{tag}").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    redis_dir = Path(tempfile.mkdtemp(prefix="lumetrix-fault-redis-"))
    redis_server = RedisServer(free_port(), redis_dir, out_dir / "redis.log")
    timeline = Timeline()
    sig = signal.SIGKILL if args.kill else signal.SIGTERM
    injector = FaultInjector(redis_server, args.restart_at, args.down, sig, timeline)
    embedded: EmbeddedMongo | None = None
    signal.signal(signal.SIGTERM, _on_sigterm)
    run_id = f"F{tag.replace('-', '')[4:]}"
    try:
        redis_server.start()
        print(f"redis-server: {redis_server.url} (AOF in {redis_dir}, log {redis_server.logfile})")
        mongo_url = os.environ.get("MONGODB_URL")
        if not mongo_url:
            embedded = EmbeddedMongo(args.data_dir)
            mongo_url = embedded.start()
            print(f"embedded database: {mongo_url} (data {args.data_dir / 'db'})", flush=True)
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis_server.url,
            MONGODB_URL=mongo_url,
            LOADTEST_RUN_ID=run_id,
            PYTHONUNBUFFERED="1",
        )
        print(
            f"fault run {run_id}: {args.users} users, {args.run_time}s, {args.workers} workers, "
            f"redis {sig.name} at {args.restart_at:g}s for {args.down:g}s; results {out_dir}",
            flush=True,
        )
        code = run_load(args, out_dir, env, injector)
        print(f"\nrun_locust exited with {code}")
        counts = load_json(the_file(out_dir, "-counts.json"))
        stats = load_json(the_file(out_dir, "-stats.json"))
        logs = sorted(out_dir.glob("*-server.log"))
        checks, mongo_ids, odd_students = audit_mongo(mongo_url, counts)
        sweep = sweep_sets(redis_server.url, counts["students"], mongo_ids)
        problems = print_report(counts, stats, checks, sweep, timeline, logs[-1] if logs else None)
        m = counts["mark_read"]
        unknown = int(m["failed"]) + int(m["unconfirmed"]) + int(counts.get("still_in_flight", 0))
        print(f"students whose own numbers differ from their responses: {odd_students}")
        if odd_students and not unknown:
            problems.append(f"{odd_students} student(s) differ from their own responses")
        if code not in (0, 1):
            problems.append(f"run_locust exited with {code}")
        report = {
            "run_id": run_id,
            "args": {k: str(v) for k, v in vars(args).items()},
            "timeline": {
                "start_source": timeline.start_source,
                "stopped_at": timeline.rel(timeline.stopped_at),
                "back_at": timeline.rel(timeline.back_at),
                "signal": timeline.signal_name,
            },
            "checks": [asdict(c) | {"ok": c.ok} for c in checks],
            "sweep": asdict(sweep),
            "students_differing": odd_students,
            "problems": problems,
        }
        (out_dir / "fault-report.json").write_text(json.dumps(report, indent=1))
    except KeyboardInterrupt:
        print("\ninterrupted; everything started was stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        injector.cancel.set()
        redis_server.stop()
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(redis_dir, ignore_errors=True)
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nPASSED: MongoDB matches the responses and no fresh read set is stale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
