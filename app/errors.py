"""Domain exceptions and the handlers that map them to one documented error model.

Service code raises these and never ``HTTPException``; every error body is
``{"status": "error", "code": ..., "detail": ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, get_args

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import Counter
from pydantic import BaseModel, Field
from pymongo.errors import (
    ConnectionFailure,
    ExecutionTimeout,
    PyMongoError,
    WaitQueueTimeoutError,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)
Handler = Callable[[Request, Exception], Awaitable[Response]]
SHED = Counter(
    "lumetrix_shed_requests_total",
    "Requests answered 503 because every MongoDB slot of the worker was busy.",
)

# Every ``code`` an error body can carry, with its HTTP status: the one list. mypy holds the
# raising code to it (``ErrorCode``), the OpenAPI document publishes it as an enum, and
# tests check that README.md and CHANGES.md list the same codes.
ErrorCode = Literal[
    "bad_request",  # 400
    "invalid_parameter",  # 400
    "invalid_language",  # 400
    "not_authenticated",  # 401
    "not_found",  # 404
    "method_not_allowed",  # 405
    "request_timeout",  # 408
    "name_taken",  # 409
    "payload_too_large",  # 413
    "validation_error",  # 422
    "rate_limited",  # 429
    "http_error",  # another status from the HTTP layer
    "database_error",  # 500
    "internal_error",  # 500
    "database_unavailable",  # 503
    "service_unavailable",  # 503
]
ERROR_CODES: tuple[ErrorCode, ...] = get_args(ErrorCode)


class ErrorBody(BaseModel):
    """The body of every error response."""

    status: Literal["error"] = Field("error", examples=["error"])
    code: ErrorCode = Field(..., examples=["invalid_language"])
    detail: str = Field(..., examples=["language must be one of: c, cpp, python"])


class DomainError(Exception):
    """A failure the client should hear about, with its HTTP status."""

    status_code = 400
    code: ErrorCode = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class InvalidParameter(DomainError):
    """A parameter's value is outside what the API accepts."""

    code: ErrorCode = "invalid_parameter"


class InvalidLanguage(InvalidParameter):
    """``language`` is not one of the catalog's languages."""

    code: ErrorCode = "invalid_language"


class InvalidRequest(DomainError):
    """The request breaks a rule its schema cannot express (422, like schema errors)."""

    status_code = 422
    code: ErrorCode = "validation_error"


class NotFound(DomainError):
    """The addressed resource does not exist."""

    status_code = 404
    code: ErrorCode = "not_found"


class NotAuthenticated(DomainError):
    """The request's credentials are missing or wrong."""

    status_code = 401
    code: ErrorCode = "not_authenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class NameTaken(DomainError):
    """The display name asked for is another student's (compared case-insensitively)."""

    status_code = 409
    code: ErrorCode = "name_taken"


class RateLimited(DomainError):
    """The student sent more requests than allowed."""

    status_code = 429
    code: ErrorCode = "rate_limited"


class NotModified(Exception):
    """The client's copy (``If-None-Match``) is current: answer 304 with no body."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def error_response(
    status_code: int, code: ErrorCode, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """Render the error model."""
    body = orjson.dumps({"status": "error", "code": code, "detail": detail})
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # the parser's reason, not "JSON decode error"
            at = err.get("loc", ("body", 0))[-1]
            where = f" at character {at}" if isinstance(at, int) and at > 0 else ""
            reason = (err.get("ctx") or {}).get("error", "malformed")
            parts.append(f"body: invalid JSON{where} ({reason})")
            continue
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body" or len(err["loc"]) == 1)
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _domain(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.code, exc.detail, exc.headers)


async def _not_modified(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotModified)
    return Response(status_code=304, headers={"ETag": exc.etag, "Cache-Control": "no-cache"})


def client_id_missing(exc: RequestValidationError) -> bool:
    """Whether FastAPI refused the request for want of an ``X-Client-Id`` header."""
    return any(
        err.get("type") == "missing" and tuple(err.get("loc", ())) == ("header", "x-client-id")
        for err in exc.errors()
    )


async def validation_error(_: Request, exc: Exception) -> Response:
    """The 422 of a request FastAPI refused (``RequestValidationError``)."""
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation_error", _validation_detail(exc))


async def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes: dict[int, ErrorCode] = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, str(exc.detail), headers)


def _busy() -> Response:
    return error_response(
        503, "service_unavailable", "the database is busy; retry shortly", {"Retry-After": "1"}
    )


async def _mongo(_: Request, exc: Exception) -> Response:
    if isinstance(exc, WaitQueueTimeoutError) or (
        isinstance(exc, ExecutionTimeout) and not isinstance(exc, ConnectionFailure)
    ):
        # Shed, not down: every slot this worker has at the database is busy, or a load
        # outlasted its MONGO_LOAD_WAIT_MS budget. Not logged per request: under overload
        # that would be thousands of lines a second.
        SHED.inc()
        return _busy()
    if isinstance(exc, ConnectionFailure):
        log.error("mongodb error: %s: %s", type(exc).__name__, exc)
        return error_response(
            503,
            "database_unavailable",
            "the database is unavailable; retry shortly",
            {"Retry-After": "1"},
        )
    if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
        # Write conflicts outlasting the retry window (many concurrent writes of one
        # student): nothing was written, and the same request will go through shortly.
        log.warning("mongodb transaction conflict outlasted its retries: %s", exc)
        return _busy()
    log.error("mongodb error: %s: %s", type(exc).__name__, exc)
    return error_response(500, "database_error", "the database could not complete the request")


async def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal error")


def install_error_handlers(app: FastAPI, *, on_validation: Handler = validation_error) -> None:
    """Map domain, validation, HTTP and database errors to the error model; FastAPI's
    refusals go to ``on_validation`` (``app.deps.request_refused`` answers a missing
    ``X-Client-Id`` with the auth code's 401)."""
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(NotModified, _not_modified)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(PyMongoError, _mongo)
    app.add_exception_handler(Exception, _unexpected)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring the error model for ``codes``."""
    return {code: {"model": ErrorBody} for code in codes}
