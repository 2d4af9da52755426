"""Query and path parameters of the training routes, each declared once."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

from app.training.curriculum import Difficulty as DifficultyLevel
from app.training.curriculum import SampleType as SampleKind
from app.training.shapes import Period as PeriodName
from app.training.shapes import ZoneName

MAX_PAGE = 1_000_000


def _plain_digits(value: object) -> object:
    """A query value is text, so "2" is how 2 travels; but "2.0", "5_0", "+2" or " 2"
    (which pydantic's lax int parsing would take) are not how anyone writes a count."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number written in plain digits, e.g. 2")
    return value


def _true_or_false(value: object) -> object:
    """``true`` or ``false`` and nothing else: pydantic's lax bool would also read "yes",
    "on", "1", "t", "N"..., so one client's flag would mean another thing elsewhere."""
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value


Digits = BeforeValidator(_plain_digits)
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number."), Digits]
Limit = Annotated[int, Query(ge=1, le=100, description="Samples per page (1-100)."), Digits]
Chapter = Annotated[int | None, Query(ge=1, le=1000, description="Only this chapter."), Digits]
Area = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Only this knowledge area.",
        examples=["pointers"],
    ),
]
SampleType = Annotated[SampleKind | None, Query(description="Only this type.")]
Difficulty = Annotated[DifficultyLevel | None, Query(description="Only this difficulty.")]
SampleId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.\-]{1,100}$",
        description="Sample id, e.g. c_ch1_q_000025.",
        examples=["c_ch1_q_000025"],
    ),
]
SearchText = Annotated[
    str,
    Query(min_length=2, max_length=100, description="Text to find (literal, case-insensitive)."),
]
UnreadOnly = Annotated[
    bool,
    Query(description="Only samples the student has not read: `true` or `false`."),
    BeforeValidator(_true_or_false),
]
_SECONDS = re.compile(r"[0-9]{1,4}")


def _whole_seconds(value: object) -> object:
    """As ``_plain_digits``, with the message about seconds clients have always had."""
    if isinstance(value, str) and not _SECONDS.fullmatch(value):
        raise ValueError("time_spent must be a whole number of seconds written in digits, e.g. 45")
    return value


# The validator after Query: before it, the bounds reach the OpenAPI document as raw
# "ge"/"le" keys instead of minimum/maximum.
TimeSpent = Annotated[
    int | None,
    Query(ge=1, le=3600, description="Seconds spent reading (1-3600)."),
    BeforeValidator(_whole_seconds),
]
# A string of a documented format, not an enum of ~600 names (generators choke on those):
# the server checks it against GET /training/timezones, an unknown zone is a 400.
Timezone = Annotated[
    ZoneName | None,
    Query(
        max_length=64,
        description="IANA time zone name, e.g. Europe/Berlin (`GET /training/timezones` "
        "lists every accepted one); default: the stored preference, else UTC.",
        examples=["Europe/Berlin"],
    ),
]
Period = Annotated[PeriodName, Query(description="This UTC ISO week, this UTC month, or all time.")]
BoardSize = Annotated[int, Query(ge=1, le=100, description="Entries in the top list."), Digits]
