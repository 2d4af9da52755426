"""Cache behaviour: version-keyed invalidation, Redis outages, read-set invariants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from app.training.curriculum import LANGUAGES
from app.training.queries.meta import bump_catalog_version
from cache.progress import SENTINEL
from tests.conftest import Api, drop_database, make_settings, running_app, unique_name
from tests.factories import make_sample
from tools.redis_servers import client_at


@asynccontextmanager
async def redis_outage(api: Api) -> AsyncIterator[None]:
    """Redis unreachable inside the block (fakeredis disconnected, or a closed port)."""
    backend = api.backend
    if backend.fake_server is not None:
        backend.fake_server.connected = False
        try:
            yield
        finally:
            backend.fake_server.connected = True
        return
    real = backend.client
    backend.client = client_at(1, cluster=backend.cluster)
    try:
        yield
    finally:
        await backend.client.aclose()
        backend.client = real


async def wait_recovered(api: Api) -> None:
    """Let the breaker's probe find Redis again."""
    import asyncio

    backend = api.backend
    for _ in range(100):
        if backend.available:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("redis breaker did not close")


async def test_catalog_version_bump_invalidates_counts(
    mongo_url: str, mongo_client: object, redis_kind: str
) -> None:
    name = unique_name("lmx_test_bump")
    db = mongo_client[name]  # type: ignore[index]
    await db["training_samples_filtered"].insert_many(
        [make_sample(sample_id=f"c_ch1_q_{i:06d}") for i in range(3)]
    )
    try:
        async with running_app(make_settings(mongo_url, name, redis_kind)) as api:
            assert (await api.get("/training/stats", language="c")).json()["total_samples"] == 3
            assert (await api.get("/training/samples", language="c")).json()["pagination"][
                "total"
            ] == 3
            await db["training_samples_filtered"].insert_one(
                make_sample(sample_id="c_ch2_q_000099", chapter=2, knowledge_area="control_flow")
            )
            # Without a bump the cached counts stand (that is what the cache is for) ...
            assert (await api.get("/training/stats", language="c")).json()["total_samples"] == 3
            await bump_catalog_version(db)
            # ... and the bump refreshes every tier.
            assert (await api.get("/training/stats", language="c")).json()["total_samples"] == 4
            body = (await api.get("/training/samples", language="c")).json()
            assert body["pagination"]["total"] == 4
            chapters = (await api.get("/training/chapters", language="c")).json()
            assert chapters["total_chapters"] == 2
    finally:
        await drop_database(mongo_client, name)


async def test_every_endpoint_answers_with_redis_down_then_recovers(api: Api) -> None:
    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="c", chapter=3, limit=3)).json()[
            "data"
        ]
    ]
    await api.post(f"/training/samples/{ids[0]}/mark-read", time_spent=5)
    async with redis_outage(api):
        res = await api.post(f"/training/samples/{ids[1]}/mark-read", time_spent=5)
        assert res.status_code == 200 and res.json()["is_first_read"] is True
        page = (await api.get("/training/samples", language="c", chapter=3, limit=3)).json()
        assert [s["isRead"] for s in page["data"]] == [True, True, False]
        for path, params in [
            ("/training/chapters", {"language": "c"}),
            ("/training/my-progress", {"language": "c"}),
            ("/training/stats", {"language": "cpp"}),
            ("/training/knowledge-areas", {"language": "python"}),
            ("/training/filters", {}),
            ("/training/random", {"language": "c", "unread_only": "true"}),
            ("/training/search", {"language": "c", "q": "printf"}),
            (f"/training/samples/{ids[1]}", {}),
        ]:
            res = await api.get(path, **params)
            assert res.status_code == 200, (path, res.text)
        progress = (await api.get("/training/my-progress", language="c")).json()
        assert progress["overview"]["samples_read"] == 2
    await wait_recovered(api)
    # The write-through of ids[1] was lost with Redis; no stale isRead once it is back.
    page = (await api.get("/training/samples", language="c", chapter=3, limit=3)).json()
    assert [s["isRead"] for s in page["data"]] == [True, True, False]
    await api.post(f"/training/samples/{ids[2]}/mark-read", time_spent=5)
    page = (await api.get("/training/samples", language="c", chapter=3, limit=3)).json()
    assert [s["isRead"] for s in page["data"]] == [True, True, True]


async def test_redis_down_at_start_up(mongo_url: str, catalog_db: str) -> None:
    settings = make_settings(mongo_url, catalog_db, "fakeredis", redis_url="redis://127.0.0.1:1/0")
    async with running_app(settings) as api:
        [sample] = (await api.get("/training/samples", language="c", limit=1)).json()["data"]
        res = await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=3)
        assert res.status_code == 200 and res.json()["is_first_read"] is True
        page = (await api.get("/training/samples", language="c", limit=1)).json()
        assert page["data"][0]["isRead"] is True
        ready = await api.client.get("/ready")
        assert ready.status_code == 200 and ready.json()["redis"] == "down"


async def test_redis_never_shows_a_read_mongo_lacks(api: Api) -> None:
    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="python", limit=20)).json()["data"]
    ]
    for sample_id in ids[::3]:
        await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=5)
    await api.get("/training/samples", language="python", limit=20)
    progress = api.read_sets
    members = await progress.members(api.student, "python")
    assert members is not None
    in_mongo = {
        d["sample_id"]
        async for d in api.db["sample_progress"].find(
            {"sidhi_id": api.student, "language": "python"}
        )
    }
    assert set(members) == in_mongo == set(ids[::3])


async def test_partial_set_never_looks_complete(api: Api) -> None:
    """A write-through to a set that was never loaded adds nothing."""
    progress = api.read_sets
    [sample_id] = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="cpp", limit=1)).json()["data"]
    ]
    # Another read exists in Mongo only (e.g. written by a worker that lost Redis).
    await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=5)
    await progress.forget(api.student, "cpp")
    assert await progress.add(api.student, "cpp", "cpp_ch1_q_999999", 1.0) is False
    assert await progress.members(api.student, "cpp") is None
    page = (await api.get("/training/samples", language="cpp", limit=1)).json()
    assert page["data"][0]["isRead"] is True


async def test_load_racing_a_write_is_not_marked_complete(api: Api) -> None:
    progress = api.read_sets
    token = await progress.begin_load(api.student, "c")
    # A mark-read lands between the snapshot read and the load.
    await progress.add(api.student, "c", "c_ch1_q_000001", 5.0)
    assert await progress.load(api.student, "c", {}, token) is False
    assert await progress.members(api.student, "c") is None


async def test_keys_are_hash_tagged_and_expire(api: Api) -> None:
    await api.get("/training/samples", language="c", limit=5)
    key, gen_key = api.read_sets.keys(api.student, "c")
    assert "{" + api.student + "}" in key and "{" + api.student + "}" in gen_key
    client = api.backend.client
    assert await client.zscore(key, SENTINEL) is not None
    assert 0 < await client.ttl(key) <= api.settings.progress_ttl


async def test_languages_are_separate_sets(api: Api) -> None:
    for language in LANGUAGES:
        await api.get("/training/samples", language=language, limit=1)
    keys = {api.read_sets.keys(api.student, lang)[0] for lang in LANGUAGES}
    assert len(keys) == 3


def test_the_local_tier_keeps_values_for_their_ttl_and_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cache import catalog as catalog_module
    from cache.catalog import LocalTier

    now = [100.0]
    monkeypatch.setattr(catalog_module.time, "monotonic", lambda: now[0])
    tier = LocalTier(maxsize=2, ttl=5)
    missing = catalog_module._MISSING
    tier.put((1, "a"), "A")
    now[0] += 4.9
    assert tier.get((1, "a")) == "A"
    now[0] += 0.1
    assert tier.get((1, "a")) is missing  # its five seconds are up
    tier.put((1, "b"), "B")
    tier.put((1, "c"), "C")  # full: the expired "a" goes, the fresh ones stay
    assert (tier.get((1, "b")), tier.get((1, "c"))) == ("B", "C")
    tier.put((1, "d"), "D")  # full of fresh values: everything goes but the new one
    assert [tier.get((1, k)) for k in "bcd"] == [missing, missing, "D"]
    tier.put((1, "d"), "D2")  # replacing a key never evicts
    assert tier.get((1, "d")) == "D2"
