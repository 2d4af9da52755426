"""What every command shares: one-line errors, settings, the process's resources, logging
and the checks of arguments several commands take."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from app.auth import RESERVED_ID_PREFIX, STUDENT_ID, is_reserved_id
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.handles import Resources

T = TypeVar("T")


class CommandError(Exception):
    """A failure to report as one line with a non-zero exit."""


def load_settings() -> Settings:
    """The settings, or a one-line ``configuration error``."""
    try:
        return get_settings()
    except ValueError as exc:
        raise CommandError(f"configuration error: {exc}") from exc


def with_resources(
    work: Callable[[Resources], Awaitable[T]],
    settings: Settings | None = None,
    *,
    ping_redis: bool = False,
) -> T:
    """Run ``work`` with the process's resources open (embedded database started or
    reused when no MONGODB_URL is set), on Redis with the commands' longer timeout."""
    from app.resources import open_resources

    chosen = settings or load_settings()

    async def main() -> T:
        async with open_resources(
            chosen, redis_timeout=chosen.command_redis_timeout, indexes=False
        ) as res:
            if ping_redis and chosen.redis_url and not await res.backend.ping():
                raise CommandError(f"Redis at {chosen.redis_url} does not answer")
            return await work(res)

    return asyncio.run(main())


def setup_logging(level: str = "INFO") -> None:
    """JSON log lines on stderr (app.observability's format)."""
    from app.observability import configure_logging

    configure_logging(level)


def student_id(student: str, option: str = "student id") -> str:
    """``student`` if it is a valid, unreserved student id; else a CommandError."""
    if not STUDENT_ID.match(student):
        raise CommandError(f"{option} must be 1-64 letters, digits, '_', '.' or '-'")
    if is_reserved_id(student):
        raise CommandError(f"{option} must not start with {RESERVED_ID_PREFIX!r} (reserved)")
    return student


DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str, option: str) -> timedelta:
    """``90s``, ``30m``, ``1h`` or ``2d`` as a timedelta."""
    found = DURATION.match(text.strip())
    if not found:
        raise CommandError(f"{option} must be a number and a unit (s, m, h or d), like 1h")
    return timedelta(seconds=int(found.group(1)) * _UNIT_SECONDS[found.group(2)])
