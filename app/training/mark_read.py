"""Mark-read: record a visit; the first read of a sample awards its points exactly once.

Order of writes, MongoDB first: one upsert on the unique (student, sample) index decides
the first read; then the student's stats document; then the visit's progress events
(``sample_read``, and ``points_awarded`` for a first read) into the outbox, which the
event publisher streams to Redis (``app.events``); then, for a first read, the
write-throughs to the student's progress view, the leaderboards and the student's Redis
read set.

A worker's concurrent mark-reads are group-committed (``app.batching``): ``VisitCommitter``
writes a batch as one unordered bulk per collection inside one multi-document
transaction, so a crash at any step leaves either all of a batch's progress, stats and
event writes or none of them. Each request still gets its own answer. When the batch fails on
one visit's data, each visit is written again alone, so the failure fails only its own
request. Each batch notes its visits' students in the same transaction
(``app.writethroughs``) until their write-throughs are through: a crash after the commit
but before the Redis write-throughs is repaired by a surviving (or the next) worker,
which invalidates exactly those students' caches (``app.writer_sessions``). The
write-throughs go on if the client hangs up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pymongo import WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from app.batching import GroupCommit
from app.db import Database
from app.errors import NotFound
from app.events import outbox
from app.events.visits import batch_events, batch_totals, points_of, revisited_pairs
from app.faults import crash_point
from app.observability import FIRST_READS, POINTS, REVISITS
from app.training.catalog_source import CatalogSource
from app.training.curriculum import FALLBACK_AREA
from app.training.leaderboard import boards_for
from app.training.queries import meta, students
from app.training.queries.intents import PendingVisit
from app.training.queries.reads import VisitWrite, upsert_reads, visit_counts
from app.training.shapes import MarkReadOut
from app.training.timefmt import utcnow
from app.writer_sessions import WriterSessions
from app.writethroughs import Ticket
from cache.leaderboard import BoardStore
from cache.reads import ReadState
from cache.student_progress import ProgressSource, VisitNote


@dataclass(frozen=True, slots=True)
class Written:
    """What MongoDB says one visit did."""

    first_read: bool
    total_points: int  # the student's total right after this visit's update
    opted_out: bool  # hidden from leaderboards
    increments: dict[str, int]  # the stats counters it moved (the progress view's too)
    ticket: Ticket | None = None  # its batch's note of write-throughs to come


VisitWriter = GroupCommit[VisitWrite, Written]


log = logging.getLogger("lumetrix")
CONFLICT_RETRY = 5.0  # seconds a conflicting transaction is retried before its 503


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
# Journaled commits; on SecantusDB that alone is not enough (see meta.flush_journal).
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
            return await self._transaction(visits)
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

    async def _transaction(self, visits: Sequence[VisitWrite]) -> list[Written | Exception]:
        """Write ``visits`` in one transaction. A write conflict (two workers on the same
        student or read, or a dead worker's transaction not yet swept) is retried for up
        to ``CONFLICT_RETRY`` seconds; a database that is away fails at once, so the
        request gets its 503 within the server-selection timeout."""
        deadline = time.monotonic() + CONFLICT_RETRY
        pause = 0.01
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
                        await asyncio.sleep(pause)
                        pause = min(pause * 2, 0.5)
            except BaseException:
                # Not committed: nothing to repair. A commit of unknown outcome keeps its
                # note, so that should it have committed, a sweeper repairs it.
                if not committing:
                    book.finish(ticket)
                raise
            book.committed(ticket, unset)
        ticket.expect(len(written))
        # Nothing is acknowledged until the commit is on disk (see flush_journal).
        await meta.flush_journal(self.db, self.sessions.name)
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


def prefs_of(docs: dict[str, dict[str, Any]], student: str) -> dict[str, Any]:
    """A student's preferences in the stats documents ``docs`` ({} when none)."""
    return dict((docs.get(student) or {}).get("prefs") or {})


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
    # A pair seen twice in one batch goes in a second bulk, so "first" is decided in order.
    rounds: list[list[int]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for index, visit in enumerate(visits):
        key = (visit.student, visit.sample["sample_id"])
        if seen[key] == len(rounds):
            rounds.append([])
        rounds[seen[key]].append(index)
        seen[key] += 1
    firsts: dict[int, bool | Exception] = {}
    for indexes in rounds:
        outcome = await upsert_reads(db, [visits[i] for i in indexes], session=session)
        firsts.update(zip(indexes, outcome, strict=True))
    crash_point("progress_written")
    out: list[Written | Exception] = [
        found if isinstance(found, Exception) else RuntimeError("unwritten")
        for found in (firsts[i] for i in range(len(visits)))
    ]
    ok = [i for i in range(len(visits)) if not isinstance(firsts[i], Exception)]
    updates = [
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


async def mark_read(
    *,
    writer: VisitWriter,
    catalog: CatalogSource,
    reads: ReadState,
    progress: ProgressSource,
    boards: BoardStore,
    student: str,
    sample_id: str,
    time_spent: int,
) -> MarkReadOut:
    """Record one visit of ``sample_id`` lasting ``time_spent`` seconds."""
    sample = await catalog.sample(sample_id)
    if sample is None:
        raise NotFound(f"sample '{sample_id}' not found")
    if not sample.get("language") or not isinstance(sample.get("chapter"), int):
        raise NotFound(f"sample '{sample_id}' is not in the migrated catalog yet")
    # The sample may be the worker's shared cached copy: never write the default into it.
    area = sample.get("knowledge_area") or FALLBACK_AREA
    language = sample["language"]
    now = utcnow()
    visit = VisitWrite(student, sample, area, time_spent, now)
    written = await writer.submit(visit)
    crash_point("committed")
    points = points_of(visit) if written.first_read else 0
    note = VisitNote(sample_id, written.first_read, now, time_spent, sample["chapter"], area)

    async def write_through() -> None:
        await progress.record(student, language, written.increments, note)
        if written.first_read:
            if points > 0 and not written.opted_out:
                await boards.award(boards_for(language, now), student, points)
            await reads.record(student, language, sample_id, now)
        crash_point("redis_written")
        if written.ticket is not None:
            written.ticket.done()

    # Shielded: a client that hangs up must not leave the caches short of its write.
    await asyncio.shield(write_through())
    if written.first_read:
        FIRST_READS.inc()
        POINTS.inc(points)
    else:
        REVISITS.inc()
    return {
        "status": "success",
        "sample_id": sample_id,
        "is_first_read": written.first_read,
        "points_awarded": points,
        "total_points": written.total_points,
        "message": "Sample marked as read" if written.first_read else "Sample revisited",
    }
