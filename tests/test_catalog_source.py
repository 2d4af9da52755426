"""The catalog's rules, asserted once against both sources: ``MongoCatalog`` (what
``LUMETRIX_CACHE=off`` serves) and ``CachedCatalog`` (memory and Redis in front of it).

Every expectation is computed here from the raw documents, so both sources must agree
with the same independent reading of the rules in ``app.training.filters``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.db import SAMPLES, Database
from app.training.catalog_source import MongoCatalog
from app.training.filters import SampleFilter
from app.training.ports import CatalogSource
from app.training.queries.meta import catalog_version
from app.training.tables import chapter_table
from cache.catalog import CatalogCache
from cache.catalog_source import CachedCatalog
from tests.conftest import REDIS_BACKENDS, backend_of, drop_backend

SOURCES = ["mongo", *(f"cached-{kind}" for kind in REDIS_BACKENDS)]


@pytest.fixture(scope="module")
async def raw(mongo_client: Any, catalog_db: str) -> list[dict[str, Any]]:
    """Every sample of the demo catalog as stored."""
    return await mongo_client[catalog_db][SAMPLES].find({}, {"_id": 0}).to_list(None)


@pytest.fixture(params=SOURCES)
async def source(
    request: pytest.FixtureRequest, mongo_client: Any, catalog_db: str
) -> AsyncIterator[CatalogSource]:
    """Each implementation over the demo catalog."""
    db: Database = mongo_client[catalog_db]
    if request.param == "mongo":
        yield MongoCatalog(db)
        return
    backend = backend_of(request.param.removeprefix("cached-"))
    yield CachedCatalog(MongoCatalog(db), CatalogCache(backend, l1_ttl=300, version_ttl=0))
    await drop_backend(backend)


def _ordered(rows: list[dict[str, Any]]) -> list[str]:
    return [s["sample_id"] for s in sorted(rows, key=lambda s: (s["chapter"], s["sample_id"]))]


FILTERS = [
    SampleFilter(),
    SampleFilter(chapter=6),
    SampleFilter(knowledge_area="pointers", difficulty="hard"),
    SampleFilter(type="debug", difficulty="easy"),
    SampleFilter(chapter=3, knowledge_area="pointers"),  # matches nothing
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f.key)
async def test_pages_tile_the_filtered_listing_in_curriculum_order(
    source: CatalogSource, raw: list[dict[str, Any]], flt: SampleFilter
) -> None:
    expected = _ordered([s for s in raw if s["language"] == "c" and flt.matches(s)])
    seen: list[str] = []
    page = 1
    while True:
        found = await source.page("c", flt, page=page, limit=97)
        assert found.total == len(expected) and (found.page, found.limit) == (page, 97)
        if not found.items:
            break
        seen += [s["sample_id"] for s in found.items]
        page += 1
    assert seen == expected
    assert [s["sample_id"] for s in await source.samples("c", flt)] == expected
    beyond = await source.page("c", flt, page=10_000, limit=20)
    assert beyond.items == [] and beyond.total == len(expected)


@pytest.mark.parametrize("text", ["[i]", "PRINTF", "%d", "a.b", "no such text here"])
async def test_search_is_literal_and_case_insensitive(
    source: CatalogSource, raw: list[dict[str, Any]], text: str
) -> None:
    needle = text.lower()
    expected = _ordered(
        [
            s
            for s in raw
            if s["language"] == "c"
            and (needle in s["question"].lower() or needle in s["answer"].lower())
        ]
    )
    found = await source.search("c", text, page=1, limit=100)
    assert found.total == len(expected)
    assert [s["sample_id"] for s in found.items] == expected[:100]
    if text == "[i]":  # a regex would match every "i"; literal matches are fewer, not none
        assert 0 < len(expected) < sum(1 for s in raw if s["language"] == "c")


async def test_one_sample_by_id(source: CatalogSource, raw: list[dict[str, Any]]) -> None:
    wanted = next(s for s in raw if s["sample_id"].startswith("py_"))
    assert await source.sample(wanted["sample_id"]) == wanted
    assert await source.sample("c_ch1_q_999999") is None
    assert await source.sample("java_ch1_q_000001") is None


async def test_random_picks_are_distinct_and_pass_the_filter(source: CatalogSource) -> None:
    flt = SampleFilter(chapter=2, difficulty="medium")
    picks = await source.random("cpp", flt, 20)
    assert len(picks) == 20 and len({p["sample_id"] for p in picks}) == 20
    assert all(p["language"] == "cpp" and flt.matches(p) for p in picks)
    everything = await source.samples("cpp", flt)
    assert len(await source.random("cpp", flt, 10_000)) == len(everything)


async def test_aggregates_and_version(
    source: CatalogSource, raw: list[dict[str, Any]], mongo_client: Any, catalog_db: str
) -> None:
    python = [s for s in raw if s["language"] == "python"]
    facets = await source.facets("python")
    assert sum(r["count"] for r in facets["rows"]) == len(python)
    assert facets["as_of"].endswith("Z")
    chapters = await source.derived("python", "chapters", chapter_table)
    assert [c["chapter"] for c in chapters] == sorted({s["chapter"] for s in python})
    assert [c["total_questions"] for c in chapters] == [
        sum(1 for s in python if s["chapter"] == c["chapter"]) for c in chapters
    ]
    totals = await source.language_totals()
    assert totals == {lang: sum(1 for s in raw if s["language"] == lang) for lang in totals}
    assert set(totals) == {"c", "cpp", "python"}
    assert await source.version() == await catalog_version(mongo_client[catalog_db])
