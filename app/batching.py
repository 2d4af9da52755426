"""Group commit: concurrent calls gathered into one batch, each caller gets its own answer.

The embedded database's write cost is per command, not per document (365 single journaled
upserts/s against 1,435/s in batches of 50), so a worker writes what its concurrent
requests ask for together. Callers ``submit`` an item and await its result; one collector
task per batcher waits at most ``window`` seconds (less once ``max_size`` items wait),
hands the batch to ``flush`` and resolves every caller's future with its own result or
exception. Up to ``in_flight`` batches are written at once (the database works on one
while the app prepares the next); items that arrive meanwhile form the next batch.

With a ``key`` (mark-read: the student), batches written at once never share a key: an
item whose key is in a batch being written waits for the next batch. Two transactions of
one worker on the same student's documents would otherwise conflict, and the loser be
retried after a pause: with 200 students and two batches of 25 in flight, nearly every
pair shared a student (SecantusDB aborted 0.8 transactions per committed batch, and the
worker's batch rate fell to about a third).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

Flush = Callable[[Sequence[In]], Awaitable[Sequence[Out | BaseException]]]


class GroupCommit(Generic[In, Out]):
    """Batches of ``In`` written by ``flush``, which returns one result (or the exception
    that failed only that item) per item, in order."""

    def __init__(
        self,
        flush: Flush[In, Out],
        *,
        window: float,
        max_size: int,
        in_flight: int = 2,
        key: Callable[[In], Hashable] | None = None,
    ) -> None:
        self.flush = flush
        self.window = window
        self.max_size = max_size
        self.key = key
        self._pending: list[tuple[In, asyncio.Future[Out]]] = []
        self._writing: Counter[Hashable] = Counter()  # keys of the batches being written
        self._written = asyncio.Event()  # a batch finished: its keys are free again
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
            self._written.clear()
            batch = self._take()
            if not batch:  # every waiting item's key is being written: wait for one
                self._slots.release()
                await self._written.wait()
                continue
            write = asyncio.get_running_loop().create_task(self._write(batch))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)

    def _take(self) -> list[tuple[In, asyncio.Future[Out]]]:
        """The next batch, oldest first: at most ``max_size`` items, none of whose keys is
        being written (those wait, still first in line)."""
        if self.key is None:
            batch = self._pending[: self.max_size]
            del self._pending[: self.max_size]
            return batch
        batch, kept = [], []
        for entry in self._pending:
            if len(batch) < self.max_size and self.key(entry[0]) not in self._writing:
                batch.append(entry)
            else:
                kept.append(entry)
        self._pending = kept
        self._writing.update(self.key(item) for item, _ in batch)
        return batch

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
            if self.key is not None:
                self._writing.subtract(self.key(item) for item, _ in batch)
                self._writing += Counter()  # drop the keys at zero
            self._written.set()
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
