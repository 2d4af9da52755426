"""Warming the caches: catalog data for every language, read sets of active students."""

from __future__ import annotations

from tqdm import tqdm

from app.db import Database
from app.training.catalog_source import CatalogSource
from app.training.curriculum import LANGUAGES
from app.training.queries import reads as read_queries
from cache.reads import ReadState


async def warm(
    *,
    db: Database,
    catalog: CatalogSource,
    reads: ReadState,
    students: int = 0,
    show_progress: bool = False,
) -> tuple[int, int]:
    """Load the catalog of every language, and the read sets of the ``students`` most
    recently active (student, language) pairs; return (languages, sets) warmed."""
    languages = await catalog.warm(LANGUAGES)
    if students <= 0:
        return languages, 0
    pairs = await read_queries.recent_students(db, students)
    for student, language in tqdm(
        pairs, unit="set", desc="progress sets", disable=not show_progress
    ):
        await reads.all_reads(student, language)
    return languages, len(pairs)
