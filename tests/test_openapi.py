"""The published OpenAPI document: every operation, described, with its error shapes."""

from __future__ import annotations

from tests.conftest import Api

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
