"""A page spliced from pre-serialised samples is byte for byte the page serialised whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from app.training.ports import sample_fragment
from app.training.read_state import enrich, spliced
from tests.factories import make_sample


def _samples() -> list[dict[str, object]]:
    return [
        make_sample(sample_id="c-001-0001"),
        make_sample(sample_id="c-001-0002", question='quote " backslash \\ ünïcode 😀 </script>'),
        make_sample(sample_id="c-001-0003", tags=["a", "b"], read_points=7, chapter=12),
        make_sample(sample_id="c-001-0004", answer="\n\t\u2028"),
    ]


def test_spliced_pages_serialise_exactly_as_enriched_ones() -> None:
    samples = _samples()
    at = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    for reads in (
        {},
        {"c-001-0002": at},
        {s["sample_id"]: at + timedelta(seconds=i) for i, s in enumerate(samples)},  # type: ignore[misc]
    ):
        fragments = [sample_fragment(s) for s in samples]
        page = {"status": "success", "data": spliced(samples, fragments, reads), "n": 1}
        whole = {"status": "success", "data": enrich(samples, reads), "n": 1}
        assert orjson.dumps(page) == orjson.dumps(whole)


def test_a_spliced_page_reads_back_with_the_read_state() -> None:
    samples = _samples()
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    data = orjson.loads(
        orjson.dumps(spliced(samples, [sample_fragment(s) for s in samples], {"c-001-0003": at}))
    )
    assert [(d["isRead"], d["readAt"]) for d in data] == [
        (False, None),
        (False, None),
        (True, "2026-03-04T05:06:07.000Z"),
        (False, None),
    ]
