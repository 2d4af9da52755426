"""Where catalog data comes from: one interface, and its MongoDB implementation.

``CatalogSource`` is what the catalog services read through. ``MongoCatalog`` answers every
call from MongoDB (what ``LUMETRIX_CACHE=off`` serves); ``cache.catalog_source``
implements the same interface from memory and Redis on top of a ``MongoCatalog``. Which
one a process uses is chosen once, when its resources are opened (``cache.layer``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, TypeVar

from app.db import Database
from app.training.filters import SampleFilter, search_query
from app.training.queries import meta
from app.training.queries import samples as sample_queries
from app.training.timefmt import iso, utcnow

T = TypeVar("T")
SampleDoc = dict[str, Any]
"""A sample as stored (no ``_id``). Cached ones are shared: never mutate them."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing."""

    items: Sequence[SampleDoc]
    total: int
    page: int
    limit: int


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


class MongoCatalog:
    """Every answer read from MongoDB on the call (the uncached source)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def version(self) -> int:
        """The catalog version stored in MongoDB."""
        return await meta.catalog_version(self.db)

    async def samples(self, language: str, flt: SampleFilter) -> list[SampleDoc]:
        """Every matching sample, sorted by MongoDB."""
        return await sample_queries.find_all(self.db, flt.query(language))

    async def _page(self, query: dict[str, Any], page: int, limit: int) -> Page:
        skip = (page - 1) * limit
        total = await sample_queries.count(self.db, query)
        items: Sequence[SampleDoc] = []
        if skip < total:
            items = await sample_queries.find_page(self.db, query, skip=skip, limit=limit)
        return Page(items, total, page, limit)

    async def page(self, language: str, flt: SampleFilter, *, page: int, limit: int) -> Page:
        """A count and a skip/limit query."""
        return await self._page(flt.query(language), page, limit)

    async def search(self, language: str, text: str, *, page: int, limit: int) -> Page:
        """An escaped, case-insensitive regex (SecantusDB has no text index)."""
        return await self._page(search_query(language, text), page, limit)

    async def sample(self, sample_id: str) -> SampleDoc | None:
        """A unique-index lookup."""
        return await sample_queries.get(self.db, sample_id)

    async def random(self, language: str, flt: SampleFilter, size: int) -> list[SampleDoc]:
        """MongoDB's ``$sample``."""
        return await sample_queries.random(self.db, flt.query(language), size)

    async def facets(self, language: str) -> Facets:
        """One aggregation."""
        return {"as_of": _now(), "rows": await sample_queries.facet_counts(self.db, language)}

    async def derived(
        self, language: str, name: str, build: Callable[[list[dict[str, Any]]], T]
    ) -> T:
        """Built from fresh facets on every call."""
        return build((await self.facets(language))["rows"])

    async def language_totals(self) -> dict[str, int]:
        """One aggregation."""
        return await sample_queries.language_counts(self.db)

    async def warm(self, languages: Iterable[str]) -> int:
        """Nothing is kept, so nothing is loaded."""
        return 0


def _now() -> str:
    return iso(utcnow())
