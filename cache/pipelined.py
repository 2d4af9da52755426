"""A cheap client path for the hot script call: one pipelined connection per Redis node,
replies parsed by ``hiredis.Reader``.

redis-py's asyncio client spends about 100 µs of the worker's CPU per command (a pooled
connection checked out and back, a lock, a retry wrapper, response callbacks) against
about 20 µs for the round trip itself. ``PipelinedConnection`` writes each command on
one shared connection as it comes and hands the replies back in order: no pool, no lock,
no per-call task. ``FastScripts`` runs an ``EVALSHA`` through it and gives what is
unusual to redis-py (a Cluster redirect or a refusal before the script ran, a node it
cannot place), so redis-py still follows redirects and names those errors; a script that
fails raises a ``ResponseError``, a timeout or a lost connection redis-py's own exception
types, which ``cache.backend`` counts as an outage as before.

Which client gets a fast path is decided once, by ``fast_scripts_for``: a redis-py
standalone or Cluster client over TCP does; anything else (fakeredis, a unix socket, TLS)
keeps redis-py for every call.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int | float


class _Replies(asyncio.Protocol):
    """The connection's protocol: replies parsed as they arrive and handed to the waiters
    in the order their commands were written."""

    def __init__(self, timeout: float | None = None) -> None:
        self.reader = hiredis.Reader(encoding="utf-8")
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        # Each waiter's deadline, in the same order. Replies come in order, so only the
        # oldest command's deadline can pass first: one timer watches it, instead of a
        # timer per command (a TimerHandle made and cancelled on every call was about 3%
        # of a cached page's CPU).
        self.timeout = timeout
        self.deadlines: deque[float] = deque()
        self._watchdog: asyncio.TimerHandle | None = None

    def push(self, waiter: asyncio.Future[Any]) -> None:
        """Expect the next reply for ``waiter`` (within the timeout, when there is one)."""
        self.waiters.append(waiter)
        if self.timeout is None:
            return
        loop = waiter.get_loop()
        self.deadlines.append(loop.time() + self.timeout)
        if self._watchdog is None:
            self._watchdog = loop.call_at(self.deadlines[0], self._check)

    def _check(self) -> None:
        self._watchdog = None
        if not self.deadlines:
            return
        loop = asyncio.get_running_loop()
        if loop.time() >= self.deadlines[0]:
            # Every command behind the oldest waits as long, so the connection goes (a
            # hung server costs its callers one timeout, not one each).
            self.abort(RedisTimeoutError("Timeout reading from redis"))
        else:
            self._watchdog = loop.call_at(self.deadlines[0], self._check)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                waiter = self.waiters.popleft()
                if self.deadlines:
                    self.deadlines.popleft()
                if not waiter.done():  # else its caller was cancelled or timed out
                    waiter.set_result(reply)
        except Exception as exc:  # garbage, a reply unasked, bytes that are not UTF-8
            self.abort(RedisConnectionError(f"redis protocol error: {exc!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError("connection to redis lost"))

    def fail(self, exc: Exception) -> None:
        """Mark the connection unusable; every command still waiting raises ``exc``."""
        self.closed = True
        self.deadlines.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(exc)

    def abort(self, exc: Exception) -> None:
        """Fail the waiters with ``exc`` and drop the connection now."""
        self.fail(exc)
        if self.transport is not None:
            self.transport.abort()


# Error replies of a command the server did not run (a redirect, a refusal): redis-py may
# send it again. Any other error reply came from a script that ran, perhaps in part.
NOT_RUN = frozenset(
    {"MOVED", "ASK", "TRYAGAIN", "CROSSSLOT", "CLUSTERDOWN", "MASTERDOWN", "LOADING", "BUSY"}
    | {"READONLY", "NOAUTH", "NOPERM"}
)


class ReplyError(ResponseError):
    """An error reply of the server (the fast path hands the call to redis-py then)."""


class PipelinedConnection:
    """One TCP connection to one Redis server, opened on first use and again after a loss;
    concurrent commands share it, pipelined."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.address = (host, port)
        self.db = db
        self.auth = (username, password)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._replies: _Replies | None = None
        self._opening = asyncio.Lock()

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""
        return self._replies is not None and not self._replies.closed

    async def execute(self, *args: Arg) -> Any:
        """Send one command and return its reply; an error reply raises ``ReplyError``,
        a timeout ``redis.exceptions.TimeoutError`` (and drops the connection, failing the
        commands behind it), a lost connection ``redis.exceptions.ConnectionError``."""
        replies = self._replies
        if replies is None or replies.closed:
            replies = await self._connect()
        reply = await self._send(replies, args)
        if isinstance(reply, hiredis.ReplyError):
            raise ReplyError(str(reply))
        return reply

    async def _send(self, replies: _Replies, args: Sequence[Arg]) -> Any:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        replies.push(waiter)
        assert replies.transport is not None
        replies.transport.write(hiredis.pack_command(tuple(args)))  # type: ignore[arg-type]
        return await waiter

    async def _connect(self) -> _Replies:
        async with self._opening:  # concurrent first callers share one connect
            if self._replies is not None and not self._replies.closed:
                return self._replies
            loop = asyncio.get_running_loop()
            try:
                _, replies = await asyncio.wait_for(
                    loop.create_connection(lambda: _Replies(self.timeout), *self.address),
                    self.connect_timeout,
                )
            except (TimeoutError, OSError) as exc:
                raise RedisConnectionError(f"cannot connect to redis at {self.address}") from exc
            try:
                username, password = self.auth
                if password is not None:
                    credentials = (username, password) if username else (password,)
                    await self._checked(replies, ("AUTH", *credentials))
                if self.db:
                    await self._checked(replies, ("SELECT", self.db))
            except BaseException:
                replies.abort(RedisConnectionError("redis connection setup failed"))
                raise
            self._replies = replies
            return replies

    async def _checked(self, replies: _Replies, args: Sequence[Arg]) -> None:
        reply = await self._send(replies, args)
        if isinstance(reply, hiredis.ReplyError):
            raise RedisConnectionError(f"redis refused {args[0]!r}: {reply}")

    def close(self) -> None:
        """Drop the connection now (the next command opens a new one); commands in
        flight raise ConnectionError."""
        if self._replies is not None:
            self._replies.abort(RedisConnectionError("redis connection closed"))
            self._replies = None


def _options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "username": kwargs.get("username"),
        "password": kwargs.get("password"),
        "timeout": kwargs.get("socket_timeout"),
        "connect_timeout": kwargs.get("socket_connect_timeout"),
    }


class FastScripts:
    """``EVALSHA`` on pipelined connections for a redis-py client (standalone or Cluster),
    redis-py itself for whatever the fast path does not handle."""

    def __init__(self, client: Any, *, cluster: bool) -> None:
        self.client = client
        self.cluster = cluster
        self._nodes: dict[str, PipelinedConnection] = {}
        if not cluster:
            kwargs = client.connection_pool.connection_kwargs
            self._single: PipelinedConnection | None = PipelinedConnection(
                kwargs.get("host", "localhost"),
                int(kwargs.get("port", 6379)),
                db=int(kwargs.get("db") or 0),
                **_options(kwargs),
            )
        else:
            self._single = None

    async def run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        """``script`` on ``keys`` and ``args``: one ``EVALSHA`` (an ``EVAL`` the first time
        a server lacks the script)."""
        conn = self._single or (self._node_of(keys[0]) if keys else None)
        if conn is None:  # no key to route by, or no slot map yet: redis-py knows how
            return await script(keys=list(keys), args=list(args), client=self.client)
        command = (len(keys), *keys, *args)
        try:
            try:
                return await conn.execute("EVALSHA", script.sha, *command)
            except ReplyError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise
                return await conn.execute("EVAL", cast(str, script.script), *command)
        except ReplyError as exc:
            if str(exc).split(" ", 1)[0] not in NOT_RUN:
                raise  # the script ran and failed (a ResponseError, as from redis-py)
            # A slot that moved, or a refusal before the script ran: redis-py follows the
            # redirect, refreshes its slot map, raises what the error is (CROSSSLOT: a bug).
            return await script(keys=list(keys), args=list(args), client=self.client)
        except RedisConnectionError:
            if not self.cluster:
                raise
            # A node gone (a failover under way): redis-py finds the slot's new master.
            conn.close()
            return await script(keys=list(keys), args=list(args), client=self.client)

    def _node_of(self, key: str) -> PipelinedConnection | None:
        try:
            node = self.client.get_node_from_key(key)
        except Exception:  # no slot map yet, or the slot is not covered
            return None
        return None if node is None else self._node(node)

    def _node(self, node: Any) -> PipelinedConnection:
        conn = self._nodes.get(node.name)
        if conn is None:
            conn = PipelinedConnection(
                node.host, int(node.port), **_options(self.client.connection_kwargs)
            )
            self._nodes[node.name] = conn
        return conn

    @property
    def connections(self) -> list[PipelinedConnection]:
        """Every connection this path holds (open or not)."""
        return [*([self._single] if self._single else []), *self._nodes.values()]

    async def connect(self) -> None:
        """Open the connections now: the server's, or a Cluster's masters' (a master
        that appears later is connected on first use)."""
        if self._single is not None:
            await self._single.execute("PING")
            return
        await self.client.initialize()  # the slot map
        await asyncio.gather(*(self._node(n).execute("PING") for n in self.client.get_primaries()))

    def close(self) -> None:
        """Drop every connection (the next call opens what it needs)."""
        for conn in self.connections:
            conn.close()


def fast_scripts_for(client: Any) -> FastScripts | None:
    """A fast script path for ``client``, or None where it keeps redis-py for every call:
    fakeredis, a unix socket, TLS, anything not a redis-py TCP client."""
    if isinstance(client, RedisCluster):
        if client.connection_kwargs.get("connection_class", aioredis.Connection) not in (
            aioredis.Connection,
        ):
            return None
        return FastScripts(client, cluster=True)
    if type(client) is not aioredis.Redis:  # fakeredis subclasses it
        return None
    if client.connection_pool.connection_class is not aioredis.Connection:
        return None
    return FastScripts(client, cluster=False)
