"""Including a router's routes in the app's own routing table, one level deep.

FastAPI 0.165 keeps an included router as a node of the app's table: a request is matched
against the node, then again inside it (twice: once to choose, once to handle), with the
route context saved and restored in the scope around every candidate. On a cached page
that was about a tenth of the worker's instructions (callgrind, in process: 969k against
875k per request). ``include_flat`` declares each of the router's routes on the app's
router instead, with the inclusion's dependencies first, as ``include_router`` would give
them; the OpenAPI document is the same either way (``tests/test_flat_routes.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, params
from fastapi.routing import APIRoute, APIRouter

# What ``add_api_route`` takes that a route keeps under the same name (path, endpoint,
# response model, responses, tags, ids, ...); each is handed over as the route holds it.
_COPIED = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in {"self", "dependencies", "route_class_override"}
)


def include_flat(
    app: FastAPI, router: APIRouter, *, dependencies: Sequence[params.Depends] = ()
) -> None:
    """Declare every route of ``router`` on ``app``'s own router, with ``dependencies``
    (the inclusion's, run first) before each route's own.

    Only plain API routes may be included this way (the training router holds nothing
    else); the router must carry its prefix and router-level settings on its routes."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_flat takes API routes only, not {route!r}")
        copied: dict[str, Any] = {name: getattr(route, name) for name in _COPIED}
        app.router.add_api_route(
            **copied,
            dependencies=[*dependencies, *route.dependencies],
            route_class_override=type(route),
        )
