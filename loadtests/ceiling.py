"""The benchmark's two yardsticks: the same stack (FastAPI + uvicorn) answering a static page.

``BENCH_CEILING_BODY`` names a file holding a real 20-sample response of the service.

- The ceiling, ``/ceiling``: the route returns those bytes with nothing else to do, which
  is the most this stack can serve on this machine.
- The floor of the design, ``/floor`` (when ``BENCH_FLOOR_REDIS`` names a real Redis):
  the same route, after the one Redis round trip a cached page cannot avoid — one
  ``EVALSHA`` of the service's page lookup reading the page's 20 ids' scores from one
  student's read set (1,500 reads) — through the client path the service uses.
  ``/floor/<client>`` does the same through each client of ``BENCH_FLOOR_CLIENTS``
  (comma-separated names of ``loadtests.floor_clients.CLIENTS``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import orjson
import redis.asyncio as aioredis
from fastapi import FastAPI
from starlette.responses import Response

from cache import epochs
from cache.progress import SENTINEL
from loadtests.floor_clients import CLIENTS, Call

FLOOR_STUDENT = "BENCH_FLOOR"
FLOOR_READS = 1500


def floor_keys(prefix: str) -> list[str]:
    """The floor student's read set and the progress epoch, as the service names them."""
    key = prefix + ":".join(("progress", "{" + FLOOR_STUDENT + "}", "c"))
    epoch = epochs.epoch_key(lambda *p: prefix + ":".join(p), cluster=False, tag=FLOOR_STUDENT)
    return [key, epoch]


async def seed_floor(url: str, prefix: str, sample_ids: list[str]) -> None:
    """The floor student's read set: the page's ids among 1,500 reads, loaded (sentinel)."""
    key, _ = floor_keys(prefix)
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        members = {sid: 1_700_000_000_000 + i for i, sid in enumerate(sample_ids)}
        members |= {f"floor-{i}": i for i in range(FLOOR_READS - len(members))}
        members[SENTINEL] = 1_800_000_000_000
        await client.delete(key)
        await client.zadd(key, members)
    finally:
        await client.aclose()


def _floor_route(call: Call, keys: list[str], args: list[str], body: bytes) -> object:
    async def floor() -> Response:
        """One page lookup, then the static page."""
        await call(keys, args)
        return Response(body, media_type="application/json")

    return floor


def create_app() -> FastAPI:
    """An app with the ceiling's route, and the floor's when a Redis is named."""
    body = Path(os.environ["BENCH_CEILING_BODY"]).read_bytes()
    url = os.environ.get("BENCH_FLOOR_REDIS")
    prefix = os.environ.get("BENCH_FLOOR_PREFIX", "lmxfloor:")
    wanted = ["service", *filter(None, os.environ.get("BENCH_FLOOR_CLIENTS", "").split(","))]
    sample_ids = [d["sample_id"] for d in orjson.loads(body)["data"]]
    keys, args = floor_keys(prefix), [SENTINEL, *sample_ids]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if url:
                await seed_floor(url, prefix, sample_ids)
                for name in dict.fromkeys(wanted):
                    call = await stack.enter_async_context(CLIENTS[name](url))
                    path = "/floor" if name == "service" else f"/floor/{name}"
                    app.add_api_route(path, _floor_route(call, keys, args, body))  # type: ignore[arg-type]
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/ceiling")
    async def ceiling() -> Response:
        """The static page."""
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> Response:
        """Liveness, for the benchmark's start-up wait."""
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
