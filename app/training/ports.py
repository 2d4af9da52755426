"""The interfaces the domain reads and writes through, with their value types.

The services (``app.training``) are written against these; ``cache/`` implements them
(from memory and Redis, with MongoDB behind), and ``app.training.catalog_source`` and
``app.training.loaders`` give the MongoDB side. Which implementation a process uses is
chosen once, when its resources open (``cache.layer``).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypedDict, TypeVar

import orjson

from app.training.filters import SampleFilter

T = TypeVar("T")

# The catalog.

SampleDoc = dict[str, Any]
"""A sample as stored (no ``_id``). Cached ones are shared: never mutate them."""


def sample_fragment(sample: SampleDoc) -> bytes:
    """``sample``'s JSON object without its closing brace: a ``Page.fragments`` item."""
    return orjson.dumps(sample)[:-1]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing."""

    items: Sequence[SampleDoc]
    total: int
    page: int
    limit: int
    # Each item's JSON object without its closing brace, when the source keeps them
    # (``read_state.with_read_state`` splices the read state in instead of re-serialising).
    fragments: Sequence[bytes] | None = None


class Facets(TypedDict):
    """A language's counts per (chapter, knowledge_area, type, difficulty), and when."""

    as_of: str
    rows: list[dict[str, Any]]


class CatalogSource(Protocol):
    """Read access to the catalog; every listing is in curriculum order."""

    async def version(self) -> int:
        """The catalog version this request works at (the ETag and cache key)."""
        ...

    async def samples(self, language: str, flt: SampleFilter) -> Sequence[SampleDoc]:
        """Every sample of ``language`` passing ``flt``."""
        ...

    async def page(self, language: str, flt: SampleFilter, *, page: int, limit: int) -> Page:
        """One page of ``samples(language, flt)``."""
        ...

    async def search(self, language: str, text: str, *, page: int, limit: int) -> Page:
        """One page of the samples whose question or answer holds ``text`` literally."""
        ...

    async def sample(self, sample_id: str) -> SampleDoc | None:
        """One sample by id, or None."""
        ...

    async def random(self, language: str, flt: SampleFilter, size: int) -> list[SampleDoc]:
        """Up to ``size`` distinct random samples of ``language`` passing ``flt``."""
        ...

    async def facets(self, language: str) -> Facets:
        """The language's facet counts."""
        ...

    async def derived(
        self, language: str, name: str, build: Callable[[list[dict[str, Any]]], T]
    ) -> T:
        """``build(facet rows)``; a caching source keeps the result next to the facets."""
        ...

    async def language_totals(self) -> dict[str, int]:
        """Sample count per language."""
        ...

    async def warm(self, languages: Iterable[str]) -> int:
        """Load what the source keeps in memory for ``languages``; return how many."""
        ...


# Read state: which samples a student has read, and when.
class ReadLoader(Protocol):
    """MongoDB's answer: first-read time per sample read (only ``sample_ids`` if given)."""

    def __call__(
        self, student: str, language: str, sample_ids: Sequence[str] | None = None
    ) -> Awaitable[dict[str, datetime]]:
        """Query ``sample_progress``."""
        ...


class SetCheck(enum.Enum):
    """What ``check`` found for one read set."""

    NOT_KEPT = "not kept"  # no set in Redis (not loaded, or no Redis): nothing can drift
    SAME = "same"
    REPAIRED = "repaired"  # it differed from MongoDB and was dropped
    UNAVAILABLE = "unavailable"  # Redis failed


class ReadState(Protocol):
    """Read state per (student, language)."""

    async def read_times(
        self, student: str, language: str, sample_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """First-read time of each of ``sample_ids`` the student has read."""
        ...

    async def read_stamps(
        self, student: str, language: str, sample_ids: Sequence[str]
    ) -> list[int | None]:
        """First-read time (epoch ms) of each of ``sample_ids`` in their order, None for
        one not read: what a page splices, with no datetime per read."""
        ...

    async def all_reads(self, student: str, language: str) -> set[str]:
        """Every sample id the student has read in ``language``."""
        ...

    async def record(self, student: str, language: str, sample_id: str, at: datetime) -> None:
        """Write-through of a first read that MongoDB already holds."""
        ...

    async def check(self, student: str, language: str) -> SetCheck:
        """Compare the kept set with MongoDB; drop it when it drifted."""
        ...

    async def forget(self, student: str, language: str) -> int:
        """Drop what is kept of the student's reads (after MongoDB deleted them); return
        how many keys went. Raises CacheUnavailable when Redis fails: a deletion must not
        pass silently."""
        ...


# A student's progress: counters, preferences, streak buckets, recent reads.
class StudentProgress(NamedTuple):
    """A student's stats document (``recent`` holding one language's newest first reads,
    with datetimes) and the progress documents of those reads, by sample id; ``stamp``
    names the state of the kept view it came from (None: not from a kept view), under
    which an answer built from it may be kept (``ProgressSource.keep``)."""

    stats: dict[str, Any]
    details: dict[str, dict[str, Any]]
    stamp: str | None = None


class Kept(NamedTuple):
    """What ``ProgressSource.answer`` found: the kept answer's bytes, or on a miss (None)
    the student's progress when the same round trip could read it (else None)."""

    body: bytes | None
    found: StudentProgress | None = None


class ProgressLoader(Protocol):
    """MongoDB's answer: the stats document and the details of every language's recent
    first reads."""

    def __call__(self, student: str) -> Awaitable[StudentProgress]:
        """Query ``student_stats`` and ``sample_progress``."""
        ...


class ProgressSource(Protocol):
    """A student's progress as the services read and keep it."""

    async def get(self, student: str, language: str) -> StudentProgress:
        """Counters, preferences, streak buckets and the recent reads of ``language``."""
        ...

    async def record(
        self, student: str, language: str, increments: Mapping[str, int], visit: VisitNote
    ) -> None:
        """Write-through of a visit MongoDB already holds."""
        ...

    async def invalidate(self, student: str) -> None:
        """Forget what is kept after a change that is not a visit."""
        ...

    async def answer(self, student: str, name: str, *, language: str, at_ms: int) -> Kept:
        """In one round trip: the answer kept as ``name`` (serialised, with the ``as_of``
        marker of ``app.training.answers``) if the student's view has not changed since it
        was kept and it is still valid at ``at_ms``; else what ``get`` would answer, when
        the view is kept (so a miss needs no second read)."""
        ...

    async def keep(
        self, student: str, name: str, body: bytes, *, stamp: str, until_ms: int
    ) -> None:
        """Keep ``body`` as ``name`` until ``until_ms`` (epoch ms), built from the view
        state ``stamp``: only if the view is still in that state (else it is dropped)."""
        ...

    async def forget(self, student: str) -> int:
        """Delete what is kept (raises CacheUnavailable when Redis fails)."""
        ...


class VisitNote(NamedTuple):
    """What the view keeps of a visit beyond the counters."""

    sample_id: str
    first_read: bool
    at: datetime
    time_spent: int
    chapter: Any
    knowledge_area: Any


# Leaderboards.
@dataclass(frozen=True, slots=True)
class BoardData:
    """A board computed from MongoDB: points per visible student, and every student who
    opted out (what the board's marker holds)."""

    points: dict[str, float]
    opted_out: frozenset[str]


@dataclass(frozen=True, slots=True)
class Board:
    """One leaderboard: a language and a period instance, with its lifetime."""

    language: str
    period: str  # week | month | all
    key: str  # e.g. 2026-W48, 2026-11, all
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class Standing:
    """What a board says: the top entries and the caller's points and rank."""

    top: list[tuple[str, float]]
    my_points: float | None
    my_rank: int | None


@dataclass(frozen=True, slots=True)
class Placing:
    """A board's answer to one caller: its standing, whether the caller opted out (then
    ``standing`` gives the rank they would have), and the shown name of every student in
    the top and of the caller."""

    standing: Standing
    hidden: bool
    names: Mapping[str, str]


Snapshot = Callable[[], Awaitable[BoardData]]
"""A board computed from MongoDB."""


@dataclass(frozen=True, slots=True)
class BoardSources:
    """What a board's answer may need from MongoDB, each asked only when the kept boards
    cannot say it: the board itself (with who opted out), students' shown names, and an
    opted-out caller's own points (they are on no board)."""

    snapshot: Snapshot
    names: Callable[[Sequence[str]], Awaitable[Mapping[str, str]]]
    own_points: Callable[[], Awaitable[float]]


class BoardStore(Protocol):
    """Leaderboards as the service sees them: always an answer."""

    async def award(self, boards: Sequence[Board], student: str, points: int) -> None:
        """Count a first read's points on every board it belongs to."""
        ...

    async def placing(
        self, board: Board, student: str, limit: int, sources: BoardSources
    ) -> Placing:
        """Top ``limit``, the student's points and rank (see ``standing_from``), whether
        they opted out, and the shown names."""
        ...

    async def renamed(self, boards: Sequence[Board], student: str) -> None:
        """A student's display name changed: names kept for ``boards`` are read again."""
        ...

    async def remove(self, boards: Sequence[Board], student: str) -> None:
        """Take an opted-out student off boards; no award racing the opt-out puts them
        back."""
        ...

    async def readmit(self, boards: Sequence[Board], student: str) -> None:
        """A student opted back in: awards count again, and the boards are rebuilt with all
        their points."""
        ...

    async def invalidate(self, boards: Sequence[Board]) -> None:
        """Forget what is kept of boards; their next standing comes from MongoDB."""
        ...

    async def forget(self, boards: Sequence[Board], student: str) -> list[str]:
        """Take a deleted student off ``boards`` and every other board kept; the tags of
        the boards that held them. Raises CacheUnavailable: a deletion must not pass
        silently."""
        ...


# Repairs of caches a lost write-through may have left short.
class StaleCaches(Protocol):
    """What the cache layer offers for a repair by name."""

    async def repair(
        self, students: Collection[tuple[str, str]], boards: Collection[Board]
    ) -> bool:
        """Invalidate the read sets of these (student, language) pairs, those students'
        progress views, and these boards; False when Redis could not be reached (the
        backend then applies it once Redis answers again)."""
        ...
