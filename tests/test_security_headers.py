"""Headers every answer carries (``nosniff``), the policy every HTML page carries (no
framing), and no redirect built from the request's ``Host``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Api, make_settings, running_app

PAGES = ["/docs", "/redoc", "/console", "/console/assets/index.html"]
OTHERS = [
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/console/assets/console.js",
    "/console/assets/console.css",
    "/docs-static/swagger-ui.css",
    "/docs-static/favicon.png",
    "/training/samples?language=c",  # the lean path's answer
    "/training/samples/c_ch1_q_000001",
    "/training/samples?language=java",  # 400
    "/training/samples?language=c&limit=0",  # 422
    "/no-such-route",  # 404
]


@pytest.fixture
async def app_api(mongo_url: str, catalog_db: str) -> AsyncIterator[Api]:
    """The app on fakeredis (these headers do not depend on Redis)."""
    async with running_app(make_settings(mongo_url, catalog_db, "fakeredis")) as api:
        yield api


async def test_every_answer_is_nosniff(app_api: Api) -> None:
    for path in [*PAGES, *OTHERS]:
        res = await app_api.client.get(path, headers=app_api.headers())
        assert res.headers.get_list("x-content-type-options") == ["nosniff"], (path, res.headers)
    unauthenticated = await app_api.client.get("/training/samples?language=c")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["x-content-type-options"] == "nosniff"


async def test_every_html_page_forbids_framing(app_api: Api) -> None:
    for path in PAGES:
        res = await app_api.client.get(path)
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
        [csp] = res.headers.get_list("content-security-policy")
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, path
        assert res.headers.get_list("x-frame-options") == ["DENY"], path
    # Pages run no script but their own files and, by hash, their own bootstrap.
    docs = (await app_api.client.get("/docs")).headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in docs and "unsafe-inline'" not in docs.split(";")[0]


@pytest.mark.parametrize("path", ["/health/", "/training/samples/", "/docs/", "/console/"])
async def test_no_redirect_takes_its_host_from_the_request(app_api: Api, path: str) -> None:
    res = await app_api.client.get(
        path + "?language=c", headers={**app_api.headers(), "Host": "evil.example"}
    )
    assert "location" not in res.headers
    assert res.status_code == 404, res.text
    assert res.json() == {"status": "error", "code": "not_found", "detail": "Not Found"}
