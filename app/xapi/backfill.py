"""Past reads into the LRS, straight from the source of truth (``sample_progress``).

Each ``sample_progress`` document is one first read: it becomes the ``sample_read``
statement live forwarding gave (or would give) that read's event, with the same id
(``app.xapi.statements.statement_id``: the visit's key, which the document holds: student,
sample, first visit, ``read_at``), so running both, or a backfill twice, stores nothing
twice. The totals after each read are rebuilt by replaying the student's first reads in
the order they were read; the visit's own time is known only while the sample was never
revisited (``time_spent`` then is that visit's), so a revisited read's statement has no
``result.duration``. An LRS holding a statement of that id with other content answers 409
(Ralph does): counted as already there, since the read is stored.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.db import Database
from app.events.schema import SAMPLE_READ
from app.timefmt import iso
from app.training.queries import reads
from app.xapi.forwarder import SampleInfos
from app.xapi.lrs import Answer, LrsAway, LrsClient, Outcome
from app.xapi.statements import StatementMaker

ATTEMPTS = 6  # POSTs of one batch while the LRS is away (pauses 1, 2, 4, 8, 16 s) before giving up


@dataclass
class BackfillReport:
    """What a backfill did: reads replayed, statements sent, and what the LRS said."""

    students: int = 0
    reads: int = 0  # first reads looked at (before --since included)
    sent: int = 0  # statements POSTed
    stored: int = 0  # stored, or already there with the same content (200/204)
    conflicts: int = 0  # already there with other content (409)
    refused: int = 0  # refused as invalid (400)

    def line(self) -> str:
        """The summary line."""
        return (
            f"{self.sent} statements of {self.students} students sent: {self.stored} stored "
            f"or already there, {self.conflicts} already there differently (409), "
            f"{self.refused} refused"
        )


@dataclass
class _Totals:
    """A student's running totals while their reads are replayed."""

    points: int = 0
    read: Counter[str] = field(default_factory=Counter)
    lang_points: Counter[str] = field(default_factory=Counter)

    def add(self, language: str, points: int) -> dict[str, int]:
        """Count one first read; the totals right after it."""
        self.points += points
        self.read[language] += 1
        self.lang_points[language] += points
        return {
            "total_points": self.points,
            "language_read": self.read[language],
            "language_points": self.lang_points[language],
        }


def read_event(doc: dict[str, Any], totals: dict[str, int]) -> dict[str, Any]:
    """The ``sample_read`` event of the first read ``doc`` records, as live forwarding
    saw it (no event id: the statement id does not depend on it)."""
    return {
        "type": SAMPLE_READ,
        "student": str(doc["sidhi_id"]),
        "sample_id": str(doc["sample_id"]),
        "language": str(doc["language"]),
        "first_read": True,
        "points": int(doc.get("points_awarded", 0)),
        "totals": totals,
        "revisited_count": 1,
        "time_spent": int(doc.get("time_spent", 0)),
        "at": iso(doc["read_at"]),
    }


class Backfill:
    """Writes past first reads to the LRS in batches of ``batch``."""

    def __init__(
        self,
        db: Database,
        lrs: LrsClient,
        maker: StatementMaker,
        *,
        batch: int = 100,
        advance: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.db, self.lrs, self.maker, self.batch = db, lrs, maker, batch
        self.infos = SampleInfos(db)
        self.advance = advance  # told of every read looked at (a progress bar)
        self.report = BackfillReport()

    async def run(self, *, since: datetime | None = None, student: str | None = None) -> None:
        """Backfill the reads at or after ``since`` of ``student`` (None: everyone)."""
        students = [student] if student is not None else await reads.students(self.db)
        for sid in students:
            await self.student(sid, since)
            self.report.students += 1

    async def student(self, student: str, since: datetime | None) -> None:
        """One student's reads, replayed in order for their totals."""
        totals = _Totals()
        pending: list[tuple[dict[str, Any], bool]] = []  # (event, duration known)
        async for doc in reads.first_reads(self.db, student=student):
            after = totals.add(str(doc["language"]), int(doc.get("points_awarded", 0)))
            self.report.reads += 1
            self.advance(1)
            read_at = doc.get("read_at")
            if not isinstance(read_at, datetime) or (since is not None and read_at < since):
                continue
            pending.append((read_event(doc, after), int(doc.get("revisited_count", 1)) <= 1))
            if len(pending) >= self.batch:
                await self._flush(pending)
                pending = []
        await self._flush(pending)

    async def _flush(self, pending: Sequence[tuple[dict[str, Any], bool]]) -> None:
        """Send one batch, waiting out a short absence of the LRS."""
        if not pending:
            return
        infos = await self.infos.of([str(event["sample_id"]) for event, _ in pending])
        statements = [
            self.maker.statement(event, infos[str(event["sample_id"])], duration=known)
            for event, known in pending
        ]
        for attempt in range(ATTEMPTS):
            try:
                await self.lrs.store(statements, lambda s: s, self._done)
                break
            except LrsAway:
                if attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(2**attempt)
        self.report.sent += len(statements)

    async def _done(self, statements: Sequence[dict[str, Any]], answer: Answer) -> None:
        if answer.outcome is Outcome.STORED:
            self.report.stored += len(statements)
        elif answer.status == 409:
            self.report.conflicts += len(statements)
        else:
            self.report.refused += len(statements)
