"""The next-best sample (``app.training.recommend``)."""

from __future__ import annotations

from typing import Any

from app.training import shapes
from tests.conftest import conforms, drop_database, small_catalog_app


async def test_next_never_returns_a_read_sample(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 20)
    try:
        async with app_cm as api:
            seen: list[str] = []
            for _ in range(20):
                body = (await api.get("/training/next", language="c")).json()
                conforms(shapes.NextOut, body)
                sample = body["data"]
                assert sample is not None and sample["isRead"] is False
                assert sample["sample_id"] not in seen
                # Lowest unfinished chapter first.
                assert body["chapter"] == (1 if len(seen) < 10 else 2)
                seen.append(sample["sample_id"])
                await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=5)
            done = (await api.get("/training/next", language="c")).json()
            assert done["data"] is None and done["chapter"] is None and done["message"]
    finally:
        await drop_database(mongo_client, name)


async def test_next_climbs_difficulty(mongo_url: str, mongo_client: Any, redis_kind: str) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 10)
    try:
        async with app_cm as api:
            # Sample 0 is easy; having read it, the next pick is a medium one.
            await api.post("/training/samples/c_ch1_q_000000/mark-read", time_spent=5)
            body = (await api.get("/training/next", language="c")).json()
            assert body["data"]["difficulty"] == "medium"
    finally:
        await drop_database(mongo_client, name)


# --- freshness -------------------------------------------------------------------------------
