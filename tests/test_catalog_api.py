"""The catalog endpoints over HTTP: shapes, filters, pagination and bad input, each with
the cache on (per Redis) and off, so the cached and the MongoDB forms of every rule
(``app.training.filters``) answer the same assertions."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.db import SAMPLES
from app.training import shapes
from app.training.curriculum import KNOWLEDGE_AREAS
from tests.conftest import Api, conforms, drop_database, make_settings, running_app, unique_name
from tests.factories import make_sample


@pytest.fixture
def api(api_any_cache: Api) -> Api:
    """This module's app: every cache mode (``tests.conftest.CACHE_MODES``)."""
    return api_any_cache


@pytest.mark.parametrize("language", ["c", "cpp", "python"])
async def test_samples_only_of_the_language(api: Api, language: str) -> None:
    res = await api.get("/training/samples", language=language, page=1, limit=20)
    assert res.status_code == 200
    body = res.json()
    conforms(shapes.SamplePage, body)
    assert len(body["data"]) == 20
    assert {s["language"] for s in body["data"]} == {language}
    order = [(s["chapter"], s["sample_id"]) for s in body["data"]]
    assert order == sorted(order)  # curriculum order
    for sample in body["data"]:
        assert "_id" not in sample
        assert sample["isRead"] is False and sample["readAt"] is None
        assert sample["knowledge_area"] == KNOWLEDGE_AREAS[language][sample["chapter"]]


async def test_invalid_language_is_400_naming_the_valid_ones(api: Api) -> None:
    for path in [
        "/training/samples",
        "/training/chapters",
        "/training/stats",
        "/training/random",
        "/training/knowledge-areas",
        "/training/my-progress",
    ]:
        res = await api.get(path, language="invalid")
        assert res.status_code == 400, path
        assert res.json()["detail"] == "language must be one of: c, cpp, python"
    res = await api.get("/training/search", language="java", q="loop")
    assert res.status_code == 400


async def test_language_is_required(api: Api) -> None:
    res = await api.get("/training/samples")
    assert res.status_code == 422
    assert "language" in res.json()["detail"]


async def test_pagination_edges(api: Api) -> None:
    first = (await api.get("/training/samples", language="python", limit=100)).json()
    total = first["pagination"]["total"]
    pages = math.ceil(total / 100)
    assert first["pagination"] == {
        "page": 1,
        "limit": 100,
        "total": total,
        "total_pages": pages,
        "has_next": True,
        "has_prev": False,
    }
    last = (await api.get("/training/samples", language="python", limit=100, page=pages)).json()
    assert len(last["data"]) == total - 100 * (pages - 1)
    assert last["pagination"]["has_next"] is False and last["pagination"]["has_prev"] is True
    past = await api.get("/training/samples", language="python", limit=100, page=pages + 5)
    assert past.status_code == 200 and past.json()["data"] == []
    # Pages tile the listing: no sample twice, none missing.
    seen = []
    for page in range(1, pages + 1):
        body = (await api.get("/training/samples", language="python", limit=100, page=page)).json()
        seen += [s["sample_id"] for s in body["data"]]
    assert len(seen) == len(set(seen)) == total


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"page": -1},
        {"page": 10**9},
        {"page": "x"},
        {"limit": 0},
        {"limit": 101},
        {"chapter": 0},
        {"chapter": "two"},
        {"type": "essay"},
        {"difficulty": "insane"},
        {"knowledge_area": "$where"},
        {"knowledge_area": "a" * 200},
    ],
)
async def test_bad_listing_parameters_are_422(api: Api, params: dict[str, object]) -> None:
    res = await api.get("/training/samples", language="c", **params)
    assert res.status_code == 422
    assert res.json()["status"] == "error" and res.json()["detail"]


@pytest.mark.parametrize(
    ("param", "value"),
    [("chapter", 6), ("knowledge_area", "pointers"), ("type", "debug"), ("difficulty", "hard")],
)
async def test_each_filter(api: Api, param: str, value: object) -> None:
    res = await api.get("/training/samples", language="c", limit=100, **{param: value})
    body = res.json()
    assert res.status_code == 200 and body["data"]
    assert all(s[param] == value for s in body["data"])
    count = await api.db["training_samples_filtered"].count_documents(
        {"language": "c", param: value}
    )
    assert body["pagination"]["total"] == count


async def test_filters_combine(api: Api) -> None:
    res = await api.get(
        "/training/samples", language="cpp", chapter=7, type="program", difficulty="easy", limit=100
    )
    body = res.json()
    count = await api.db["training_samples_filtered"].count_documents(
        {"language": "cpp", "chapter": 7, "type": "program", "difficulty": "easy"}
    )
    assert body["pagination"]["total"] == count
    assert all(
        s["chapter"] == 7 and s["type"] == "program" and s["difficulty"] == "easy"
        for s in body["data"]
    )


async def test_sample_by_id(api: Api) -> None:
    listing = (await api.get("/training/samples", language="c", chapter=6, limit=1)).json()
    sample_id = listing["data"][0]["sample_id"]
    res = await api.get(f"/training/samples/{sample_id}")
    assert res.status_code == 200
    body = res.json()
    conforms(shapes.SampleOut, body)
    assert body["data"]["sample_id"] == sample_id
    assert body["data"]["knowledge_area"] == "pointers"
    assert body["data"]["timeSpent"] == 0 and body["data"]["revisitedCount"] == 0
    assert "_id" not in body["data"]


@pytest.mark.parametrize("sample_id", ["c_ch1_q_999999", "nope", "zz_ch1_q_000001"])
async def test_unknown_sample_is_404(api: Api, sample_id: str) -> None:
    res = await api.get(f"/training/samples/{sample_id}")
    assert res.status_code == 404
    assert sample_id in res.json()["detail"]
    res = await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=5)
    assert res.status_code == 404


@pytest.mark.parametrize("sample_id", ["a%00b", "%FF%FE", "x" * 150, "a$b", "a%20b"])
async def test_odd_sample_ids_are_422(api: Api, sample_id: str) -> None:
    res = await api.get(f"/training/samples/{sample_id}")
    assert res.status_code == 422


async def test_chapters(api: Api) -> None:
    res = await api.get("/training/chapters", language="c")
    body = res.json()
    conforms(shapes.ChaptersOut, body)
    assert body["total_chapters"] == 10
    assert [c["chapter"] for c in body["chapters"]] == list(range(1, 11))
    six = body["chapters"][5]
    assert six["knowledge_area"] == "pointers"
    count = await api.db["training_samples_filtered"].count_documents(
        {"language": "c", "chapter": 6}
    )
    assert six["total_questions"] == count
    assert sum(six["breakdown"]["by_type"].values()) == count
    assert sum(six["breakdown"]["by_difficulty"].values()) == count
    assert six["read_questions"] == 0 and six["progress_percentage"] == 0


async def test_filters_endpoint(api: Api) -> None:
    body = (await api.get("/training/filters")).json()
    conforms(shapes.FiltersOut, body)
    assert body["languages"] == ["c", "cpp", "python"]
    assert body["chapters"]["cpp"] == list(range(1, 13))
    assert body["knowledge_areas"]["python"][0] == "basics"
    assert body["types"] == ["program", "mcq", "theory", "debug"]
    one = (await api.get("/training/filters", language="python")).json()
    assert list(one["chapters"]) == ["python"]
    assert (await api.get("/training/filters", language="java")).status_code == 400


async def test_stats(api: Api) -> None:
    body = (await api.get("/training/stats", language="python")).json()
    conforms(shapes.StatsOut, body)
    total = await api.db["training_samples_filtered"].count_documents({"language": "python"})
    assert body["total_samples"] == total
    assert sum(body["by_chapter"].values()) == total
    assert sum(body["by_type"].values()) == total
    assert set(body["by_knowledge_area"]) == set(KNOWLEDGE_AREAS["python"].values())


async def test_knowledge_areas(api: Api) -> None:
    body = (await api.get("/training/knowledge-areas", language="c")).json()
    conforms(shapes.KnowledgeAreasOut, body)
    names = [a["knowledge_area"] for a in body["knowledge_areas"]]
    assert names == list(KNOWLEDGE_AREAS["c"].values())
    pointers = body["knowledge_areas"][5]
    assert pointers["chapters"] == [6]
    assert sum(pointers["by_difficulty"].values()) == pointers["total_samples"]


async def test_random(api: Api) -> None:
    for _ in range(5):
        body = (await api.get("/training/random", language="cpp", chapter=3)).json()
        conforms(shapes.RandomOut, body)
        assert body["data"]["language"] == "cpp" and body["data"]["chapter"] == 3
        assert body["data"]["isRead"] is False


async def test_search_matches_question_or_answer_case_insensitively(api: Api) -> None:
    res = await api.get("/training/search", language="c", q="MALLOC", limit=100)
    body = res.json()
    conforms(shapes.SearchPage, body)
    assert body["pagination"]["total"] > 0
    for s in body["data"]:
        assert "malloc" in (s["question"] + s["answer"]).lower()
        assert s["language"] == "c"


@pytest.mark.parametrize("q", [".*", "(a+)+$", "[(", "\\d", "$where", '{"$gt": ""}', "a|b"])
async def test_search_treats_regex_metacharacters_literally(api: Api, q: str) -> None:
    res = await api.get("/training/search", language="c", q=q, limit=100)
    assert res.status_code == 200
    for s in res.json()["data"]:
        assert q.lower() in (s["question"] + s["answer"]).lower()


# Texts for the search: each query below has samples that hold it literally, and decoys
# that its regex reading would match (so a search that lost re.escape finds too much).
SEARCH_TEXTS = {
    "c_ch1_q_000000": ("Pick a|b with the pipe", "x"),
    "c_ch1_q_000001": ("Apply f(x) once", "y"),
    "c_ch1_q_000002": ("What does the pattern match?", "It is .* greedy"),
    "c_ch1_q_000003": ("fx without brackets", "abc"),  # regex f(x), a|b, .* all match
    "c_ch1_q_000004": ("CALL F(X) IN CAPITALS", "z"),
    "c_ch1_q_000005": ("Ends with a", "|b starts the answer"),  # never joined across
    "c_ch1_q_000006": ("nothing to see", "here"),
}
SEARCHES = [
    ("a|b", {"c_ch1_q_000000"}),
    ("f(x)", {"c_ch1_q_000001", "c_ch1_q_000004"}),
    (".*", {"c_ch1_q_000002"}),
    ("A|B", {"c_ch1_q_000000"}),
    ("(x) in", {"c_ch1_q_000004"}),
]


@pytest.fixture
async def search_api(mongo_url: str, mongo_client: Any, cache_mode: tuple[str, str]) -> Any:
    """An app, in each cache mode, on a catalog of ``SEARCH_TEXTS``."""
    name = unique_name("lmx_test_search")
    await mongo_client[name][SAMPLES].insert_many(
        [
            make_sample(sample_id=sample_id, type="theory", question=question, answer=answer)
            for sample_id, (question, answer) in SEARCH_TEXTS.items()
        ]
    )
    redis, cache = cache_mode
    try:
        async with running_app(make_settings(mongo_url, name, redis, lumetrix_cache=cache)) as app:
            yield app
    finally:
        await drop_database(mongo_client, name)


@pytest.mark.parametrize(("q", "expected"), SEARCHES)
async def test_search_finds_exactly_the_literal_text(
    search_api: Api, q: str, expected: set[str]
) -> None:
    res = await search_api.get("/training/search", language="c", q=q, limit=100)
    assert res.status_code == 200
    body = res.json()
    assert {s["sample_id"] for s in body["data"]} == expected
    assert body["pagination"]["total"] == len(expected)


@pytest.mark.parametrize("q", ["a", "x" * 101, "x" * 10_000])
async def test_search_length_bounds(api: Api, q: str) -> None:
    res = await api.get("/training/search", language="c", q=q)
    assert res.status_code == 422
    assert "q" in res.json()["detail"]


async def test_no_stack_trace_on_unknown_route(api: Api) -> None:
    res = await api.get("/training/nothing-here")
    assert res.status_code == 404 and res.json()["status"] == "error"
