"""Group commit: concurrent calls gathered into one batch, each caller gets its own answer.

The embedded database's write cost is per command, not per document (365 single journaled
upserts/s against 1,435/s in batches of 50), so a worker writes what its concurrent
requests ask for together. Callers ``submit`` an item and await its result; one collector
task per batcher waits at most ``window`` seconds (less once ``max_size`` items wait),
hands the batch to ``flush`` and resolves every caller's future with its own result or
exception. Up to ``in_flight`` batches are written at once (the database works on one
while the app prepares the next); items that arrive meanwhile form the next batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

Flush = Callable[[Sequence[In]], Awaitable[Sequence[Out | BaseException]]]


class GroupCommit(Generic[In, Out]):
    """Batches of ``In`` written by ``flush``, which returns one result (or the exception
    that failed only that item) per item, in order."""

    def __init__(
        self, flush: Flush[In, Out], *, window: float, max_size: int, in_flight: int = 2
    ) -> None:
        self.flush = flush
        self.window = window
        self.max_size = max_size
        self._pending: list[tuple[In, asyncio.Future[Out]]] = []
        self._full = asyncio.Event()
        self._slots = asyncio.Semaphore(in_flight)
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()

    async def submit(self, item: In) -> Out:
        """Queue ``item`` for the next batch and wait for its result."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self.max_size:
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        # The write goes ahead even if this caller is cancelled (a client hung up): the
        # batch is already formed, and what it writes is idempotent for a retry.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._pending:
            if len(self._pending) < self.max_size:
                self._full.clear()
                try:
                    await asyncio.wait_for(self._full.wait(), self.window)
                except TimeoutError:
                    pass
            await self._slots.acquire()  # items keep arriving while every slot writes
            batch = self._pending[: self.max_size]
            del self._pending[: self.max_size]
            write = asyncio.get_running_loop().create_task(self._write(batch))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)

    async def _write(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        try:
            results = await self.flush([item for item, _ in batch])
        except BaseException as exc:  # the whole batch failed: every caller hears why
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: a caller that hung up is no error
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._slots.release()
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
                future.exception()  # retrieved: a caller that hung up is no error
            else:
                future.set_result(result)

    async def close(self) -> None:
        """Let the batches being collected and written finish (shutdown)."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task})
        if self._writes:
            await asyncio.wait(set(self._writes))
