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


class NextFlight:
    """Per-key loads that a caller shares only if they start after it called: one load
    runs; callers arriving meanwhile share the next, which starts when that one ends. So
    every answer is as fresh as the caller's own call (a write acknowledged before it is
    seen), and a key's loads run one at a time, however many callers want it."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[Any]] = {}
        self._next: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``load()`` started no earlier than this call, shared with the callers that
        came while the previous load of ``key`` ran."""
        queued = self._next.get(key)
        if queued is not None:
            return await asyncio.shield(queued)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        running = self._running.get(key)
        if running is not None:
            self._next[key] = future
            try:
                await asyncio.wait([running])  # its outcome is its own callers'
            except BaseException as exc:
                self._fail(future, exc)
                raise
            finally:
                del self._next[key]
        self._running[key] = future
        try:
            value = await load()
        except BaseException as exc:
            self._fail(future, exc)
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._running[key]

    @staticmethod
    def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waits
