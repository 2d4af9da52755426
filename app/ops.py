"""Operations routes, without auth: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pymongo.errors import PyMongoError
from starlette.responses import PlainTextResponse, Response

from app.deps import Res
from app.errors import error_responses
from app.observability import metrics_payload
from app.resources import Resources
from app.responses import json_response
from app.training import shapes
from app.training.queries import meta
from app.training.router import operation_id

router = APIRouter(tags=["ops"], generate_unique_id_function=operation_id)


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
async def ready(res: Res) -> Response:
    """200 when MongoDB answers (``ready``), or when it does not but cached reads are still
    served, marked stale (``degraded``); 503 when neither. Says which dependency is down."""
    body, ok = await readiness(res)
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
