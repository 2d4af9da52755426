"""The pipelined script path (cache/pipelined.py): which clients get it, that it answers as
redis-py does on every Redis backend, and that its failures reach the breaker as before."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cache.backend import CacheBackend, CacheUnavailable
from cache.pipelined import FastScripts, PipelinedConnection
from cache.progress import SCORES, SENTINEL
from tests.conftest import REDIS_BACKENDS, TEST_REDIS_CLUSTER, Api, backend_of, drop_backend
from tools.redis_servers import client_at

REAL = [kind for kind in REDIS_BACKENDS if kind != "fakeredis"]


@pytest.fixture(params=REDIS_BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[CacheBackend]:
    """A backend of its own on each Redis backend kind."""
    backend = backend_of(str(request.param))
    await backend.open()
    yield backend
    await drop_backend(backend)


@pytest.fixture(params=REAL)
async def real_backend(request: pytest.FixtureRequest) -> AsyncIterator[CacheBackend]:
    """A backend of its own on a real Redis (standalone or Cluster)."""
    backend = backend_of(str(request.param))
    await backend.open()
    yield backend
    await drop_backend(backend)


def _fast(backend: CacheBackend) -> FastScripts:
    fast = backend._fast
    assert fast is not None, "a real Redis gets the pipelined path"
    return fast


async def _read_set(backend: CacheBackend, student: str) -> list[str]:
    key = backend.key("progress", "{" + student + "}", "c")
    await backend.client.zadd(key, {SENTINEL: 2000, "a": 10, "b": 20})
    return [key, backend.epoch_key(student)]


async def test_only_a_real_tcp_redis_gets_the_pipelined_path(backend: CacheBackend) -> None:
    assert (backend._fast is None) == backend.embedded


async def test_the_page_lookup_answers_as_redis_py_does(backend: CacheBackend) -> None:
    keys = await _read_set(backend, "S1")
    args = [SENTINEL, "a", "missing", "b"]
    script = backend.client.register_script(SCORES)
    expected = await script(keys=keys, args=args, client=backend.client)
    assert expected == [10, None, 20]  # integer replies, nil for an unread id
    assert await backend.run_script(script, keys, args) == expected
    # A student with no set (no sentinel): nil, not a list of misses.
    empty = [backend.key("progress", "{S2}", "c"), backend.epoch_key("S2")]
    assert await backend.run_script(script, empty, args) is None
    # A set loaded before the progress epoch is stale: nil as well.
    await backend.client.set(keys[1], 2000)
    assert await backend.run_script(script, keys, args) is None
    await backend.client.set(keys[1], 1999)
    assert await backend.run_script(script, keys, args) == expected


async def test_a_script_the_server_lacks_is_sent_whole_once(real_backend: CacheBackend) -> None:
    keys = await _read_set(real_backend, "S3")
    known = real_backend.client.register_script(SCORES)
    await real_backend.run_script(known, keys, [SENTINEL])  # a Cluster's slot map is known
    conn = _fast(real_backend)._single or _fast(real_backend)._node_of(keys[0])
    assert conn is not None
    # A script no server has seen: its EVALSHA is refused (NOSCRIPT), then sent as EVAL.
    script = real_backend.client.register_script(f"-- {uuid.uuid4()}\n{SCORES}")
    assert await conn.execute("SCRIPT", "EXISTS", script.sha) == [0]
    assert await real_backend.run_script(script, keys, [SENTINEL, "a"]) == [10]
    assert await conn.execute("SCRIPT", "EXISTS", script.sha) == [1]
    assert await real_backend.run_script(script, keys, [SENTINEL, "b"]) == [20]


async def test_concurrent_calls_each_get_their_own_reply(real_backend: CacheBackend) -> None:
    students = [f"P{i}" for i in range(20)]
    for i, student in enumerate(students):
        key = real_backend.key("progress", "{" + student + "}", "c")
        await real_backend.client.zadd(key, {SENTINEL: 2000, f"s{i}": i})
    script = real_backend.client.register_script(SCORES)
    calls = [
        real_backend.run_script(
            script,
            [real_backend.key("progress", "{" + s + "}", "c"), real_backend.epoch_key(s)],
            [SENTINEL, f"s{i}", f"s{(i + 1) % 20}"],
        )
        for _ in range(10)
        for i, s in enumerate(students)
    ]
    replies = await asyncio.gather(*calls)
    for n, reply in enumerate(replies):
        i = n % 20
        assert reply == [i, None], (n, reply)


async def test_an_error_reply_raises_what_redis_py_raises(real_backend: CacheBackend) -> None:
    key = real_backend.key("progress", "{S4}", "c")
    await real_backend.client.set(key, "not a sorted set")
    script = real_backend.client.register_script(SCORES)
    keys = [key, real_backend.epoch_key("S4")]
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await script(keys=keys, args=[SENTINEL], client=real_backend.client)
    # The same error as through redis-py, and taken the same way: the breaker opens.
    with pytest.raises(CacheUnavailable, match="WRONGTYPE") as caught:
        await real_backend.run_script(script, keys, [SENTINEL])
    assert isinstance(caught.value.__cause__, ResponseError)
    assert real_backend.failures == 1


async def test_a_script_that_fails_part_way_runs_once(real_backend: CacheBackend) -> None:
    counter = real_backend.key("count", "{S7}")
    script = real_backend.client.register_script(
        "redis.call('INCR', KEYS[1]) return redis.call('ZSCORE', KEYS[1], 'x')"
    )
    with pytest.raises(CacheUnavailable, match="WRONGTYPE"):
        await real_backend.run_script(script, [counter], [])
    assert await real_backend.client.get(counter) == "1"  # not sent again through redis-py


async def test_a_dropped_connection_is_opened_again_without_a_failure(
    real_backend: CacheBackend,
) -> None:
    keys = await _read_set(real_backend, "S5")
    script = real_backend.client.register_script(SCORES)
    await real_backend.run_script(script, keys, [SENTINEL])
    conn = _fast(real_backend)._single or _fast(real_backend)._node_of(keys[0])
    assert conn is not None and conn.connected
    await conn.execute("CLIENT", "KILL", "ID", await conn.execute("CLIENT", "ID"), "SKIPME", "no")
    for _ in range(100):  # the server's close arrives a moment later
        if not conn.connected:
            break
        await asyncio.sleep(0.01)
    assert not conn.connected
    assert await real_backend.run_script(script, keys, [SENTINEL, "a"]) == [10]
    assert conn.connected and real_backend.available and real_backend.failures == 0


@pytest.mark.skipif(not TEST_REDIS_CLUSTER, reason="TEST_REDIS_CLUSTER=0")
async def test_a_call_sent_to_the_wrong_cluster_node_is_redirected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_backend = backend_of("cluster")
    try:
        await _redirected(real_backend, monkeypatch)
    finally:
        await drop_backend(real_backend)


async def _redirected(real_backend: CacheBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = await _read_set(real_backend, "S6")
    script = real_backend.client.register_script(SCORES)
    await real_backend.run_script(script, keys, [SENTINEL])  # the slot map is known
    cluster = real_backend.client
    owner = cluster.get_node_from_key(keys[0])
    other = next(n for n in cluster.get_primaries() if n.name != owner.name)
    monkeypatch.setattr(cluster, "get_node_from_key", lambda key, replica=False: other)
    # The wrong node answers MOVED; redis-py follows it.
    assert await real_backend.run_script(script, keys, [SENTINEL, "b"]) == [20]
    assert real_backend.available


@pytest.mark.parametrize("hung", [True, False], ids=["hung", "dead"])
async def test_a_hung_or_dead_redis_trips_the_breaker_once(
    real_backend: CacheBackend, hung: bool
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # accept, read nothing, answer nothing

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1] if hung else 1
    real = real_backend.client
    script = real.register_script(SCORES)
    real_backend.client = client_at(port, cluster=False)  # 0.1 s timeouts
    try:
        started = time.monotonic()
        calls = [real_backend.run_script(script, ["k{x}", "e{x}"], [SENTINEL]) for _ in range(20)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        elapsed = time.monotonic() - started
        assert all(isinstance(o, CacheUnavailable) for o in outcomes), outcomes
        assert real_backend.failures >= 1
        # One timeout for all of them (20 in turn would take 2 s).
        assert elapsed < 1.0, elapsed
    finally:
        await real_backend.client.aclose()
        real_backend.client = real
        server.close()
        for writer in accepted:
            writer.close()


async def test_a_timeout_fails_every_command_behind_it_at_once() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    conn = PipelinedConnection("127.0.0.1", server.sockets[0].getsockname()[1], timeout=0.2)
    try:
        first = asyncio.ensure_future(conn.execute("PING"))
        await asyncio.sleep(0.1)
        second = asyncio.ensure_future(conn.execute("PING"))
        with pytest.raises(RedisTimeoutError):
            await first
        assert second.done()  # failed with the first, not 0.1 s later
        with pytest.raises(RedisTimeoutError):
            second.result()
        assert not conn.connected
    finally:
        conn.close()
        server.close()


async def test_the_app_opens_the_path_in_its_lifespan_and_closes_it(api: Api) -> None:
    fast = api.backend._fast
    if fast is None:
        assert api.backend.embedded
        return
    conns: list[Any] = fast.connections  # before any request
    res = await api.get("/training/samples", language="c", limit=5)
    assert res.status_code == 200
    assert any(c.connected for c in fast.connections)
    assert conns and all(c.connected for c in conns)  # opened by the lifespan
    await api.backend.close()
    assert not any(c.connected for c in fast.connections)
