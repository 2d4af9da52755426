"""The Redis handle shared by the cache modules, with a short circuit breaker, and what a
Redis failure means: decided here, once.

Redis only ever makes things faster. A cached read goes through ``or_else`` with the
MongoDB way as its fallback; a write-through goes through ``best_effort`` with the
``Repair`` that undoes its loss; only operator work that must not pass silently (a
student's deletion) sees ``CacheUnavailable``. After a failure the breaker skips Redis
until a background probe (backing off to ``retry_after`` seconds) finds it answering
again, so an outage costs one timeout, not one per request.

What a failure may have left wrong is repaired by name, never by forgetting everyone: the
backend remembers the repairs of the write-throughs it failed or skipped (and of those it
made in the ``lookback`` seconds before the failure, which a Redis restarted from its
append-only file or a promoted replica may not hold), and applies them when Redis answers
again: each drops one student's (or one board's) keys and moves their generation, so
they reload from MongoDB. Past ``max_pending`` remembered repairs it falls back to the
progress epoch, which makes every per-student cache loaded before it count as missing
(counted in ``lumetrix_cache_global_invalidations_total`` and logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ClusterCrossSlotError, RedisClusterException, RedisError

from cache import epochs
from cache.metrics import CACHE_REPAIRS, GLOBAL_INVALIDATIONS, REDIS_FALLBACKS
from cache.pipelined import FastScripts, fast_scripts_for

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a dead, slow or restarting Redis raises through redis-py (and fakeredis); a
# Cluster with a master down also raises RedisClusterException (slot not covered).
REDIS_FAILURES = (
    RedisError,
    RedisClusterException,
    OSError,
    asyncio.TimeoutError,
    ConnectionError,
)


# Drop a cache's keys and move its generation (KEYS[1]), so a load that read MongoDB
# before now cannot install what it read. Every key shares one hash tag.
_INVALIDATE = """
for k = 2, #KEYS do redis.call('DEL', KEYS[k]) end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
REPAIR_CHUNK = 500  # repairs per pipeline


@dataclass(frozen=True, slots=True)
class Repair:
    """What undoes a lost write-through of one cache (a student's read set or progress
    view, a board): its data ``keys`` are dropped and its ``generation`` key moves (and
    lives ``ttl_ms`` more), all under one hash tag."""

    generation: str
    keys: tuple[str, ...]
    ttl_ms: int


def _is_outage(exc: BaseException) -> bool:
    """Whether a failure says Redis is away. Keys of one command or script in different
    Cluster slots (the server's CROSSSLOT, or the client's own check) are a bug in the
    caller: they must surface, not hide behind the MongoDB fallback."""
    if isinstance(exc, ClusterCrossSlotError):
        return False
    return not (isinstance(exc, RedisClusterException) and "same key slot" in str(exc))


class CacheUnavailable(Exception):
    """Redis could not serve this call; the caller answers from MongoDB."""


class CacheBackend:
    """A Redis client plus key prefix, failure accounting and a circuit breaker."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "lmx:",
        retry_after: float = 0.5,
        embedded: bool = False,
        cluster: bool = False,
        max_pending: int = 10_000,
        lookback: float = 0.0,
    ) -> None:
        self._fast: FastScripts | None = None
        self.client = client
        self.cluster = cluster
        self.prefix = prefix
        self.retry_after = retry_after
        self.embedded = embedded
        self.down_until = 0.0
        self.failures = 0
        self._probe: asyncio.Task[None] | None = None
        self.fake_server: Any = None  # the in-process server, when embedded
        self.max_pending = max_pending
        self.lookback = lookback
        # Repairs to apply when Redis answers again (a dict: an ordered set), and whether
        # more were needed than it may hold (then the epoch repairs everyone).
        self._pending: dict[Repair, None] = {}
        self._overflow = False
        # (monotonic time, repairs) of recent successful write-throughs, for the lookback.
        self._recent: deque[tuple[float, Sequence[Repair]]] = deque(maxlen=max_pending)

    @property
    def client(self) -> Any:
        """The redis-py (or fakeredis) client (setting it picks ``run_script``'s path)."""
        return self._client

    @client.setter
    def client(self, client: Any) -> None:
        if self._fast is not None:
            self._fast.close()
        self._client = client
        self._fast = fast_scripts_for(client)

    async def open(self) -> None:
        """Open the fast path's connection now (lifespan); a Redis away now is no error:
        the first call opens it, or fails over to MongoDB like any other."""
        if self._fast is not None:
            with contextlib.suppress(*REDIS_FAILURES):
                await self._fast.connect()

    @property
    def available(self) -> bool:
        """False while the breaker is open after a recent failure."""
        return time.monotonic() >= self.down_until

    def key(self, *parts: str) -> str:
        """A namespaced key: ``prefix`` + parts joined by ``:``."""
        return self.prefix + ":".join(parts)

    def trip(self, exc: BaseException) -> None:
        """Open the breaker after a failure; a probe closes it once Redis answers again,
        after applying the repairs this worker remembered meanwhile."""
        self.failures += 1
        self.down_until = float("inf")
        log.warning("redis unavailable (%s: %s); serving from MongoDB", type(exc).__name__, exc)
        self._suspect_recent()
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._recover())

    def remember(self, repairs: Iterable[Repair]) -> None:
        """Keep ``repairs`` for when Redis answers again (past ``max_pending``, note that
        only the global epoch can repair everything)."""
        for repair in repairs:
            if repair in self._pending:
                continue
            if len(self._pending) >= self.max_pending:
                self._overflow = True
                return
            self._pending[repair] = None

    @property
    def pending_repairs(self) -> int:
        """How many repairs wait for Redis to answer again."""
        return len(self._pending)

    def _suspect_recent(self) -> None:
        """The write-throughs of the ``lookback`` seconds before the newest one may be
        missing from a Redis that restarts from its append-only file (fsync once a
        second) or from a promoted replica: repair them too."""
        if not self._recent:
            return
        since = self._recent[-1][0] - self.lookback
        if len(self._recent) == self._recent.maxlen and self._recent[0][0] >= since:
            self._overflow = True  # the window held more than the deque keeps
        for at, repairs in self._recent:
            if at >= since:
                self.remember(repairs)
        self._recent.clear()

    async def _recover(self) -> None:
        delay = min(0.1, self.retry_after) if self.retry_after else 0.1
        while True:
            try:
                # Pooled connections from before the outage would each fail once more and
                # trip the breaker again: drop them all first.
                await self._drop_connections()
                await self._apply_pending()
                # Until the breaker closes this worker still skips write-throughs (each
                # remembered as it is skipped): repair those too once it writes through.
                self.down_until = 0.0
                await self._apply_pending()
            except REDIS_FAILURES:
                self.down_until = float("inf")
                await asyncio.sleep(delay)
                delay = min(delay * 2, max(self.retry_after, 0.1))
                continue
            log.warning("redis is back")
            return

    async def _apply_pending(self) -> None:
        """Apply the remembered repairs (or, past the bound, bump the epoch); what fails
        stays remembered."""
        if self._overflow:
            self._overflow = False
            dropped = len(self._pending)
            self._pending.clear()
            try:
                await self.bump_epoch()
            except BaseException:
                self._overflow = True
                raise
            GLOBAL_INVALIDATIONS.inc()
            log.warning(
                "redis is back after more lost write-throughs than REDIS_REPAIR_MAX "
                "(%d) holds: every per-student cache loaded before now will reload "
                "(%d named repairs superseded)",
                self.max_pending,
                dropped,
            )
            return
        while self._pending:
            chunk = list(self._pending)[:REPAIR_CHUNK]
            await self._invalidate(self.client, chunk)
            for repair in chunk:
                self._pending.pop(repair, None)
            CACHE_REPAIRS.labels("redis_outage").inc(len(chunk))

    @staticmethod
    async def _invalidate(client: Any, repairs: Sequence[Repair]) -> None:
        """Apply ``repairs`` in one pipeline."""
        async with client.pipeline(transaction=False) as pipe:
            for r in repairs:
                pipe.eval(_INVALIDATE, 1 + len(r.keys), r.generation, *r.keys, r.ttl_ms)
            await pipe.execute()

    async def repair(self, repairs: Sequence[Repair], *, reason: str) -> bool:
        """Apply ``repairs`` now; when Redis fails, remember them for its return and say
        False. ``reason`` labels the metric (``dead_worker``, ``invalidated``)."""
        try:
            for start in range(0, len(repairs), REPAIR_CHUNK):
                chunk = repairs[start : start + REPAIR_CHUNK]
                await self.call(functools.partial(self._invalidate, repairs=chunk))
                CACHE_REPAIRS.labels(reason).inc(len(chunk))
        except CacheUnavailable:
            self.remember(repairs)
            return False
        return True

    async def _drop_connections(self) -> None:
        if self._fast is not None:
            self._fast.close()
        pool = getattr(self.client, "connection_pool", None)
        if pool is not None:
            await pool.disconnect()
        else:  # a cluster client: closed, it rediscovers the nodes on its next command
            await self.client.aclose()

    def epoch_key(self, tag: str) -> str:
        """Key of the progress epoch that covers keys hash-tagged ``{tag}`` (cache.epochs)."""
        return epochs.epoch_key(self.key, cluster=self.cluster, tag=tag)

    async def bump_epoch(self) -> None:
        """Set the progress epoch (every slot's, on a Cluster) to Redis' clock now (ms)."""
        await epochs.bump(self.client, self.key, cluster=self.cluster)

    async def call(self, op: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``op(client)``; raise CacheUnavailable when Redis fails or the breaker is open."""
        if not self.available:
            REDIS_FALLBACKS.inc()
            raise CacheUnavailable("redis circuit open")
        try:
            return await op(self.client)
        except REDIS_FAILURES as exc:
            if not _is_outage(exc):
                raise
            REDIS_FALLBACKS.inc()
            self.trip(exc)
            raise CacheUnavailable(str(exc)) from exc

    async def run_script(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[Any]
    ) -> Any:
        """``script`` (registered on ``client``) in one round trip, as ``call`` runs it:
        on the pipelined path where the client has one, else through redis-py."""
        fast = self._fast
        if fast is None:
            return await self.call(lambda r: script(keys=keys, args=args, client=r))
        return await self.call(lambda _: fast.run(script, keys, args))

    async def or_else(
        self, cached: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        """``cached()``; when it needs Redis and Redis fails (or the breaker is open), the
        answer of ``fallback()`` (MongoDB) instead."""
        try:
            return await cached()
        except CacheUnavailable:
            return await fallback()

    async def best_effort(
        self, op: Callable[[], Awaitable[object]], repairs: Sequence[Repair] = ()
    ) -> None:
        """Run a write-through; when Redis fails (or the breaker skips it), remember the
        ``repairs`` that undo its loss, applied once Redis answers again. Never raises
        CacheUnavailable."""
        try:
            await op()
        except CacheUnavailable:
            self.remember(repairs)
        else:
            if repairs and self.lookback > 0:
                self._recent.append((time.monotonic(), repairs))

    async def ping(self) -> bool:
        """True when Redis answers now (ignores the breaker)."""
        try:
            return bool(await self.client.ping())
        except REDIS_FAILURES:
            return False

    async def close(self) -> None:
        """Stop the probe and close the client's connections."""
        if self._probe is not None:
            self._probe.cancel()
        if self._fast is not None:
            self._fast.close()
        if self._pending or self._overflow:
            log.warning(
                "stopping with %d cache repairs not applied (redis still away): their "
                "students' caches may be short until they expire",
                len(self._pending),
            )
        # Closing a dead connection is not an error worth raising.
        with contextlib.suppress(*REDIS_FAILURES):
            await self.client.aclose()


def create_backend(
    url: str | None,
    *,
    timeout: float,
    retry_after: float,
    prefix: str = "lmx:",
    cluster: bool = False,
    max_pending: int = 10_000,
    lookback: float = 0.0,
) -> CacheBackend:
    """A backend on ``url``, or on an in-process fakeredis when ``url`` is None.

    ``cluster``: ``url`` names any node of a Redis Cluster; the client discovers the rest
    and sends each command to the node holding its slot."""
    if url is None:
        import fakeredis

        server = fakeredis.FakeServer()
        client: Any = fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
        backend = CacheBackend(
            client,
            prefix=prefix,
            retry_after=retry_after,
            embedded=True,
            max_pending=max_pending,
            lookback=lookback,
        )
        backend.fake_server = server
        return backend
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "max_connections": 256,
    }
    if cluster:
        # The breaker, not the client, decides what an outage means: one retry (after a
        # failover moved a slot), so a dead master costs one timeout, then the breaker.
        client = RedisCluster.from_url(url, retry=Retry(NoBackoff(), 1), **options)
    else:
        client = aioredis.Redis.from_url(url, retry_on_timeout=False, **options)
    return CacheBackend(
        client,
        prefix=prefix,
        retry_after=retry_after,
        cluster=cluster,
        max_pending=max_pending,
        lookback=lookback,
    )
