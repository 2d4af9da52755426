"""Where catalog data comes from: one interface, and its MongoDB implementation.

``CatalogSource`` is what the catalog services read through. ``MongoCatalog`` answers every
call from MongoDB (what ``LUMETRIX_CACHE=off`` serves); ``cache.catalog_source``
implements the same interface from memory and Redis on top of a ``MongoCatalog``. Which
one a process uses is chosen once, when its resources are opened (``cache.layer``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from app.db import Database
from app.timefmt import iso, utcnow
from app.training.filters import SampleFilter, search_query
from app.training.ports import Facets, Page, SampleDoc
from app.training.queries import meta
from app.training.queries import samples as sample_queries

T = TypeVar("T")


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
