"""Daily streaks in the student's time zone, from quarter-hour buckets of first reads.

Every first read increments a counter for its UTC quarter hour (``quarters`` in the stats
document). All real UTC offsets are whole quarter hours, so a local midnight never falls
inside a bucket: local days, and so streaks, come out exact for any IANA zone, across DST
changes, without knowing the zone when the read was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import InvalidParameter
from app.timefmt import QUARTER, to_ms
from app.training.shapes import Streak

# Every ``tz`` the API accepts, listed by GET /training/timezones: the names the tzdata
# package ships, so a name is valid on every server. Not ``available_timezones()``, which
# adds whatever the host's zoneinfo directory holds (``localtime``, on some ``posix/…``,
# ``right/…``). ``Factory`` is a placeholder ("-00"), not a place.
ZONES: tuple[str, ...] = tuple(
    sorted(set(files("tzdata").joinpath("zones").read_text().split()) - {"Factory"})
)
_ZONE_SET = frozenset(ZONES)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (UTC when None); InvalidParameter unless it is in ``ZONES``."""
    if name is None:
        return ZoneInfo("UTC")
    if name not in _ZONE_SET:
        raise InvalidParameter(
            f"unknown time zone '{name}'; use an IANA name (GET /training/timezones lists them)"
        )
    return ZoneInfo(name)


def saved_zone(name: str | None) -> ZoneInfo:
    """A stored preference's zone, UTC when unset or no longer loadable: it was checked when
    saved, and a student's progress must not turn into an error because of it."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def reads_per_day(quarters: Mapping[str, int], tz: ZoneInfo) -> dict[date, int]:
    """First reads per local date in ``tz``."""
    days: dict[date, int] = {}
    for key, count in quarters.items():
        local = datetime.fromtimestamp(int(key) * QUARTER, UTC).astimezone(tz).date()
        days[local] = days.get(local, 0) + int(count)
    return days


def streak(quarters: Mapping[str, int], *, tz: ZoneInfo, now: datetime, minimum: int = 1) -> Streak:
    """Current and longest run of days with at least ``minimum`` first reads.

    The current streak still counts when today has no read yet (it ends yesterday); one
    day is one credit however many reads it holds.
    """
    active = sorted(d for d, n in reads_per_day(quarters, tz).items() if n >= minimum)
    if not active:
        return {"current": 0, "longest": 0, "last_active_date": None, "tz": str(tz)}
    longest = run = 1
    for before, after in pairwise(active):
        run = run + 1 if after - before == timedelta(days=1) else 1
        longest = max(longest, run)
    today = now.astimezone(tz).date()
    current = 0
    if today - active[-1] <= timedelta(days=1):
        current = 1
        for i in range(len(active) - 1, 0, -1):
            if active[i] - active[i - 1] != timedelta(days=1):
                break
            current += 1
    return {
        "current": current,
        "longest": longest,
        "last_active_date": active[-1].isoformat(),
        "tz": str(tz),
    }


def day_ends(tz: ZoneInfo, now: datetime) -> int:
    """When the local day of ``now`` in ``tz`` ends (epoch ms): until then a streak counted
    at ``now`` stays right (only the day matters). A midnight skipped by a DST change
    resolves to the instant the next day starts."""
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return to_ms(datetime.combine(tomorrow, time(), tzinfo=tz))
