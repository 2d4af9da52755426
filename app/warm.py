"""Warming the caches: catalog data for every language, and the read sets and progress
views of the students active lately (a new or flushed Redis, or a new Cluster master,
then serves them from the first request instead of loading them all at once)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from tqdm import tqdm

from app.db import Database
from app.training.curriculum import LANGUAGES
from app.training.ports import CatalogSource, ProgressSource, ReadState
from app.training.queries import reads as read_queries
from cache.metrics import CACHE_LOADS

CONCURRENCY = 8  # loads at once: the worker's MongoDB slots, no more


@dataclass(frozen=True, slots=True)
class Warmed:
    """What a warm-up did."""

    languages: int
    students: int
    sets: int  # read sets warmed (already loaded or loaded now)
    views: int  # progress views warmed
    loaded: int  # of both, how many had to be read from MongoDB
    seconds: float


async def warm(
    *,
    db: Database,
    catalog: CatalogSource,
    reads: ReadState,
    progress: ProgressSource,
    students: int = 0,
    active_since: datetime | None = None,
    show_progress: bool = False,
) -> Warmed:
    """Load the catalog of every language, then the read set and progress view of each
    of the ``students`` most recently active (student, language) pairs (0: no limit),
    only those active since ``active_since`` if given."""
    started = time.monotonic()
    languages = await catalog.warm(LANGUAGES)
    if students <= 0 and active_since is None:
        return Warmed(languages, 0, 0, 0, 0, time.monotonic() - started)
    pairs = await read_queries.recent_students(db, students, since=active_since)
    loads = [CACHE_LOADS.labels(kind) for kind in ("read_set", "progress_view")]
    before = sum(counter._value.get() for counter in loads)
    slots = asyncio.Semaphore(CONCURRENCY)
    bar = tqdm(total=len(pairs), unit="student", desc="caches", disable=not show_progress)

    async def one(student: str, language: str) -> None:
        async with slots:
            await reads.all_reads(student, language)
            await progress.get(student, language)
        bar.update()

    try:
        await asyncio.gather(*(one(student, language) for student, language in pairs))
    finally:
        bar.close()
    loaded = int(sum(counter._value.get() for counter in loads) - before)
    return Warmed(
        languages,
        len({student for student, _ in pairs}),
        len(pairs),
        len(pairs),
        loaded,
        time.monotonic() - started,
    )
