"""The cached catalog source: the ``CatalogSource`` interface answered from memory.

A language's samples live in the worker's in-process tier (keyed by catalog version) with
an id index and lowercased search text; listings, filters, search and random picks are
computed there with the predicates of ``app.training.filters`` — the same rules the
MongoDB source turns into queries. Facet counts are shared through Redis; tables derived
from them stay in process. Everything is loaded through the wrapped MongoDB source, and
a Redis failure only means a load from MongoDB (``CatalogCache``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.training.curriculum import language_of
from app.training.filters import SampleFilter, haystack, search_needle
from app.training.ports import CatalogSource, Facets, Page, SampleDoc, sample_fragment
from cache.catalog import CatalogCache

T = TypeVar("T")
_ALL = SampleFilter()


@dataclass(slots=True)
class LanguageCatalog:
    """A language's samples in curriculum order, indexed for lookups and search."""

    samples: list[SampleDoc]
    by_id: dict[str, SampleDoc] = field(init=False)
    haystacks: list[str] = field(init=False)
    fragments: dict[str, bytes] = field(init=False)  # id -> JSON without the closing brace

    def __post_init__(self) -> None:
        self.by_id = {s["sample_id"]: s for s in self.samples}
        self.haystacks = [haystack(s) for s in self.samples]
        self.fragments = {s["sample_id"]: sample_fragment(s) for s in self.samples}

    def page(self, rows: Sequence[SampleDoc], page: int, limit: int) -> Page:
        """A slice of ``rows`` (samples of this language), with their fragments."""
        skip = (page - 1) * limit
        items = rows[skip : skip + limit]
        frags = [self.fragments[s["sample_id"]] for s in items]
        return Page(items, len(rows), page, limit, frags)


class CachedCatalog:
    """``CatalogSource`` from the worker's memory and Redis, loaded through ``source``."""

    def __init__(self, source: CatalogSource, cache: CatalogCache) -> None:
        self.source = source
        self.cache = cache

    async def version(self) -> int:
        """The version, re-read from the source at most every ``version_ttl`` seconds."""
        return await self.cache.version(self.source.version)

    async def _language(self, version: int, language: str) -> LanguageCatalog:
        async def load() -> LanguageCatalog:
            return LanguageCatalog(list(await self.source.samples(language, _ALL)))

        return await self.cache.get(version, f"samples:{language}", load, shared=False)

    async def _rows(
        self, language: str, flt: SampleFilter
    ) -> tuple[LanguageCatalog, Sequence[SampleDoc]]:
        version = await self.version()
        base = await self._language(version, language)
        if flt.is_empty:
            return base, base.samples

        async def load() -> list[SampleDoc]:
            return [s for s in base.samples if flt.matches(s)]

        view = await self.cache.get(version, f"view:{language}:{flt.key}", load, shared=False)
        return base, view

    async def samples(self, language: str, flt: SampleFilter) -> Sequence[SampleDoc]:
        """The matching samples, one list per filter combination kept in process."""
        return (await self._rows(language, flt))[1]

    async def page(self, language: str, flt: SampleFilter, *, page: int, limit: int) -> Page:
        """A slice of the cached listing, with the samples' pre-serialised fragments."""
        base, rows = await self._rows(language, flt)
        return base.page(rows, page, limit)

    async def search(self, language: str, text: str, *, page: int, limit: int) -> Page:
        """A scan of the lowercased question and answer texts."""
        base = await self._language(await self.version(), language)
        needle = search_needle(text)
        hits = [s for s, hay in zip(base.samples, base.haystacks, strict=True) if needle in hay]
        return base.page(hits, page, limit)

    async def sample(self, sample_id: str) -> SampleDoc | None:
        """From the id index of the sample's language (its id prefix), else the source."""
        language = language_of(sample_id)
        if language is not None:
            hit = (await self._language(await self.version(), language)).by_id.get(sample_id)
            if hit is not None:
                return hit
        return await self.source.sample(sample_id)

    async def random(self, language: str, flt: SampleFilter, size: int) -> list[SampleDoc]:
        """``random.sample`` of the cached listing."""
        rows = await self.samples(language, flt)
        return random.sample(rows, min(size, len(rows)))

    async def facets(self, language: str) -> Facets:
        """Shared by every worker through Redis."""
        version = await self.version()
        return await self.cache.get(
            version, f"facets:{language}", lambda: self.source.facets(language)
        )

    async def derived(
        self, language: str, name: str, build: Callable[[list[dict[str, Any]]], T]
    ) -> T:
        """Built once per catalog version and kept in process."""
        version = await self.version()

        async def load() -> T:
            return build((await self.facets(language))["rows"])

        return await self.cache.get(version, f"{name}:{language}", load, shared=False)

    async def language_totals(self) -> dict[str, int]:
        """Shared by every worker through Redis."""
        version = await self.version()
        return await self.cache.get(version, "languages", self.source.language_totals)

    async def warm(self, languages: Iterable[str]) -> int:
        """Load each language's samples and facets, and the language totals."""
        count = 0
        for language in languages:
            await self._language(await self.version(), language)
            await self.facets(language)
            count += 1
        await self.language_totals()
        return count
