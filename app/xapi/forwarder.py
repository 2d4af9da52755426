"""The xAPI forwarder: the progress-event stream into a Learning Record Store, at least
once, each statement stored there once.

It reads the stream with a consumer group of its own (``GROUP``, created at the stream's
oldest entry) as one fixed consumer (``CONSUMER``): a forwarder that takes over from a
dead one gets the entries it had been given and never acknowledged (pending) first. One
round: up to ``batch`` entries become statements (``app.xapi.statements``; ids made from
each visit, so a redelivery is the same statement, and duplicates within a batch are sent
once), POSTed as one array; the entries are acknowledged only once the LRS has stored
their statements (200, or 204: it had them all already). A batch the LRS refuses (400,
409, 413) is split in halves until the statement at fault is alone: that one is parked
in the dead-letter stream (``<EVENTS_STREAM>:xapi-dead``) with the LRS's status and
reason and acknowledged, so it never blocks the rest. While the LRS is away (no answer,
5xx, 429, 401/403/404) nothing is acknowledged: the stream holds the backlog, and the
forwarder tries again with a doubling pause up to ``XAPI_MAX_BACKOFF``.

One forwarder among every worker and machine works at a time, by a lease in MongoDB as
the publisher's (``app.events.lease``, its own ``_id``); two at once, after a pause
longer than the lease, only send some statements twice, which the LRS stores once.
Metrics: forwarded, refused, retried (statements), lag (age of the group's oldest
unacknowledged entry, s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import orjson
from cachetools import TTLCache
from prometheus_client import Counter, Gauge
from pymongo.errors import PyMongoError

from app.db import Database
from app.events.lease import Lease
from app.events.schema import event_of
from app.faults import crash_point
from app.settings import Settings
from app.shutdown import ShutdownBudget
from app.timefmt import iso, utcnow
from app.training.queries import samples
from app.xapi.lrs import Answer, LrsAway, LrsClient, Outcome
from app.xapi.statements import VERBS, SampleInfo, StatementMaker
from cache.backend import CacheBackend, CacheUnavailable
from cache.events import Entry, EventStream

log = logging.getLogger("lumetrix")
GROUP = "xapi"
CONSUMER = "forwarder"
LEASE_ID = "xapi-forwarder"
DEAD_LETTER_SUFFIX = ":xapi-dead"
DEAD_LETTER_MAXLEN = 100_000
FORWARDED = Counter("lumetrix_xapi_forwarded_total", "Statements the LRS stored (or had).")
REFUSED = Counter("lumetrix_xapi_refused_total", "Statements the LRS refused: dead-lettered.")
RETRIED = Counter("lumetrix_xapi_retried_total", "Statements sent again after the LRS was away.")
LAG = Gauge("lumetrix_xapi_lag_seconds", "Age of the oldest event not yet in the LRS, s.")


@dataclass(frozen=True, slots=True)
class ForwardOptions:
    """Lease length, statements per POST, idle poll interval and longest backoff (s)."""

    lease_seconds: float = 10.0
    batch: int = 100
    poll: float = 0.2
    max_backoff: float = 10.0

    @classmethod
    def of(cls, settings: Settings) -> ForwardOptions:
        """The options ``settings`` name (``EVENTS_LEASE_SECONDS``, ``XAPI_*``)."""
        return cls(
            lease_seconds=settings.events_lease_seconds,
            batch=settings.xapi_batch,
            poll=settings.events_poll_interval,
            max_backoff=settings.xapi_max_backoff,
        )


class SampleInfos:
    """Chapter and area of samples from the catalog, kept a while in process (catalog
    data, the same for every student)."""

    def __init__(self, db: Database, *, ttl: float = 300.0) -> None:
        self.db = db
        self.known: TTLCache[str, SampleInfo | None] = TTLCache(maxsize=20_000, ttl=ttl)

    async def of(self, sample_ids: Sequence[str]) -> dict[str, SampleInfo | None]:
        """Each sample's info; None for a sample the catalog no longer holds."""
        missing = sorted({s for s in sample_ids if s not in self.known})
        if missing:
            found = await samples.placements(self.db, missing)
            for sample_id in missing:
                doc = found.get(sample_id)
                self.known[sample_id] = None if doc is None else _info(doc)
        return {s: self.known.get(s) for s in sample_ids}


def _info(doc: dict[str, Any]) -> SampleInfo:
    chapter, area = doc.get("chapter"), doc.get("knowledge_area")
    return SampleInfo(
        chapter=chapter if isinstance(chapter, int) else None,
        knowledge_area=area if isinstance(area, str) else None,
    )


@dataclass
class Item:
    """One statement to send and the stream entries (and event) it stands for."""

    statement: dict[str, Any]
    event: dict[str, Any]
    entry_ids: list[str] = field(default_factory=list)


@dataclass
class Tally:
    """What one forwarder did: statements stored, refused (parked), retried."""

    forwarded: int = 0
    refused: int = 0
    retried: int = 0


class Forwarder:
    """Forwards ``stream`` to ``lrs`` whenever it holds the lease."""

    def __init__(
        self,
        db: Database,
        stream: EventStream,
        dead: EventStream,
        lrs: LrsClient,
        maker: StatementMaker,
        options: ForwardOptions,
        *,
        owner: str | None = None,
    ) -> None:
        self.stream, self.dead, self.lrs, self.maker = stream, dead, lrs, maker
        self.options = options
        self.infos = SampleInfos(db)
        self.lease = Lease(db, seconds=options.lease_seconds, owner=owner, name=LEASE_ID)
        self.tally = Tally()
        self.lag: float | None = None  # seconds, when last measured; 0: nothing waits
        self._pending = True  # read our unacknowledged entries before new ones
        self._grouped = False

    async def _next_entries(self) -> list[Entry]:
        """Our pending entries while there are any, then new ones."""
        if not self._grouped:
            await self.stream.ensure_group(GROUP, "0")
            self._grouped = True
        want = self.options.batch
        if self._pending:
            found = await self.stream.read_group(
                GROUP, CONSUMER, pending=True, count=want, block_ms=None
            )
            if found:
                return found
            self._pending = False
        return await self.stream.read_group(
            GROUP, CONSUMER, pending=False, count=want, block_ms=None
        )

    async def forward_once(self) -> int:
        """One round: read a batch, send it, acknowledge what was stored or parked; how
        many entries were read. Raises LrsAway (nothing more acknowledged) while the LRS
        is away."""
        entries = await self._next_entries()
        if not entries:
            return 0
        items, skipped = await self._items(entries)
        await self.stream.ack(GROUP, skipped)
        try:
            await self._send(list(items.values()))
        except LrsAway:
            self._pending = True  # what was not stored is ours, pending: read it again
            raise
        return len(entries)

    async def _items(self, entries: list[Entry]) -> tuple[dict[str, Item], list[str]]:
        """The batch's statements by id (one per id: a republished event twice in a batch
        is sent once) and the entries with nothing to send (trimmed, other types, and
        those no statement can be made of, which are dead-lettered)."""
        events: list[tuple[str, dict[str, str], Any]] = []
        skipped: list[str] = []
        for entry_id, fields in entries:
            try:
                event = event_of(fields) if "data" in fields else None
            except ValueError:
                event = {"type": fields.get("type")}  # unreadable: dead-lettered below
            if not isinstance(event, dict) or event.get("type") not in VERBS:
                skipped.append(entry_id)
            else:
                events.append((entry_id, fields, event))
        infos = await self.infos.of([str(e.get("sample_id")) for _, _, e in events])
        items: dict[str, Item] = {}
        for entry_id, fields, event in events:
            try:
                statement = self.maker.statement(event, infos[str(event.get("sample_id"))])
            except (KeyError, TypeError, ValueError) as exc:
                await self._dead_letter(fields, "", 0, f"no statement: {exc!r}", b"")
                self.tally.refused += 1
                REFUSED.inc()
                skipped.append(entry_id)
                continue
            item = items.setdefault(statement["id"], Item(statement, event))
            item.entry_ids.append(entry_id)
        return items, skipped

    async def _send(self, items: list[Item]) -> None:
        """Store ``items`` in the LRS, acknowledging each part once stored or parked."""
        await self.lrs.store(items, lambda item: item.statement, self._done)

    async def _done(self, items: Sequence[Item], answer: Answer) -> None:
        """Stored: count and acknowledge; refused (a lone statement): park, acknowledge."""
        if answer.outcome is Outcome.REFUSED:
            await self._park(items[0], answer)
            self.tally.refused += 1
            REFUSED.inc()
        else:
            self.tally.forwarded += len(items)
            FORWARDED.inc(len(items))
            crash_point("xapi_stored")  # stored, not yet acknowledged: a redelivery window
        await self.stream.ack(GROUP, [i for item in items for i in item.entry_ids])

    async def _park(self, item: Item, answer: Answer) -> None:
        """Keep a refused statement, its event and the LRS's reason in the dead letters."""
        log.warning(
            "xapi forwarder: the LRS refused statement %s (%s): %s; dead-lettered",
            item.statement["id"],
            answer.status,
            answer.reason,
        )
        fields = {"event_id": str(item.event.get("event_id", "")), "data": ""}
        statement = orjson.dumps(item.statement)
        await self._dead_letter(
            fields, item.statement["id"], answer.status, answer.reason, statement
        )

    async def _dead_letter(
        self, event: dict[str, str], statement_id: str, status: int, reason: str, body: bytes
    ) -> None:
        """One entry of the dead-letter stream: the event (its id; its data when no
        statement was made of it), the statement, the LRS's status (0: never sent), why."""
        if not statement_id:
            log.warning("xapi forwarder: event %s dead-lettered: %s", event.get("event_id"), reason)
        await self.dead.append(
            [
                {
                    "event_id": str(event.get("event_id", "")),
                    "data": str(event.get("data", "")),
                    "statement_id": statement_id,
                    "status": str(status),
                    "reason": reason,
                    "statement": body,
                    "at": iso(utcnow()),
                }
            ]
        )

    async def measure_lag(self) -> float:
        """The age of the oldest event the LRS has not stored yet, s (0: none waits)."""
        oldest = await self.stream.oldest_unacked(GROUP)
        lag = 0.0 if oldest is None else max(0.0, time.time() - int(oldest.split("-")[0]) / 1000)
        self.lag = lag
        LAG.set(lag)
        return lag

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Forward until ``stop`` is set (checked between rounds and during pauses);
        then give the lease up."""
        stop = stop or asyncio.Event()
        backoff, failing = self.options.poll, False
        try:
            while not stop.is_set():
                try:
                    pause = await self._round()
                    if failing:
                        log.warning("xapi forwarder: working again")
                    failing, backoff = False, self.options.poll
                except Exception as exc:  # the LRS, Redis or MongoDB away: never give up
                    if isinstance(exc, LrsAway):
                        self.tally.retried += exc.statements
                        RETRIED.inc(exc.statements)
                    if not failing:
                        _log_failure(exc)
                    failing, pause = True, backoff
                    backoff = min(backoff * 2, self.options.max_backoff)
                    with suppress(Exception):  # the lag grows while we wait: say so
                        await self.measure_lag()
                if pause:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
        finally:
            await self.lease.let_go()

    async def _round(self) -> float:
        """Hold the lease and forward one batch; the pause before the next round."""
        if not await self.lease.hold():
            return self.options.lease_seconds / 3
        read = await self.forward_once()
        await self.measure_lag()
        return 0.0 if read >= self.options.batch else self.options.poll


def _log_failure(exc: Exception) -> None:
    expected = isinstance(exc, LrsAway | PyMongoError | CacheUnavailable)
    log.log(
        logging.WARNING if expected else logging.ERROR,
        "xapi forwarder: %s: %s; retrying (the stream keeps the backlog)",
        type(exc).__name__,
        exc,
        exc_info=not expected,
    )


def dead_letters(backend: CacheBackend, settings: Settings) -> EventStream:
    """The dead-letter stream of refused statements."""
    name = settings.events_stream + DEAD_LETTER_SUFFIX
    return EventStream(backend, name, maxlen=DEAD_LETTER_MAXLEN)


def statement_maker(settings: Settings) -> StatementMaker:
    """Statements as ``XAPI_HOMEPAGE``, ``XAPI_ACTOR`` and the pseudonym key make them."""
    return StatementMaker(
        homepage=settings.xapi_homepage,
        actor=settings.xapi_actor,
        pseudonym_key=settings.pseudonym_secret,
    )


def build_forwarder(
    db: Database, stream: EventStream, backend: CacheBackend, settings: Settings
) -> Forwarder:
    """The forwarder ``settings`` describe (``XAPI_LRS_URL`` must be set)."""
    return Forwarder(
        db,
        stream,
        dead_letters(backend, settings),
        LrsClient.of(settings),
        statement_maker(settings),
        ForwardOptions.of(settings),
    )


@asynccontextmanager
async def background_forwarder(
    forwarder: Forwarder | None, shutdown: ShutdownBudget
) -> AsyncIterator[None]:
    """Run ``forwarder`` (None: nothing) in a task for the block; on the way out, signal
    it to stop, wait for it what ``shutdown`` allows, and close its HTTP client."""
    if forwarder is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop), name="xapi-forwarder")
    try:
        yield
    finally:
        stop.set()
        await shutdown.run("xapi forwarder", task)
        await shutdown.run("lrs client", forwarder.lrs.close())
