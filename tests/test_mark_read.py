"""Mark-read (``app.training.mark_read``) on samples the migration left incomplete."""

from __future__ import annotations

from typing import Any

from app.db import PROGRESS, SAMPLES
from app.training.queries.meta import bump_catalog_version
from tests.conftest import make_settings, running_app, unique_name

NO_AREA = {
    "sample_id": "c_ch42_q_000001",
    "chapter": 42,
    "type": "program",
    "difficulty": "easy",
    "question": "Print 42.",
    "answer": 'printf("42");',
    "language": "c",
    "read_points": 1,
    "tags": [],
}


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
        await mongo_client.drop_database(name)
