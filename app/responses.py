"""Fast JSON responses: orjson bytes, no second pass through pydantic; a service's
``Serialised`` answer is sent as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from app.training.answers import Serialised

RawHeaders = Sequence[tuple[bytes, bytes]]
_JSON = (b"content-type", b"application/json")


class JsonAnswer(Response):
    """JSON bytes whose extra headers come already encoded (ASGI pairs): Starlette's
    ``init_headers`` encodes and scans a header dict on every answer."""

    media_type = "application/json"

    def __init__(self, body: bytes, *, status_code: int = 200, raw: RawHeaders = ()) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        # Starlette's order: the given headers, then content-length and content-type.
        headers = list(raw)
        if not (status_code < 200 or status_code in (204, 304)):
            headers.append((b"content-length", b"%d" % len(body)))
        headers.append(_JSON)
        self.raw_headers = headers


def _body(payload: Any) -> bytes:
    return payload.body if isinstance(payload, Serialised) else orjson.dumps(payload)


def json_response(
    payload: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``payload`` serialised by orjson (datetimes as ISO-8601), or the bytes of a
    ``Serialised`` payload unchanged."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return JsonAnswer(_body(payload), status_code=status_code, raw=raw)


# Per-student answers must never sit in a shared cache, nor be reused by the browser.
PRIVATE: RawHeaders = ((b"cache-control", b"private, no-store"),)


def student_response(payload: Any, *, status_code: int = 200) -> Response:
    """A per-student answer: JSON with ``Cache-Control: private, no-store``."""
    return JsonAnswer(_body(payload), status_code=status_code, raw=PRIVATE)


def catalog_etag(version: int) -> str:
    """The ETag of every catalog answer at a catalog version: weak, since the bytes differ
    with the content encoding (gzip, br, zstd) while the data is the same."""
    return f'W/"catalog-v{version}"'


def catalog_response(payload: Any, etag: str) -> Response:
    """A catalog answer: JSON with its ETag; clients revalidate with If-None-Match."""
    return json_response(payload, headers={"ETag": etag, "Cache-Control": "no-cache"})
