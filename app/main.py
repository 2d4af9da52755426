"""The app factory and its lifespan: clients are created here, kept on ``app.state``,
and closed on shutdown; nothing connects at import time."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from pymongo.errors import PyMongoError
from starlette.responses import PlainTextResponse, Response

from app.auth import TokenVerifier, verify_client_bound_request
from app.db import create_client, ensure_indexes
from app.embedded import EmbeddedMongo
from app.errors import error_responses, install_error_handlers
from app.observability import RequestContext, configure_logging, metrics_payload
from app.responses import json_response
from app.settings import Settings, get_settings
from app.training import models
from app.training.router import router as training_router
from app.training.warm import warm
from cache.backend import create_backend
from cache.catalog import CatalogCache
from cache.leaderboard import Leaderboards
from cache.progress import ProgressSets
from cache.ratelimit import RateLimiter

log = logging.getLogger("lumetrix")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the embedded database if no URL is given, connect, and clean up on exit."""
    settings: Settings = app.state.settings
    if not logging.getLogger().handlers:  # a worker process spawned by uvicorn
        configure_logging()
    embedded: EmbeddedMongo | None = None
    url = settings.mongodb_url
    if url is None:
        embedded = EmbeddedMongo(settings.data_dir)
        url = embedded.start()
        log.info("MONGODB_URL not set: embedded SecantusDB at %s", url)
    client = create_client(url, timeout_ms=settings.mongo_timeout_ms)
    db = client[settings.mongodb_db]
    try:
        await ensure_indexes(db)
    except PyMongoError as exc:  # a database that is down now may be back soon: serve 503s
        log.error("could not ensure indexes at start-up: %s", exc)
    backend = create_backend(
        settings.redis_url,
        timeout=settings.redis_timeout,
        retry_after=settings.redis_retry_after,
        prefix=settings.redis_prefix,
    )
    app.state.db, app.state.mongo, app.state.redis = db, client, backend
    app.state.mark_read_limit = RateLimiter(
        backend,
        action="mark-read",
        limit=settings.mark_read_rate,
        window=settings.mark_read_window,
    )
    if settings.cache_enabled:
        app.state.catalog = CatalogCache(
            backend, l1_ttl=settings.catalog_l1_ttl, version_ttl=settings.catalog_version_ttl
        )
        app.state.progress = ProgressSets(backend, ttl_seconds=settings.progress_ttl)
        app.state.boards = Leaderboards(backend)
    else:
        log.warning("LUMETRIX_CACHE=off: every request reads MongoDB")
        app.state.catalog = app.state.progress = app.state.boards = None
    if app.state.catalog is not None and settings.warm_on_start:
        try:
            await warm(db=db, catalog=app.state.catalog, progress=app.state.progress)
        except Exception as exc:  # warming is an optimisation: serve anyway
            log.error("could not warm the catalog cache at start-up: %s", exc)
    # What start-up loaded lives as long as the process: keep it out of the GC's scans,
    # whose full passes over the cached catalog showed up as p99 spikes.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await backend.close()
        await client.close()
        if embedded is not None:
            embedded.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service; ``settings`` default to the environment."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Lumetrix training service",
        version="0.1.0",
        description=(
            "Catalog of programming training samples (C, C++, Python) with per-student read "
            "tracking and progress. Every `/training` route needs `Authorization: Bearer "
            "<JWT>` (HS256; claims `sub`, `cid`, `exp`) and `X-Client-Id` equal to `cid`."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tokens = TokenVerifier(settings.jwt_secret)
    install_error_handlers(app)
    app.include_router(
        training_router,
        prefix="/training",
        dependencies=[Depends(verify_client_bound_request)],
    )
    templates = {
        id(route): "/training" + route.path
        for route in training_router.routes
        if isinstance(route, APIRoute)
    }
    app.add_middleware(RequestContext, access_log=settings.access_log, templates=templates)

    @app.get("/health", response_model=models.HealthOut, tags=["ops"], summary="Liveness")
    async def health() -> Response:
        """Always 200 while the process serves requests (no dependency is checked)."""
        return json_response({"status": "ok"})

    @app.get(
        "/ready",
        response_model=models.ReadyOut,
        tags=["ops"],
        responses=error_responses(503),
        summary="Readiness of MongoDB and Redis",
    )
    async def ready() -> Response:
        """200 when MongoDB answers; says which dependency is down. Redis is optional."""
        status: dict[str, Any] = {}
        try:
            await app.state.db.command("ping")
            status["mongodb"] = "ok"
        except PyMongoError:
            status["mongodb"] = "down"
        status["redis"] = "ok" if await app.state.redis.ping() else "down"
        ok = status["mongodb"] == "ok"
        return json_response(
            {"status": "ready" if ok else "unavailable", **status}, status_code=200 if ok else 503
        )

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        include_in_schema=True,
        response_class=PlainTextResponse,
    )
    async def metrics() -> Response:
        """Request latency per route, cache hits and misses, Redis fallbacks, reads, points."""
        body, content_type = metrics_payload()
        return Response(body, media_type=content_type)

    return app
