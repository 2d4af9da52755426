"""Run the locust load test headless and print a per-endpoint summary.

Without ``--host`` it starts everything itself: the embedded database (unless
``MONGODB_URL`` is set) under ``--data-dir``, seeded with the demo data and migrated when
empty, and ``lumetrix serve`` on a free port (``REDIS_URL`` is passed through; only then
may ``--workers`` exceed 1). Everything it started is stopped at the end, also on Ctrl-C.

Results (CSV, HTML, mark-read counts, server log) go to ``loadtests/results/``. The exit
code is 1 when more than 0.1% of the requests failed (or the run broke), else 0.

Run: ``python -m loadtests.run_locust --users 200 --run-time 60s [--history 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
RESULTS = Path(__file__).resolve().parent / "results"
MAX_FAILURE_RATIO = 0.001
HEALTH_TIMEOUT = 180.0
STOP_TIMEOUT = 30  # seconds locust lets users finish their current task at the end


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m loadtests.run_locust", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--users", type=int, default=200, help="Concurrent learners (default 200).")
    p.add_argument("--spawn-rate", type=float, default=50, help="Users started per second.")
    p.add_argument("--run-time", default="60s", help="Duration, e.g. 60s, 5m (default 60s).")
    p.add_argument("--history", type=int, default=0, help="Reads seeded per student first.")
    p.add_argument(
        "--workers", type=int, default=1, help="Server workers (more than 1 needs REDIS_URL)."
    )
    p.add_argument("--host", help="Test this running server instead of starting one.")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("LOADTEST_DATA_DIR", "./.lumetrix-load")),
        help="Embedded database of the started server (default ./.lumetrix-load).",
    )
    p.add_argument("--results", type=Path, default=RESULTS, help="Where the results go.")
    args = p.parse_args(argv)
    if args.users < 1 or args.history < 0 or args.workers < 1:
        p.error("--users and --workers must be >= 1, --history >= 0")
    multi_ok = bool(os.environ.get("REDIS_URL")) or os.environ.get("LUMETRIX_CACHE") == "off"
    if args.host is None and args.workers > 1 and not multi_ok:
        p.error("--workers > 1 needs REDIS_URL (fakeredis lives inside one process)")
    return args


# -- database preparation (also the child process that seeds reading history) ----------


async def prepare_database(url: str) -> str:
    """Seed the demo catalog when empty and migrate it (as ``lumetrix dev`` does)."""
    from app.resources import open_resources
    from app.seed import catalog_is_empty, seed_demo
    from app.settings import Settings
    from migrations.add_language_to_samples import migrate

    settings = Settings().model_copy(update={"mongodb_url": url})
    async with open_resources(settings, indexes=False) as res:
        db = res.db
        seeded = ""
        if await catalog_is_empty(db):
            report = await seed_demo(db, show_progress=False)
            seeded = f"seeded {report.inserted} demo samples; "
        migration = await migrate(db, fallback_language=None)
        return f"{seeded}migration: {migration.modified} modified"


async def seed_histories(students: dict[str, str], reads: int) -> dict[str, Any]:
    """``seed_history`` for every student; totals of what the students now have."""
    from app.db import PROGRESS
    from app.resources import open_resources
    from app.settings import Settings
    from loadtests.history import seed_history

    async with open_resources(Settings(), indexes=False) as res:
        db = res.db
        gate = asyncio.Semaphore(8)

        async def one(student: str, language: str) -> int:
            async with gate:
                return await seed_history(db, student=student, language=language, reads=reads)

        await asyncio.gather(*(one(s, lang) for s, lang in students.items()))
        pipeline: list[dict[str, Any]] = [
            {"$match": {"sidhi_id": {"$in": list(students)}}},
            {"$group": {"_id": None, "reads": {"$sum": 1}, "points": {"$sum": "$points_awarded"}}},
        ]
        rows = await (await db[PROGRESS].aggregate(pipeline)).to_list(None)
    total = rows[0] if rows else {"reads": 0, "points": 0}
    return {
        "reads_per_student": reads,
        "students": len(students),
        "reads": int(total["reads"]),
        "points": int(total["points"]),
    }


def seed_history_stdin() -> int:
    """Child-process entry of the locustfile: JSON job on stdin, JSON totals on stdout."""
    job = json.load(sys.stdin)
    result = asyncio.run(seed_histories(dict(job["students"]), int(job["reads"])))
    print(json.dumps(result))
    return 0


# -- processes ----------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def wait_for_health(base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Block until ``base/health`` answers 200; fail if the server exits or never does."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
        with suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"{base}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.25)
    raise RuntimeError(f"server did not become healthy in {HEALTH_TIMEOUT:.0f}s; see {log_path}")


def stop_process(proc: subprocess.Popen[bytes], *, timeout: float = 20.0) -> None:
    """SIGTERM a child started in its own session, then SIGKILL its group if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def server(args: argparse.Namespace, tag: str, env: dict[str, str]) -> Iterator[str]:
    """A started server's base URL (database too, unless MONGODB_URL); stopped on exit."""
    from app.embedded import EmbeddedMongo, free_port

    embedded: EmbeddedMongo | None = None
    proc: subprocess.Popen[bytes] | None = None
    data_dir = args.data_dir.resolve()
    try:
        url = env.get("MONGODB_URL")
        if not url:
            embedded = EmbeddedMongo(data_dir)
            url = embedded.start()
            print(f"embedded database: {url} (data {data_dir / 'db'})", flush=True)
            env["MONGODB_URL"] = url
        env["DATA_DIR"] = str(data_dir)
        print(asyncio.run(prepare_database(url)), flush=True)
        port = free_port()
        log_path = args.results / f"{tag}-server.log"
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers)],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop it in order
            )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_for_health(base, proc, log_path)
        print(f"server: {base}, {args.workers} worker(s), log {log_path}", flush=True)
        yield base
    finally:
        if proc is not None:
            stop_process(proc)
        if embedded is not None:
            embedded.stop()


def run_locust(args: argparse.Namespace, host: str, prefix: Path, env: dict[str, str]) -> int:
    """Run locust headless to completion; its exit code."""
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", host, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", args.run_time, "--stop-timeout", str(STOP_TIMEOUT),
        "--csv", str(prefix), "--html", f"{prefix}.html", "--only-summary",
        "--history", str(args.history), "--run-id", env["LOADTEST_RUN_ID"],
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # A terminal Ctrl-C reached locust too; a SIGTERM to us did not.
        with suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT + 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


# -- summary --------------------------------------------------------------------------


@dataclass
class Row:
    """One endpoint's (or the total's) numbers; latencies in ms."""

    name: str
    requests: int
    failures: int
    rps: float
    p50: int
    p95: int
    p99: int


def read_report(path: Path) -> tuple[list[Row], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows (total last), failures and exceptions from the locustfile's final stats JSON."""
    data = json.loads(path.read_text())

    def row(e: dict[str, Any], name: str) -> Row:
        return Row(name, e["requests"], e["failures"], e["rps"], e["p50"], e["p95"], e["p99"])

    rows = [row(e, f"{e['method']} {e['name']}") for e in data["endpoints"]]
    rows.append(row(data["total"], "TOTAL"))
    return rows, data["failures"], data["exceptions"]


def read_csv_report(prefix: Path) -> tuple[list[Row], list[dict[str, Any]], list[dict[str, Any]]]:
    """The same from locust's CSV files (written every second: may miss the last moments)."""
    rows = []
    for r in read_csv(Path(f"{prefix}_stats.csv")):
        total = r["Name"] == "Aggregated"
        rows.append(
            Row(
                name="TOTAL" if total else f"{r['Type']} {r['Name']}",
                requests=int(r["Request Count"]),
                failures=int(r["Failure Count"]),
                rps=float(r["Requests/s"]),
                p50=int(float(r["50%"])) if r["50%"] != "N/A" else 0,
                p95=int(float(r["95%"])) if r["95%"] != "N/A" else 0,
                p99=int(float(r["99%"])) if r["99%"] != "N/A" else 0,
            )
        )
    failures = [
        {"method": f["Method"], "name": f["Name"], "error": f["Error"],
         "occurrences": int(f["Occurrences"])}
        for f in read_csv(Path(f"{prefix}_failures.csv"))
    ]  # fmt: skip
    exceptions = [
        {"count": e["Count"], "message": e["Message"], "traceback": e["Traceback"]}
        for e in read_csv(Path(f"{prefix}_exceptions.csv"))
    ]
    return rows, failures, exceptions


def read_csv(path: Path) -> list[dict[str, str]]:
    """All rows of a CSV file (none when it is missing)."""
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def print_summary(rows: list[Row], counts: dict[str, Any] | None) -> None:
    """The per-endpoint table, totals and the mark-read counts."""
    width = max([len(r.name) for r in rows] + [30])
    head = f"{'endpoint':<{width}} {'requests':>9} {'RPS':>8} {'p50':>6} {'p95':>6} {'p99':>6}"
    print(f"\n{head} {'failures':>9}")
    print("-" * (len(head) + 10))
    for r in rows:
        if r.name == "TOTAL":
            print("-" * (len(head) + 10))
        print(
            f"{r.name:<{width}} {r.requests:>9} {r.rps:>8.1f} {r.p50:>6} {r.p95:>6} {r.p99:>6}"
            f" {r.failures:>9}"
        )
    print("(latencies in ms)")
    if counts:
        m = counts["mark_read"]
        print(
            f"\nmark-read: {m['requests']} sent, {counts['first_reads']} first reads, "
            f"{counts['points_awarded']} points awarded, {m['revisits']} revisits, "
            f"{m['rate_limited']} rate-limited (429), {m['failed']} failed, "
            f"{m['unconfirmed']} unconfirmed, {counts.get('still_in_flight', 0)} still in flight"
        )
        if counts.get("history"):
            h = counts["history"]
            print(
                f"history:   {h['reads_per_student']} reads x {h['students']} students seeded "
                f"in {h.get('seconds', '?')}s ({h['reads']} reads, {h['points']} points)"
            )


def summarize(prefix: Path, locust_code: int) -> int:
    """Print the summary; the exit code of the whole run."""
    stats_path, counts_path = Path(f"{prefix}-stats.json"), Path(f"{prefix}-counts.json")
    if stats_path.exists():
        rows, failures, exceptions = read_report(stats_path)
    elif Path(f"{prefix}_stats.csv").exists():
        rows, failures, exceptions = read_csv_report(prefix)
    else:
        print(f"locust wrote no stats (exit code {locust_code})", file=sys.stderr)
        return locust_code or 1
    counts = json.loads(counts_path.read_text()) if counts_path.exists() else None
    print_summary(rows, counts)
    if failures:
        print("\nfailures:")
        for f in sorted(failures, key=lambda f: -int(f["occurrences"])):
            print(f"  {f['occurrences']:>6} x {f['method']} {f['name']}: {f['error']}")
    for e in exceptions:
        print(f"\nlocustfile exception ({e['count']} x): {e['message']}\n{e['traceback']}")
    total = next((r for r in rows if r.name == "TOTAL"), None)
    requests, failed = (total.requests, total.failures) if total else (0, 0)
    ratio = failed / requests if requests else 1.0
    print(
        f"\nfailure ratio {ratio:.4%} (limit {MAX_FAILURE_RATIO:.1%}); "
        f"results: {prefix}_*.csv, {prefix}.html, {counts_path.name}"
    )
    if locust_code not in (0, 1):  # 1 only says "some request failed": judged above
        print(f"locust exited with {locust_code}", file=sys.stderr)
        return locust_code
    return 1 if ratio > MAX_FAILURE_RATIO or exceptions else 0


def main(argv: list[str] | None = None) -> int:
    """Start what is needed, run locust, print the summary; the exit code."""
    if (argv if argv is not None else sys.argv[1:]) == ["--seed-history-stdin"]:
        return seed_history_stdin()
    args = parse_args(argv)
    args.results = args.results.resolve()
    args.results.mkdir(parents=True, exist_ok=True)
    tag = time.strftime("%Y%m%d-%H%M%S")
    prefix = args.results / tag
    env = dict(os.environ)
    env["LOADTEST_COUNTS"] = f"{prefix}-counts.json"
    env["LOADTEST_STATS"] = f"{prefix}-stats.json"
    env["LOADTEST_RUN_ID"] = env.get("LOADTEST_RUN_ID") or tag.replace("-", "")[4:]
    signal.signal(signal.SIGTERM, _on_sigterm)
    print(
        f"load test {env['LOADTEST_RUN_ID']}: {args.users} users (+{args.spawn_rate:g}/s), "
        f"{args.run_time}, history {args.history}",
        flush=True,
    )
    try:
        if args.host:
            code = run_locust(args, args.host.rstrip("/"), prefix, env)
        else:
            with server(args, tag, env) as base:
                code = run_locust(args, base, prefix, env)
    except KeyboardInterrupt:
        print("\ninterrupted; everything started was stopped", file=sys.stderr)
        if Path(f"{prefix}-stats.json").exists():
            summarize(prefix, 0)  # what the run got through
        return 130
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return summarize(prefix, code)


if __name__ == "__main__":
    sys.exit(main())
