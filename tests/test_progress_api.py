"""Read tracking over HTTP: mark-read, exactly-once points, enrichment and progress."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app.timefmt import utcnow
from app.training import shapes
from tests.conftest import Api, conforms, drop_database, small_catalog_app, unique_name
from tests.test_cache import redis_outage


async def _first_ids(api: Api, language: str = "c", n: int = 3, **flt: object) -> list[str]:
    body = (await api.get("/training/samples", language=language, limit=n, **flt)).json()
    return [s["sample_id"] for s in body["data"]]


async def test_mark_read_then_revisit(api: Api) -> None:
    [sample_id] = await _first_ids(api, n=1)
    first = await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=45)
    assert first.status_code == 200
    body = first.json()
    conforms(shapes.MarkReadOut, body)
    assert body["is_first_read"] is True and body["points_awarded"] == 1
    assert body["total_points"] == 1 and body["message"] == "Sample marked as read"
    again = (await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=30)).json()
    assert again["is_first_read"] is False and again["points_awarded"] == 0
    assert again["total_points"] == 1 and again["message"] == "Sample revisited"
    detail = (await api.get(f"/training/samples/{sample_id}")).json()["data"]
    assert detail["isRead"] is True and detail["readAt"].endswith("Z")
    assert detail["timeSpent"] == 75 and detail["revisitedCount"] == 2
    doc = await api.db["sample_progress"].find_one(
        {"sidhi_id": api.student, "sample_id": sample_id}
    )
    assert doc is not None
    assert doc["chapter"] == 1 and doc["language"] == "c" and doc["knowledge_area"] == "basics"
    assert doc["points_awarded"] == 1 and doc["last_revisited"] >= doc["read_at"]


async def test_time_spent_as_json_body(api: Api) -> None:
    [sample_id] = await _first_ids(api, "python", n=1)
    res = await api.post(f"/training/samples/{sample_id}/mark-read", json={"time_spent": 12})
    assert res.status_code == 200 and res.json()["is_first_read"] is True
    detail = (await api.get(f"/training/samples/{sample_id}")).json()["data"]
    assert detail["timeSpent"] == 12


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"time_spent": 0}, None),
        ({"time_spent": 3601}, None),
        ({"time_spent": -5}, None),
        ({"time_spent": 1.5}, None),
        ({"time_spent": "abc"}, None),
        ({}, None),
        ({}, {"time_spent": 0}),
        ({}, {"time_spent": "x"}),
        ({}, [1, 2]),
        ({}, "45"),
        ({}, {"time_spent": 5, "extra": 1}),
        ({"time_spent": 5}, {"time_spent": 5}),
        # Strict: the body's JSON types and the query's digits, nothing pydantic coerces.
        ({}, {"time_spent": 45.0}),
        ({}, {"time_spent": "45"}),
        ({}, {"time_spent": True}),
        ({}, {"time_spent": None}),
        ({"time_spent": "45.0"}, None),
        ({"time_spent": "true"}, None),
        ({"time_spent": "4_5"}, None),
        ({"time_spent": "+45"}, None),
        ({"time_spent": " 45"}, None),
    ],
)
async def test_bad_time_spent_is_4xx(api: Api, params: dict[str, object], body: object) -> None:
    [sample_id] = await _first_ids(api, n=1)
    res = await api.post(f"/training/samples/{sample_id}/mark-read", json=body, **params)
    assert res.status_code in (400, 422)
    assert res.json()["detail"]
    assert await api.db["sample_progress"].count_documents({"sidhi_id": api.student}) == 0


@pytest.mark.parametrize(
    ("path", "raw", "key"),
    [
        ("mark-read", b'{"time_spent":45,"time_spent":46}', "time_spent"),
        ("mark-read", b'{"time_spent":45, "time_spent":45}', "time_spent"),
        ("/training/preferences", b'{"tz":"UTC","tz":"Europe/Berlin"}', "tz"),
        (
            "/training/preferences",
            b'{"leaderboard_opt_out":false,"display_name":null,"leaderboard_opt_out":true}',
            "leaderboard_opt_out",
        ),
    ],
)
async def test_a_key_repeated_in_a_json_body_is_422(
    api: Api, path: str, raw: bytes, key: str
) -> None:
    """json.loads keeps the last copy of a key and other parsers the first: a body that
    repeats one means two things, and is refused rather than guessed at."""
    [sample_id] = await _first_ids(api, n=1)
    url = f"/training/samples/{sample_id}/mark-read" if path == "mark-read" else path
    method = "POST" if path == "mark-read" else "PUT"
    headers = {**api.headers(), "Content-Type": "application/json"}
    res = await api.client.request(method, url, content=raw, headers=headers)
    assert res.status_code == 422, res.text
    assert res.json()["code"] == "validation_error"
    assert res.json()["detail"] == f"body: invalid JSON (duplicate key '{key}')"
    assert await api.db["sample_progress"].count_documents({"sidhi_id": api.student}) == 0
    prefs = await api.client.put("/training/preferences", json={}, headers=api.headers())
    assert prefs.json()["leaderboard_opt_out"] is False and prefs.json()["tz"] is None
    # Malformed JSON still says why, and where.
    res = await api.client.request(method, url, content=b'{"tz": }', headers=headers)
    assert res.status_code == 422
    assert res.json()["detail"] == "body: invalid JSON at character 7 (Expecting value)"


async def test_time_spent_in_the_query_is_digits(api: Api) -> None:
    [sample_id] = await _first_ids(api, "cpp", n=1)
    res = await api.client.post(
        f"/training/samples/{sample_id}/mark-read?time_spent=0045", headers=api.headers()
    )
    assert res.status_code == 200 and res.json()["is_first_read"] is True
    detail = (await api.get(f"/training/samples/{sample_id}")).json()["data"]
    assert detail["timeSpent"] == 45


async def test_read_your_writes_on_every_listing(api: Api) -> None:
    ids = await _first_ids(api, n=3, chapter=2)
    # Load the read set first, so the write-through path (not a reload) is what we see.
    before = (await api.get("/training/samples", language="c", chapter=2, limit=3)).json()
    assert [s["isRead"] for s in before["data"]] == [False, False, False]
    await api.post(f"/training/samples/{ids[1]}/mark-read", time_spent=10)
    after = (await api.get("/training/samples", language="c", chapter=2, limit=3)).json()
    assert [s["isRead"] for s in after["data"]] == [False, True, False]
    assert after["data"][1]["readAt"] is not None
    sample = (await api.get(f"/training/samples/{ids[1]}")).json()["data"]
    found = (await api.get("/training/search", language="c", q=sample["question"][:40])).json()
    assert any(s["sample_id"] == ids[1] and s["isRead"] for s in found["data"])


async def test_students_do_not_see_each_other(api: Api) -> None:
    [sample_id] = await _first_ids(api, n=1)
    await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=10)
    other = unique_name("SIDHI_OTHER")
    body = (await api.get("/training/samples", student=other, language="c", limit=1)).json()
    assert body["data"][0]["isRead"] is False
    progress = (await api.get("/training/my-progress", student=other, language="c")).json()
    assert progress["overview"]["samples_read"] == 0


async def test_concurrent_first_reads_award_points_once(api: Api) -> None:
    [sample_id] = await _first_ids(api, "cpp", n=1)
    results = await asyncio.gather(
        *[api.post(f"/training/samples/{sample_id}/mark-read", time_spent=i + 1) for i in range(50)]
    )
    bodies = [r.json() for r in results]
    assert all(r.status_code == 200 for r in results), bodies[:3]
    assert sum(b["is_first_read"] for b in bodies) == 1
    assert sum(b["points_awarded"] for b in bodies) == 1
    doc = await api.db["sample_progress"].find_one(
        {"sidhi_id": api.student, "sample_id": sample_id}
    )
    assert doc is not None
    assert doc["revisited_count"] == 50 and doc["time_spent"] == sum(range(1, 51))
    stats = await api.db["student_stats"].find_one({"_id": api.student})
    assert stats is not None and stats["total_points"] == 1
    assert stats["languages"]["cpp"]["read"] == 1


async def test_chapters_and_my_progress_follow_reads(api: Api) -> None:
    ids = await _first_ids(api, "c", n=4, chapter=6)
    for i, sample_id in enumerate(ids):
        await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=60 * (i + 1))
    await api.post(f"/training/samples/{ids[0]}/mark-read", time_spent=60)
    chapters = (await api.get("/training/chapters", language="c")).json()["chapters"]
    six = chapters[5]
    assert six["read_questions"] == 4
    assert six["progress_percentage"] == round(4 / six["total_questions"] * 100, 2)
    assert all(c["read_questions"] == 0 for c in chapters if c["chapter"] != 6)

    body = (await api.get("/training/my-progress", language="c")).json()
    conforms(shapes.ProgressOut, body)
    overview = body["overview"]
    assert overview["samples_read"] == 4 and overview["points"] == 4
    assert overview["total_time_seconds"] == 60 * (1 + 2 + 3 + 4) + 60
    assert [c["chapter"] for c in body["by_chapter"]] == list(range(1, 11))
    assert body["by_chapter"][5]["read"] == 4 and body["by_chapter"][0]["read"] == 0
    areas = {a["area"]: a for a in body["by_knowledge_area"]}
    assert areas["pointers"]["read"] == 4 and areas["basics"]["read"] == 0
    assert areas["pointers"]["time_spent_minutes"] == 11.0
    recent = body["recent_activity"]
    assert [r["sample_id"] for r in recent] == list(reversed(ids))
    assert all("_id" not in r for r in recent)
    other = (await api.get("/training/my-progress", language="python")).json()
    assert other["overview"]["samples_read"] == 0 and other["overview"]["total_points"] == 4


async def test_random_unread_only(api: Api) -> None:
    listing = (
        await api.get(
            "/training/samples",
            language="python",
            chapter=8,
            type="theory",
            difficulty="easy",
            limit=100,
        )
    ).json()
    ids = [s["sample_id"] for s in listing["data"]]
    assert 0 < len(ids) < 100
    for sample_id in ids[:-1]:
        await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=5)
    for _ in range(3):
        body = (
            await api.get(
                "/training/random",
                language="python",
                chapter=8,
                type="theory",
                difficulty="easy",
                unread_only="true",
            )
        ).json()
        assert body["data"]["sample_id"] == ids[-1] and body["data"]["isRead"] is False
    await api.post(f"/training/samples/{ids[-1]}/mark-read", time_spent=5)
    body = (
        await api.get(
            "/training/random",
            language="python",
            chapter=8,
            type="theory",
            difficulty="easy",
            unread_only="true",
        )
    ).json()
    assert body["data"] is None and body["message"]


async def test_recompute_stats_rebuilds_what_mark_read_kept(api: Api) -> None:
    from app.training.reconcile import recompute_stats

    ids = await _first_ids(api, "c", n=3, chapter=4)
    ids += await _first_ids(api, "python", n=2, chapter=7)
    for i, sample_id in enumerate(ids):
        await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=10 + i)
    await api.post(f"/training/samples/{ids[0]}/mark-read", time_spent=7)
    kept = await api.db["student_stats"].find_one({"_id": api.student}, {"updated_at": 0})
    # A crash between the progress write and the stats write loses the stats document.
    await api.db["student_stats"].delete_one({"_id": api.student})
    await recompute_stats(db=api.db, progress=api.resources.progress, student=api.student)
    rebuilt = await api.db["student_stats"].find_one({"_id": api.student}, {"updated_at": 0})
    assert rebuilt == kept
    assert rebuilt["total_points"] == 5 and rebuilt["languages"]["c"]["time_spent"] == 40


async def test_warm_up_preloads_recent_students(api: Api) -> None:
    from app.warm import warm

    [sample_id] = await _first_ids(api, "cpp", n=1, chapter=10)
    await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=10)
    progress = api.read_sets
    views = api.resources.progress.views  # type: ignore[attr-defined]
    await progress.forget(api.student, "cpp")
    await views.forget(api.student)
    assert await progress.members(api.student, "cpp") is None
    done = await warm(
        db=api.db,
        catalog=api.resources.catalog,
        reads=api.resources.reads,
        progress=api.resources.progress,
        students=0,
        active_since=utcnow() - timedelta(minutes=5),
    )
    assert done.languages == 3 and done.sets >= 1 and done.loaded >= 2
    assert sample_id in (await progress.members(api.student, "cpp") or {})
    assert await views.read(api.student, "cpp") is not None
    # Only the students active since then: none after now.
    later = await warm(
        db=api.db,
        catalog=api.resources.catalog,
        reads=api.resources.reads,
        progress=api.resources.progress,
        active_since=utcnow() + timedelta(minutes=1),
    )
    assert later.students == 0


# --- exact numbers on a catalog of our own, in every cache mode ---------------------------


async def test_overview_totals_and_percentages(
    mongo_url: str, mongo_client: Any, cache_mode: tuple[str, str]
) -> None:
    # 25 samples: chapter 1 holds 0-9 (basics), 2 holds 10-19 and 3 holds 20-24
    # (control_flow); sample i is worth 1 + i % 2 points.
    app_cm, name = await small_catalog_app(
        mongo_url, mongo_client, cache_mode[0], 25, cache_mode[1]
    )
    try:
        async with app_cm as api:
            for i, seconds in [(0, 30), (1, 60), (2, 90), (20, 120)]:
                res = await api.post(
                    f"/training/samples/c_ch1_q_{i:06d}/mark-read", time_spent=seconds
                )
                assert res.status_code == 200
            body = (await api.get("/training/my-progress", language="c")).json()
            assert body["overview"] == {
                "samples_read": 4,
                "samples_total": 25,
                "progress_percentage": 16.0,
                "total_time_seconds": 300,
                "total_time_minutes": 5.0,
                "points": 5,
                "total_points": 5,
            }
            assert [
                (c["chapter"], c["read"], c["total"], c["percentage"]) for c in body["by_chapter"]
            ] == [
                (1, 3, 10, 30.0),
                (2, 0, 10, 0.0),
                (3, 1, 5, 20.0),
            ]
            assert [
                (a["area"], a["read"], a["total"], a["percentage"], a["time_spent_minutes"])
                for a in body["by_knowledge_area"]
            ] == [("basics", 3, 10, 30.0, 3.0), ("control_flow", 1, 15, 6.67, 2.0)]
            chapters = (await api.get("/training/chapters", language="c")).json()["chapters"]
            assert [(c["read_questions"], c["progress_percentage"]) for c in chapters] == [
                (3, 30.0),
                (0, 0.0),
                (1, 20.0),
            ]
    finally:
        await drop_database(mongo_client, name)


async def test_recent_activity_is_the_ten_newest_reads_newest_first(
    mongo_url: str, mongo_client: Any, cache_mode: tuple[str, str]
) -> None:
    app_cm, name = await small_catalog_app(
        mongo_url, mongo_client, cache_mode[0], 20, cache_mode[1]
    )
    try:
        async with app_cm as api:
            # With the cache on, the student's view is loaded first: the reads below are
            # write-through (Redis' trim), and the reload after them is MongoDB's $slice.
            await api.get("/training/my-progress", language="c")
            order = [7, 3, 12, 0, 19, 5, 9, 14, 1, 16, 2, 11]
            ids = [f"c_ch1_q_{i:06d}" for i in order]
            for sample_id in ids:
                res = await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=5)
                assert res.json()["is_first_read"] is True
            newest = list(reversed(ids))[:10]
            body = (await api.get("/training/my-progress", language="c")).json()
            assert [r["sample_id"] for r in body["recent_activity"]] == newest
            times = [r["read_at"] for r in body["recent_activity"]]
            assert times == sorted(times, reverse=True)
            await api.resources.progress.invalidate(api.student)
            body = (await api.get("/training/my-progress", language="c")).json()
            assert [r["sample_id"] for r in body["recent_activity"]] == newest
    finally:
        await drop_database(mongo_client, name)


async def test_random_unread_only_with_redis_down_never_gives_a_read_sample(
    mongo_url: str, mongo_client: Any, redis_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 6)
    try:
        async with app_cm as api:
            read = [f"c_ch1_q_{i:06d}" for i in range(5)]
            for sample_id in read:
                await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=5)
            catalog = api.resources.catalog
            pick = catalog.random

            async def only_read_ones(language: str, flt: Any, size: int) -> list[Any]:
                # The random picks all land on read samples (as they do for a student who
                # read most of a listing), so the service must consult the whole read set.
                return [s for s in await pick(language, flt, size) if s["sample_id"] in read]

            monkeypatch.setattr(catalog, "random", only_read_ones)
            async with redis_outage(api):
                for _ in range(10):
                    body = (
                        await api.get("/training/random", language="c", unread_only="true")
                    ).json()
                    assert body["data"]["sample_id"] == "c_ch1_q_000005", body
                    assert body["data"]["isRead"] is False
    finally:
        await drop_database(mongo_client, name)
