"""Request ids, structured JSON logs and Prometheus metrics.

One pure-ASGI middleware (cheaper than ``BaseHTTPMiddleware``) gives every request an id
(``X-Request-Id`` when the client sent a sane one, else a new one), echoes it back with the
security headers every answer carries (``app.security_headers``), times
the request into a histogram labelled by route template, and writes one JSON log line.
Headers are never logged, so tokens never reach the logs.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.security_headers import secured
from app.stale import close_mark, open_mark

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
log = logging.getLogger("lumetrix.access")

REQUEST_SECONDS = Histogram(
    "lumetrix_request_seconds",
    "Request latency by route template, method and status class.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
READS = Counter("lumetrix_reads_total", "mark-read calls by kind.", ["kind"])
FIRST_READS = READS.labels("first_read")
REVISITS = READS.labels("revisit")
POINTS = Counter("lumetrix_points_awarded_total", "Points awarded by first reads.")
BATCH_RETRIES = Counter(
    "lumetrix_mark_read_batch_retries_total",
    "mark-read batch transactions retried after a write conflict (two workers' batches "
    "on one student).",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the current request id."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def timestamp(self, created: float, msecs: float) -> str:
        """The line's ``ts``: UTC to the millisecond, each second's prefix rendered once."""
        # The access log formats a line per request: render each second's prefix once.
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON."""
        entry: dict[str, Any] = {
            "ts": self.timestamp(record.created, record.msecs),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _stamp_request_id(record: logging.LogRecord) -> bool:
    record.request_id = REQUEST_ID.get()  # at emit time, inside the request's context
    return True


class JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The service's one log handler: JSON lines on stderr, each with its request id.

    ``access`` writes an access-log line without building a ``LogRecord``: the same line
    ``JsonFormatter`` gives, for 3.2 µs instead of 7.4 (the record machinery was about 2%
    of a cached page's request)."""

    def __init__(self) -> None:
        super().__init__()
        self._json = JsonFormatter()
        self.setFormatter(self._json)
        self.addFilter(_stamp_request_id)
        # Access lines of requests that ended in this turn of the event loop, written
        # together at its end: one write and flush per turn instead of one per request.
        self._pending: list[bytes] = []
        self._due: asyncio.AbstractEventLoop | None = None  # whose turn's end writes them

    def access(self, fields: dict[str, Any]) -> None:
        """Write one access-log line (``fields`` hold the request id): at once outside an
        event loop, else with the other lines of this turn of the loop."""
        now = time.time()
        entry: dict[str, Any] = {
            "ts": self._json.timestamp(now, (now - int(now)) * 1000),
            "level": "info",
            "logger": log.name,
            "msg": "request",
            "request_id": fields["request_id"],
        }
        entry.update(fields)
        self._pending.append(orjson.dumps(entry, default=str))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing would write it later
            self.write_pending()
            return
        # One write per turn of this loop; a loop that ended before its write ran (a test
        # client's, say) does not hold the lines back: the next loop schedules its own.
        if self._due is not loop:
            self._due = loop
            loop.call_soon(self.write_pending)

    def write_pending(self) -> None:
        """Write the access lines not yet written, in order."""
        self._due = None
        if not self._pending:
            return
        lines = b"\n".join(self._pending).decode() + self.terminator
        self._pending.clear()
        with self.lock:  # type: ignore[union-attr]
            self.stream.write(lines)
            self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        """Write a record, after the access lines that came before it."""
        self.write_pending()
        super().emit(record)

    def flush(self) -> None:
        """Write what is pending, then flush the stream (``logging.shutdown`` calls this)."""
        self.write_pending()
        super().flush()


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to stderr as JSON lines."""
    root = logging.getLogger()
    root.handlers[:] = [JsonHandler()]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def write_access_line(fields: dict[str, Any]) -> None:
    """One access-log line: straight to the service's own handler when it is the only place
    the line goes, else through ``logging`` (another handler, as in tests, sees a record)."""
    handlers = logging.root.handlers
    if (
        len(handlers) == 1
        and type(handler := handlers[0]) is JsonHandler
        and len(handler.filters) == 1  # its own request-id stamp, nothing an operator added
        and not log.handlers
        and log.propagate
        and log.isEnabledFor(logging.INFO)
        and handler.level <= logging.INFO
    ):
        handler.access(fields)
    else:
        log.info("request", extra={"fields": fields})


_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNTER = itertools.count()


def _new_id() -> str:
    """A request id unique across processes: a random per-process prefix and a counter
    (a uuid4 per request cost 2% of a cached page)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


# Methods the service answers (or refuses with a 405). Any other token is sent by scanners
# and attackers only: every one would be a new metric series per route, so they share one.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})


def method_label(method: str) -> str:
    """The ``method`` label of a request: its method, or ``OTHER`` for an unusual one."""
    return method if method in _METHODS else "OTHER"


@functools.lru_cache(maxsize=512)
def _timer(route: str, method: str, status: int) -> Any:
    """The latency histogram's child for these labels, bound once (``labels`` takes a
    lock and builds a key on every call)."""
    return REQUEST_SECONDS.labels(route, method, f"{status // 100}xx")


def _stale_headers(as_of: float) -> list[tuple[bytes, bytes]]:
    """How an answer served from unconfirmed copies says so (RFC 7234's stale warning)."""
    when = datetime.fromtimestamp(as_of, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return [(b"warning", b'110 - "Response is Stale"'), (b"x-stale-as-of", when.encode())]


class RequestContext:
    """ASGI middleware: request id in and out, latency metric, one access-log line."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = given if _SANE_ID.match(given) else _new_id()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        mark, mark_token = open_mark()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                message["headers"] = [
                    *headers,
                    (b"x-request-id", request_id.encode()),
                    *secured(headers),
                    *(_stale_headers(mark.as_of) if mark.as_of is not None else ()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            matched = scope.get("route")
            route = getattr(matched, "path", None) or "unmatched"
            _timer(route, method_label(scope["method"]), status).observe(elapsed)
            if self.access_log:
                write_access_line(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    }
                )
            REQUEST_ID.reset(token)
            close_mark(mark_token)


def metrics_payload() -> tuple[bytes, str]:
    """The Prometheus exposition of this process (or of all workers, in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
