"""Import of sample files (``app.data_import``), against a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pydantic import ValidationError

from app.data_import import DataFileError, SampleRecord, import_samples, read_records
from app.db import SAMPLES, Database
from app.training.queries.meta import catalog_version
from tests.factories import make_raw_sample
from tests.test_cli import lumetrix

OID = "65a1b2c3d4e5f60718293a4b"


def sample(sample_id: str = "c_ch1_q_900001", **fields: Any) -> dict[str, Any]:
    """A valid pre-migration record (what mongoexport of the demo catalog gives)."""
    return make_raw_sample(
        sample_id=sample_id,
        **({"question": "Print hello.", "answer": 'puts("hello");'} | fields),
    )


def jsonl(path: Path, lines: list[Any]) -> Path:
    """Write ``lines`` (objects are dumped, strings written as they are) one per line."""
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


MIXED = [
    # 1: mongoexport shape: $oid _id, $numberInt chapter, no language (the migration adds it)
    sample("c_ch3_q_900001", _id={"$oid": OID}, chapter={"$numberInt": "3"}),
    "",  # 2: blank lines are skipped
    '{"sample_id": "c_ch1_q_900002", "chapter": 1,',  # 3: broken JSON
    {k: v for k, v in sample("c_ch1_q_900003").items() if k != "question"},  # 4: missing
    sample("c_ch1_q_900004", chapter="three"),  # 5: wrong type
    sample("c_ch1_q_900005", type="essay"),  # 6: bad enum
    sample(  # 7: complete, with $numberLong points and tags
        "py_ch1_q_900006",
        language="python",
        knowledge_area="basics",
        read_points={"$numberLong": "5"},
        tags=["loops"],
        created_at={"$date": "2024-01-01T00:00:00Z"},
    ),
    "[1, 2]",  # 8: not an object
    sample("c_ch3_q_900001", chapter=3),  # 9: same sample_id as line 1
    sample("cpp_ch1_q_900007", read_points=101),  # 10: out of range
]
MIXED_BAD = {3: "invalid JSON", 4: "question", 5: "chapter", 6: "type", 8: "not a JSON object"}
MIXED_BAD |= {9: "duplicate sample_id 'c_ch3_q_900001' (line 1)", 10: "read_points"}


async def test_import_jsonl_loads_good_lines_and_reports_bad_ones(
    fresh_db: Database, tmp_path: Path
) -> None:
    report = await import_samples(
        db=fresh_db, path=jsonl(tmp_path / "mixed.jsonl", MIXED), show_progress=False
    )
    assert report.form == "lines" and report.read == 9
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    assert {bad.position: bad.where for bad in report.bad} == {n: f"line {n}" for n in MIXED_BAD}
    for bad in report.bad:
        assert MIXED_BAD[bad.position] in bad.reason and "\n" not in bad.reason
    assert "essay" in next(b.reason for b in report.bad if b.position == 6)
    assert report.ignored_fields == {"created_at"}

    c_doc = await fresh_db[SAMPLES].find_one({"sample_id": "c_ch3_q_900001"})
    assert c_doc is not None and c_doc["_id"] != ObjectId(OID)  # the file's _id is ignored
    assert c_doc["chapter"] == 3
    # completed by the migration
    assert (c_doc["language"], c_doc["knowledge_area"]) == ("c", "functions")
    assert (c_doc["read_points"], c_doc["tags"]) == (1, [])
    py_doc = await fresh_db[SAMPLES].find_one({"sample_id": "py_ch1_q_900006"}, {"_id": 0})
    assert py_doc == {
        **sample("py_ch1_q_900006"),
        "language": "python",
        "knowledge_area": "basics",
        "read_points": 5,
        "tags": ["loops"],
    }
    assert await fresh_db[SAMPLES].count_documents({}) == 2
    assert report.migrated == 1
    assert report.catalog_version == await catalog_version(fresh_db) >= 1
    text = "\n".join(report.lines())
    assert "bad records:         7" in text and "line 10: read_points" in text


async def test_reimport_is_idempotent_and_updates_change_the_catalog(
    fresh_db: Database, tmp_path: Path
) -> None:
    file = jsonl(tmp_path / "two.jsonl", [sample("c_ch1_q_1"), sample("cpp_ch2_q_2", chapter=2)])
    first = await import_samples(db=fresh_db, path=file, show_progress=False)
    assert first.inserted == 2 and not first.bad
    version = await catalog_version(fresh_db)
    assert version >= 1

    again = await import_samples(db=fresh_db, path=file, show_progress=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert again.migrated == 0 and again.catalog_version is None
    assert await catalog_version(fresh_db) == version

    jsonl(file, [sample("c_ch1_q_1", answer="changed"), sample("cpp_ch2_q_2", chapter=2)])
    changed = await import_samples(db=fresh_db, path=file, show_progress=False)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    assert changed.catalog_version == await catalog_version(fresh_db) > version
    doc = await fresh_db[SAMPLES].find_one({"sample_id": "c_ch1_q_1"})
    assert doc is not None and doc["answer"] == "changed" and doc["language"] == "c"


async def test_import_json_array_reports_element_indexes(
    fresh_db: Database, tmp_path: Path
) -> None:
    items = [sample("c_ch1_q_10"), 42, sample("c_ch1_q_11", difficulty="extreme"), sample()]
    file = tmp_path / "export.json"
    file.write_text("\ufeff  \n" + json.dumps(items, indent=2))  # BOM and leading space
    report = await import_samples(db=fresh_db, path=file, batch_size=1, show_progress=False)
    assert report.form == "array" and report.read == 4 and report.inserted == 2
    assert [(b.position, b.where) for b in report.bad] == [(1, "element [1]"), (2, "element [2]")]
    assert "difficulty" in report.bad[1].reason


def test_unreadable_files_raise(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        read_records(tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.json"
    broken.write_text('[{"sample_id": "c_1"},')
    with pytest.raises(DataFileError, match="invalid JSON array"):
        read_records(broken)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'[{"question": "caf\xe9"}]')
    with pytest.raises(DataFileError, match="not UTF-8"):
        read_records(latin)


def test_not_utf8_line_is_a_bad_line(tmp_path: Path) -> None:
    file = tmp_path / "x.jsonl"
    file.write_bytes(b'{"a": 1}\r\n{"q": "caf\xe9"}\r\n{"a": NaN}\n')
    form, records = read_records(file)
    assert form == "lines"
    assert [(r.position, r.error is None) for r in records] == [(1, True), (2, False), (3, False)]
    assert records[1].error is not None and "UTF-8" in records[1].error


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"chapter": True}, "chapter"),
        ({"chapter": "3"}, "chapter"),
        ({"chapter": 0}, "greater than or equal to 1"),
        ({"chapter": {"$numberInt": "x"}}, "chapter"),
        ({"sample_id": "c_1 2"}, "sample_id"),
        ({"sample_id": "x" * 101}, "sample_id"),
        ({"question": "   "}, "must not be empty"),
        ({"answer": 7}, "answer"),
        ({"language": "rust"}, "language"),
        ({"language": "python"}, "contradicts the sample_id prefix"),
        ({"sample_id": "rust_ch1_q_1"}, "prefix names none"),
        ({"knowledge_area": "Basics"}, "knowledge_area"),
        ({"knowledge_area": "pointers"}, "derives it from the chapter"),
        ({"read_points": -1}, "read_points"),
        ({"tags": "a,b"}, "tags"),
        ({"tags": ["ok", 3]}, "tags"),
    ],
)
def test_record_validation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SampleRecord.model_validate(sample("c_ch1_q_1") | fields)


def test_record_accepts_extended_json_and_explicit_language() -> None:
    record = SampleRecord.model_validate(
        sample("rust_ch1_q_1", chapter={"$numberLong": "12"}, language="c", extra="ignored")
    )
    assert record.fields() == {**sample("rust_ch1_q_1", chapter=12), "language": "c"}
    ok = SampleRecord.model_validate(sample("cpp_ch13_q_1", chapter=13, knowledge_area="general"))
    assert ok.knowledge_area == "general"


# --- the command line -------------------------------------------------------------------


def db_env(mongo_url: str, db: Database) -> dict[str, str]:
    """Environment of a CLI run on ``db`` with no shared Redis."""
    return {"MONGODB_URL": mongo_url, "MONGODB_DB": db.name, "REDIS_URL": ""}


async def test_import_command_exit_codes(
    mongo_url: str, fresh_db: Database, tmp_path: Path
) -> None:
    env = db_env(mongo_url, fresh_db)
    good = lumetrix("import", str(jsonl(tmp_path / "good.jsonl", [sample()])), **env)
    assert good.returncode == 0, good.stderr
    assert "inserted:            1" in good.stdout and "bad records:         0" in good.stdout

    mixed = lumetrix("import", str(jsonl(tmp_path / "mixed.jsonl", MIXED)), **env)
    assert mixed.returncode == 3, mixed.stderr
    assert "line 3: invalid JSON" in mixed.stdout and "line 10: read_points" in mixed.stdout
    assert "inserted:            2" in mixed.stdout

    missing = lumetrix("import", str(tmp_path / "nope.jsonl"), **env)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cannot read") and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
