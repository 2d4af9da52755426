"""Fast JSON responses: orjson bytes, no second pass through pydantic; a service's
``Serialised`` answer is sent as it is."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from app.training.answers import Serialised


def json_response(
    payload: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``payload`` serialised by orjson (datetimes as ISO-8601), or the bytes of a
    ``Serialised`` payload unchanged."""
    return Response(
        payload.body if isinstance(payload, Serialised) else orjson.dumps(payload),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


# Per-student answers must never sit in a shared cache, nor be reused by the browser.
PRIVATE = {"Cache-Control": "private, no-store"}


def student_response(payload: Any, *, status_code: int = 200) -> Response:
    """A per-student answer: JSON with ``Cache-Control: private, no-store``."""
    return json_response(payload, status_code=status_code, headers=PRIVATE)


def catalog_etag(version: int) -> str:
    """The ETag of every catalog answer at a catalog version: weak, since the bytes differ
    with the content encoding (gzip, br, zstd) while the data is the same."""
    return f'W/"catalog-v{version}"'


def catalog_response(payload: Any, etag: str) -> Response:
    """A catalog answer: JSON with its ETag; clients revalidate with If-None-Match."""
    return json_response(payload, headers={"ETag": etag, "Cache-Control": "no-cache"})
