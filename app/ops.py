"""Operations routes, without auth: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Literal, TypeVar

from fastapi import APIRouter, Request
from pymongo.errors import PyMongoError
from starlette.responses import PlainTextResponse, Response

from app.deps import Res
from app.errors import error_responses
from app.handles import Resources
from app.observability import metrics_payload
from app.responses import json_response
from app.training import shapes
from app.training.queries import meta
from app.training.router import operation_id

router = APIRouter(tags=["ops"], generate_unique_id_function=operation_id)
T = TypeVar("T")
READY_INTERVAL = 1.0  # seconds between two readiness checks of one worker, at least


class SharedCheck(Generic[T]):
    """``check()`` run at most once at a time and started at most once per ``interval``
    seconds; every caller meanwhile shares the latest run's result. The run is a task of
    its own, so a caller that goes away (a client disconnect) does not cancel it for the
    others."""

    def __init__(self, check: Callable[[], Awaitable[T]], interval: float) -> None:
        self.check = check
        self.interval = interval
        self._task: asyncio.Task[T] | None = None
        self._started = 0.0

    async def __call__(self) -> T:
        """The latest result, from a new run when the last started ``interval`` ago."""
        task, now = self._task, time.monotonic()
        if task is None or (task.done() and now - self._started >= self.interval):
            self._started = now
            task = self._task = asyncio.ensure_future(self.check())
        return await asyncio.shield(task)


@router.get("/health", response_model=shapes.HealthOut, summary="Liveness")
async def health() -> Response:
    """Always 200 while the process serves requests (no dependency is checked)."""
    return json_response({"status": "ok"})


async def readiness(res: Resources) -> tuple[shapes.ReadyOut, bool]:
    """Whether MongoDB and Redis answer now. Ready when MongoDB does (Redis is optional);
    degraded, and still serving, when only cached reads can be answered; else down."""
    try:
        await meta.ping(res.db)
        mongodb_ok = True
    except PyMongoError:
        mongodb_ok = False
    redis_ok = await res.backend.ping()
    status: Literal["ready", "degraded", "unavailable"] = "ready"
    if not mongodb_ok:
        try:
            await res.catalog.version()  # a version known from before: cached reads go on
            status = "degraded"
        except PyMongoError:
            status = "unavailable"
    body: shapes.ReadyOut = {
        "status": status,
        "mongodb": "ok" if mongodb_ok else "down",
        "redis": "ok" if redis_ok else "down",
    }
    return body, status != "unavailable"


@router.get(
    "/ready",
    response_model=shapes.ReadyOut,
    responses=error_responses(503),
    summary="Readiness of MongoDB and Redis",
)
async def ready(request: Request, res: Res) -> Response:
    """200 when MongoDB answers (``ready``), or when it does not but cached reads are still
    served, marked stale (``degraded``); 503 when neither. Says which dependency is down.
    Checked at most once a second per worker, the answer shared by every caller meanwhile:
    a flood of probes must not become a flood of pings that slows everyone else."""
    state = request.app.state
    shared = getattr(state, "readiness", None)
    if shared is None:  # one per app (its lifespan's resources), made on first use
        shared = state.readiness = SharedCheck(lambda: readiness(res), READY_INTERVAL)
    body, ok = await shared()
    return json_response(body, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    include_in_schema=True,
    response_class=PlainTextResponse,
)
async def metrics() -> Response:
    """Request latency per route, cache hits and misses, Redis fallbacks, reads, points."""
    body, content_type = metrics_payload()
    return Response(body, media_type=content_type)
