"""The lean route (``app.lean``) answers exactly as the full app does, and leaves every
request it cannot serve whole to the app."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.training.router import router as training_router
from tests.conftest import Api, make_settings, running_app

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/training/samples", {"language": "c", "limit": 7, "page": 3}),
    ("/training/samples", {"language": "cpp", "chapter": 7, "type": "mcq"}),
    ("/training/samples", {"language": "python", "knowledge_area": "oop", "difficulty": "hard"}),
    ("/training/samples", {"language": "c", "page": 10_000}),
    ("/training/samples", {"language": "java"}),  # 400: the app's
    ("/training/samples", {"language": "c", "limit": 0}),  # 422: the app's
    ("/training/samples", {}),  # 422
    ("/training/samples", {"language": "c", "token": "x"}),  # 401
    ("/training/search", {"language": "c", "q": "[i]"}),
    ("/training/search", {"language": "c", "q": "x"}),  # 422
    ("/training/chapters", {"language": "python"}),
    ("/training/my-progress", {"language": "c", "tz": "Asia/Kolkata"}),
    ("/training/my-progress", {"language": "c", "tz": "Mars/Olympus"}),  # 400 from the service
    ("/training/leaderboard", {"language": "c", "period": "month", "limit": 3}),
    ("/training/leaderboard", {"language": "c", "period": "year"}),  # 422
    ("/training/next", {"language": "cpp"}),
]


def _lean_count(metrics: str) -> float:
    found = re.search(r"^lumetrix_lean_requests_total (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("auth", ["token", "none", "wrong-client"])
async def test_same_answers_with_and_without_the_lean_path(
    api: Api, mongo_url: str, catalog_db: str, redis_kind: str, auth: str
) -> None:
    first = (await api.get("/training/samples", language="c", limit=3)).json()["data"]
    for sample in first[:2]:
        await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=9)
    full = make_settings(mongo_url, catalog_db, redis_kind, lean_path=False)
    async with running_app(full) as plain:
        headers = api.headers()
        if auth == "none":
            headers = {}
        elif auth == "wrong-client":
            headers = {**headers, "X-Client-Id": "other"}
        before = _lean_count((await api.client.get("/metrics")).text)
        for path, params in REQUESTS:
            lean = await api.client.get(path, params=params, headers=headers)
            slow = await plain.client.get(path, params=params, headers=headers)
            assert (lean.status_code, _stable(lean)) == (slow.status_code, _stable(slow)), path
            for name in ("content-type", "cache-control", "www-authenticate"):
                assert lean.headers.get(name) == slow.headers.get(name), (path, name)
            assert lean.headers["x-request-id"]
        # The counter is the process's: only the lean app's requests move it. The ten that
        # are well-formed and authenticated are served whole; the rest fall through.
        served = _lean_count((await api.client.get("/metrics")).text) - before
        assert served == (10 if auth == "token" else 0)


def _stable(res: Any) -> Any:
    """The body without the values that change between two calls."""
    body = res.json()
    if isinstance(body, dict):
        body.pop("as_of", None)
    return body


async def test_a_repeated_auth_header_gets_one_answer_on_both_paths(
    api: Api, mongo_url: str, catalog_db: str, redis_kind: str
) -> None:
    """Lean or not, a repeated Authorization or X-Client-Id header is the same 401."""
    full = make_settings(mongo_url, catalog_db, redis_kind, lean_path=False)
    async with running_app(full) as plain:
        good = api.headers()
        for name in ("Authorization", "X-Client-Id"):
            headers = [*good.items(), (name, good[name])]
            answers = [
                await client.get("/training/samples", params={"language": "c"}, headers=headers)
                for client in (api.client, plain.client)
            ]
            assert [a.status_code for a in answers] == [401, 401], name
            assert answers[0].json() == answers[1].json()


def test_each_training_route_has_its_full_path_as_its_label() -> None:
    """The metrics and the access log label a request by its route's path: the training
    router carries its prefix, so no map from route to template is needed."""
    assert all(route.path.startswith("/training/") for route in training_router.routes)
