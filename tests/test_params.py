"""Query parameters are read as written: integers in plain digits, booleans as ``true`` or
``false``, on the lean path and the full app alike (pydantic's lax parsing would take
``5_0``, ``+2``, ``2.0``, `` 2`` or ``yes``)."""

from __future__ import annotations

import pytest

from app.main import create_app
from tests.conftest import make_settings, running_app

# (path and query as sent on the wire, the parameter the 422 names)
REFUSED = [
    ("/training/samples?language=c&limit=5_0", "limit"),
    ("/training/samples?language=c&limit=50.0", "limit"),
    ("/training/samples?language=c&limit=0x10", "limit"),
    ("/training/samples?language=c&page=%2B2", "page"),
    ("/training/samples?language=c&page=2.0", "page"),
    ("/training/samples?language=c&page=%202", "page"),
    ("/training/samples?language=c&page=2%20", "page"),
    ("/training/samples?language=c&page=%EF%BC%92", "page"),  # a full-width digit two
    ("/training/samples?language=c&page=", "page"),
    ("/training/samples?language=c&chapter=1.0", "chapter"),
    ("/training/samples?language=c&chapter=-1", "chapter"),
    ("/training/search?language=c&q=int&page=2.0", "page"),
    ("/training/search?language=c&q=int&limit=%2B5", "limit"),
    ("/training/random?language=c&chapter=1.0", "chapter"),
    ("/training/random?language=c&unread_only=yes", "unread_only"),
    ("/training/random?language=c&unread_only=on", "unread_only"),
    ("/training/random?language=c&unread_only=1", "unread_only"),
    ("/training/random?language=c&unread_only=True", "unread_only"),
    ("/training/random?language=c&unread_only=t", "unread_only"),
    ("/training/random?language=c&unread_only=", "unread_only"),
    ("/training/leaderboard?language=c&limit=5.0", "limit"),
    ("/training/leaderboard?language=c&limit=%2B5", "limit"),
]
ACCEPTED = [
    "/training/samples?language=c&limit=50&page=2&chapter=1",
    "/training/samples?language=c&limit=050",
    "/training/search?language=c&q=int&page=1&limit=5",
    "/training/random?language=c&unread_only=true&chapter=1",
    "/training/random?language=c&unread_only=false",
    "/training/leaderboard?language=c&limit=5",
]


@pytest.mark.parametrize("lean", [True, False], ids=["lean-path", "no-lean-path"])
async def test_integers_are_plain_digits_and_booleans_true_or_false(
    mongo_url: str, catalog_db: str, lean: bool
) -> None:
    settings = make_settings(mongo_url, catalog_db, "fakeredis", lean_path=lean)
    async with running_app(settings) as api:
        headers = api.headers()
        for url, name in REFUSED:
            res = await api.client.get(url, headers=headers)
            assert res.status_code == 422, (url, res.status_code, res.text)
            body = res.json()
            assert body["code"] == "validation_error" and f"query.{name}" in body["detail"], url
        for url in ACCEPTED:
            res = await api.client.get(url, headers=headers)
            assert res.status_code == 200, (url, res.text)
        # The values are the ones written: page 2 of 50 starts at the 51st sample.
        first = await api.client.get("/training/samples?language=c&limit=51", headers=headers)
        second = await api.client.get(
            "/training/samples?language=c&limit=50&page=2", headers=headers
        )
        assert second.json()["data"][0] == first.json()["data"][50]


def test_integer_parameters_document_their_bounds() -> None:
    """The digits check must not hide the bounds from the OpenAPI document (placed before
    ``Query`` it turned ``minimum``/``maximum`` into raw ``ge``/``le`` keys, which
    generators and schema fuzzers ignore)."""
    doc = create_app(make_settings("mongodb://unused", "unused", "fakeredis")).openapi()
    found = 0
    for operations in doc["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                schema = param["schema"]
                integer = next(
                    (s for s in [schema, *schema.get("anyOf", [])] if s.get("type") == "integer"),
                    None,
                )
                if integer is None:
                    continue
                found += 1
                assert "ge" not in schema and "le" not in schema, (param["name"], schema)
                assert integer["minimum"] == 1 and integer["maximum"] >= 100, param["name"]
    assert found >= 8  # page, limit, chapter (several routes), time_spent
