"""The app factory and its lifespan: resources are opened there (``app.resources``), kept
on ``app.state.resources``, and closed on shutdown; nothing connects at import time."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from starlette_compress import CompressMiddleware

from app import ops
from app.console import install_console
from app.deps import current_student, request_refused
from app.docs import install_docs
from app.errors import install_error_handlers
from app.events.publisher import Publisher, PublishOptions, background_publisher
from app.flat_routes import include_flat
from app.limits import BodyLimit, Capacity
from app.observability import RequestContext, configure_logging
from app.resources import open_resources
from app.settings import Settings, get_settings
from app.shutdown import ShutdownBudget
from app.training.curriculum import LANGUAGES
from app.training.router import router as training_router
from app.xapi.forwarder import background_forwarder, build_forwarder

log = logging.getLogger("lumetrix")
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: open every resource, warm the catalog, run the event publisher
    (and the xAPI forwarder, with XAPI_LRS_URL), serve, and close it all on the way out."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Open every resource, warm the catalog, serve, and close it all on the way out."""
        if not logging.getLogger().handlers:  # a worker process spawned by uvicorn
            configure_logging()
        if settings.redis_url is None:
            log.warning(
                "REDIS_URL not set: using in-process fakeredis (single process only; "
                "set REDIS_URL for several workers or machines)"
            )
        if not settings.cache_enabled:
            log.warning("LUMETRIX_CACHE=off: every request reads MongoDB")
        # One bound for the whole stop, counted from its first step.
        shutdown = ShutdownBudget(settings.shutdown_timeout)
        async with open_resources(settings, shutdown=shutdown) as resources:
            app.state.resources = resources
            if settings.warm_on_start:
                try:
                    await resources.catalog.warm(LANGUAGES)
                except Exception as exc:  # warming is an optimisation: serve anyway
                    log.error("could not warm the catalog cache at start-up: %s", exc)
            # What start-up loaded lives as long as the process: keep it out of the GC's
            # scans, whose full passes over the cached catalog showed up as p99 spikes.
            gc.collect()
            gc.freeze()
            # Every worker runs one; the lease lets one of them (on any machine) publish.
            publisher = (
                Publisher(resources.db, resources.events, PublishOptions.of(settings))
                if settings.events_publisher
                else None
            )
            # With an LRS configured, every worker runs a forwarder; one (by lease) forwards.
            forwarder = (
                build_forwarder(resources.db, resources.events, resources.backend, settings)
                if settings.xapi_lrs_url and settings.xapi_forwarder
                else None
            )
            async with (
                background_publisher(publisher, shutdown),
                background_forwarder(forwarder, shutdown),
            ):
                yield

    return lifespan


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware stack, innermost first (each add_middleware wraps what is there)."""
    # The last added runs first on a request.
    if settings.compression:
        app.add_middleware(CompressMiddleware, minimum_size=settings.compress_min_size)
    # Inside BodyLimit: only requests whose body has arrived whole take a slot.
    app.add_middleware(Capacity, max_requests=settings.max_concurrency)
    # Outside auth, so it runs before anything reads a body (FastAPI
    # parses a body before the auth dependency); inside CORS, so browsers can read its 413.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    if settings.cors_origins:
        # Outside auth: a preflight carries no token and is answered here.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-Client-Id", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Retry-After", "X-Request-Id", "Warning"],
            max_age=600,
        )
    app.add_middleware(RequestContext, access_log=settings.access_log)


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
        lifespan=_lifespan(settings),
        docs_url=None,  # served from local files by install_docs
        redoc_url=None,
        # Starlette's slash redirect builds its Location from the request's Host header:
        # `/health/` with `Host: evil.example` went to evil.example. No path redirects.
        redirect_slashes=False,
        # Off unless asked for: FastAPI checks for an OpenTelemetry provider on every request
        # even when none is configured (os.environ lookups, about 3% of a cached page).
        telemetry=None if settings.otel_telemetry else _NO_TELEMETRY,
    )
    install_error_handlers(app, on_validation=request_refused)
    # The router carries its "/training" prefix itself, so each route's path (the metrics'
    # and access log's route label) is the full one; auth is attached here. Its routes go
    # first, in the app's own table (``app.flat_routes``: a nested router is matched twice
    # per request): routing tries routes in order, and learners' reads are nearly all of them.
    include_flat(app, training_router, dependencies=[Depends(current_student)])
    app.include_router(ops.router)
    install_docs(app)
    install_console(app)
    _install_middleware(app, settings)
    return app
