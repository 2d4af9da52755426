"""The lean route: FastAPI's own routing, exception handling and header parsing, without
its per-request dependency solving on the hottest reads.

Profiling a cached page showed FastAPI's dependency solving as the largest single cost
after the Redis round trip. ``LeanRoute`` is the training router's route class. For a GET
route whose dependencies are only the caller (``current_student``), the resources and
``valid_language``, its ``handle`` does that work itself once FastAPI's routing has chosen
the route: it validates the query with the route's own parameter fields (FastAPI's
``request_params_to_args``, the same definitions the OpenAPI document is built from),
authenticates with the same functions as ``current_student``, calls the route's endpoint
and sends its response. Anything it does not handle whole (a missing or refused token,
any validation error, an unknown language) goes to FastAPI's own handling of the same
route, so every refusal is the app's own. Whatever the endpoint raises goes up to the
app's exception handlers like any route's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import _effective_route_context_var, _get_scope_effective_route_context
from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.auth import auth_headers, authenticate, bearer_token
from app.deps import current_student, language_or_400, request_resources, valid_language
from app.errors import DomainError
from app.handles import resources_of
from app.training.bodies import StrictJsonRoute

_KNOWN = {current_student, request_resources, valid_language}


# FastAPI 0.165 (pinned <0.166) builds a route's handler once per context: as declared, and
# once per inclusion in another router. These two private accessors name that context while
# it is built, and the context a request was routed through.
def building_context() -> object | None:
    """The route context whose handler FastAPI is building now (None: the route itself)."""
    return _effective_route_context_var.get()


def scope_context(scope: Scope) -> object | None:
    """The route context a request was routed through (None: the route itself)."""
    return _get_scope_effective_route_context(scope)


LEAN = Counter("lumetrix_lean_requests_total", "Requests answered by the lean path.")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


# Distinct query strings remembered per route. A page's query string repeats across
# students and requests, and validating it was the lean path's largest cost after the Redis
# call (``request_params_to_args``: about a third of a cached page's Python time). A flood of
# distinct strings only empties the memo (cleared when full), it never grows past this.
QUERY_MEMO = 2048
_IMMUTABLE = (str, int, float, bool, type(None))


@dataclass(slots=True)
class LeanPlan:
    """How to call one route's endpoint without FastAPI's dependency solving."""

    fields: Sequence[Any]  # every query parameter, the dependencies' included
    student: str | None  # the endpoint's parameter names for each dependency
    res: str | None
    language: str | None
    own: frozenset[str]  # the endpoint's own query parameters
    # query string -> (its parameter names, the endpoint's query arguments), or None when
    # FastAPI's handler should answer it
    memo: dict[bytes, tuple[Sequence[str], dict[str, Any]] | None] = field(default_factory=dict)

    def arguments(self, scope: Scope) -> dict[str, Any] | None:
        """The endpoint's arguments, or None whenever FastAPI's handler should answer."""
        res = resources_of(scope["app"])
        if not res.settings.lean_path:
            return None
        raw: bytes = scope["query_string"]
        parsed = self.memo[raw] if raw in self.memo else self._parse(raw, Request(scope))
        if parsed is None:
            return None
        names, query = parsed
        try:
            authorization, x_client_id = auth_headers(scope["headers"])
            student = authenticate(
                res.tokens,
                query_names=names,
                token=bearer_token(authorization),
                x_client_id=x_client_id,
            )
        except DomainError:
            return None
        kwargs = dict(query)
        if self.student is not None:
            kwargs[self.student] = student
        if self.res is not None:
            kwargs[self.res] = res
        return kwargs

    def _parse(self, raw: bytes, request: Request) -> tuple[Sequence[str], dict[str, Any]] | None:
        """Validate a query string with the route's own fields, and remember the outcome
        when it holds only immutable values."""
        params = request.query_params
        values, errors = request_params_to_args(self.fields, params)
        parsed: tuple[Sequence[str], dict[str, Any]] | None = None
        if not errors:
            query = {name: values[name] for name in self.own}
            try:
                if self.language is not None:
                    query[self.language] = language_or_400(values["language"])
            except DomainError:
                pass
            else:
                parsed = (tuple(params.keys()), query)
        if parsed is None or all(isinstance(v, _IMMUTABLE) for v in parsed[1].values()):
            if len(self.memo) >= QUERY_MEMO:
                self.memo.clear()
            self.memo[raw] = parsed
        return parsed


def lean_plan(dependant: Dependant) -> LeanPlan | None:
    """How to serve a GET route with this dependant leanly, or None when it needs more."""
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
    return LeanPlan(
        fields=fields,
        student=names.get(current_student),
        res=names.get(request_resources),
        language=names.get(valid_language),
        own=frozenset(f.name for f in dependant.query_params),
    )


def _query_params(dependant: Dependant) -> list[Any]:
    return [*dependant.query_params, *(p for d in dependant.dependencies for p in _query_params(d))]


class LeanRoute(StrictJsonRoute):
    """The training routes' class: a lean answer for eligible GETs, FastAPI's otherwise.

    The router is included with ``current_student`` as its one dependency (``app.main``);
    a lean answer authenticates the caller too, so it skips nothing the full path runs.
    ``LEAN_PATH=false`` sends every request to FastAPI's handler (to measure what it saves).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Lean plans by the route context they were planned for (FastAPI plans each route
        # once as declared and once per router inclusion, whose dependencies it adds).
        # The context is kept with its plan, so a reused id can never pick up another's plan.
        self._plans: dict[int, tuple[object | None, LeanPlan, Callable[..., Any]]] = {}
        super().__init__(*args, **kwargs)

    def get_route_handler(self) -> Handler:
        """FastAPI's handler; the lean plan for the context being built is kept aside."""
        full = super().get_route_handler()
        plan = lean_plan(self.dependant) if self.methods == {"GET"} else None
        if plan is not None:
            context = building_context()
            self._plans[id(context)] = (context, plan, self.endpoint)
        return full

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer leanly when the plan can; else FastAPI's handling, whole.

        The lean answer is sent straight from the route, without FastAPI's per-request
        wrapper (a ``Request``, two exit stacks, an exception-handling layer around ``send``):
        lean routes have no dependency with an exit, and what an endpoint raises reaches
        the app's exception handlers from the router just the same.
        """
        context = scope_context(scope)
        entry = self._plans.get(id(context)) if self._plans else None
        if entry is not None and entry[0] is context and scope["method"] == "GET":
            _, plan, endpoint = entry
            kwargs = plan.arguments(scope)
            if kwargs is not None:
                LEAN.inc()
                response: Response = await endpoint(**kwargs)
                await response(scope, receive, send)
                return
        await super().handle(scope, receive, send)
