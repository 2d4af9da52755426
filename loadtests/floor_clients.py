"""The floor's Redis call through each candidate client, for ``loadtests.ceiling``.

Each candidate is an async context manager yielding ``call(keys, args)``, which runs the
read-set script (``cache.progress``'s page lookup: the sentinel, the progress epoch and
the ids' scores) with one ``EVALSHA``:

- ``service``: what ``cache/`` uses for the page's lookup (``cache.pipelined.FastScripts``
  where it applies, else redis-py): the floor of the design;
- ``redis-py``: redis-py asyncio with hiredis, a registered script;
- ``coredis``, ``glide``, ``redis-rs``: coredis, valkey-glide and redis-rs (imported only
  when asked for; not dependencies of the service: ``pip install coredis valkey-glide
  redis-rs`` to compare them).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis

from cache.pipelined import fast_scripts_for
from cache.progress import SCORES

Call = Callable[[Sequence[str], Sequence[str]], Awaitable[Any]]


def _redis_py(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, decode_responses=True, max_connections=256)


@asynccontextmanager
async def service(url: str) -> AsyncIterator[Call]:
    """The service's own path for the page's lookup."""
    client = _redis_py(url)
    script = client.register_script(SCORES)
    fast = fast_scripts_for(client)
    try:
        if fast is None:
            yield lambda keys, args: script(keys=keys, args=args)
        else:
            await fast.connect()
            yield lambda keys, args: fast.run(script, keys, args)
    finally:
        if fast is not None:
            fast.close()
        await client.aclose()


@asynccontextmanager
async def redis_py(url: str) -> AsyncIterator[Call]:
    """redis-py asyncio (hiredis parser), a registered script: the service before."""
    client = _redis_py(url)
    script = client.register_script(SCORES)
    try:
        yield lambda keys, args: script(keys=keys, args=args)
    finally:
        await client.aclose()


@asynccontextmanager
async def coredis_client(url: str) -> AsyncIterator[Call]:
    """coredis (its own asyncio/anyio stack)."""
    import coredis

    parts = urlparse(url)
    db = int(parts.path.strip("/") or 0)
    client: Any = coredis.Redis(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=db,
        decode_responses=True,
    )
    sha = hashlib.sha1(SCORES.encode()).hexdigest()
    async with client:
        await client.script_load(SCORES)
        yield lambda keys, args: client.evalsha(sha, keys=keys, args=args)


@asynccontextmanager
async def glide(url: str) -> AsyncIterator[Call]:
    """valkey-glide (a Rust core under a Python API)."""
    from glide import GlideClient, GlideClientConfiguration, NodeAddress, Script

    parts = urlparse(url)
    config = GlideClientConfiguration(
        [NodeAddress(parts.hostname or "127.0.0.1", parts.port or 6379)],
        database_id=int(parts.path.strip("/") or 0),
    )
    client: Any = await GlideClient.create(config)
    script = Script(SCORES)
    try:
        yield lambda keys, args: client.invoke_script(script, keys=list(keys), args=list(args))
    finally:
        await client.close()


@asynccontextmanager
async def redis_rs(url: str) -> AsyncIterator[Call]:
    """redis-rs (the Rust crate of that name under a Python API), raw commands."""
    import redis_rs as rs

    sha = hashlib.sha1(SCORES.encode()).hexdigest()
    async with rs.create_client(url) as client:
        await client.execute("SCRIPT", "LOAD", SCORES)
        yield lambda keys, args: client.execute("EVALSHA", sha, str(len(keys)), *keys, *args)


CLIENTS: dict[str, Callable[[str], Any]] = {
    "service": service,
    "redis-py": redis_py,
    "coredis": coredis_client,
    "glide": glide,
    "redis-rs": redis_rs,
}
