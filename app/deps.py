"""Dependency aliases, defined once: the process's resources, who is calling, and the
request values several routes validate the same way.

All are ``async def``: a plain ``def`` dependency would cost a trip through the threadpool
on every request. FastAPI resolves each once per request, however many routes or other
dependencies use it.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from app.auth import Student, auth_headers, authenticate, refusal_without_client_id
from app.errors import (
    InvalidLanguage,
    NotModified,
    RateLimited,
    client_id_missing,
    error_response,
    validation_error,
)
from app.handles import Resources, resources_of
from app.responses import catalog_etag
from app.training.curriculum import LANGUAGES, Language

_bearer = HTTPBearer(auto_error=False, description="HS256 JWT with claims sub, cid, exp")


async def request_resources(request: Request) -> Resources:
    """The resources of the app serving ``request``."""
    return resources_of(request.app)


Res = Annotated[Resources, Depends(request_resources)]


async def current_student(
    request: Request,
    res: Res,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    # Required in the OpenAPI document, as it is in fact; FastAPI's refusal of a missing one
    # is answered with the auth code's 401 (``request_refused``), not a 422.
    x_client_id: Annotated[str, Header(description="Must equal the token's `cid` claim.")],
) -> Student:
    """The student a request acts for; 401 unless token and client id both check out (and
    neither header is repeated)."""
    auth_headers(request.scope["headers"])
    return authenticate(
        res.tokens,
        query_names=request.query_params.keys(),
        token=None if credentials is None else credentials.credentials,
        x_client_id=x_client_id,
    )


CurrentStudent = Annotated[Student, Depends(current_student)]


async def request_refused(request: Request, exc: Exception) -> Response:
    """The handler of FastAPI's refusals: the 422 of ``app.errors``, except that a request
    without ``X-Client-Id`` gets the auth code's 401."""
    assert isinstance(exc, RequestValidationError)
    if not client_id_missing(exc):
        return await validation_error(request, exc)
    # X-Client-Id is declared required (so generated clients always send it), which makes
    # FastAPI refuse its absence before the auth dependency runs. Leaving it out is still
    # the auth code's 401, whatever else is wrong with the request, as it always was.
    refused = refusal_without_client_id(
        resources_of(request.app).tokens,
        query_names=request.query_params.keys(),
        authorization=request.headers.get("authorization"),
    )
    return error_response(refused.status_code, refused.code, refused.detail, refused.headers)


def language_or_400(language: str) -> Language:
    """The language if the catalog knows it (case-sensitive), else a 400 naming them."""
    for known in LANGUAGES:
        if language == known:
            return known
    raise InvalidLanguage(f"language must be one of: {', '.join(LANGUAGES)}")


# Documented as an enum, parsed as a string: an unknown language is a 400 naming the valid
# ones (the contract clients rely on), not a generic 422.
async def valid_language(
    language: Annotated[
        str,
        Query(
            description="Catalog language: c, cpp or python.",
            examples=["c"],
            max_length=32,
            json_schema_extra={"enum": list(LANGUAGES)},
        ),
    ],
) -> Language:
    """The required ``language`` query parameter, or a 400."""
    return language_or_400(language)


async def optional_language(
    language: Annotated[
        str | None,
        Query(
            description="Only this language's chapters/areas.",
            max_length=32,
            json_schema_extra={"enum": list(LANGUAGES)},
        ),
    ] = None,
) -> Language | None:
    """The optional ``language`` query parameter, or a 400."""
    return None if language is None else language_or_400(language)


ValidLanguage = Annotated[Language, Depends(valid_language)]
OptionalLanguage = Annotated[Language | None, Depends(optional_language)]

IfNoneMatch = Annotated[
    str | None,
    Header(description="An ETag from an earlier answer; 304 when the catalog is unchanged."),
]


async def _etag_or_304(res: Resources, if_none_match: str | None) -> str:
    etag = catalog_etag(await res.catalog.version())
    # If-None-Match compares weakly (RFC 9110 13.1.2): a client's W/"…" or "…" both match.
    if if_none_match and (if_none_match.strip() == "*" or etag[2:] in if_none_match):
        raise NotModified(etag)
    return etag


async def language_catalog_etag(
    res: Res, language: ValidLanguage, if_none_match: IfNoneMatch = None
) -> str:
    """The catalog's ETag, or a 304 when the client's copy is current; a bad ``language``
    is a 400 first, whatever ETag the client sends."""
    return await _etag_or_304(res, if_none_match)


async def filters_catalog_etag(
    res: Res, language: OptionalLanguage, if_none_match: IfNoneMatch = None
) -> str:
    """As ``language_catalog_etag``, for the route where ``language`` is optional."""
    return await _etag_or_304(res, if_none_match)


CatalogETag = Annotated[str, Depends(language_catalog_etag)]
FiltersETag = Annotated[str, Depends(filters_catalog_etag)]


async def mark_read_allowed(res: Res, student: CurrentStudent) -> None:
    """429 with Retry-After when the student marks reads faster than allowed."""
    wait = await res.mark_read_limit.retry_after(student.id)
    if wait is not None:
        raise RateLimited(
            "too many mark-read calls; slow down",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


MarkReadLimit = Depends(mark_read_allowed)
