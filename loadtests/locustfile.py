"""Locust load test of the training API: every virtual user is one learner.

Each user is a distinct student ``LOAD_<run id>_<n>`` with its own token, client id
(``web`` or ``mobile``) and language, all derived from the student id so they are
reproducible. Users browse filtered pages, open samples they saw, mark them read, look at
chapters and progress, search and ask for a random unread sample.

Custom options (besides locust's own): ``--history N`` gives every student of the run N
reads up front (``loadtests.history.seed_history``, run in a child process before the first user
starts), ``--jwt-secret`` and ``--run-id``. At the end of the run the mark-read outcomes
(first reads, points, per student) are written as JSON to ``$LOADTEST_COUNTS`` and the final
per-endpoint stats to ``$LOADTEST_STATS``. Only local (non-distributed) runs keep exact counts.

Run: ``locust -f loadtests/locustfile.py --host http://127.0.0.1:8000`` or, with a server
started for you and a summary, ``python -m loadtests.run_locust``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import secrets
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import StatsEntry, StatsError

from app.auth import STUDENT_ID, mint_token
from app.settings import DEV_JWT_SECRET

log = logging.getLogger("loadtest")

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("c", "cpp", "python")
CLIENT_IDS = ("web", "mobile")
TYPES = ("program", "mcq", "theory", "debug")
DIFFICULTIES = ("easy", "medium", "hard")
PAGE_LIMIT = 20
MAX_BROWSE_PAGE = 10
# Words that occur in the demo questions and answers of each language.
SEARCH_WORDS: dict[str, tuple[str, ...]] = {
    "c": ("pointer", "loop", "array", "printf", "string", "function", "struct", "malloc"),
    "cpp": ("pointer", "loop", "class", "array", "string", "function", "vector", "template"),
    "python": ("loop", "class", "string", "function", "list", "dict", "file", "print"),
}
FALLBACK_CHAPTERS: dict[str, list[int]] = {
    "c": list(range(1, 11)),
    "cpp": list(range(1, 13)),
    "python": list(range(1, 9)),
}


def new_run_id() -> str:
    """A short id that keeps this run's students apart from every other run's."""
    return f"{time.strftime('%m%d%H%M%S')}{secrets.token_hex(2)}"


def student_id(run_id: str, index: int) -> str:
    """The deterministic id of the run's ``index``-th student."""
    sid = f"LOAD_{run_id}_{index:05d}"
    if not STUDENT_ID.match(sid):
        raise ValueError(f"--run-id gives an invalid student id: {sid!r}")
    return sid


def profile(student: str) -> tuple[str, str]:
    """The (language, client id) of a student, derived from its id."""
    rng = random.Random(student)
    return rng.choice(LANGUAGES), rng.choice(CLIENT_IDS)


@dataclass
class StudentCounts:
    """Mark-read outcomes of one student."""

    first_reads: int = 0
    points: int = 0
    revisits: int = 0


@dataclass
class MarkReadCounts:
    """Mark-read outcomes of the whole run (greenlets switch only on I/O: no lock needed)."""

    requests: int = 0
    first_reads: int = 0
    points_awarded: int = 0
    revisits: int = 0
    rate_limited: int = 0
    failed: int = 0
    # Sent but never answered (connection error, timeout): the server may have counted them.
    unconfirmed: int = 0
    per_student: dict[str, StudentCounts] = field(default_factory=dict)

    def record_read(self, student: str, first: bool, points: int) -> None:
        """Count one answered mark-read."""
        mine = self.per_student.setdefault(student, StudentCounts())
        if first:
            self.first_reads += 1
            self.points_awarded += points
            mine.first_reads += 1
            mine.points += points
        else:
            self.revisits += 1
            mine.revisits += 1


COUNTS = MarkReadCounts()
IN_FLIGHT: set[gevent.Greenlet] = set()
IN_FLIGHT_GRACE = 30.0  # seconds the end of the run waits for mark-reads still under way
TOTAL_FIELDS = (
    "requests", "first_reads", "points_awarded", "revisits", "rate_limited", "failed",
    "unconfirmed",
)  # fmt: skip
RUN: dict[str, Any] = {"run_id": None, "students": {}, "history": {}, "written": False}
_next_index = itertools.count()


@events.init_command_line_parser.add_listener
def _add_arguments(parser: LocustArgumentParser) -> None:
    """The load test's own options."""
    group = parser.add_argument_group("Lumetrix load test")
    group.add_argument(
        "--history",
        type=int,
        default=0,
        help="Reads seeded per student before the run (bulk path, not the API).",
    )
    group.add_argument(
        "--jwt-secret",
        default=os.environ.get("JWT_SECRET") or DEV_JWT_SECRET,
        help="HS256 key of the server (default: $JWT_SECRET or the development secret).",
    )
    group.add_argument(
        "--run-id",
        default=os.environ.get("LOADTEST_RUN_ID") or new_run_id(),
        help="Students are LOAD_<run-id>_<n> (default: new per run).",
    )


def run_students(environment: Environment) -> dict[str, str]:
    """Student id → language of every student the run will use (``--users`` of them)."""
    opts = environment.parsed_options
    users = int(getattr(opts, "num_users", 0) or 0) if opts else 0
    run_id = str(opts.run_id) if opts else new_run_id()
    return {sid: profile(sid)[0] for sid in (student_id(run_id, n) for n in range(users))}


def seed_histories(students: dict[str, str], reads: int) -> dict[str, Any]:
    """Seed ``reads`` reads per student in a child process (asyncio and gevent do not mix)."""
    job = json.dumps({"students": students, "reads": reads})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.run_locust", "--seed-history-stdin"],
        input=job.encode(),
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding history failed: {done.stderr.decode()[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    """Fix the run's students and seed their history before the run-time clock starts."""
    opts = environment.parsed_options
    if opts is None or isinstance(environment.runner, WorkerRunner):
        return
    RUN["run_id"] = opts.run_id
    RUN["students"] = run_students(environment)
    log.info("run %s: %d students", opts.run_id, len(RUN["students"]))
    if opts.history > 0 and RUN["students"]:
        log.info("seeding %d reads for each of %d students", opts.history, len(RUN["students"]))
        RUN["history"] = seed_histories(RUN["students"], opts.history)
        log.info("history seeded: %s", RUN["history"])


def _write_json(path: str, payload: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=1))


def counts_report() -> dict[str, Any]:
    """The run's mark-read counts (what MongoDB should now hold for its students)."""
    return {
        "run_id": RUN["run_id"],
        "students": RUN["students"],
        "history": RUN["history"],
        "first_reads": COUNTS.first_reads,
        "points_awarded": COUNTS.points_awarded,
        "mark_read": {name: getattr(COUNTS, name) for name in TOTAL_FIELDS},
        "still_in_flight": len(IN_FLIGHT),
        "per_student": {s: asdict(c) for s, c in sorted(COUNTS.per_student.items())},
    }


def _entry(entry: StatsEntry) -> dict[str, Any]:
    return {
        "method": entry.method or "",
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": round(entry.total_rps, 2),
        **{f"p{p}": entry.get_response_time_percentile(p / 100) for p in (50, 95, 99)},
        "avg": round(entry.avg_response_time, 1),
        "max": round(entry.max_response_time or 0),
    }


def stats_report(environment: Environment) -> dict[str, Any]:
    """Final per-endpoint stats, failures and locustfile exceptions (locust's own numbers)."""
    stats = environment.stats
    runner = environment.runner
    return {
        "endpoints": [_entry(e) for _, e in sorted(stats.entries.items())],
        "total": _entry(stats.total),
        "failures": [
            {
                "method": e.method,
                "name": e.name,
                "error": StatsError.parse_error(e.error),
                "occurrences": e.occurrences,
            }
            for e in stats.errors.values()
        ],
        "exceptions": [
            {"count": e["count"], "message": e["msg"], "traceback": e["traceback"]}
            for e in (runner.exceptions.values() if runner else [])
        ],
    }


def write_reports(environment: Environment) -> None:
    """Write counts to ``$LOADTEST_COUNTS`` and stats to ``$LOADTEST_STATS`` (when set)."""
    if isinstance(environment.runner, WorkerRunner):
        return
    pending = list(IN_FLIGHT)
    if pending:  # mark-reads of users stopped mid-request: let them finish
        gevent.joinall(pending, timeout=IN_FLIGHT_GRACE)
    if path := os.environ.get("LOADTEST_COUNTS"):
        _write_json(path, counts_report())
    if path := os.environ.get("LOADTEST_STATS"):
        _write_json(path, stats_report(environment))
    RUN["written"] = True


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    """Users have stopped (after --stop-timeout): counts and stats are final."""
    write_reports(environment)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    """Last chance to write the reports (a run that never reached test_stop)."""
    if not RUN["written"]:
        write_reports(environment)


def _error_text(status: int, body: str) -> str:
    """A failure message that groups well in locust's failure table."""
    try:
        data = json.loads(body)
        return f"HTTP {status} {data.get('code', '')}: {str(data.get('detail', ''))[:120]}"
    except (ValueError, AttributeError):
        return f"HTTP {status}: {body[:120]}"


class Learner(FastHttpUser):
    """A student working through the catalog of one language."""

    wait_time = between(0.5, 2.5)

    student: str
    language: str
    client_id: str
    headers: dict[str, str]

    def on_start(self) -> None:
        """Become the next student of the run, then load the filter values."""
        opts = self.environment.parsed_options
        run_id = str(opts.run_id) if opts else RUN["run_id"] or new_run_id()
        secret = str(opts.jwt_secret) if opts else DEV_JWT_SECRET
        users = max(int(getattr(opts, "num_users", 0) or 0), 1) if opts else 1
        self.student = student_id(run_id, next(_next_index) % users)
        self.language, self.client_id = profile(self.student)
        token = mint_token(secret, sub=self.student, client_id=self.client_id, ttl=24 * 3600)
        self.headers = {"Authorization": f"Bearer {token}", "X-Client-Id": self.client_id}
        self.rng = random.Random()
        self.seen: deque[str] = deque(maxlen=200)
        self.opened: deque[str] = deque(maxlen=20)
        self.pages: dict[tuple[Any, ...], int] = {}
        self.chapters = FALLBACK_CHAPTERS[self.language]
        data = self._get("/training/filters", "/training/filters", {"language": self.language})
        chapters = (data or {}).get("chapters", {}).get(self.language)
        if chapters:
            self.chapters = [int(c) for c in chapters]

    # -- helpers ------------------------------------------------------------------------

    def _get(self, path: str, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """GET with the student's headers; the JSON body on 2xx, None (a failure) otherwise."""
        url = f"{path}?{urlencode(params)}" if params else path
        with self.client.request(
            "GET", url, name=name, headers=self.headers, catch_response=True
        ) as resp:
            status = resp.status_code or 0
            if 200 <= status < 300:
                try:
                    body: dict[str, Any] = resp.json()
                except ValueError:
                    resp.failure(f"HTTP {status}: response is not JSON")
                    return None
                resp.success()
                return body
            if status == 0:
                resp.failure(f"no response: {resp.error!r}"[:160])
            else:
                resp.failure(_error_text(status, resp.text or ""))
            return None

    def _remember(self, items: Any) -> None:
        """Keep the ids of samples shown to the student."""
        if isinstance(items, list):
            self.seen.extend(s["sample_id"] for s in items if isinstance(s, dict))

    # -- tasks --------------------------------------------------------------------------

    @task(10)
    def browse(self) -> None:
        """A page of samples, sometimes filtered by chapter, type or difficulty."""
        params: dict[str, Any] = {"language": self.language, "limit": PAGE_LIMIT}
        if self.rng.random() < 0.4:
            params["chapter"] = self.rng.choice(self.chapters)
        if self.rng.random() < 0.2:
            params["type"] = self.rng.choice(TYPES)
        if self.rng.random() < 0.2:
            params["difficulty"] = self.rng.choice(DIFFICULTIES)
        key = tuple(sorted(params.items()))
        known = self.pages.get(key)
        params["page"] = self.rng.randint(1, min(known, MAX_BROWSE_PAGE)) if known else 1
        data = self._get("/training/samples", "/training/samples", params)
        if data:
            self.pages[key] = max(int(data.get("pagination", {}).get("total_pages", 1)), 1)
            self._remember(data.get("data"))

    @task(8)
    def open_sample(self) -> None:
        """Open a sample the student saw on a page (recent ones more likely)."""
        if not self.seen:
            self.browse()
            return
        recent = list(self.seen)[-40:]
        sample = self.rng.choice(recent)
        if self._get(f"/training/samples/{sample}", "/training/samples/[id]", {}) is not None:
            self.opened.append(sample)

    @task(5)
    def mark_read(self) -> None:
        """Mark an opened sample read; 429 (rate limit) is fine but is not a read.

        The request runs in a greenlet of its own that stopping the user does not kill, so
        no mark-read is cut off between reaching the server and being counted.
        """
        pool = self.opened or self.seen
        if not pool:
            self.browse()
            return
        sample = self.rng.choice(list(pool))
        COUNTS.requests += 1
        job = gevent.spawn(self._mark_read, sample, self.rng.randint(5, 300))
        IN_FLIGHT.add(job)
        job.link(IN_FLIGHT.discard)
        job.get()  # re-raises the request's exception here, in the user

    def _mark_read(self, sample: str, seconds: int) -> None:
        """POST one mark-read and count its outcome."""
        with self.client.request(
            "POST",
            f"/training/samples/{sample}/mark-read?time_spent={seconds}",
            name="/training/samples/[id]/mark-read",
            headers=self.headers,
            catch_response=True,
        ) as resp:
            status = resp.status_code or 0
            if status == 429:
                resp.success()
                COUNTS.rate_limited += 1
            elif 200 <= status < 300:
                try:
                    body = resp.json()
                    first, points = bool(body["is_first_read"]), int(body["points_awarded"])
                except (ValueError, KeyError, TypeError):
                    resp.failure(f"HTTP {status}: unexpected mark-read body")
                    COUNTS.unconfirmed += 1
                    return
                resp.success()
                COUNTS.record_read(self.student, first, points)
            elif status == 0:
                resp.failure(f"no response: {resp.error!r}"[:160])
                COUNTS.unconfirmed += 1
            else:
                resp.failure(_error_text(status, resp.text or ""))
                COUNTS.failed += 1

    @task(2)
    def chapters_overview(self) -> None:
        """The chapter list with the student's progress."""
        self._get("/training/chapters", "/training/chapters", {"language": self.language})

    @task(2)
    def my_progress(self) -> None:
        """The student's progress overview."""
        self._get("/training/my-progress", "/training/my-progress", {"language": self.language})

    @task(3)
    def search(self) -> None:
        """Search question and answer text for a common word."""
        params = {"language": self.language, "q": self.rng.choice(SEARCH_WORDS[self.language])}
        data = self._get("/training/search", "/training/search", params)
        if data:
            self._remember(data.get("data"))

    @task(2)
    def random_unread(self) -> None:
        """A random sample the student has not read yet."""
        params = {"language": self.language, "unread_only": "true"}
        data = self._get("/training/random", "/training/random", params)
        if data and isinstance(data.get("data"), dict):
            self._remember([data["data"]])
