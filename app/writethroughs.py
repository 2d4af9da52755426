"""A worker's mark-read batches between their MongoDB commit and the end of their Redis
write-throughs, recorded durably so that, should the worker die in that window, a
survivor repairs exactly those students' caches (``app.writer_sessions``).

A batch takes a ``Ticket`` before its transaction and notes its visits in the same
transaction (``queries.intents``). Each request of the batch calls ``Ticket.done`` once
its write-throughs are through; when all have, the batch's entry is unset with the slot's
next update, or, when no batch takes the slot within ``CLEAR_AFTER``, by an update of its
own (so a busy worker pays no extra command, and an idle one's notes name only batches
still under way). A write-through that raised never says done, so its
entry stays for a sweeper; one that Redis failed is the cache backend's to repair.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import Database
from app.training.queries import intents
from app.training.queries.intents import PendingVisit


class Ticket:
    """One batch's pending write-throughs: ``done`` once per written visit."""

    def __init__(self, book: WriteThroughs, slot: int, seq: int) -> None:
        self.book = book
        self.slot = slot
        self.seq = seq
        self.left = 0

    def expect(self, written: int) -> None:
        """The batch committed ``written`` visits: that many write-throughs to wait for."""
        self.left = written
        if written == 0:
            self.book.finish(self)

    def done(self) -> None:
        """One visit's write-throughs are through."""
        self.left -= 1
        if self.left == 0:
            self.book.finish(self)


class WriteThroughs:
    """The ledger of a worker's unfinished write-throughs, per transaction slot."""

    def __init__(
        self,
        db: Database,
        writer: str,
        slots: int,
        on_finish: Callable[[], object] | None = None,
    ) -> None:
        self.db = db
        self.writer = writer
        self.on_finish = on_finish  # told when a batch no longer needs its note
        self._seq = itertools.count(1)
        self._open: set[tuple[int, int]] = set()  # (slot, seq) noted, not yet finished
        self._finished: list[list[int]] = [[] for _ in range(slots)]  # to unset, per slot

    def ticket(self, slot: int) -> Ticket:
        """A new batch on ``slot``."""
        ticket = Ticket(self, slot, next(self._seq))
        self._open.add((slot, ticket.seq))
        return ticket

    async def note(
        self,
        ticket: Ticket,
        visits: Iterable[PendingVisit],
        *,
        session: AsyncClientSession | None,
    ) -> int:
        """Record the batch's visits (in its transaction, with ``session``), unsetting the
        slot's finished batches in the same update; return how many it unset, for
        ``committed`` (a transaction may abort and be retried)."""
        finished = self.to_clear(ticket.slot)
        await intents.note(
            self.db,
            writer=self.writer,
            slot=ticket.slot,
            seq=ticket.seq,
            visits=visits,
            finished=finished,
            session=session,
        )
        return len(finished)

    def committed(self, ticket: Ticket, unset: int) -> None:
        """The update of ``note`` committed: its ``unset`` finished batches are gone.
        (The slot is held meanwhile, so they are still the first of its list.)"""
        del self._finished[ticket.slot][:unset]

    def finish(self, ticket: Ticket) -> None:
        """The batch needs no repair any more (done, or never committed)."""
        if (ticket.slot, ticket.seq) in self._open:
            self._open.discard((ticket.slot, ticket.seq))
            self._finished[ticket.slot].append(ticket.seq)
            if self.on_finish is not None:
                self.on_finish()

    @property
    def unfinished(self) -> int:
        """Batches noted whose write-throughs are not all through."""
        return len(self._open)

    def to_clear(self, slot: int) -> list[int]:
        """Finished batches of ``slot`` still in its document."""
        return list(self._finished[slot])

    async def clear(self, slot: int, session: AsyncClientSession) -> None:
        """Unset ``slot``'s finished batches now (an idle slot: no batch will)."""
        finished = self.to_clear(slot)
        if finished:
            await intents.clear(
                self.db, writer=self.writer, slot=slot, finished=finished, session=session
            )
            del self._finished[slot][: len(finished)]

    async def forget(self) -> None:
        """Drop this worker's documents (every batch finished: a clean stop)."""
        await intents.forget(self.db, self.writer)
