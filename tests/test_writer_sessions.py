"""A dead worker's open transaction is aborted by the others' sweep, so the documents it
held are writable again within seconds instead of the server's minute."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pymongo.errors import OperationFailure

from app.db import META, Database
from app.training.queries import meta
from app.writer_sessions import WriterSessions


async def _bump(db: Database) -> None:
    async with db.client.start_session() as session:
        await session.start_transaction()
        await db["held"].update_one({"_id": "S"}, {"$inc": {"n": 1}}, session=session)
        await session.commit_transaction()


async def test_a_stopped_workers_transaction_is_aborted_by_the_sweep(fresh_db: Database) -> None:
    await fresh_db["held"].insert_one({"_id": "S", "n": 0})
    dead = WriterSessions(fresh_db, size=1, beat=0.1, stale=0.5)
    await dead.start()
    # The "dead" worker opens a transaction and stops beating without cleaning up.
    assert dead._task is not None
    dead._task.cancel()
    async with dead.session() as orphan:
        await orphan.start_transaction()
        await fresh_db["held"].update_one({"_id": "S"}, {"$inc": {"n": 100}}, session=orphan)
        try:
            await _bump(fresh_db)
            raise AssertionError("the open transaction should hold the document")
        except OperationFailure as exc:
            assert exc.has_error_label("TransientTransactionError")
        alive = WriterSessions(fresh_db, size=1, beat=0.1, stale=0.5)
        await asyncio.sleep(0.6)
        started = time.monotonic()
        assert await alive.sweep() == 1
        await _bump(fresh_db)
        assert time.monotonic() - started < 5
        doc: Any = await fresh_db["held"].find_one({"_id": "S"})
        assert doc["n"] == 1  # the orphan's +100 was aborted, never applied
        await alive.close()
    registrations = await fresh_db[META].count_documents({"_id": {"$regex": "^writer:"}})
    assert registrations == 0  # the dead one swept, the live one gone on close


async def test_a_live_worker_is_never_swept(fresh_db: Database) -> None:
    first = WriterSessions(fresh_db, size=2, beat=0.1, stale=1.0)
    second = WriterSessions(fresh_db, size=2, beat=0.1, stale=1.0)
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(1.5)
        assert await first.sweep() == 0 and await second.sweep() == 0
        stale = await meta.stale_writers(fresh_db, meta_now_plus(0))
        assert {w["_id"] for w in stale} == {
            meta.WRITER_PREFIX + first.name,
            meta.WRITER_PREFIX + second.name,
        }
    finally:
        await first.close()
        await second.close()


def meta_now_plus(seconds: float) -> Any:
    """A moment ``seconds`` from now, as the registrations' clock reads it."""
    from datetime import timedelta

    from app.timefmt import utcnow

    return utcnow() + timedelta(seconds=seconds + 1)
