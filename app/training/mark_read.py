"""Mark-read: record a visit; the first read of a sample awards its points exactly once.

Order of writes, MongoDB first: one upsert on the unique (student, sample) index decides
the first read; then the student's stats document; then the visit's progress events
(``sample_read``, and ``points_awarded`` for a first read) into the outbox, which the
event publisher streams to Redis (``app.events``); then, for a first read, the
write-throughs to the student's progress view, the leaderboards and the student's Redis
read set.

A worker's concurrent mark-reads are group-committed (``app.batching``): the batch writer
(``app.visit_batches``) writes a batch in one transaction, and each request still gets its
own answer (``Written``). The write-throughs go on if the client hangs up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.batching import GroupCommit
from app.errors import NotFound
from app.faults import crash_point
from app.observability import FIRST_READS, POINTS, REVISITS
from app.timefmt import utcnow
from app.training.curriculum import FALLBACK_AREA
from app.training.leaderboard import boards_for
from app.training.ports import BoardStore, CatalogSource, ProgressSource, ReadState, VisitNote
from app.training.queries.reads import VisitWrite, points_of
from app.training.shapes import MarkReadOut
from app.writethroughs import Ticket


@dataclass(frozen=True, slots=True)
class Written:
    """What MongoDB says one visit did."""

    first_read: bool
    total_points: int  # the student's total right after this visit's update
    opted_out: bool  # hidden from leaderboards
    increments: dict[str, int]  # the stats counters it moved (the progress view's too)
    ticket: Ticket | None = None  # its batch's note of write-throughs to come


VisitWriter = GroupCommit[VisitWrite, Written]


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
