"""A page spliced from pre-serialised samples is byte for byte the page serialised whole,
whichever way its read state was found: the read set's integer reply, a load from MongoDB,
MongoDB alone while Redis is down, or no cache at all."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import orjson

from app.timefmt import to_ms
from app.training.filters import SampleFilter
from app.training.ports import ReadState, sample_fragment
from app.training.queries import reads as read_queries
from app.training.read_state import enrich, spliced, with_read_state
from cache.reads import MongoReads
from tests.conftest import Api
from tests.factories import make_sample
from tests.test_cache import redis_outage


def _samples() -> list[dict[str, object]]:
    return [
        make_sample(sample_id="c-001-0001"),
        make_sample(sample_id="c-001-0002", question='quote " backslash \\ ünïcode 😀 </script>'),
        make_sample(sample_id="c-001-0003", tags=["a", "b"], read_points=7, chapter=12),
        make_sample(sample_id="c-001-0004", answer="\n\t\u2028"),
    ]


def _stamps(samples: list[dict[str, object]], reads: dict[str, datetime]) -> list[int | None]:
    return [None if (at := reads.get(str(s["sample_id"]))) is None else to_ms(at) for s in samples]


def test_spliced_pages_serialise_exactly_as_enriched_ones() -> None:
    samples = _samples()
    at = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    for reads in (
        {},
        {"c-001-0002": at},
        {s["sample_id"]: at + timedelta(seconds=i) for i, s in enumerate(samples)},  # type: ignore[misc]
    ):
        fragments = [sample_fragment(s) for s in samples]
        page = {"status": "success", "data": spliced(fragments, _stamps(samples, reads)), "n": 1}
        whole = {"status": "success", "data": enrich(samples, reads), "n": 1}
        assert orjson.dumps(page) == orjson.dumps(whole)


def test_an_empty_page_splices_to_an_empty_list() -> None:
    assert orjson.dumps({"data": spliced([], [])}) == orjson.dumps({"data": []})


def test_a_spliced_page_reads_back_with_the_read_state() -> None:
    samples = _samples()
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    fragments = [sample_fragment(s) for s in samples]
    data = orjson.loads(orjson.dumps(spliced(fragments, [None, None, to_ms(at), None])))
    assert [(d["isRead"], d["readAt"]) for d in data] == [
        (False, None),
        (False, None),
        (True, "2026-03-04T05:06:07.000Z"),
        (False, None),
    ]


async def test_every_lookup_splices_the_same_bytes(api: Api) -> None:
    catalog, reads = api.resources.catalog, api.resources.reads
    page = await catalog.page("c", SampleFilter(), page=1, limit=6)
    assert page.fragments is not None  # the cached catalog keeps them
    ids = [s["sample_id"] for s in page.items]
    for sid in ids[1::2]:
        assert (await api.post(f"/training/samples/{sid}/mark-read", time_spent=2)).is_success
    truth = await read_queries.read_times(api.db, api.student, "c", ids)
    assert sorted(truth) == sorted(ids[1::2])
    whole = orjson.dumps(enrich(page.items, truth))

    async def spliced_page(state: ReadState = reads) -> bytes:
        found = await with_read_state(reads=state, student=api.student, language="c", page=page)
        return orjson.dumps(found)

    assert await spliced_page() == whole  # from the loaded set: the script's integers
    await api.read_sets.forget(api.student, "c")
    assert await spliced_page() == whole  # a miss: loaded from MongoDB, then installed
    assert await api.read_sets.stamps(api.student, "c", ids) == [
        None if sid not in truth else to_ms(truth[sid]) for sid in ids
    ]
    failures = api.backend.failures
    async with redis_outage(api):
        assert await spliced_page() == whole  # Redis down: MongoDB alone
    assert api.backend.failures == failures + 1  # the lookup did fail over
    mongo = MongoReads(functools.partial(read_queries.read_times, api.db))
    assert await spliced_page(mongo) == whole  # LUMETRIX_CACHE=off
    data = orjson.loads(whole)
    assert [d["isRead"] for d in data] == [False, True] * 3
