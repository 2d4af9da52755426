"""Shared fixtures: a real SecantusDB server (or MONGODB_URL), a seeded and migrated
catalog, and the app served in-process over httpx, once per Redis backend: fakeredis, the
real Redis at TEST_REDIS_URL when given, and a local 3-master Redis Cluster started from
the machine's ``redis-server`` (``TEST_REDIS_CLUSTER=0`` leaves it out)."""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from pymongo.errors import AutoReconnect

from app.auth import mint_token
from app.db import META, SAMPLES, Database, create_client
from app.embedded import EmbeddedMongo
from app.handles import Resources, resources_of
from app.main import create_app
from app.seed import seed_demo
from app.settings import Settings
from cache.backend import CacheBackend, create_backend
from migrations.add_language_to_samples import migrate
from tests.factories import make_sample
from tests.live import chromium, live_server
from tools import redis_servers
from tools.ralph_lrs import RalphLrs

SECRET = "test-secret-of-at-least-thirty-two-bytes!!"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
TEST_REDIS_CLUSTER = os.environ.get("TEST_REDIS_CLUSTER", "1") != "0"
REDIS_BACKENDS = [
    "fakeredis",
    *(["redis"] if TEST_REDIS_URL else []),
    *(["cluster"] if TEST_REDIS_CLUSTER else []),
]
# (Redis, LUMETRIX_CACHE) pairs: the cache on over every Redis, and off once (it never
# reads Redis, so one backend is enough).
CACHE_MODES = [*((kind, "on") for kind in REDIS_BACKENDS), ("fakeredis", "off")]


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MongoDB-protocol server for the whole session."""
    if os.environ.get("MONGODB_URL"):
        yield os.environ["MONGODB_URL"]
        return
    embedded = EmbeddedMongo(tmp_path_factory.mktemp("secantus"))
    url = embedded.start()
    yield url
    embedded.stop()


@pytest.fixture(scope="session")
async def mongo_client(mongo_url: str) -> AsyncIterator[Any]:
    """One client for fixtures that prepare or inspect data."""
    client = create_client(mongo_url, timeout_ms=5000)
    yield client
    await client.close()


async def _settle(client: Any) -> None:
    """Wait out a pool reset: sync tests keep the session loop idle, and pymongo's monitor,
    resuming late, may cancel the first operations that follow (AutoReconnect)."""
    for _ in range(20):
        try:
            await client.admin.command("ping")
            return
        except AutoReconnect:
            await asyncio.sleep(0.1)


async def drop_database(client: Any, name: str) -> None:
    """Drop a test database, allowing it a minute: on a loaded machine SecantusDB can take
    longer than the client's 5 s socket timeout to drop 5,000 documents and their indexes.
    A drop cancelled by a pool reset (AutoReconnect: the monitor resuming late after a test
    that blocked the loop, as a CLI run in a subprocess does) is tried again: it is
    idempotent."""
    for attempt in range(3):
        try:
            with pymongo.timeout(60):
                await client.drop_database(name)
            return
        except AutoReconnect:
            if attempt == 2:
                raise
            await _settle(client)


def unique_name(stem: str) -> str:
    """A database name or id unique to this run."""
    return f"{stem}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def catalog_db(mongo_client: Any) -> AsyncIterator[str]:
    """Name of a database holding the demo catalog, seeded and migrated once."""
    name = unique_name("lmx_test_catalog")
    db = mongo_client[name]
    # A minute per operation, not the client's socket timeout: on a loaded machine the
    # embedded server took longer than that to build the catalog's indexes, and every test
    # on the catalog then failed at setup.
    with pymongo.timeout(60):
        await seed_demo(db, show_progress=False)
        await migrate(db, show_progress=False)
    yield name
    await _settle(mongo_client)  # after idle sync tests, as for fresh_db
    await drop_database(mongo_client, name)


@pytest.fixture
async def fresh_db(mongo_client: Any) -> AsyncIterator[Database]:
    """An empty database of this test's own."""
    name = unique_name("lmx_test")
    await _settle(mongo_client)
    yield mongo_client[name]
    await _settle(mongo_client)  # the test may have blocked the loop (a CLI subprocess)
    await drop_database(mongo_client, name)


@dataclass
class Api:
    """The app under test and an HTTP client speaking to it as a student."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    student: str = field(default_factory=lambda: unique_name("SIDHI"))
    client_id: str = "web"

    def headers(self, student: str | None = None) -> dict[str, str]:
        """Auth headers for ``student`` (default: this test's student)."""
        token = mint_token(SECRET, sub=student or self.student, client_id=self.client_id)
        return {"Authorization": f"Bearer {token}", "X-Client-Id": self.client_id}

    async def get(self, path: str, student: str | None = None, **params: Any) -> httpx.Response:
        """GET as a student."""
        return await self.client.get(path, params=params, headers=self.headers(student))

    async def post(
        self, path: str, student: str | None = None, json: Any = None, **params: Any
    ) -> httpx.Response:
        """POST as a student."""
        return await self.client.post(path, params=params, json=json, headers=self.headers(student))

    @property
    def resources(self) -> Resources:
        """What the app's lifespan opened."""
        return resources_of(self.app)

    @property
    def db(self) -> Database:
        """The app's database."""
        return self.resources.db

    @property
    def backend(self) -> Any:
        """The app's Redis backend."""
        return self.resources.backend

    @property
    def read_sets(self) -> Any:
        """The app's Redis read sets (``ProgressSets``; the cache is on in these tests)."""
        return self.resources.reads.sets  # type: ignore[attr-defined]

    @property
    def boards(self) -> Any:
        """The app's Redis leaderboards (``Leaderboards``)."""
        return self.resources.boards.boards  # type: ignore[attr-defined]


def conforms(shape: Any, body: object) -> None:
    """The body matches its declared response shape (``app.training.shapes``)."""
    TypeAdapter(shape).validate_python(body)


@functools.cache
def redis_cluster() -> redis_servers.RedisCluster:
    """The session's local Redis Cluster, started on first use, stopped at exit."""
    cluster = redis_servers.RedisCluster(Path(tempfile.mkdtemp(prefix="lmx-cluster-")))
    cluster.start()
    atexit.register(cluster.stop)
    return cluster


@functools.cache
def real_redis_url() -> str:
    """A real standalone Redis: TEST_REDIS_URL, else a private ``redis-server`` of this
    session (for what must cross processes, which fakeredis cannot)."""
    if TEST_REDIS_URL:
        return TEST_REDIS_URL
    node = redis_servers.start_standalone(Path(tempfile.mkdtemp(prefix="lmx-redis-")))
    atexit.register(node.kill)
    return node.url


def redis_url_of(kind: str) -> str | None:
    """The REDIS_URL of a backend kind (None: in-process fakeredis)."""
    if kind == "redis":
        return TEST_REDIS_URL
    if kind == "cluster":
        return redis_cluster().url
    return None


def backend_of(kind: str) -> CacheBackend:
    """A cache backend of its own (unique key prefix) on a Redis backend kind."""
    return create_backend(
        redis_url_of(kind),
        timeout=1,
        retry_after=1,
        prefix=f"lmxtest:{uuid.uuid4().hex}:",
        cluster=kind == "cluster",
    )


async def drop_backend(backend: CacheBackend) -> None:
    """Delete the backend's keys, then close it."""
    if not backend.embedded:
        await redis_servers.delete_keys(backend.client, backend.prefix, cluster=backend.cluster)
    await backend.close()


def make_settings(mongo_url: str, db_name: str, redis: str, **extra: Any) -> Settings:
    """Settings of an app under test on its own Redis key prefix."""
    values: dict[str, Any] = {
        "mongodb_url": mongo_url,
        "mongodb_db": db_name,
        "redis_url": redis_url_of(redis),
        "redis_cluster": redis == "cluster",
        "redis_prefix": f"lmxtest:{uuid.uuid4().hex[:8]}:",
        "jwt_secret": SECRET,
        "lumetrix_env": "test",
        "catalog_version_ttl": 0,
        "warm_on_start": False,
        # Off unless a test is about it: the concurrency tests fire 50 calls at once.
        "mark_read_rate": 0,
    }
    return Settings(**(values | extra))


async def delete_prefix(app: FastAPI) -> None:
    """Delete this app's keys (and only them) from a real Redis."""
    backend = resources_of(app).backend
    if not backend.embedded:
        await redis_servers.delete_keys(backend.client, backend.prefix, cluster=backend.cluster)


class running_app:
    """``async with running_app(settings) as api``: lifespan started, keys cleaned after."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)

    async def __aenter__(self) -> Api:
        self._life = self.app.router.lifespan_context(self.app)
        await self._life.__aenter__()
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return Api(self.app, self.client, self.settings)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        try:
            await delete_prefix(self.app)
        except Exception:  # a test that stopped Redis leaves nothing to clean
            pass
        await self._life.__aexit__(None, None, None)


@pytest.fixture(params=REDIS_BACKENDS)
def redis_kind(request: pytest.FixtureRequest) -> str:
    """Which Redis the app under test uses."""
    return str(request.param)


@pytest.fixture
async def api(mongo_url: str, catalog_db: str, redis_kind: str) -> AsyncIterator[Api]:
    """The app on the shared demo catalog, as a student of this test's own."""
    async with running_app(make_settings(mongo_url, catalog_db, redis_kind)) as client:
        yield client


@pytest.fixture(params=CACHE_MODES, ids=lambda mode: f"{mode[0]}-cache-{mode[1]}")
def cache_mode(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Which Redis the app under test uses, and whether its cache is on."""
    redis, cache = request.param
    return str(redis), str(cache)


@pytest.fixture
async def api_any_cache(
    mongo_url: str, catalog_db: str, cache_mode: tuple[str, str]
) -> AsyncIterator[Api]:
    """As ``api``, once per cache mode: cached (each Redis) and ``LUMETRIX_CACHE=off``."""
    redis, cache = cache_mode
    settings = make_settings(mongo_url, catalog_db, redis, lumetrix_cache=cache)
    async with running_app(settings) as client:
        yield client


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A DATA_DIR of this test's own."""
    return tmp_path / "data"


async def small_catalog_app(
    mongo_url: str, mongo_client: Any, redis_kind: str, samples: int, cache: str = "on"
) -> tuple[Any, str]:
    """An app on a database of its own holding ``samples`` migrated C samples (ten per
    chapter; points alternate 1 and 2); returns it unstarted with the database's name.
    ``cache``: the app's ``LUMETRIX_CACHE``."""
    name = await small_catalog_db(mongo_client, samples)
    return running_app(make_settings(mongo_url, name, redis_kind, lumetrix_cache=cache)), name


async def small_catalog_db(mongo_client: Any, samples: int) -> str:
    """The name of a new database holding ``samples`` migrated C samples (ten per chapter;
    points alternate 1 and 2)."""
    name = unique_name("lmx_test_small")
    db = mongo_client[name]
    await db[SAMPLES].insert_many(
        [
            make_sample(
                sample_id=f"c_ch1_q_{i:06d}",
                chapter=1 + i // 10,
                difficulty=["easy", "medium", "hard"][i % 3],
                question=f"q{i}",
                knowledge_area="basics" if i < 10 else "control_flow",
                read_points=1 + i % 2,
            )
            for i in range(samples)
        ]
    )
    return name


@pytest.fixture(scope="session")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLrs]:
    """Ralph's xAPI LRS for the whole session, from its own virtualenv (built on first
    use, then cached: ``tools.ralph_lrs``), statements in a temporary directory. Tests
    keep apart by home page (``XAPI_HOMEPAGE``) and students of their own."""
    server = RalphLrs(tmp_path_factory.mktemp("ralph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_redis_url() -> str:
    """A real Redis several processes can share (``real_redis_url``)."""
    return real_redis_url()


@pytest.fixture(scope="module")
async def own_catalog_db(mongo_client: Any, catalog_db: str) -> AsyncIterator[str]:
    """A copy of the demo catalog (samples and catalog version) with no reads yet, for a
    module whose students must not meet every other test's (a 1-point student is off a
    top-10 board the rest of the suite has filled)."""
    name = unique_name("lmx_test_catalog_copy")
    source, copy = mongo_client[catalog_db], mongo_client[name]
    await copy[SAMPLES].insert_many(await source[SAMPLES].find({}).to_list(None))
    version = await source[META].find_one({"_id": "catalog_version"})
    if version is not None:
        await copy[META].insert_one(version)
    yield name
    await _settle(mongo_client)
    await drop_database(mongo_client, name)


@pytest.fixture(scope="module")
def catalog_server(mongo_url: str, own_catalog_db: str) -> Iterator[str]:
    """The service on a copy of the demo catalog, over real HTTP (fakeredis)."""
    with live_server(make_settings(mongo_url, own_catalog_db, "fakeredis")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, with no route off the machine."""
    with chromium() as driver:
        yield driver


def c_samples(n: int) -> list[dict[str, Any]]:
    """``n`` migrated C samples over ten chapters, one point each."""
    return [
        make_sample(sample_id=f"c_ch{1 + i % 10}_q_{i:06d}", chapter=1 + i % 10, question=f"q{i}")
        for i in range(n)
    ]
