"""Everything a process talks to, typed and opened in one place.

``open_resources`` is the one way in, for the app's lifespan, every CLI command and the
docs generator: it starts the embedded database when no ``MONGODB_URL`` is set
(``database_settings``, the only code that starts it), connects MongoDB, builds the Redis
backend and the cache layer, and closes all of it in reverse order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from pymongo.errors import PyMongoError

from app.auth import TokenVerifier
from app.batching import GroupCommit
from app.db import Database, MongoClient, create_client
from app.embedded import EmbeddedMongo
from app.handles import Resources
from app.settings import Settings
from app.shutdown import ShutdownBudget
from app.supervisor import Supervisor
from app.training.catalog_source import MongoCatalog
from app.training.curriculum import LANGUAGES
from app.training.loaders import LoadGate, progress_loader, read_loader
from app.training.mark_read import VisitWriter
from app.training.queries import meta
from app.training.queries.reads import visit_student
from app.training.repair import repair_visits
from app.visit_batches import VisitCommitter
from app.writer_sessions import WriterSessions
from cache.backend import CacheBackend, create_backend
from cache.events import EventStream
from cache.layer import CacheLayer, build_layer
from cache.ratelimit import RateLimiter

log = logging.getLogger("lumetrix")
# The in-process fakeredis keeps the stream in this process's memory, which no consumer
# elsewhere can read: keep only the newest events there.
EMBEDDED_STREAM_MAXLEN = 10_000


@contextmanager
def database_settings(settings: Settings) -> Iterator[Settings]:
    """``settings`` with ``mongodb_url`` set: the configured one, or an embedded SecantusDB
    under ``DATA_DIR`` started here (or reused, when another process of ours serves that
    directory) and stopped on exit. The process that started it restarts it, on the same
    port, should it die meanwhile (``app.supervisor``)."""
    if settings.mongodb_url is not None:
        yield settings
        return
    embedded = EmbeddedMongo(settings.data_dir)
    url = embedded.start(settings.embedded_start_timeout)
    log.info("MONGODB_URL not set: embedded SecantusDB at %s", url)
    supervisor = Supervisor(embedded, start_timeout=settings.embedded_start_timeout)
    supervisor.start()
    try:
        yield settings.model_copy(update={"mongodb_url": url})
    finally:
        supervisor.stop()  # first: the server's exit below is no death to recover from
        embedded.stop()


async def _open_database(settings: Settings, *, indexes: bool) -> tuple[MongoClient, Database]:
    """The MongoDB client and database (indexes ensured when ``indexes``; a database that
    is down now may be back soon, so that failure is logged and the service answers 503s)."""
    assert settings.mongodb_url is not None  # database_settings always sets it
    client = create_client(
        settings.mongodb_url,
        timeout_ms=settings.mongo_timeout_ms,
        max_in_flight=settings.mongo_max_in_flight,
        queue_timeout_ms=settings.mongo_queue_timeout_ms,
    )
    db = client[settings.mongodb_db]
    try:
        if indexes:
            await meta.ensure_indexes(db)
    except PyMongoError as exc:
        log.error("could not ensure indexes: %s", exc)
    return client, db


def _cache_layer(backend: CacheBackend, db: Database, settings: Settings) -> CacheLayer:
    """The cached (or, with the cache off, direct) read paths over ``db``."""
    # Loads keep two connections free for mark-reads and one-off queries.
    gate = LoadGate(
        slots=max(1, settings.mongo_max_in_flight - 2),
        wait=settings.mongo_load_wait_ms / 1000,
    )
    return build_layer(
        backend,
        enabled=settings.cache_enabled,
        catalog=MongoCatalog(db),
        read_loader=read_loader(db, gate),
        progress_loader=progress_loader(db, gate),
        languages=LANGUAGES,
        l1_ttl=settings.catalog_l1_ttl,
        version_ttl=settings.catalog_version_ttl,
        progress_ttl=settings.progress_ttl,
    )


async def _visit_writer(
    db: Database, layer: CacheLayer, settings: Settings
) -> tuple[WriterSessions, VisitWriter]:
    """The writer sessions (started) and the group commit of mark-read visits over them."""
    in_flight = 2  # batches written at once; each needs a session of its own
    stale = settings.writer_stale_after
    sessions = WriterSessions(
        db,
        size=in_flight,
        beat=stale / 5,
        stale=stale,
        repair=functools.partial(repair_visits, layer.stale),
    )
    await sessions.start()
    visits: VisitWriter = GroupCommit(
        VisitCommitter(db, sessions),
        window=settings.mark_read_batch_window,
        max_size=settings.mark_read_batch_max,
        in_flight=in_flight,
        # A worker's two transactions on one student's documents would conflict.
        key=visit_student,
    )
    return sessions, visits


def _event_stream(backend: CacheBackend, settings: Settings) -> EventStream:
    """The progress-event stream (shorter in an embedded fakeredis, which holds it in memory)."""
    maxlen = settings.events_stream_maxlen
    if backend.embedded:
        maxlen = min(maxlen, EMBEDDED_STREAM_MAXLEN)
    return EventStream(backend, settings.events_stream, maxlen=maxlen)


@asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    redis_timeout: float | None = None,
    indexes: bool = True,
    shutdown: ShutdownBudget | None = None,
) -> AsyncIterator[Resources]:
    """Open every resource ``settings`` name. ``redis_timeout`` overrides the server's
    (commands wait longer for bulk work than a request should); ``indexes=False`` leaves
    the database as it is (commands that report, or create the indexes themselves).
    Closing takes at most what ``shutdown`` (default: ``SHUTDOWN_TIMEOUT``) leaves."""
    with database_settings(settings) as settings:
        client, db = await _open_database(settings, indexes=indexes)
        backend = create_backend(
            settings.redis_url,
            timeout=redis_timeout or settings.redis_timeout,
            retry_after=settings.redis_retry_after,
            prefix=settings.redis_prefix,
            cluster=settings.redis_cluster,
            max_pending=settings.redis_repair_max,
            lookback=settings.redis_repair_lookback,
        )
        await backend.open()
        layer = _cache_layer(backend, db, settings)
        sessions, visits = await _visit_writer(db, layer, settings)
        try:
            yield Resources(
                settings=settings,
                client=client,
                db=db,
                backend=backend,
                catalog=layer.catalog,
                reads=layer.reads,
                progress=layer.progress,
                boards=layer.boards,
                mark_read_limit=RateLimiter(
                    backend,
                    action="mark-read",
                    limit=settings.mark_read_rate,
                    window=settings.mark_read_window,
                ),
                visits=visits,
                sessions=sessions,
                tokens=TokenVerifier(settings.jwt_secret, max_lifetime=settings.max_token_lifetime),
                events=_event_stream(backend, settings),
            )
        finally:
            budget = shutdown or ShutdownBudget(settings.shutdown_timeout)
            await budget.run("mark-read batches", visits.close())
            await budget.run("writer sessions", sessions.close(wait=budget.left()))
            await budget.run("redis client", backend.close())
            await budget.run("mongodb client", client.close())
