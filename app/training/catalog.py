"""Catalog service: pages, search, filters and aggregates of one language.

Reads go through the process's ``CatalogSource`` (cached or MongoDB, chosen at start-up);
pages carry the student's read state (``read_state``).
"""

from __future__ import annotations

import math

from app.training.curriculum import DIFFICULTIES, KNOWLEDGE_AREAS, LANGUAGES, TYPES, Language
from app.training.filters import SampleFilter
from app.training.ports import CatalogSource, Page, ReadState
from app.training.read_state import with_read_state
from app.training.shapes import (
    FiltersOut,
    KnowledgeAreasOut,
    Pagination,
    SamplePage,
    SearchPage,
    StatsOut,
)
from app.training.tables import area_table, chapter_table, stats_table


def pagination(found: Page) -> Pagination:
    """The pagination block of a listing."""
    pages = math.ceil(found.total / found.limit) if found.total else 0
    return {
        "page": found.page,
        "limit": found.limit,
        "total": found.total,
        "total_pages": pages,
        "has_next": found.page < pages,
        "has_prev": found.page > 1,
    }


async def samples_page(
    *,
    catalog: CatalogSource,
    reads: ReadState,
    student: str,
    language: Language,
    flt: SampleFilter,
    page: int,
    limit: int,
) -> SamplePage:
    """One page of a language's samples passing ``flt``, with the student's read state."""
    found = await catalog.page(language, flt, page=page, limit=limit)
    data = await with_read_state(reads=reads, student=student, language=language, page=found)
    return {
        "status": "success",
        "language": language,
        "data": data,
        "pagination": pagination(found),
    }


async def search_page(
    *,
    catalog: CatalogSource,
    reads: ReadState,
    student: str,
    language: Language,
    text: str,
    page: int,
    limit: int,
) -> SearchPage:
    """One page of the samples holding ``text``, with the student's read state."""
    found = await catalog.search(language, text, page=page, limit=limit)
    data = await with_read_state(reads=reads, student=student, language=language, page=found)
    return {
        "status": "success",
        "language": language,
        "query": text,
        "data": data,
        "pagination": pagination(found),
    }


async def filters(*, catalog: CatalogSource, language: Language | None) -> FiltersOut:
    """Languages, chapters and knowledge areas (of one language, or all), types and
    difficulties: every value a filter accepts."""
    chapters: dict[str, list[int]] = {}
    areas: dict[str, list[str]] = {}
    for lang in [language] if language is not None else LANGUAGES:
        found = await catalog.derived(lang, "chapters", chapter_table)
        chapters[lang] = [c["chapter"] for c in found]
        listed = await catalog.derived(lang, "areas", area_table)
        # An empty catalog still names the curriculum's areas.
        areas[lang] = [a["knowledge_area"] for a in listed] or list(
            dict.fromkeys(KNOWLEDGE_AREAS[lang].values())
        )
    return {
        "status": "success",
        "languages": list(LANGUAGES),
        "chapters": chapters,
        "knowledge_areas": areas,
        "types": list(TYPES),
        "difficulties": list(DIFFICULTIES),
    }


async def stats(*, catalog: CatalogSource, language: Language) -> StatsOut:
    """Sample counts of a language by chapter, type, difficulty and knowledge area."""
    totals = await catalog.derived(language, "stats", stats_table)
    as_of = (await catalog.facets(language))["as_of"]
    return {"status": "success", "language": language, "as_of": as_of, **totals}


async def knowledge_areas(*, catalog: CatalogSource, language: Language) -> KnowledgeAreasOut:
    """A language's knowledge areas with counts by difficulty, in curriculum order."""
    areas = await catalog.derived(language, "areas", area_table)
    as_of = (await catalog.facets(language))["as_of"]
    return {
        "status": "success",
        "language": language,
        "as_of": as_of,
        "total_areas": len(areas),
        "knowledge_areas": areas,
    }
