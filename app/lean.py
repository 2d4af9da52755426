"""A lean path for the hottest reads: the same handlers, without FastAPI's per-request
dependency machinery.

Profiling a cached page showed FastAPI's dependency solving as the largest single cost
after the Redis round trip. For every GET route whose dependencies are only the caller
(``current_student``), the resources and ``valid_language``, this middleware does that
work itself: it validates the query with the route's own parameter fields (FastAPI's
``request_params_to_args``, the same definitions the OpenAPI document is built from),
authenticates with ``app.auth.authenticate`` and calls the route's own endpoint. Anything
it does not handle whole — a path parameter, a body, a missing or refused token, any
validation error, an unknown language — goes to the app unchanged, so every error is the
app's own. An exception raised by the endpoint is answered by the app's exception
handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from prometheus_client import Counter
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth import auth_headers, authenticate, bearer_token
from app.deps import current_student, language_or_400, request_resources, valid_language
from app.errors import DomainError
from app.handles import resources_of

_KNOWN = {current_student, request_resources, valid_language}
LEAN = Counter("lumetrix_lean_requests_total", "Requests answered by the lean path.")


@dataclass(frozen=True, slots=True)
class _LeanRoute:
    route: APIRoute
    fields: Sequence[Any]  # every query parameter, the dependencies' included
    student: str | None  # the endpoint's parameter names for each dependency
    res: str | None
    language: str | None
    own: frozenset[str]  # the endpoint's own query parameters


def _plan(route: APIRoute) -> _LeanRoute | None:
    """How to serve ``route`` leanly, or None when it needs more than the lean path does."""
    dependant = route.dependant
    if dependant.path_params or dependant.body_params or dependant.header_params:
        return None
    names: dict[Callable[..., Any], str | None] = {}
    fields = list(dependant.query_params)
    for sub in dependant.dependencies:
        if sub.call not in _KNOWN:
            return None
        if sub.name is not None:
            names[sub.call] = sub.name
        if sub.call is valid_language:
            fields += _query_params(sub)
    if current_student not in names:
        return None  # every lean answer is authenticated
    return _LeanRoute(
        route=route,
        fields=fields,
        student=names.get(current_student),
        res=names.get(request_resources),
        language=names.get(valid_language),
        own=frozenset(f.name for f in dependant.query_params),
    )


def _query_params(dependant: Dependant) -> list[Any]:
    return [*dependant.query_params, *(p for d in dependant.dependencies for p in _query_params(d))]


class LeanPath:
    """ASGI middleware serving the eligible GET routes of ``routes`` under ``prefix``."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[Any], prefix: str) -> None:
        self.app = app
        self.plans: dict[str, _LeanRoute] = {}
        for route in routes:
            if isinstance(route, APIRoute) and route.methods == {"GET"}:
                plan = _plan(route)
                if plan is not None:
                    self.plans[prefix + route.path] = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request whole, or hand it to the app."""
        plan = self.plans.get(scope["path"]) if scope["type"] == "http" else None
        if plan is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        kwargs = self._arguments(scope, plan)
        if kwargs is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = plan.route  # the metrics' route template
        LEAN.inc()
        try:
            response = await plan.route.endpoint(**kwargs)
        except Exception as exc:
            response = await self._handled(scope, exc)
        await response(scope, receive, send)

    def _arguments(self, scope: Scope, plan: _LeanRoute) -> dict[str, Any] | None:
        """The endpoint's arguments, or None whenever the app should answer instead."""
        res = resources_of(scope["app"])
        query = QueryParams(scope["query_string"])
        try:
            authorization, x_client_id = auth_headers(scope["headers"])
            student = authenticate(
                res.tokens,
                query_names=query.keys(),
                token=bearer_token(authorization),
                x_client_id=x_client_id,
            )
        except DomainError:
            return None
        values, errors = request_params_to_args(plan.fields, query)
        if errors:
            return None
        kwargs = {name: values[name] for name in plan.own}
        if plan.language is not None:
            try:
                kwargs[plan.language] = language_or_400(values["language"])
            except DomainError:
                return None
        if plan.student is not None:
            kwargs[plan.student] = student
        if plan.res is not None:
            kwargs[plan.res] = res
        return kwargs

    @staticmethod
    async def _handled(scope: Scope, exc: Exception) -> Any:
        """The app's own answer to ``exc`` (its registered exception handlers)."""
        handlers = scope["app"].exception_handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return await handler(Request(scope), exc)
        raise exc
