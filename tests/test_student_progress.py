"""Progress from the student's Redis view (``cache.student_progress``,
``cache.progress_view``): the same answers as MongoDB, kept by write-through, and never
stale after a lost write."""

from __future__ import annotations

import functools
from typing import Any

from app.training.progress import load_student_progress
from cache.progress_view import SENTINEL
from tests.conftest import Api, make_settings, running_app
from tests.test_cache import redis_outage, wait_recovered


def _without_time(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "as_of"}


async def _progress_of(api: Api, other: Api, language: str) -> tuple[Any, Any]:
    """my-progress and chapters of ``api.student`` from ``api`` and from ``other``."""
    answers = []
    for app in (api, other):
        mine = await app.get("/training/my-progress", student=api.student, language=language)
        chapters = await app.get("/training/chapters", student=api.student, language=language)
        assert mine.status_code == chapters.status_code == 200
        answers.append((_without_time(mine.json()), _without_time(chapters.json())))
    return answers[0], answers[1]


def _view_loaded(api: Api) -> Any:
    views = api.resources.progress.views  # type: ignore[attr-defined]
    key, _ = views.keys(api.student)
    return api.backend.client.hexists(key, SENTINEL)


async def _ids(api: Api, language: str, limit: int) -> list[str]:
    page = (await api.get("/training/samples", language=language, limit=limit)).json()
    return [s["sample_id"] for s in page["data"]]


async def test_the_view_answers_as_mongodb_does(api: Api, mongo_url: str, catalog_db: str) -> None:
    off = make_settings(mongo_url, catalog_db, "fakeredis", lumetrix_cache="off")
    async with running_app(off) as uncached:
        c, py = await _ids(api, "c", 14), await _ids(api, "python", 2)
        await api.client.put(
            "/training/preferences", json={"tz": "Asia/Kolkata"}, headers=api.headers()
        )
        cached_answer, mongo_answer = await _progress_of(api, uncached, "c")
        assert cached_answer == mongo_answer
        assert await _view_loaded(api)
        # 12 first reads (more than the 10 recent ones kept), revisits of a recent and of a
        # pushed-out read, and reads in a second language.
        for sid, seconds in [*((s, 30) for s in c[:12]), (c[11], 7), (c[0], 5), (py[0], 9)]:
            res = await api.post(f"/training/samples/{sid}/mark-read", time_spent=seconds)
            assert res.status_code == 200
            assert await _view_loaded(api)  # kept by write-through, not dropped
            cached_answer, mongo_answer = await _progress_of(api, uncached, "c")
            assert cached_answer == mongo_answer
        mine = cached_answer[0]
        assert mine["overview"]["samples_read"] == 12 and mine["streak"]["tz"] == "Asia/Kolkata"
        assert [r["sample_id"] for r in mine["recent_activity"]] == c[11:1:-1]
        assert mine["recent_activity"][0]["revisited_count"] == 2
        assert mine["recent_activity"][0]["time_spent"] == 37
        cached_py, mongo_py = await _progress_of(api, uncached, "python")
        assert cached_py == mongo_py and cached_py[0]["overview"]["samples_read"] == 1
        # A preference change drops the view; the next read loads it with the change.
        await api.client.put(
            "/training/preferences", json={"tz": "Europe/Berlin"}, headers=api.headers()
        )
        assert not await _view_loaded(api)
        cached_answer, mongo_answer = await _progress_of(api, uncached, "c")
        assert cached_answer == mongo_answer and cached_answer[0]["streak"]["tz"] == "Europe/Berlin"


async def test_a_write_lost_to_an_outage_never_leaves_a_stale_view(api: Api) -> None:
    [sid] = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="cpp", limit=1)).json()["data"]
    ]
    before = (await api.get("/training/my-progress", language="cpp")).json()["overview"]
    assert before["samples_read"] == 0 and await _view_loaded(api)
    async with redis_outage(api):
        res = await api.post(f"/training/samples/{sid}/mark-read", time_spent=4)
        assert res.status_code == 200 and res.json()["is_first_read"] is True
        during = (await api.get("/training/my-progress", language="cpp")).json()["overview"]
        assert during["samples_read"] == 1  # from MongoDB
    await wait_recovered(api)
    after = (await api.get("/training/my-progress", language="cpp")).json()["overview"]
    assert (after["samples_read"], after["points"], after["total_time_seconds"]) == (1, 1, 4)


async def test_a_load_racing_a_visit_is_not_installed(api: Api) -> None:
    progress: Any = api.resources.progress
    views = progress.views
    token = await views.begin_load(api.student)
    snapshot = await load_student_progress(api.db, api.student)
    await views.record(
        api.student,
        "c",
        {"total_points": 1},
        sample_id="c_ch1_q_000001",
        first_read=True,
        now_ms=1,
        time_spent=1,
        chapter=1,
        knowledge_area="basics",
    )
    assert not await views.load(api.student, {"total_points": "0"}, {}, token)
    assert snapshot.stats == {}
    assert not await _view_loaded(api)
    fresh = functools.partial(views.begin_load, api.student)
    assert await views.load(api.student, {"total_points": "0"}, {}, await fresh())
    assert await _view_loaded(api)
