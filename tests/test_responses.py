"""Response headers (``app.responses``): catalog ETags and 304, private per-student
answers, ``as_of``."""

from __future__ import annotations

from typing import Any

import pytest

from app.training.queries.meta import bump_catalog_version
from tests.conftest import Api, drop_database, small_catalog_app


@pytest.mark.parametrize(
    "path", ["/training/stats", "/training/knowledge-areas", "/training/filters"]
)
async def test_catalog_etag_and_304(
    mongo_url: str, mongo_client: Any, redis_kind: str, path: str
) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 5)
    try:
        async with app_cm as api:
            first = await api.get(path, language="c")
            etag = first.headers["etag"]
            assert first.status_code == 200 and etag.startswith('W/"catalog-v')
            # Weak comparison: the tag as sent, or its strong form from an older client.
            for sent in (etag, etag.removeprefix("W/")):
                again = await api.client.get(
                    path, params={"language": "c"}, headers={**api.headers(), "If-None-Match": sent}
                )
                assert again.status_code == 304 and again.content == b""
            await bump_catalog_version(mongo_client[name])
            changed = await api.client.get(
                path, params={"language": "c"}, headers={**api.headers(), "If-None-Match": etag}
            )
            assert changed.status_code == 200 and changed.headers["etag"] != etag
    finally:
        await drop_database(mongo_client, name)


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


@pytest.mark.parametrize("status", [200, 201, 204, 304, 503])
def test_a_json_answer_has_the_headers_starlette_would_give(status: int) -> None:
    """Pre-encoded headers, the same list Starlette's Response builds from a dict."""
    from starlette.responses import Response

    from app.responses import json_response, student_response

    body = b'{"status":"success"}'
    for ours, headers in (
        (student_response({"status": "success"}, status_code=status), PRIVATE_HEADERS),
        (json_response({"status": "success"}, status_code=status, headers={"ETag": "x"}), ETAG),
    ):
        theirs = Response(body, status_code=status, media_type="application/json", headers=headers)
        assert ours.body == theirs.body and ours.status_code == status
        assert ours.raw_headers == theirs.raw_headers


PRIVATE_HEADERS = {"Cache-Control": "private, no-store"}
ETAG = {"ETag": "x"}
