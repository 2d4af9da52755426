"""The service on a real Redis Cluster: per-slot progress epochs, cross-slot bugs that
surface, and a master killed mid-run (answers stay right from MongoDB, Redis is used
again once the master is back)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from cache.backend import CacheBackend, CacheUnavailable
from tests.conftest import (
    Api,
    backend_of,
    drop_backend,
    drop_database,
    make_settings,
    running_app,
    small_catalog_db,
    unique_name,
)
from tools import redis_servers


@pytest.fixture(autouse=True)
def _needs_redis_server() -> None:
    """Fail, never skip, without redis-server: `make test` installs it."""
    if not redis_servers.available():
        pytest.fail(
            "the Redis Cluster tests need redis-server and redis-cli: apt-get install "
            "redis-server redis-tools (or run `make test`)",
            pytrace=False,
        )


def slot_of(key: str) -> int:
    """The Cluster slot of a key (its hash tag's, if any)."""
    return key_slot(key.encode())


@pytest.fixture
async def cluster_backend() -> AsyncIterator[CacheBackend]:
    """A backend of its own on the session's cluster."""
    backend = backend_of("cluster")
    yield backend
    await drop_backend(backend)


async def test_each_epoch_key_shares_the_slot_of_what_it_covers(
    cluster_backend: CacheBackend,
) -> None:
    backend = cluster_backend
    students = [f"SIDHI_{i:04d}" for i in range(200)]
    epochs = {backend.epoch_key(s) for s in students}
    for student in students:
        assert slot_of(backend.epoch_key(student)) == slot_of(backend.key("x", "{" + student + "}"))
    # No single key is read by every page: 200 students, (nearly) 200 epoch keys.
    assert len(epochs) > 190
    await backend.bump_epoch()
    values = await asyncio.gather(*(backend.client.get(key) for key in sorted(epochs)))
    assert all(v is not None for v in values)


async def test_single_redis_keeps_one_epoch_key() -> None:
    backend = backend_of("fakeredis")
    try:
        assert backend.epoch_key("a") == backend.epoch_key("b") == backend.key("progress-epoch")
    finally:
        await drop_backend(backend)


async def test_a_cross_slot_command_is_a_bug_not_an_outage(cluster_backend: CacheBackend) -> None:
    backend = cluster_backend
    keys = [backend.key("x", "{a}"), backend.key("x", "{b}")]
    assert slot_of(keys[0]) != slot_of(keys[1])
    with pytest.raises(Exception) as raised:
        await backend.call(lambda r: r.eval("return 1", 2, *keys))
    assert not isinstance(raised.value, CacheUnavailable)
    assert backend.available and backend.failures == 0


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[redis_servers.RedisCluster]:
    """A cluster of this test's own (it kills one of its masters)."""
    cluster = redis_servers.RedisCluster(tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()


async def _ids(api: Api, student: str) -> list[str]:
    page = await api.get("/training/samples", student, language="c", chapter=2, limit=4)
    return [s["sample_id"] for s in page.json()["data"]]


async def _state(api: Api, student: str) -> tuple[list[bool], int, int]:
    """(isRead of the chapter-2 page, samples read, points) as the API answers them."""
    page = await api.get("/training/samples", student, language="c", chapter=2, limit=4)
    assert page.status_code == 200, page.text
    progress = await api.get("/training/my-progress", student, language="c")
    assert progress.status_code == 200, progress.text
    overview: dict[str, Any] = progress.json()["overview"]
    return [s["isRead"] for s in page.json()["data"]], overview["samples_read"], overview["points"]


async def _wait_available(api: Api) -> None:
    for _ in range(300):
        if api.backend.available:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the breaker did not close after the master came back")


async def test_a_master_killed_mid_run(
    mongo_url: str, mongo_client: Any, own_cluster: redis_servers.RedisCluster
) -> None:
    # A catalog of its own: its students' points must not crowd the shared boards.
    name = await small_catalog_db(mongo_client, 40)
    settings = make_settings(
        mongo_url, name, "cluster", redis_url=own_cluster.url, redis_timeout=0.2
    )
    try:
        await _kill_a_master(settings, own_cluster)
    finally:
        await drop_database(mongo_client, name)


async def _kill_a_master(settings: Any, own_cluster: redis_servers.RedisCluster) -> None:
    async with running_app(settings) as api:
        client = api.backend.client
        await client.initialize()  # the slot map, before any command needed it
        # Students whose keys live on every master, so the victim holds some of them.
        students = [unique_name("SIDHI") for _ in range(12)]
        owners = {s: client.get_node_from_key(api.read_sets.keys(s, "c")[0]).port for s in students}
        assert len(set(owners.values())) == 3
        ids = await _ids(api, students[0])
        for student in students:
            res = await api.post(f"/training/samples/{ids[0]}/mark-read", student, time_spent=5)
            assert res.status_code == 200, res.text
        before = {s: await _state(api, s) for s in students}
        for read, count, points in before.values():
            assert read == [True, False, False, False] and count == 1 and points > 0

        victim = next(n for n in own_cluster.nodes if n.port == owners[students[0]])
        victim.kill()
        # Each student reads one more sample while a master is dead: acknowledged, and
        # every answer right (from MongoDB where Redis cannot say).
        for student in students:
            res = await api.post(f"/training/samples/{ids[1]}/mark-read", student, time_spent=5)
            assert res.status_code == 200 and res.json()["is_first_read"] is True
        during = {s: await _state(api, s) for s in students}
        for student, (read, count, points) in during.items():
            assert read == [True, True, False, False] and count == 2, student
            assert points > before[student][2]
        board = await api.get("/training/leaderboard", students[0], language="c", period="all")
        assert board.status_code == 200 and board.json()["me"]["points"] == during[students[0]][2]
        assert api.backend.failures > 0

        victim.start()
        own_cluster.wait_ok()
        await _wait_available(api)
        # Back: the writes the outage swallowed are not missing (the breaker's probe
        # dropped the caches they touched), and Redis serves again: a student's read set
        # is loaded once more.
        for student in students:
            assert await _state(api, student) == during[student]
            res = await api.post(f"/training/samples/{ids[2]}/mark-read", student, time_spent=5)
            assert res.status_code == 200 and res.json()["is_first_read"] is True
            read, count, _ = await _state(api, student)
            assert read == [True, True, True, False] and count == 3
        members = await api.read_sets.members(students[0], "c")
        assert members is not None and set(members) == set(ids[:3])
