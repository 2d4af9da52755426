"""Dependency aliases, defined once: the handles a request may use and who is calling.

All are ``async def``: a plain ``def`` dependency would cost a trip through the threadpool
on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth import Student, verify_client_bound_request
from app.db import Database
from app.settings import Settings
from cache.backend import CacheBackend
from cache.catalog import CatalogCache
from cache.progress import ProgressSets


async def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def _catalog(request: Request) -> CatalogCache | None:
    return request.app.state.catalog  # type: ignore[no-any-return]


async def _progress(request: Request) -> ProgressSets | None:
    return request.app.state.progress  # type: ignore[no-any-return]


async def _redis(request: Request) -> CacheBackend:
    return request.app.state.redis  # type: ignore[no-any-return]


async def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


CurrentStudent = Annotated[Student, Depends(verify_client_bound_request)]
MongoDep = Annotated[Database, Depends(_db)]
CatalogDep = Annotated[CatalogCache | None, Depends(_catalog)]
ProgressDep = Annotated[ProgressSets | None, Depends(_progress)]
RedisDep = Annotated[CacheBackend, Depends(_redis)]
SettingsDep = Annotated[Settings, Depends(_settings)]
