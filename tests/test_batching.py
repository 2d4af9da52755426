"""Group commit (``app.batching``): concurrent calls share one flush, each gets its own
answer, and a failure stays with the calls it belongs to."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.batching import GroupCommit


class Recorder:
    """A flush that records its batches; items < 0 fail alone, item 999 fails the batch."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)
        if 999 in items:
            raise ConnectionError("database went away")
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def test_concurrent_calls_share_one_flush() -> None:
    flush = Recorder()
    batcher = GroupCommit(flush, window=0.05, max_size=100)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert flush.batches == [list(range(20))]


async def test_max_size_splits_and_later_arrivals_form_the_next_batch() -> None:
    flush = Recorder()
    batcher = GroupCommit(flush, window=0.05, max_size=8)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert [len(b) for b in flush.batches] == [8, 8, 4]
    assert [i for batch in flush.batches for i in batch] == list(range(20))


async def test_an_item_failure_fails_only_its_caller() -> None:
    batcher = GroupCommit(Recorder(), window=0.01, max_size=100)
    results = await asyncio.gather(*(batcher.submit(i) for i in (1, -2, 3)), return_exceptions=True)
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError) and str(results[1]) == "bad -2"


async def test_a_batch_failure_reaches_every_caller_and_the_next_batch_still_runs() -> None:
    batcher = GroupCommit(Recorder(), window=0.01, max_size=100)
    failed = await asyncio.gather(*(batcher.submit(i) for i in (12, 999)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in failed)
    assert await batcher.submit(5) == 50


async def test_a_cancelled_caller_does_not_cancel_the_write() -> None:
    flush = Recorder()
    batcher = GroupCommit(flush, window=0.02, max_size=100)
    task = asyncio.create_task(batcher.submit(7))
    await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await batcher.close()
    assert flush.batches == [[7]]


async def test_a_full_batch_is_flushed_without_waiting_out_the_window() -> None:
    flush = Recorder()
    # A window far longer than the test may take: only "the batch is full" can flush it.
    batcher = GroupCommit(flush, window=60.0, max_size=4)
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0.01)  # the collector now waits for more, up to the window
    assert flush.batches == []
    rest = await asyncio.wait_for(
        asyncio.gather(*(batcher.submit(i) for i in range(1, 4))), timeout=10
    )
    assert [await first, *rest] == [0, 10, 20, 30]
    assert flush.batches == [[0, 1, 2, 3]]


class Overlap:
    """A flush that notes, per batch, the keys also in a batch being written at that time."""

    def __init__(self) -> None:
        self.writing: list[set[int]] = []
        self.shared: list[set[int]] = []
        self.batches: list[list[int]] = []

    async def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        keys = {i % 7 for i in items}
        self.shared.append(set().union(*self.writing) & keys)
        self.batches.append(list(items))
        self.writing.append(keys)
        await asyncio.sleep(0.01)
        self.writing.remove(keys)
        return [i * 10 for i in items]


async def test_batches_written_at_once_never_share_a_key() -> None:
    flush = Overlap()
    batcher = GroupCommit(flush, window=0.001, max_size=5, in_flight=2, key=lambda i: i % 7)
    items = list(range(60))
    results = await asyncio.gather(*(batcher.submit(i) for i in items))
    assert results == [i * 10 for i in items]
    assert len(flush.batches) >= 12 and max(len(b) for b in flush.batches) <= 5
    assert all(not shared for shared in flush.shared), flush.shared
    # Without the key, the same load puts one key in two concurrent batches (the test can fail).
    unkeyed = Overlap()
    batcher = GroupCommit(unkeyed, window=0.001, max_size=5, in_flight=2)
    await asyncio.gather(*(batcher.submit(i) for i in items))
    assert any(unkeyed.shared)


async def test_an_item_held_back_by_its_key_goes_in_the_next_batch_in_order() -> None:
    flush = Recorder()
    batcher = GroupCommit(flush, window=0.001, max_size=2, in_flight=2, key=lambda i: i % 2)
    # 1 and 3 share key 1: while [0, 1] is written, 3 waits, and 2 (key 0) too.
    results = await asyncio.gather(*(batcher.submit(i) for i in range(4)))
    assert results == [0, 10, 20, 30]
    assert flush.batches == [[0, 1], [2, 3]]
    await batcher.close()
