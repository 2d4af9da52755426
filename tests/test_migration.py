"""The language migration: fields, maps, idempotency, kept tags, unknown prefixes."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel

from app.db import SAMPLES
from app.training.curriculum import KNOWLEDGE_AREAS
from app.training.queries.meta import catalog_version, drop_retired_indexes, ensure_indexes
from app.training.queries.reads import count_of
from migrations.add_language_to_samples import exit_code, migrate
from tests.factories import make_raw_sample


def _doc(sample_id: str, chapter: int, **extra: Any) -> dict[str, Any]:
    return make_raw_sample(sample_id=sample_id, chapter=chapter, **extra)


async def test_adds_fields_from_the_maps(fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_many(
        [
            _doc("c_ch6_q_000001", 6),
            _doc("cpp_ch9_q_000002", 9),
            _doc("py_ch4_q_000003", 4),
            _doc("cpp_ch1_q_000004", 1),
            _doc("c_ch99_q_000005", 99),
        ]
    )
    report = await migrate(fresh_db, show_progress=False)
    assert report.matched == {"c": 2, "cpp": 2, "python": 1}
    assert report.modified == 5 and report.unknown == []
    docs = {d["sample_id"]: d async for d in fresh_db[SAMPLES].find({})}
    assert docs["c_ch6_q_000001"]["language"] == "c"
    assert docs["c_ch6_q_000001"]["knowledge_area"] == "pointers"
    assert docs["cpp_ch9_q_000002"]["knowledge_area"] == "polymorphism"
    assert docs["py_ch4_q_000003"]["language"] == "python"
    assert docs["py_ch4_q_000003"]["knowledge_area"] == "data_structures"
    assert docs["cpp_ch1_q_000004"]["language"] == "cpp"
    assert docs["c_ch99_q_000005"]["knowledge_area"] == "general"
    for doc in docs.values():
        assert doc["read_points"] == 1 and doc["tags"] == []
    assert await catalog_version(fresh_db) == 1


async def test_second_run_modifies_nothing(fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_many([_doc(f"c_ch1_q_{i:06d}", 1) for i in range(1200)])
    first = await migrate(fresh_db, show_progress=False)
    assert first.modified == 1200
    second = await migrate(fresh_db, show_progress=False)
    assert second.modified == 0 and second.already_migrated == 1200
    assert await catalog_version(fresh_db) == 1


async def test_existing_tags_and_points_are_kept(fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_many(
        [
            _doc("c_ch2_q_000001", 2, tags=["loops", "exam"], read_points=5),
            _doc("c_ch2_q_000002", 2),
        ]
    )
    await migrate(fresh_db, show_progress=False)
    kept = await fresh_db[SAMPLES].find_one({"sample_id": "c_ch2_q_000001"})
    assert kept["tags"] == ["loops", "exam"] and kept["read_points"] == 5
    assert kept["knowledge_area"] == KNOWLEDGE_AREAS["c"][2]


async def test_unknown_prefix_is_listed_not_guessed(fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_many([_doc("java_ch1_q_000001", 1), _doc("c_ch1_q_1", 1)])
    report = await migrate(fresh_db, show_progress=False)
    assert report.unknown == ["java_ch1_q_000001"]
    assert exit_code(report, None) != 0
    untouched = await fresh_db[SAMPLES].find_one({"sample_id": "java_ch1_q_000001"})
    assert "language" not in untouched and "tags" not in untouched
    fallback = await migrate(fresh_db, fallback_language="c", show_progress=False)
    assert exit_code(fallback, "c") == 0 and fallback.modified == 1
    fixed = await fresh_db[SAMPLES].find_one({"sample_id": "java_ch1_q_000001"})
    assert fixed["language"] == "c"


async def test_dry_run_changes_nothing(fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_many([_doc("py_ch1_q_000001", 1)])
    report = await migrate(fresh_db, dry_run=True, show_progress=False)
    assert report.modified == 1
    doc = await fresh_db[SAMPLES].find_one({})
    assert "language" not in doc
    assert await catalog_version(fresh_db) == 0


async def test_creates_the_indexes(fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_one(_doc("c_ch1_q_000001", 1))
    await migrate(fresh_db, show_progress=False)
    sample_indexes = await fresh_db[SAMPLES].index_information()
    assert sample_indexes["sample_id_unique"]["unique"] is True
    assert "language_chapter_sample" in sample_indexes
    progress_indexes = await fresh_db["sample_progress"].index_information()
    assert progress_indexes["student_sample_unique"]["unique"] is True
    assert set(progress_indexes) == {"_id_", "student_sample_unique", "student_language_read_at"}


async def test_drops_the_retired_progress_indexes(fresh_db: Any) -> None:
    # A database an older release indexed: its two extra indexes go, every read still works.
    await fresh_db["sample_progress"].create_indexes(
        [
            IndexModel([("sidhi_id", ASCENDING), ("language", ASCENDING)], name="student_language"),
            IndexModel(
                [("sidhi_id", ASCENDING), ("knowledge_area", ASCENDING)], name="student_area"
            ),
        ]
    )
    await fresh_db["sample_progress"].insert_one(
        {"sidhi_id": "s1", "sample_id": "c_ch1_q_000001", "language": "c", "read_at": 1}
    )
    await ensure_indexes(fresh_db)
    assert "student_language" not in await fresh_db["sample_progress"].index_information()
    assert await drop_retired_indexes(fresh_db) == []  # idempotent
    assert await count_of(fresh_db, "s1", "c") == 1


async def test_half_done_run_completes(fresh_db: Any) -> None:
    docs = [_doc(f"cpp_ch{1 + i % 12}_q_{i:06d}", 1 + i % 12) for i in range(900)]
    await fresh_db[SAMPLES].insert_many(docs)
    # A run killed half-way left some documents migrated, some not.
    await fresh_db[SAMPLES].update_many(
        {"sample_id": {"$lt": "cpp_ch5"}}, {"$set": {"language": "cpp"}}
    )
    half = await fresh_db[SAMPLES].count_documents({"language": "cpp"})
    assert 0 < half < 900, half  # the rerun really starts from a half-done catalog
    report = await migrate(fresh_db, show_progress=False)
    assert report.modified == 900
    assert await fresh_db[SAMPLES].count_documents({"knowledge_area": {"$exists": True}}) == 900
