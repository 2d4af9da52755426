"""Answers served from a cache while their source of truth is away carry a mark.

The HTTP layer opens a ``StaleMark`` per request (``open_mark``); a cache that answers
from a copy it could not check against MongoDB calls ``mark_stale`` with the time that
copy was last confirmed. The response then gets ``Warning: 110 - "Response is Stale"``
and ``X-Stale-As-Of``. A mutable holder rather than a bare value, so a mark made anywhere
in the request's task is seen by the middleware that opened it.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(slots=True)
class StaleMark:
    """Whether this request's answer came from unconfirmed copies, and as of when (epoch s)."""

    as_of: float | None = None


_MARK: ContextVar[StaleMark | None] = ContextVar("lumetrix_stale_mark", default=None)


def open_mark() -> tuple[StaleMark, Token[StaleMark | None]]:
    """A fresh mark for the current request, and the token that closes it."""
    mark = StaleMark()
    return mark, _MARK.set(mark)


def close_mark(token: Token[StaleMark | None]) -> None:
    """Forget the request's mark."""
    _MARK.reset(token)


def mark_stale(as_of: float) -> None:
    """This request's answer rests on data last confirmed at ``as_of`` (the oldest wins)."""
    mark = _MARK.get()
    if mark is not None and (mark.as_of is None or as_of < mark.as_of):
        mark.as_of = as_of
