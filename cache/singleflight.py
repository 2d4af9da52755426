"""Coalescing of concurrent loads: one call does the work, the others await its result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """Per-key in-flight loads of this process (no values are kept once a load ends)."""

    def __init__(self) -> None:
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``, unless a load of ``key`` is under way: then that load's result."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]
