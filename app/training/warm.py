"""Warming the caches: catalog data for every language, read sets of active students."""

from __future__ import annotations

from app.db import Database
from app.training import catalog as catalog_service
from app.training import progress as progress_service
from app.training import queries
from app.training.curriculum import LANGUAGES
from cache.catalog import CatalogCache
from cache.progress import ProgressSets
from cache.warmup import warm_catalog, warm_students


async def _warm_language(db: Database, catalog: CatalogCache, language: str) -> None:
    version = await catalog_service.current_version(db=db, catalog=catalog)
    await catalog_service.language_catalog(
        db=db, catalog=catalog, version=version, language=language
    )
    await catalog_service.facets(db=db, catalog=catalog, language=language)


async def warm(
    *,
    db: Database,
    catalog: CatalogCache,
    progress: ProgressSets | None,
    students: int = 0,
    show_progress: bool = False,
) -> tuple[int, int]:
    """Fill the catalog cache for all languages and the read sets of the ``students`` most
    recently active (student, language) pairs; return (languages, sets) warmed."""
    languages = await warm_catalog(LANGUAGES, lambda lang: _warm_language(db, catalog, lang))
    await catalog_service.language_totals(db=db, catalog=catalog)
    if progress is None or students <= 0:
        return languages, 0
    pairs = await queries.recent_students(db, students)

    async def load(student: str, language: str) -> None:
        await progress_service.all_reads(
            db=db, progress=progress, student=student, language=language
        )

    return languages, await warm_students(pairs, load, show_progress=show_progress)
