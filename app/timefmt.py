"""Time helpers: aware UTC datetimes at MongoDB's millisecond precision, ISO-8601 out, and
the quarter-hour buckets of first reads (``app.training.streaks``)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    """Now, aware UTC, truncated to milliseconds (what MongoDB stores)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return round(moment.timestamp() * 1000)


# A student's read times recur on every page they load: convert each once per process.
@functools.lru_cache(maxsize=16384)
def from_ms(ms: float) -> datetime:
    """Aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a ``Z``, or None."""
    return None if moment is None else _iso(moment)


@functools.lru_cache(maxsize=16384)
def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # a naive value from an old writer is UTC by convention
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


QUARTER = 900  # seconds


def quarter_of(moment: datetime) -> str:
    """The bucket key of an instant: index of its UTC quarter hour since the epoch."""
    return str(int(moment.timestamp()) // QUARTER)
