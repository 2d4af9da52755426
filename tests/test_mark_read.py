"""Mark-read (``app.training.mark_read``) on samples the migration left incomplete."""

from __future__ import annotations

import asyncio
from typing import Any

from app.db import PROGRESS, SAMPLES, STATS
from app.training.queries.meta import bump_catalog_version
from tests.conftest import drop_database, make_settings, running_app, unique_name
from tests.factories import make_sample

# A sample the migration left without a knowledge area.
NO_AREA = make_sample(
    sample_id="c_ch42_q_000001",
    chapter=42,
    type="program",
    question="Print 42.",
    answer='printf("42");',
)
del NO_AREA["knowledge_area"]


async def test_a_read_never_changes_the_workers_cached_sample(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    name = unique_name("lmx_test_no_area")
    db = mongo_client[name]
    await db[SAMPLES].insert_one(dict(NO_AREA))
    await bump_catalog_version(db)
    try:
        async with running_app(make_settings(mongo_url, name, redis_kind)) as api:
            sid = NO_AREA["sample_id"]
            before = (await api.get("/training/samples", language="c")).json()["data"]
            assert [s["sample_id"] for s in before] == [sid]
            assert "knowledge_area" not in before[0]
            cached = await api.resources.catalog.sample(sid)
            assert cached is not None and "knowledge_area" not in cached

            res = await api.post(f"/training/samples/{sid}/mark-read", time_spent=5)
            assert res.status_code == 200 and res.json()["is_first_read"] is True

            # The progress record got the fallback area; the shared cached copy did not.
            record = await db[PROGRESS].find_one({"sidhi_id": api.student, "sample_id": sid})
            assert record is not None and record["knowledge_area"] == "general"
            assert "knowledge_area" not in (await api.resources.catalog.sample(sid) or {})
            after = (await api.get("/training/samples", language="c")).json()["data"]
            assert "knowledge_area" not in after[0] and after[0]["isRead"] is True
            detail = (await api.get(f"/training/samples/{sid}")).json()["data"]
            assert "knowledge_area" not in detail
    finally:
        await drop_database(mongo_client, name)


async def test_one_batch_gives_each_read_its_own_total(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    # A long window gathers every concurrent call of this test into one batch.
    settings = make_settings(mongo_url, catalog_db, redis_kind, mark_read_batch_window=0.2)
    async with running_app(settings) as api:
        page = (await api.get("/training/samples", language="python", limit=12)).json()
        ids = [s["sample_id"] for s in page["data"]]
        calls = [
            api.post(f"/training/samples/{sid}/mark-read", time_spent=3)
            for sid in [*ids, ids[0], ids[1]]  # two revisits of samples first read here too
        ]
        answers = [r.json() for r in await asyncio.gather(*calls)]
        firsts = [a for a in answers if a["is_first_read"]]
        assert sorted(a["sample_id"] for a in firsts) == sorted(ids)
        assert sorted(a["total_points"] for a in firsts) == list(range(1, 13))
        assert all(1 <= a["total_points"] <= 12 for a in answers if not a["is_first_read"])
        assert sum(a["points_awarded"] for a in answers) == 12
        stats = await api.db["student_stats"].find_one({"_id": api.student})
        assert stats is not None and stats["total_points"] == 12
        assert stats["languages"]["python"]["time_spent"] == 3 * 14
        mine = await api.db[PROGRESS].count_documents({"sidhi_id": api.student})
        assert mine == 12


async def test_a_conflict_outlasting_its_retries_is_a_503(
    mongo_url: str, catalog_db: str, monkeypatch: Any
) -> None:
    from app import visit_batches

    monkeypatch.setattr(visit_batches, "CONFLICT_RETRY", 0.3)
    async with running_app(make_settings(mongo_url, catalog_db, "fakeredis")) as api:
        page = (await api.get("/training/samples", language="c", limit=2)).json()["data"]
        first, second = (s["sample_id"] for s in page)
        assert (
            await api.post(f"/training/samples/{first}/mark-read", time_spent=5)
        ).status_code == 200
        # Another writer holds the student's stats document in an open transaction.
        async with api.db.client.start_session() as holder:
            await holder.start_transaction()
            await api.db[STATS].update_one(
                {"_id": api.student}, {"$inc": {"total_points": 100}}, session=holder
            )
            res = await api.post(f"/training/samples/{second}/mark-read", time_spent=5)
            assert res.status_code == 503, res.text
            assert res.json()["code"] == "service_unavailable"
            assert res.headers["Retry-After"] == "1"
            await holder.abort_transaction()
        # Nothing was written: the retry is the first read, counted once.
        res = await api.post(f"/training/samples/{second}/mark-read", time_spent=5)
        assert res.status_code == 200 and res.json()["is_first_read"] is True
        progress = (await api.get("/training/my-progress", language="c")).json()["overview"]
        assert progress["samples_read"] == 2
        assert progress["points"] == sum(s["read_points"] for s in page)


async def test_a_contended_batch_is_written_student_by_student(
    mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    """Another worker's transaction holds one student's stats: the batch that shares that
    student is split after its second conflict, so the other student's read is committed
    at once and the held student's when the holder lets go, each counted once."""
    from app.observability import BATCH_RETRIES

    settings = make_settings(mongo_url, catalog_db, redis_kind, mark_read_batch_window=0.2)
    async with running_app(settings) as api:
        held, free = api.student, unique_name("SIDHI")
        page = (await api.get("/training/samples", language="c", limit=2)).json()["data"]
        first, second = (s["sample_id"] for s in page)
        for student in (held, free):
            res = await api.post(f"/training/samples/{first}/mark-read", student, time_spent=5)
            assert res.status_code == 200
        retries = BATCH_RETRIES._value.get()
        async with api.db.client.start_session() as holder:
            await holder.start_transaction()
            await api.db[STATS].update_one(
                {"_id": held}, {"$inc": {"total_points": 100}}, session=holder
            )
            calls = [
                asyncio.ensure_future(
                    api.post(f"/training/samples/{second}/mark-read", student, time_spent=5)
                )
                for student in (held, free)
            ]
            # The free student's read is committed while the held one's still waits.
            for _ in range(80):
                free_read = await api.db[PROGRESS].find_one({"sidhi_id": free, "sample_id": second})
                if free_read is not None:
                    break
                await asyncio.sleep(0.05)
            assert free_read is not None
            assert await api.db[PROGRESS].find_one({"sidhi_id": held, "sample_id": second}) is None
            await holder.abort_transaction()
        for call in calls:
            answer = await call
            assert answer.status_code == 200 and answer.json()["is_first_read"] is True
        assert BATCH_RETRIES._value.get() >= retries + 2
        for student in (held, free):
            stats = await api.db[STATS].find_one({"_id": student})
            assert stats is not None
            assert stats["total_points"] == sum(s["read_points"] for s in page), student
