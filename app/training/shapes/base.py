"""What every response shape is built from: the pydantic configs, and the string types whose
formats the OpenAPI document declares (instants, dates, zone names)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, WithJsonSchema

SHAPE = ConfigDict()
# Samples may carry fields the API does not know about (imported data): pass them on.
OPEN_SHAPE = ConfigDict(extra="allow")

Success = Literal["success"]
# Timestamps and dates travel as strings (formatted once, by app.timefmt); these
# aliases declare their formats, so generated clients parse them into date types.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""An instant, ISO-8601 UTC with milliseconds and ``Z``, e.g. 2026-11-25T09:30:00.000Z."""
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
"""A calendar date, YYYY-MM-DD."""
ZoneName = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "format": "iana-time-zone",
            "maxLength": 64,
            "description": "IANA time zone name, e.g. Europe/Berlin; "
            "`GET /training/timezones` lists every accepted one.",
            "examples": ["Europe/Berlin"],
        }
    ),
]
"""An IANA time zone name (one of ``GET /training/timezones``)."""
AsOf = Annotated[Timestamp, Field(description="When this answer was computed, ISO-8601 UTC.")]
Period = Literal["week", "month", "all"]
