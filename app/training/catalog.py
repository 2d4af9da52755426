"""Catalog service: samples, pages, search and aggregates, read through the catalog cache.

With the cache on, a language's samples live in the in-process cache (keyed by catalog
version) and aggregates come from one cached facet table per language; with it off
(``LUMETRIX_CACHE=off``) every call reads MongoDB.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.db import Database, catalog_version
from app.errors import InvalidLanguage
from app.training import queries
from app.training.curriculum import DIFFICULTIES, LANGUAGES, TYPES
from app.training.timefmt import iso, utcnow
from cache.catalog import CatalogCache

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SampleFilter:
    """The optional filters of a listing."""

    chapter: int | None = None
    knowledge_area: str | None = None
    type: str | None = None
    difficulty: str | None = None

    def matches(self, sample: dict[str, Any]) -> bool:
        """Whether a sample passes every filter that is set."""
        return (
            (self.chapter is None or sample.get("chapter") == self.chapter)
            and (self.knowledge_area is None or sample.get("knowledge_area") == self.knowledge_area)
            and (self.type is None or sample.get("type") == self.type)
            and (self.difficulty is None or sample.get("difficulty") == self.difficulty)
        )

    def query(self, language: str) -> dict[str, Any]:
        """The MongoDB filter for this listing."""
        return queries.sample_filter(
            language,
            chapter=self.chapter,
            knowledge_area=self.knowledge_area,
            type=self.type,
            difficulty=self.difficulty,
        )


@dataclass(slots=True)
class LanguageCatalog:
    """A language's samples in curriculum order, indexed for lookups and search."""

    samples: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]] = field(init=False)
    haystacks: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {s["sample_id"]: s for s in self.samples}
        self.haystacks = [
            f"{s.get('question', '')}\x00{s.get('answer', '')}".lower() for s in self.samples
        ]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing."""

    items: list[dict[str, Any]]
    total: int
    page: int
    limit: int


def check_language(language: str) -> str:
    """The language if the catalog knows it, else InvalidLanguage (400)."""
    if language not in LANGUAGES:
        raise InvalidLanguage(f"language must be one of: {', '.join(LANGUAGES)}")
    return language


async def current_version(*, db: Database, catalog: CatalogCache | None) -> int:
    """The catalog version this request works at."""
    if catalog is None:
        return await catalog_version(db)
    return await catalog.version(lambda: catalog_version(db))


async def language_catalog(
    *, db: Database, catalog: CatalogCache, version: int, language: str
) -> LanguageCatalog:
    """A language's samples, from the in-process cache or MongoDB."""

    async def load() -> LanguageCatalog:
        return LanguageCatalog(await queries.all_samples(db, {"language": language}))

    return await catalog.get(version, f"samples:{language}", load, shared=False)


async def _view(
    *, db: Database, catalog: CatalogCache, version: int, language: str, flt: SampleFilter
) -> list[dict[str, Any]]:
    """The samples of a language passing ``flt``, cached per filter combination."""
    base = await language_catalog(db=db, catalog=catalog, version=version, language=language)
    if flt == SampleFilter():
        return base.samples

    async def load() -> list[dict[str, Any]]:
        return [s for s in base.samples if flt.matches(s)]

    key = f"view:{language}:{flt.chapter}:{flt.knowledge_area}:{flt.type}:{flt.difficulty}"
    return await catalog.get(version, key, load, shared=False)


async def _mongo_page(db: Database, query: dict[str, Any], *, page: int, limit: int) -> Page:
    """A page read straight from MongoDB (the uncached path)."""
    skip = (page - 1) * limit
    total = await queries.count_samples(db, query)
    items = await queries.find_samples(db, query, skip=skip, limit=limit) if skip < total else []
    return Page(items, total, page, limit)


async def list_samples(
    *,
    db: Database,
    catalog: CatalogCache | None,
    language: str,
    flt: SampleFilter,
    page: int,
    limit: int,
) -> Page:
    """One page of a language's samples passing ``flt``, in (chapter, sample_id) order."""
    check_language(language)
    skip = (page - 1) * limit
    if catalog is None:
        return await _mongo_page(db, flt.query(language), page=page, limit=limit)
    version = await current_version(db=db, catalog=catalog)
    rows = await _view(db=db, catalog=catalog, version=version, language=language, flt=flt)
    return Page(rows[skip : skip + limit], len(rows), page, limit)


async def search_samples(
    *,
    db: Database,
    catalog: CatalogCache | None,
    language: str,
    text: str,
    page: int,
    limit: int,
) -> Page:
    """Samples whose question or answer contains ``text`` (case-insensitive, literal)."""
    check_language(language)
    skip = (page - 1) * limit
    if catalog is None:
        return await _mongo_page(db, queries.search_filter(language, text), page=page, limit=limit)
    version = await current_version(db=db, catalog=catalog)
    base = await language_catalog(db=db, catalog=catalog, version=version, language=language)
    needle = text.lower()
    hits = [s for s, hay in zip(base.samples, base.haystacks, strict=True) if needle in hay]
    return Page(hits[skip : skip + limit], len(hits), page, limit)


async def find_sample(
    *, db: Database, catalog: CatalogCache | None, sample_id: str, language: str | None = None
) -> dict[str, Any] | None:
    """One sample by id (from the cached catalog when its language is known)."""
    if catalog is not None and language is not None:
        version = await current_version(db=db, catalog=catalog)
        base = await language_catalog(db=db, catalog=catalog, version=version, language=language)
        hit = base.by_id.get(sample_id)
        if hit is not None:
            return hit
    return await queries.get_sample(db, sample_id)


async def random_candidates(
    *, db: Database, catalog: CatalogCache | None, language: str, flt: SampleFilter, size: int
) -> list[dict[str, Any]]:
    """Up to ``size`` distinct random samples of a language passing ``flt``."""
    check_language(language)
    if catalog is None:
        return await queries.random_samples(db, flt.query(language), size)
    version = await current_version(db=db, catalog=catalog)
    rows = await _view(db=db, catalog=catalog, version=version, language=language, flt=flt)
    return random.sample(rows, min(size, len(rows)))


async def filtered_rows(
    *, db: Database, catalog: CatalogCache | None, language: str, flt: SampleFilter
) -> Sequence[dict[str, Any]]:
    """Every sample of a language passing ``flt`` (used when candidates run out)."""
    if catalog is None:
        return await queries.all_samples(db, flt.query(language))
    version = await current_version(db=db, catalog=catalog)
    return await _view(db=db, catalog=catalog, version=version, language=language, flt=flt)


# --- aggregates -----------------------------------------------------------------------


async def _facet_doc(
    *, db: Database, catalog: CatalogCache | None, language: str
) -> dict[str, Any]:
    """A language's facet counts with the time they were computed (cached in Redis)."""
    check_language(language)

    async def load() -> dict[str, Any]:
        return {"as_of": iso(utcnow()), "rows": await queries.facet_counts(db, language)}

    if catalog is None:
        return await load()
    version = await current_version(db=db, catalog=catalog)
    return await catalog.get(version, f"facets:{language}", load)


async def facets(
    *, db: Database, catalog: CatalogCache | None, language: str
) -> list[dict[str, Any]]:
    """Counts per (chapter, knowledge_area, type, difficulty) of a language."""
    doc = await _facet_doc(db=db, catalog=catalog, language=language)
    return doc["rows"]  # type: ignore[no-any-return]


async def as_of(*, db: Database, catalog: CatalogCache | None, language: str) -> str:
    """When the counts behind a language's aggregates were computed (ISO-8601 UTC)."""
    doc = await _facet_doc(db=db, catalog=catalog, language=language)
    return str(doc["as_of"])


async def _derived(
    *,
    db: Database,
    catalog: CatalogCache | None,
    language: str,
    name: str,
    build: Callable[[list[dict[str, Any]]], T],
) -> T:
    """A table built from a language's facets, kept in process next to them."""
    check_language(language)
    if catalog is None:
        return build(await facets(db=db, catalog=catalog, language=language))
    version = await current_version(db=db, catalog=catalog)

    async def load() -> T:
        return build(await facets(db=db, catalog=catalog, language=language))

    return await catalog.get(version, f"{name}:{language}", load, shared=False)


async def chapters(
    *, db: Database, catalog: CatalogCache | None, language: str
) -> list[dict[str, Any]]:
    """Per chapter of a language: totals and breakdown (see ``chapter_table``)."""
    return await _derived(
        db=db, catalog=catalog, language=language, name="chapters", build=chapter_table
    )


async def knowledge_areas(
    *, db: Database, catalog: CatalogCache | None, language: str
) -> list[dict[str, Any]]:
    """Per knowledge area of a language, in curriculum order (see ``area_table``)."""
    return await _derived(db=db, catalog=catalog, language=language, name="areas", build=area_table)


async def stats(*, db: Database, catalog: CatalogCache | None, language: str) -> dict[str, Any]:
    """Totals of a language (see ``stats_table``)."""
    return await _derived(
        db=db, catalog=catalog, language=language, name="stats", build=stats_table
    )


def _count_by(rows: list[dict[str, Any]], key: str) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for row in rows:
        out[row[key]] = out.get(row[key], 0) + row["count"]
    return out


def _breakdown(rows: list[dict[str, Any]], key: str, values: Sequence[str]) -> dict[str, int]:
    counts = _count_by(rows, key)
    return {v: counts.get(v, 0) for v in values} | {
        k: n for k, n in counts.items() if k not in values and isinstance(k, str)
    }


def chapter_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per chapter: total, knowledge area and breakdown by type and difficulty."""
    chapters: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if isinstance(row.get("chapter"), int):
            chapters.setdefault(row["chapter"], []).append(row)
    table = []
    for number in sorted(chapters):
        group = chapters[number]
        areas = _count_by(group, "knowledge_area")
        table.append(
            {
                "chapter": number,
                "knowledge_area": max(areas, key=lambda a: areas[a]),
                "total_questions": sum(r["count"] for r in group),
                "breakdown": {
                    "by_type": _breakdown(group, "type", TYPES),
                    "by_difficulty": _breakdown(group, "difficulty", DIFFICULTIES),
                },
            }
        )
    return table


def area_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per knowledge area: total and breakdown by difficulty, first chapter first."""
    areas: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        areas.setdefault(str(row.get("knowledge_area")), []).append(row)

    def first_chapter(area: str) -> tuple[int, str]:
        chapters = [r["chapter"] for r in areas[area] if isinstance(r.get("chapter"), int)]
        return (min(chapters, default=10**6), area)

    return [
        {
            "knowledge_area": area,
            "total_samples": sum(r["count"] for r in areas[area]),
            "chapters": sorted(
                {r["chapter"] for r in areas[area] if isinstance(r.get("chapter"), int)}
            ),
            "by_difficulty": _breakdown(areas[area], "difficulty", DIFFICULTIES),
        }
        for area in sorted(areas, key=first_chapter)
    ]


def stats_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of a language by chapter, type, difficulty and knowledge area."""
    return {
        "total_samples": sum(r["count"] for r in rows),
        "by_chapter": {
            str(k): v for k, v in sorted(_count_by(rows, "chapter").items()) if isinstance(k, int)
        },
        "by_type": _breakdown(rows, "type", TYPES),
        "by_difficulty": _breakdown(rows, "difficulty", DIFFICULTIES),
        "by_knowledge_area": {str(k): v for k, v in _count_by(rows, "knowledge_area").items()},
    }


async def language_totals(*, db: Database, catalog: CatalogCache | None) -> dict[str, int]:
    """Sample count per language."""
    if catalog is None:
        return await queries.language_counts(db)
    version = await current_version(db=db, catalog=catalog)
    return await catalog.get(version, "languages", lambda: queries.language_counts(db))
