"""Request bodies of the training API (validated by pydantic on the way in).

The models are strict: a JSON body says what it means, so ``"45"``, ``45.0`` or ``true``
are not a number of seconds and ``"yes"`` or ``1`` are not a boolean (422), however
pydantic's lax mode would read them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response

from app.training.shapes import ZoneName


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members as a dict; a key given twice is refused (json.loads would
    keep the last, another parser the first: the body would mean two things)."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {key!r}")
            seen.add(key)
    return members


class StrictJsonRequest(Request):
    """A request whose JSON body may not repeat a key in any object."""

    async def json(self) -> Any:
        """The parsed body; a JSONDecodeError, which FastAPI answers 422, for a repeated key."""
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body, object_pairs_hook=_unique_keys)
            except _DuplicateKey as exc:
                raise json.JSONDecodeError(str(exc), body.decode("utf-8", "replace"), 0) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """A route that reads JSON bodies with ``StrictJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, given the strict request."""
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


def _optional_integer(schema: dict[str, Any]) -> None:
    """Document an ``int | None = None`` field as an optional integer: no ``anyOf [integer,
    null]`` and no ``"default": null``, which would tell generators to send null (refused)."""
    branches = schema.pop("anyOf", [])
    schema.update(next(b for b in branches if b.get("type") == "integer"))
    schema.pop("default", None)


class TimeSpentIn(BaseModel):
    """Optional JSON body of mark-read: ``{"time_spent": 45}``, or ``{}`` when the query
    parameter carries it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    time_spent: int | None = Field(
        None,
        ge=1,
        le=3600,
        description="Seconds spent reading (1-3600), a JSON integer; give it here or as the "
        "query parameter, not both.",
        json_schema_extra=_optional_integer,
    )

    @field_validator("time_spent", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """An explicit null is refused (422), as it always was; leave the key out instead."""
        if value is None:
            raise ValueError("time_spent must be an integer from 1 to 3600; omit it instead")
        return value


class PreferencesIn(BaseModel):
    """Preferences to change; absent (or null) fields stay as they are, except
    ``display_name``, which null clears."""

    model_config = ConfigDict(extra="forbid", strict=True)

    tz: ZoneName | None = Field(
        None,
        max_length=64,
        description="IANA time zone name for streaks, e.g. Europe/Berlin (`GET "
        "/training/timezones` lists every accepted one); null or absent: unchanged.",
        examples=["Europe/Berlin"],
    )
    leaderboard_opt_out: bool | None = Field(
        None, description="Hide me from other students' leaderboards."
    )
    display_name: str | None = Field(
        None,
        max_length=64,
        description="The name other students see on leaderboards: 3-24 letters, digits, "
        "spaces, `_`, `-` or `.`, not used by another student (compared case-insensitively; "
        "409 `name_taken`), not like a student id (`SIDHI_…`) or a pseudonym (`Learner-…`). "
        "null: cleared, the pseudonym shows again; absent: unchanged.",
        examples=["Ada L."],
    )
