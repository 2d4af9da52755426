"""Streaks, leaderboards, next-best sample, freshness headers and reconciliation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from app.db import SAMPLES, bump_catalog_version
from app.training import models
from app.training.reconcile import reconcile
from app.training.streaks import quarter_of, reads_per_day, streak, zone
from tests.conftest import Api, make_settings, running_app, unique_name
from tests.test_cache import redis_outage


def _quarters(*moments: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for moment in moments:
        key = quarter_of(datetime.fromisoformat(moment))
        out[key] = out.get(key, 0) + 1
    return out


# --- streaks: pure rules -----------------------------------------------------------------


def test_streak_across_a_dst_change() -> None:
    # New York springs forward on 2026-03-08 (a 23-hour local day): reads late each evening.
    reads = _quarters(
        "2026-03-07T03:30:00+00:00",
        "2026-03-08T03:30:00+00:00",
        "2026-03-09T02:30:00+00:00",
        "2026-03-10T02:30:00+00:00",
    )
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    ny = streak(reads, tz=zone("America/New_York"), now=now)
    assert ny == {
        "current": 4,
        "longest": 4,
        "last_active_date": "2026-03-09",
        "tz": "America/New_York",
    }
    # Berlin falls back on 2026-10-25 (a 25-hour day): 23:30 local on both sides.
    berlin = _quarters(
        "2026-10-23T21:30:00+00:00", "2026-10-24T21:30:00+00:00", "2026-10-25T22:30:00+00:00"
    )
    result = streak(berlin, tz=zone("Europe/Berlin"), now=datetime(2026, 10, 26, 8, tzinfo=UTC))
    assert result["current"] == 3 and result["last_active_date"] == "2026-10-25"


def test_midnight_is_local_to_each_zone() -> None:
    # 23:50 and 00:10 local Tokyo time: two Tokyo days, one UTC day, one Los Angeles day.
    reads = _quarters("2026-06-01T14:50:00+00:00", "2026-06-01T15:10:00+00:00")
    assert len(reads_per_day(reads, zone("Asia/Tokyo"))) == 2
    assert len(reads_per_day(reads, zone("UTC"))) == 1
    assert len(reads_per_day(reads, zone("America/Los_Angeles"))) == 1
    # Nepal is UTC+05:45: a quarter-hour bucket never straddles its midnight either.
    nepal = _quarters("2026-06-01T18:14:00+00:00", "2026-06-01T18:15:00+00:00")
    assert len(reads_per_day(nepal, zone("Asia/Kathmandu"))) == 2


def test_streak_rules() -> None:
    now = datetime(2026, 5, 20, 9, tzinfo=UTC)
    gap = _quarters(
        "2026-05-10T10:00:00+00:00",
        "2026-05-11T10:00:00+00:00",
        "2026-05-12T10:00:00+00:00",
        "2026-05-18T10:00:00+00:00",
        "2026-05-19T10:00:00+00:00",
    )
    assert streak(gap, tz=zone("UTC"), now=now)["current"] == 2  # today not read yet
    assert streak(gap, tz=zone("UTC"), now=now)["longest"] == 3
    stale = streak(gap, tz=zone("UTC"), now=datetime(2026, 5, 22, tzinfo=UTC))
    assert stale["current"] == 0 and stale["longest"] == 3
    assert streak(gap, tz=zone("UTC"), now=now, minimum=2)["current"] == 0
    assert streak({}, tz=zone("UTC"), now=now)["last_active_date"] is None


# --- streaks over HTTP ---------------------------------------------------------------------


async def test_fifty_first_reads_on_one_day_credit_it_once(api: Api) -> None:
    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="python", limit=50)).json()["data"]
    ]
    results = await asyncio.gather(
        *[api.post(f"/training/samples/{sid}/mark-read", time_spent=5) for sid in ids]
    )
    assert all(r.json()["is_first_read"] for r in results)
    body = (await api.get("/training/my-progress", language="python")).json()
    models.ProgressOut.model_validate(body)
    today = datetime.now(UTC).date().isoformat()
    assert body["streak"] == {"current": 1, "longest": 1, "last_active_date": today, "tz": "UTC"}
    stats = await api.db["student_stats"].find_one({"_id": api.student})
    assert sum(stats["quarters"].values()) == 50


async def test_time_zone_from_query_or_preference(api: Api) -> None:
    [sample] = (await api.get("/training/samples", language="c", limit=1)).json()["data"]
    await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=5)
    res = await api.client.put(
        "/training/preferences", json={"tz": "Asia/Kathmandu"}, headers=api.headers()
    )
    assert res.json() == {"status": "success", "tz": "Asia/Kathmandu", "leaderboard_opt_out": False}
    body = (await api.get("/training/my-progress", language="c")).json()
    assert body["streak"]["tz"] == "Asia/Kathmandu"
    body = (await api.get("/training/my-progress", language="c", tz="Pacific/Auckland")).json()
    assert body["streak"]["tz"] == "Pacific/Auckland" and body["streak"]["current"] == 1
    bad = await api.get("/training/my-progress", language="c", tz="Mars/Olympus")
    assert bad.status_code == 400 and "time zone" in bad.json()["detail"]
    bad = await api.client.put(
        "/training/preferences", json={"tz": "Nowhere/Land"}, headers=api.headers()
    )
    assert bad.status_code == 400


async def test_recompute_keeps_streak_and_preferences(api: Api) -> None:
    from app.training.progress import recompute_stats

    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="cpp", limit=3)).json()["data"]
    ]
    for sid in ids:
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=5)
    await api.client.put(
        "/training/preferences", json={"leaderboard_opt_out": True}, headers=api.headers()
    )
    before = await api.db["student_stats"].find_one({"_id": api.student}, {"updated_at": 0})
    await recompute_stats(db=api.db, student=api.student)
    after = await api.db["student_stats"].find_one({"_id": api.student}, {"updated_at": 0})
    assert after == before


# --- leaderboards ---------------------------------------------------------------------------


async def _leaderboard_app(
    mongo_url: str, mongo_client: Any, redis_kind: str, samples: int
) -> tuple[Any, str]:
    name = unique_name("lmx_test_lb")
    db = mongo_client[name]
    await db[SAMPLES].insert_many(
        [
            {
                "sample_id": f"c_ch1_q_{i:06d}",
                "chapter": 1 + i // 10,
                "type": "mcq",
                "difficulty": ["easy", "medium", "hard"][i % 3],
                "question": f"q{i}",
                "answer": "a",
                "language": "c",
                "knowledge_area": "basics" if i < 10 else "control_flow",
                "read_points": 1 + i % 2,
                "tags": [],
            }
            for i in range(samples)
        ]
    )
    return running_app(make_settings(mongo_url, name, redis_kind)), name


async def test_leaderboard_ranks_under_concurrent_awards(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    app_cm, name = await _leaderboard_app(mongo_url, mongo_client, redis_kind, 20)
    try:
        async with app_cm as api:
            students = [f"LB_{i:02d}" for i in range(8)]
            # Load the boards first, so what follows is write-through, not a rebuild.
            await api.get("/training/leaderboard", student=students[0], language="c")
            # Student i reads i+1 samples, all at once with everyone else.
            calls = [
                api.post(f"/training/samples/c_ch1_q_{j:06d}/mark-read", student=s, time_spent=5)
                for i, s in enumerate(students)
                for j in range(i + 1)
            ]
            results = await asyncio.gather(*calls)
            assert all(r.status_code == 200 for r in results)
            expected = {s: sum(1 + j % 2 for j in range(i + 1)) for i, s in enumerate(students)}
            body = (
                await api.get(
                    "/training/leaderboard",
                    student=students[0],
                    language="c",
                    period="all",
                    limit=3,
                )
            ).json()
            models.LeaderboardOut.model_validate(body)
            ranked = sorted(expected.items(), key=lambda kv: -kv[1])
            assert [(e["student"], e["points"]) for e in body["top"]] == ranked[:3]
            assert [e["rank"] for e in body["top"]] == [1, 2, 3]
            # The caller is outside the top 3 and still sees their own place.
            assert body["me"] == {"student": students[0], "rank": 8, "points": 1, "hidden": False}
            for period in ("week", "month"):
                again = (
                    await api.get(
                        "/training/leaderboard",
                        student=students[0],
                        language="c",
                        period=period,
                        limit=3,
                    )
                ).json()
                assert again["top"] == body["top"]
            # A rebuild from MongoDB agrees with the write-through board.
            boards = api.app.state.boards
            from app.training.leaderboard import board_for

            board, _, _ = board_for("c", "all", datetime.now(UTC))
            await api.app.state.redis.client.delete(boards.keys(board)[0])
            rebuilt = (
                await api.get(
                    "/training/leaderboard",
                    student=students[0],
                    language="c",
                    period="all",
                    limit=3,
                )
            ).json()
            assert rebuilt["top"] == body["top"] and rebuilt["me"] == body["me"]
            async with redis_outage(api):
                down = (
                    await api.get(
                        "/training/leaderboard",
                        student=students[0],
                        language="c",
                        period="all",
                        limit=3,
                    )
                ).json()
            assert down["top"] == body["top"] and down["me"] == body["me"]
    finally:
        await mongo_client.drop_database(name)


async def test_leaderboard_opt_out(mongo_url: str, mongo_client: Any, redis_kind: str) -> None:
    app_cm, name = await _leaderboard_app(mongo_url, mongo_client, redis_kind, 6)
    try:
        async with app_cm as api:
            for i, student in enumerate(["OPT_A", "OPT_B"]):
                for j in range(2 + i):
                    await api.post(
                        f"/training/samples/c_ch1_q_{j:06d}/mark-read",
                        student=student,
                        time_spent=5,
                    )
            res = await api.client.put(
                "/training/preferences",
                json={"leaderboard_opt_out": True},
                headers=api.headers("OPT_B"),
            )
            assert res.json()["leaderboard_opt_out"] is True
            seen_by_a = (
                await api.get("/training/leaderboard", student="OPT_A", language="c", period="all")
            ).json()
            assert [e["student"] for e in seen_by_a["top"]] == ["OPT_A"]
            own = (
                await api.get("/training/leaderboard", student="OPT_B", language="c", period="all")
            ).json()
            assert own["me"]["hidden"] is True and own["me"]["rank"] == 1
            assert own["me"]["points"] == 4
            assert all(e["student"] != "OPT_B" for e in own["top"])
            # Reads after opting out stay off the board too.
            await api.post(
                "/training/samples/c_ch1_q_000005/mark-read", student="OPT_B", time_spent=5
            )
            seen_by_a = (
                await api.get("/training/leaderboard", student="OPT_A", language="c", period="all")
            ).json()
            assert [e["student"] for e in seen_by_a["top"]] == ["OPT_A"]
    finally:
        await mongo_client.drop_database(name)


# --- next-best sample -------------------------------------------------------------------


async def test_next_never_returns_a_read_sample(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    app_cm, name = await _leaderboard_app(mongo_url, mongo_client, redis_kind, 20)
    try:
        async with app_cm as api:
            seen: list[str] = []
            for _ in range(20):
                body = (await api.get("/training/next", language="c")).json()
                models.NextOut.model_validate(body)
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
        await mongo_client.drop_database(name)


async def test_next_climbs_difficulty(mongo_url: str, mongo_client: Any, redis_kind: str) -> None:
    app_cm, name = await _leaderboard_app(mongo_url, mongo_client, redis_kind, 10)
    try:
        async with app_cm as api:
            # Sample 0 is easy; having read it, the next pick is a medium one.
            await api.post("/training/samples/c_ch1_q_000000/mark-read", time_spent=5)
            body = (await api.get("/training/next", language="c")).json()
            assert body["data"]["difficulty"] == "medium"
    finally:
        await mongo_client.drop_database(name)


# --- freshness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/training/stats", "/training/knowledge-areas", "/training/filters"]
)
async def test_catalog_etag_and_304(
    mongo_url: str, mongo_client: Any, redis_kind: str, path: str
) -> None:
    app_cm, name = await _leaderboard_app(mongo_url, mongo_client, redis_kind, 5)
    try:
        async with app_cm as api:
            first = await api.get(path, language="c")
            etag = first.headers["etag"]
            assert first.status_code == 200 and etag.startswith('"catalog-v')
            again = await api.client.get(
                path, params={"language": "c"}, headers={**api.headers(), "If-None-Match": etag}
            )
            assert again.status_code == 304 and again.content == b""
            await bump_catalog_version(mongo_client[name])
            changed = await api.client.get(
                path, params={"language": "c"}, headers={**api.headers(), "If-None-Match": etag}
            )
            assert changed.status_code == 200 and changed.headers["etag"] != etag
    finally:
        await mongo_client.drop_database(name)


async def test_per_student_answers_are_private_and_aggregates_dated(api: Api) -> None:
    for path, params in [
        ("/training/samples", {"language": "c"}),
        ("/training/my-progress", {"language": "c"}),
        ("/training/chapters", {"language": "c"}),
        ("/training/next", {"language": "c"}),
        ("/training/leaderboard", {"language": "c"}),
    ]:
        res = await api.get(path, **params)
        assert res.headers["cache-control"] == "private, no-store", path
    for path in [
        "/training/my-progress",
        "/training/chapters",
        "/training/stats",
        "/training/knowledge-areas",
        "/training/leaderboard",
    ]:
        body = (await api.get(path, language="c")).json()
        assert body["as_of"].endswith("Z"), path


# --- reconciliation ---------------------------------------------------------------------------


async def test_reconcile_repairs_a_corrupted_set_and_stats(api: Api) -> None:
    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="c", limit=4)).json()["data"]
    ]
    for sid in ids[:2]:
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=5)
    await api.get("/training/samples", language="c", limit=4)  # loads the set
    progress = api.app.state.progress
    key, _ = progress.keys(api.student, "c")
    client = api.app.state.redis.client
    # Corrupt it: a read Mongo lacks, and a real read removed.
    await client.zadd(key, {ids[3]: 1.0})
    await client.zrem(key, ids[0])
    await api.db["student_stats"].update_one({"_id": api.student}, {"$inc": {"total_points": 40}})
    report = await reconcile(db=api.db, progress=progress, student=api.student)
    assert report.sets_repaired == [f"{api.student}:c"]
    assert report.stats_repaired == [api.student]
    page = (await api.get("/training/samples", language="c", limit=4)).json()["data"]
    assert [s["isRead"] for s in page] == [True, True, False, False]
    stats = await api.db["student_stats"].find_one({"_id": api.student})
    assert stats["total_points"] == 2
    clean = await reconcile(db=api.db, progress=progress, student=api.student)
    assert clean.sets_repaired == [] and clean.stats_repaired == [] and clean.sets_checked == 1
    metrics = (await api.client.get("/metrics")).text
    assert 'lumetrix_drift_repaired_total{kind="progress_set"}' in metrics
