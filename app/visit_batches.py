"""Mark-read's batch writer: a worker's concurrent visits (``app.batching``) written to
MongoDB together, the request service being ``app.training.mark_read``.

``VisitCommitter`` writes a batch as one unordered bulk per collection inside one
multi-document transaction, so a crash at any step leaves either all of a batch's
progress, stats and event writes or none of them. When the batch fails on one visit's data,
each visit is written again alone, so the failure fails only its own request. Each batch
notes its visits' students in the same transaction (``app.writethroughs``) until their
write-throughs are through: a crash after the commit but before the Redis write-throughs is
repaired by a surviving (or the next) worker, which invalidates exactly those students'
caches (``app.writer_sessions``). The visit's progress events (``sample_read``, and
``points_awarded`` for a first read) go into the outbox in the same transaction, for the
event publisher to stream to Redis (``app.events``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from pymongo import WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from app.db import Database
from app.events import outbox
from app.events.visits import batch_events, batch_totals, revisited_pairs
from app.faults import crash_point
from app.observability import BATCH_RETRIES
from app.training.mark_read import Written
from app.training.queries import students
from app.training.queries.intents import PendingVisit
from app.training.queries.reads import VisitWrite, upsert_reads, visit_counts
from app.writer_sessions import WriterSessions
from app.writethroughs import Ticket

log = logging.getLogger("lumetrix")


CONFLICT_RETRY = 5.0  # seconds a conflicting transaction is retried before its 503
# Write conflicts a batch of several students meets before each student is written alone.
# Another worker's batch shares a student with ours about half the time (two batches of a
# dozen among 200 students); retried whole, ours met the next one too, and two workers'
# mark-read p99 was 4.7 s. A student alone is in the other's next batch one time in 16.
SPLIT_AFTER = 2


class _Contended(Exception):
    """A batch met ``SPLIT_AFTER`` write conflicts: write it student by student."""


async def _commit(session: AsyncClientSession) -> None:
    """Commit; an unknown commit result is asked again (a commit is idempotent)."""
    for attempt in range(3):
        try:
            await session.commit_transaction()
            return
        except PyMongoError as exc:
            unknown = exc.has_error_label("UnknownTransactionCommitResult")
            if not unknown or isinstance(exc, ConnectionFailure) or attempt == 2:
                raise


ILLEGAL_OPERATION = 20  # a standalone mongod refusing transactions


# Journaled commits: acknowledged once on disk (the embedded SecantusDB runs with
# ``--sync-on-commit``, which its commits need for that; see ``app.embedded``).
JOURNALED = WriteConcern(j=True)


class VisitCommitter:
    """Writes batches of visits to MongoDB, each batch as one transaction where the server
    supports them (a replica set, SecantusDB); on a standalone server, without one."""

    def __init__(self, db: Database, sessions: WriterSessions) -> None:
        self.db = db
        self.sessions = sessions
        self.atomic = True

    async def __call__(self, visits: Sequence[VisitWrite]) -> list[Written | Exception]:
        """Per visit what it did, or the error that failed it alone."""
        if not self.atomic:
            return await self._unguarded(visits)
        try:
            # One student's batch has nothing to split: it keeps the whole retry budget.
            return await self._transaction(visits, split=len({v.student for v in visits}) > 1)
        except _Contended:
            return await self._by_student(visits)
        except ConnectionFailure:
            raise  # the database is away: every visit of the batch fails alike
        except OperationFailure as exc:
            if exc.code == ILLEGAL_OPERATION and "ransaction" in str(exc):
                log.warning(
                    "MongoDB refuses transactions (not a replica set): mark-read writes "
                    "progress and stats without one, so a crash between them can lose a "
                    "point until `lumetrix reconcile` runs"
                )
                self.atomic = False
                return await self._unguarded(visits)
            return await self._alone(visits, exc)
        except PyMongoError as exc:
            return await self._alone(visits, exc)

    async def _by_student(self, visits: Sequence[VisitWrite]) -> list[Written | Exception]:
        """Each student's visits in a transaction of their own, in order (a contended
        batch); one student's failure fails only their visits. A first pass gives up on
        a student still contended, so the others are not kept waiting behind them; the
        second writes those with the whole retry budget."""
        groups: dict[str, list[int]] = {}
        for index, visit in enumerate(visits):
            groups.setdefault(visit.student, []).append(index)
        out: list[Written | Exception] = [RuntimeError("not written")] * len(visits)
        waiting = list(groups.values())
        for first_pass in (True, False):
            later = []
            for indexes in waiting:
                mine = [visits[i] for i in indexes]
                try:
                    done = await self._transaction(mine, split=first_pass)
                except _Contended:
                    later.append(indexes)
                    continue
                except ConnectionFailure:
                    raise
                except PyMongoError as exc:
                    done = await self._alone(mine, exc)
                for index, result in zip(indexes, done, strict=True):
                    out[index] = result
            waiting = later
        return out

    async def _transaction(
        self, visits: Sequence[VisitWrite], *, split: bool = False
    ) -> list[Written | Exception]:
        """Write ``visits`` in one transaction. A write conflict (two workers on the same
        student or read, or a dead worker's transaction not yet swept) is retried for up
        to ``CONFLICT_RETRY`` seconds, after a jittered pause (two workers retrying in step
        would meet again); with ``split``, after ``SPLIT_AFTER`` conflicts it raises
        ``_Contended`` instead. A database that is away fails at once, so the request gets
        its 503 within the server-selection timeout."""
        deadline = time.monotonic() + CONFLICT_RETRY
        pause = 0.01
        conflicts = 0
        book = self.sessions.intents
        async with self.sessions.slot() as (slot, session):
            ticket = book.ticket(slot)
            try:
                while True:
                    committing = False
                    await session.start_transaction(write_concern=JOURNALED)
                    try:
                        unset = await book.note(ticket, _pending(visits), session=session)
                        written = await write_visits(
                            self.db, visits, session=session, ticket=ticket
                        )
                        committing = True
                        await _commit(session)
                        break
                    except PyMongoError as exc:
                        if session.in_transaction:
                            with suppress(PyMongoError):
                                await session.abort_transaction()
                        retry = exc.has_error_label("TransientTransactionError") and not isinstance(
                            exc, ConnectionFailure
                        )
                        if not retry or time.monotonic() + pause > deadline:
                            raise
                        BATCH_RETRIES.inc()
                        conflicts += 1
                        if split and conflicts >= SPLIT_AFTER:
                            raise _Contended from exc
                        await asyncio.sleep(pause * random.uniform(0.5, 1.5))
                        pause = min(pause * 2, 0.5)
            except BaseException:
                # Not committed: nothing to repair. A commit of unknown outcome keeps its
                # note, so that should it have committed, a sweeper repairs it.
                if not committing:
                    book.finish(ticket)
                raise
            book.committed(ticket, unset)
        ticket.expect(len(written))
        return written

    async def _unguarded(self, visits: Sequence[VisitWrite]) -> list[Written | Exception]:
        """Write without a transaction (a standalone server): the note goes first, so a
        crash anywhere after it is repaired (at worst a repair with nothing to repair)."""
        book = self.sessions.intents
        async with self.sessions.slot() as (slot, _):
            ticket = book.ticket(slot)
            try:
                book.committed(ticket, await book.note(ticket, _pending(visits), session=None))
            except BaseException:
                book.finish(ticket)
                raise
        out = await write_visits(self.db, visits, ticket=ticket)
        ticket.expect(sum(isinstance(w, Written) for w in out))
        return out

    async def _alone(
        self, visits: Sequence[VisitWrite], error: Exception
    ) -> list[Written | Exception]:
        """Each visit in a transaction of its own: one bad visit fails only itself."""
        if len(visits) == 1:
            return [error]
        out: list[Written | Exception] = []
        for visit in visits:
            try:
                out += await self._transaction([visit])
            except ConnectionFailure:
                raise
            except PyMongoError as exc:
                out.append(exc)
        return out


def _pending(visits: Sequence[VisitWrite]) -> list[PendingVisit]:
    """What a batch's note says of its visits."""
    return [PendingVisit(v.student, v.sample["language"], v.now) for v in visits]


def _rounds(visits: Sequence[VisitWrite]) -> list[list[int]]:
    """The indexes of ``visits`` in bulks where no (student, sample) pair repeats: a pair
    seen twice in one batch goes in a second bulk, so "first" is decided in order."""
    rounds: list[list[int]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for index, visit in enumerate(visits):
        key = (visit.student, visit.sample["sample_id"])
        if seen[key] == len(rounds):
            rounds.append([])
        rounds[seen[key]].append(index)
        seen[key] += 1
    return rounds


async def _upsert_progress(
    db: Database, visits: Sequence[VisitWrite], *, session: AsyncClientSession | None
) -> dict[int, bool | Exception]:
    """The progress upserts, a bulk per round; per visit whether it was the first read, or
    the error that failed it."""
    firsts: dict[int, bool | Exception] = {}
    for indexes in _rounds(visits):
        outcome = await upsert_reads(db, [visits[i] for i in indexes], session=session)
        firsts.update(zip(indexes, outcome, strict=True))
    return firsts


def _stats_updates(
    visits: Sequence[VisitWrite], firsts: dict[int, bool | Exception], ok: list[int]
) -> list[tuple[str, dict[str, Any]]]:
    """The stats update of each visit in ``ok`` (whose progress was written), by student."""
    return [
        (
            visits[i].student,
            students.visit_update(
                visits[i].sample,
                knowledge_area=visits[i].knowledge_area,
                first_read=firsts[i] is True,
                time_spent=visits[i].time_spent,
                now=visits[i].now,
            ),
        )
        for i in ok
    ]


async def write_visits(
    db: Database,
    visits: Sequence[VisitWrite],
    *,
    session: AsyncClientSession | None = None,
    ticket: Ticket | None = None,
) -> list[Written | Exception]:
    """Write a batch of visits: progress upserts, then stats updates, then one read of the
    students' totals, then (after reading back the visit counts of revisited samples, if
    any) one insert of the batch's events into the outbox; per visit what it did, or the
    error that failed it alone. In a transaction (``session``), any error is raised
    instead, aborting it."""
    firsts = await _upsert_progress(db, visits, session=session)
    crash_point("progress_written")
    out: list[Written | Exception] = [
        found if isinstance(found, Exception) else RuntimeError("unwritten")
        for found in (firsts[i] for i in range(len(visits)))
    ]
    ok = [i for i in range(len(visits)) if not isinstance(firsts[i], Exception)]
    updates = _stats_updates(visits, firsts, ok)
    applied = dict(zip(ok, await students.apply_visits(db, updates, session=session), strict=True))
    crash_point("stats_written")
    increments = {i: update["$inc"] for i, (_, update) in zip(ok, updates, strict=True)}
    written = [i for i in ok if applied[i] is None]
    for i in ok:
        if (error := applied[i]) is not None:
            out[i] = error
    docs = await students.points_and_prefs(
        db,
        {visits[i].student for i in written},
        languages={visits[i].sample["language"] for i in written},
        session=session,
    )
    first = {i: firsts[i] is True for i in written}
    # Updates apply in batch order: each visit's totals are taken back from the final ones.
    totals = batch_totals(visits, first, written, docs)
    for i in written:
        out[i] = Written(
            first_read=first[i],
            total_points=totals[i]["total_points"],
            opted_out=bool(
                (docs.get(visits[i].student, {}).get("prefs") or {}).get("leaderboard_opt_out")
            ),
            increments=increments[i],
            ticket=ticket,
        )
    # The events go in the same transaction: committed with the visits, or not at all.
    counts = await visit_counts(db, revisited_pairs(visits, first, written), session=session)
    await outbox.add(db, batch_events(visits, first, totals, counts), session=session)
    crash_point("events_written")
    return out
