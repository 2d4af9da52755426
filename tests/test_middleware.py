"""The HTTP envelope around every route: CORS for the configured origins only, and
compressed answers above a size threshold in whichever encoding the client prefers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import Api, make_settings, running_app

ORIGIN = "https://learn.example.com"


@pytest.fixture
async def cors_api(mongo_url: str, catalog_db: str) -> AsyncIterator[Api]:
    """The app with one allowed browser origin."""
    settings = make_settings(mongo_url, catalog_db, "fakeredis", cors_origins=[ORIGIN])
    async with running_app(settings) as client:
        yield client


async def test_preflight_from_an_allowed_origin_is_answered_without_a_token(
    cors_api: Api,
) -> None:
    response = await cors_api.client.options(
        "/training/samples/c_ch1_q_000001/mark-read",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-client-id, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "x-client-id" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_an_allowed_origin_reads_answers_and_their_etag(cors_api: Api) -> None:
    response = await cors_api.client.get(
        "/training/stats",
        params={"language": "c"},
        headers={**cors_api.headers(), "Origin": ORIGIN},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in response.headers["access-control-expose-headers"].lower()


async def test_other_origins_get_no_cors_headers(cors_api: Api) -> None:
    evil = "https://evil.example.com"
    preflight = await cors_api.client.options(
        "/training/samples",
        headers={"Origin": evil, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = await cors_api.client.get(
        "/training/samples",
        params={"language": "c"},
        headers={**cors_api.headers(), "Origin": evil},
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_without_cors_origins_no_origin_is_allowed(api: Api) -> None:
    response = await api.client.get(
        "/training/samples", params={"language": "c"}, headers={**api.headers(), "Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_origins_are_read_comma_separated_and_must_be_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, http://localhost:5173")
    assert Settings().cors_origins == ["https://a.example.com", "http://localhost:5173"]
    for bad in ("*", "https://a.example.com/", "a.example.com", "https://*.example.com"):
        monkeypatch.setenv("CORS_ORIGINS", bad)
        with pytest.raises(ValidationError, match="exact origin"):
            Settings()


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
async def test_a_large_page_is_compressed_as_asked(api: Api, encoding: str) -> None:
    params = {"language": "c", "limit": 100}
    plain = await api.client.get(
        "/training/samples", params=params, headers={**api.headers(), "Accept-Encoding": "identity"}
    )
    packed = await api.client.get(
        "/training/samples", params=params, headers={**api.headers(), "Accept-Encoding": encoding}
    )
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == encoding
    assert "accept-encoding" in packed.headers["vary"].lower()
    # httpx decodes it: the data is the same, the bytes on the wire far fewer.
    assert orjson.loads(packed.content) == orjson.loads(plain.content)
    assert packed.num_bytes_downloaded * 3 < plain.num_bytes_downloaded


async def test_small_answers_are_not_compressed(api: Api) -> None:
    response = await api.client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and len(response.content) < 1024
    assert "content-encoding" not in response.headers


async def test_compression_can_be_turned_off(mongo_url: str, catalog_db: str) -> None:
    settings = make_settings(mongo_url, catalog_db, "fakeredis", compression=False)
    async with running_app(settings) as client:
        response = await client.client.get(
            "/training/samples",
            params={"language": "c", "limit": 100},
            headers={**client.headers(), "Accept-Encoding": "gzip"},
        )
    assert response.status_code == 200 and "content-encoding" not in response.headers
