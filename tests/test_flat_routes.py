"""Routes included flat: the same API as ``include_router`` gives, in the app's own table."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.deps import current_student
from app.flat_routes import include_flat
from app.main import create_app
from app.settings import Settings
from app.training.router import router as training_router


def _nested_app() -> FastAPI:
    """The service as ``include_router`` would build it: the training router as a node."""
    app = create_app(Settings())
    app.router.routes[:] = [
        r
        for r in app.router.routes
        if not (isinstance(r, APIRoute) and r.path.startswith("/training"))
    ]
    app.include_router(training_router, dependencies=[Depends(current_student)])
    app.openapi_schema = None
    return app


def test_the_openapi_document_is_the_one_include_router_gives() -> None:
    flat = create_app(Settings())
    assert any(
        isinstance(r, APIRoute) and r.path == "/training/samples" for r in flat.router.routes
    )
    assert flat.openapi() == _nested_app().openapi()


def test_the_inclusion_s_dependencies_run_first_and_on_every_route() -> None:
    calls: list[str] = []

    def outer(x_who: str = Header()) -> None:
        calls.append("outer:" + x_who)

    def inner() -> None:
        calls.append("inner")

    router = APIRouter(prefix="/r")

    @router.get("/a", dependencies=[Depends(inner)])
    def a() -> dict[str, str]:
        """A route with a dependency of its own."""
        return {"route": "a"}

    @router.post("/b", status_code=201)
    def b() -> dict[str, str]:
        """A route with another status."""
        return {"route": "b"}

    app = FastAPI()
    include_flat(app, router, dependencies=[Depends(outer)])
    client = TestClient(app)
    assert client.get("/r/a", headers={"x-who": "w"}).json() == {"route": "a"}
    assert calls == ["outer:w", "inner"]
    assert client.post("/r/b", headers={"x-who": "v"}).status_code == 201
    assert client.get("/r/a").status_code == 422  # the inclusion's header is required


def test_only_api_routes_are_included_flat() -> None:
    router = APIRouter()
    router.routes.append(Route("/plain", lambda request: PlainTextResponse("x")))
    with pytest.raises(TypeError, match="API routes only"):
        include_flat(FastAPI(), router)
