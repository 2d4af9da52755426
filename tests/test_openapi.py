"""The published OpenAPI document: every operation, described, with its error shapes."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from app.errors import ERROR_CODES, DomainError
from app.main import create_app
from app.training.streaks import ZONES
from tests.conftest import Api, make_settings

ROOT = Path(__file__).resolve().parent.parent

TRAINING_OPERATIONS = {
    ("get", "/training/samples"),
    ("get", "/training/samples/{sample_id}"),
    ("post", "/training/samples/{sample_id}/mark-read"),
    ("get", "/training/chapters"),
    ("get", "/training/filters"),
    ("get", "/training/stats"),
    ("get", "/training/random"),
    ("get", "/training/search"),
    ("get", "/training/knowledge-areas"),
    ("get", "/training/my-progress"),
    ("get", "/training/leaderboard"),
    ("get", "/training/next"),
    ("get", "/training/timezones"),
    ("put", "/training/preferences"),
}


async def test_openapi_lists_every_operation_described(api: Api) -> None:
    doc = (await api.client.get("/openapi.json")).json()
    found = {
        (method, path)
        for path, item in doc["paths"].items()
        for method in item
        if path.startswith("/training")
    }
    assert found == TRAINING_OPERATIONS
    for method, path in TRAINING_OPERATIONS:
        operation = doc["paths"][path][method]
        assert operation["summary"] and operation["description"], (method, path)
        assert {"401", "422"} <= set(operation["responses"]), (method, path)
        for parameter in operation.get("parameters", []):
            if parameter["name"] not in ("x-client-id", "X-Client-Id"):
                assert parameter.get("description"), (method, path, parameter["name"])
        error = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert error["$ref"].endswith("/ErrorBody")
    assert set(doc["components"]["securitySchemes"]) == {"HTTPBearer"}
    docs = await api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_every_response_shape_has_an_example_that_fits_it() -> None:
    from app.training import shapes
    from app.training.examples import EXAMPLES
    from tests.conftest import conforms

    for shape in shapes.RESPONSE_SHAPES:
        conforms(shape, EXAMPLES[shape.__name__])


@functools.cache
def _document() -> dict[str, Any]:
    """The app's OpenAPI document (building it connects to nothing)."""
    return create_app(make_settings("mongodb://127.0.0.1:1", "unused", "fakeredis")).openapi()


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = _document()["components"]["schemas"]
    return schemas


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's schema, or its non-null branches when it is nullable."""
    return [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]


def test_document_is_valid_openapi() -> None:
    validate(_document())


def test_x_client_id_is_required_on_every_training_operation() -> None:
    for path, item in _document()["paths"].items():
        for method, operation in item.items():
            headers = {
                p["name"].lower(): p for p in operation.get("parameters", []) if p["in"] == "header"
            }
            if path.startswith("/training"):
                assert headers["x-client-id"]["required"] is True, (method, path)
                assert headers["x-client-id"]["schema"]["type"] == "string", (method, path)


def test_tz_is_a_documented_string_not_an_enum() -> None:
    doc = _document()
    assert not [n for n in _walk(doc) if len(n.get("enum", [])) > 20]  # no list of zones
    tz_param = next(
        p for p in doc["paths"]["/training/my-progress"]["get"]["parameters"] if p["name"] == "tz"
    )
    body_tz = _schemas()["PreferencesIn"]["properties"]["tz"]
    for schema in (tz_param["schema"], body_tz):
        assert {"type": "null"} in schema["anyOf"]  # null stays allowed, as the server does
        (zone,) = _branches(schema)
        assert zone["type"] == "string" and zone["format"] == "iana-time-zone"
        assert "/training/timezones" in zone["description"]
    assert "/training/timezones" in tz_param["description"]
    answer = doc["paths"]["/training/timezones"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"]["$ref"].endswith("/TimezonesOut")


def test_mark_read_body_is_an_optional_object_with_an_optional_integer() -> None:
    operation = _document()["paths"]["/training/samples/{sample_id}/mark-read"]["post"]
    body = operation["requestBody"]
    assert not body.get("required")
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/TimeSpentIn")
    time_spent_in = _schemas()["TimeSpentIn"]
    assert time_spent_in["type"] == "object" and not time_spent_in.get("required")
    prop = time_spent_in["properties"]["time_spent"]
    assert prop["type"] == "integer" and "anyOf" not in prop and "default" not in prop
    assert (prop["minimum"], prop["maximum"]) == (1, 3600)
    query = {p["name"]: p for p in operation["parameters"]}["time_spent"]
    assert query["required"] is False


TIMESTAMPS = {"readAt", "read_at", "last_revisited", "as_of"}
DATES = {"last_active_date"}
ENUMS = {
    "type": {"program", "mcq", "theory", "debug"},
    "difficulty": {"easy", "medium", "hard"},
    "language": {"c", "cpp", "python"},
    "period": {"week", "month", "all"},
}


def test_response_fields_declare_formats_and_closed_sets() -> None:
    seen: set[str] = set()
    for name, schema in _schemas().items():
        if name.endswith("In"):
            continue  # request bodies
        for field, prop in schema.get("properties", {}).items():
            branch = _branches(prop)[0]
            if field in TIMESTAMPS | DATES:
                expected = "date-time" if field in TIMESTAMPS else "date"
                assert branch.get("format") == expected, (name, field)
                seen.add(field)
            if field in ENUMS:
                assert set(branch.get("enum", ())) == ENUMS[field], (name, field)
                seen.add(field)
    assert seen == TIMESTAMPS | DATES | set(ENUMS)
    filters = _schemas()["FiltersOut"]["properties"]
    assert set(filters["types"]["items"]["enum"]) == ENUMS["type"]
    assert set(filters["difficulties"]["items"]["enum"]) == ENUMS["difficulty"]
    assert set(filters["languages"]["items"]["enum"]) == ENUMS["language"]


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_code_is_listed_once_and_documented() -> None:
    assert len(set(ERROR_CODES)) == len(ERROR_CODES)
    assert {DomainError.code, *(c.code for c in _subclasses(DomainError))} <= set(ERROR_CODES)
    code = _schemas()["ErrorBody"]["properties"]["code"]
    assert code["enum"] == list(ERROR_CODES)
    for doc in ("README.md", "CHANGES.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        listed = set(re.findall(r"`([a-z_]+)`\s+\((?:\d{3}|\dxx)", text))
        assert listed == set(ERROR_CODES), (doc, listed ^ set(ERROR_CODES))


# --- the behaviour the document now declares ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/training/samples?language=c"),  # a lean-path route
        ("GET", "/training/samples"),  # also missing a required parameter
        ("GET", "/training/timezones"),
        ("POST", "/training/samples/c_ch1_q_000025/mark-read?time_spent=5"),
        ("PUT", "/training/preferences"),
    ],
)
async def test_missing_client_id_is_still_the_auth_401(api: Api, method: str, path: str) -> None:
    headers = {"Authorization": api.headers()["Authorization"]}
    res = await api.client.request(method, path, headers=headers, json={})
    assert res.status_code == 401, res.text
    assert res.json() == {
        "status": "error",
        "code": "not_authenticated",
        "detail": "missing X-Client-Id header",
    }
    assert res.headers["WWW-Authenticate"] == "Bearer"
    # The auth checks keep their order: a missing or refused token is named first.
    res = await api.client.request(method, path, json={})
    assert res.status_code == 401 and "missing Authorization" in res.json()["detail"]
    res = await api.client.request(method, path, headers={"Authorization": "Bearer x.y"})
    assert res.status_code == 401 and res.json()["detail"] == "malformed token"


async def test_timezones_lists_what_tz_accepts(api: Api) -> None:
    res = await api.get("/training/timezones")
    assert res.status_code == 200
    assert res.json() == {"status": "success", "timezones": list(ZONES)}
    assert "Europe/Berlin" in ZONES and "UTC" in ZONES


@pytest.mark.parametrize("bad", ["Mars/Olympus", "posixrules", "../../etc/passwd", "europe/berlin"])
async def test_unknown_time_zones_are_400_with_a_detail(api: Api, bad: str) -> None:
    for res in (
        await api.get("/training/my-progress", language="c", tz=bad),
        await api.client.put("/training/preferences", json={"tz": bad}, headers=api.headers()),
    ):
        assert res.status_code == 400, res.text
        body = res.json()
        assert body["code"] == "invalid_parameter" and "/training/timezones" in body["detail"]


async def test_null_time_zone_leaves_the_preference(api: Api) -> None:
    put = api.client.put
    await put("/training/preferences", json={"tz": "Asia/Tokyo"}, headers=api.headers())
    res = await put("/training/preferences", json={"tz": None}, headers=api.headers())
    assert res.status_code == 200 and res.json()["tz"] == "Asia/Tokyo"


async def test_mark_read_takes_time_spent_exactly_once(api: Api) -> None:
    path = "/training/samples/c_ch1_q_000030/mark-read"
    assert (await api.post(path, time_spent=10)).status_code == 200
    assert (await api.post(path, json={"time_spent": 10})).status_code == 200
    assert (await api.post(path, json={}, time_spent=10)).status_code == 200
    for json, query in (
        ({"time_spent": 10}, {"time_spent": 10}),  # both
        (None, {}),  # neither
        ({}, {}),  # an empty body alone
        ({"time_spent": None}, {}),  # null is not a value
        ({"time_spent": None}, {"time_spent": 10}),
    ):
        res = await api.post(path, json=json, **query)
        assert res.status_code == 422, (json, query, res.text)
        assert res.json()["code"] == "validation_error" and res.json()["detail"]
