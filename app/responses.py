"""Fast JSON responses: orjson bytes, no second pass through pydantic."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response


def json_response(
    payload: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``payload`` serialised by orjson (datetimes as ISO-8601)."""
    return Response(
        orjson.dumps(payload),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def pagination(*, page: int, limit: int, total: int) -> dict[str, Any]:
    """The pagination block of a listing."""
    pages = math.ceil(total / limit) if total else 0
    return {
        "page": page,
        "limit": limit,
        "total": total,
        "total_pages": pages,
        "has_next": page < pages,
        "has_prev": page > 1,
    }
