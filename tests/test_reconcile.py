"""Reconciliation of read sets and stats with MongoDB (``app.training.reconcile``)."""

from __future__ import annotations

from app.training.reconcile import reconcile
from tests.conftest import Api


async def test_reconcile_repairs_a_corrupted_set_and_stats(api: Api) -> None:
    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="c", limit=4)).json()["data"]
    ]
    for sid in ids[:2]:
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=5)
    await api.get("/training/samples", language="c", limit=4)  # loads the set
    progress = api.read_sets
    key, _ = progress.keys(api.student, "c")
    client = api.backend.client
    # Corrupt it: a read Mongo lacks, and a real read removed.
    await client.zadd(key, {ids[3]: 1.0})
    await client.zrem(key, ids[0])
    await api.db["student_stats"].update_one({"_id": api.student}, {"$inc": {"total_points": 40}})
    report = await reconcile(
        db=api.db,
        read_state=api.resources.reads,
        progress=api.resources.progress,
        student=api.student,
    )
    assert report.sets_repaired == [f"{api.student}:c"]
    assert report.stats_repaired == [api.student]
    page = (await api.get("/training/samples", language="c", limit=4)).json()["data"]
    assert [s["isRead"] for s in page] == [True, True, False, False]
    stats = await api.db["student_stats"].find_one({"_id": api.student})
    assert stats["total_points"] == 2
    clean = await reconcile(
        db=api.db,
        read_state=api.resources.reads,
        progress=api.resources.progress,
        student=api.student,
    )
    assert clean.sets_repaired == [] and clean.stats_repaired == [] and clean.sets_checked == 1
    metrics = (await api.client.get("/metrics")).text
    assert 'lumetrix_drift_repaired_total{kind="progress_set"}' in metrics
