"""Dependency aliases, defined once: the handles a request may use and who is calling.

All are ``async def``: a plain ``def`` dependency would cost a trip through the threadpool
on every request.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request

from app.auth import Student, verify_client_bound_request
from app.db import Database
from app.errors import RateLimited
from app.settings import Settings
from cache.backend import CacheBackend
from cache.catalog import CatalogCache
from cache.leaderboard import Leaderboards
from cache.progress import ProgressSets


async def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def _catalog(request: Request) -> CatalogCache | None:
    return request.app.state.catalog  # type: ignore[no-any-return]


async def _progress(request: Request) -> ProgressSets | None:
    return request.app.state.progress  # type: ignore[no-any-return]


async def _boards(request: Request) -> Leaderboards | None:
    return request.app.state.boards  # type: ignore[no-any-return]


async def _redis(request: Request) -> CacheBackend:
    return request.app.state.redis  # type: ignore[no-any-return]


async def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


CurrentStudent = Annotated[Student, Depends(verify_client_bound_request)]
MongoDep = Annotated[Database, Depends(_db)]
CatalogDep = Annotated[CatalogCache | None, Depends(_catalog)]
ProgressDep = Annotated[ProgressSets | None, Depends(_progress)]
BoardsDep = Annotated[Leaderboards | None, Depends(_boards)]
RedisDep = Annotated[CacheBackend, Depends(_redis)]
SettingsDep = Annotated[Settings, Depends(_settings)]


async def mark_read_allowed(request: Request, student: CurrentStudent) -> None:
    """429 with Retry-After when the student marks reads faster than allowed."""
    wait = await request.app.state.mark_read_limit.retry_after(student.id)
    if wait is not None:
        raise RateLimited(
            "too many mark-read calls; slow down",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


MarkReadLimit = Depends(mark_read_allowed)
