"""Operator data work: import samples from a ``mongoexport`` file, export or delete a student.

- ``import_samples`` loads JSON Lines (one object per line) or a JSON array, validates each
  record, upserts the good ones by ``sample_id`` in batches and reports the bad ones by line
  (or array element); records without ``language``/``knowledge_area``/``read_points``/
  ``tags`` are completed by the existing migration, and the catalog version is bumped so
  every cache refreshes.
- ``export_student`` gathers one student's ``student_stats`` and ``sample_progress``
  documents as plain JSON (datetimes as ISO-8601 UTC).
- ``delete_student`` removes them, and the student's Redis read sets when given a handle.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError
from tqdm import tqdm

from app.db import PROGRESS, SAMPLES, STATS, Database, bump_catalog_version, ensure_indexes
from app.training.curriculum import LANGUAGES, knowledge_area_of, language_of
from app.training.timefmt import iso, utcnow
from cache.progress import ProgressSets
from migrations.add_language_to_samples import migrate as run_migration

BATCH = 500
REPORT_LIMIT = 50  # bad records listed in a report; the total is always given
# Filled in by the migration when a record does not carry them.
MIGRATED_FIELDS = ("language", "knowledge_area", "read_points", "tags")
_INTEGER = re.compile(r"^-?\d{1,19}$")
_INT_WRAPPERS = ("$numberInt", "$numberLong")
FORM_NAMES = {"lines": "JSON Lines", "array": "JSON array"}


class DataFileError(Exception):
    """The file cannot be read at all (missing, not UTF-8, not a JSON array...)."""


# --- the record model -------------------------------------------------------------------


def _unwrap_int(value: Any) -> Any:
    """Extended JSON ``{"$numberInt": "3"}`` / ``{"$numberLong": "3"}`` → 3; else as is."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), *_ = value.items()
        if key in _INT_WRAPPERS and isinstance(inner, str) and _INTEGER.match(inner):
            return int(inner)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, Field(max_length=1_000_000), AfterValidator(_not_blank)]
ExtInt = BeforeValidator(_unwrap_int)


class SampleRecord(BaseModel):
    """One training sample as an import file gives it (unknown fields and ``_id`` ignored).

    Types are strict (``"3"`` is not a chapter, ``true`` is not a number); integers may use
    mongoexport's ``$numberInt``/``$numberLong`` wrappers. Beyond the field rules, a record
    must agree with what the migration derives, or a later ``lumetrix migrate`` would
    rewrite it: the language must match the ``sample_id`` prefix (or be given when the
    prefix names none), and a given knowledge area must be its chapter's.
    """

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    sample_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")]
    chapter: Annotated[int, Field(ge=1, le=2**31 - 1), ExtInt]
    type: Literal["program", "mcq", "theory", "debug"]
    difficulty: Literal["easy", "medium", "hard"]
    question: Text
    answer: Text
    language: Literal["c", "cpp", "python"] | None = None
    knowledge_area: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    read_points: Annotated[int, Field(ge=0, le=100), ExtInt] | None = None
    tags: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=200)] | None = (
        None
    )

    @model_validator(mode="after")
    def _agrees_with_migration(self) -> SampleRecord:
        derived = language_of(self.sample_id)
        if self.language is None and derived is None:
            raise ValueError("language missing and the sample_id prefix names none (c_, cpp_, py_)")
        if self.language is not None and derived is not None and self.language != derived:
            raise ValueError(
                f"language '{self.language}' contradicts the sample_id prefix ('{derived}')"
            )
        if self.knowledge_area is not None and derived is not None:
            expected = knowledge_area_of(derived, self.chapter)
            if self.knowledge_area != expected:
                raise ValueError(
                    f"knowledge_area '{self.knowledge_area}' is not that of {derived} chapter "
                    f"{self.chapter} ('{expected}'); the migration derives it from the chapter"
                )
        return self

    def fields(self) -> dict[str, Any]:
        """The fields the record gives (the ``$set`` of its upsert)."""
        return self.model_dump(exclude_none=True)


def _reason(exc: ValidationError) -> str:
    """A validation failure as one line: ``field: message (got value)`` joined by ``; ``."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        got = err.get("input")
        if err["type"] != "missing" and isinstance(got, str | int | float) and loc:
            shown = repr(got)
            msg += f" (got {shown[:40] + '...' if len(shown) > 40 else shown})"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


# --- reading the file -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One line (or array element) of the file: parsed JSON, or why it could not be."""

    position: int  # line number from 1 (JSON Lines) or element index from 0 (JSON array)
    value: Any = None
    error: str | None = None


def _json(text: str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=no_constants)


def read_records(path: Path) -> tuple[Literal["lines", "array"], list[RawRecord]]:
    """The records of a JSON Lines file or a JSON array (first non-space char ``[``).

    Raises DataFileError when the file as a whole cannot be read; a bad line of a JSON
    Lines file is a record with an ``error`` instead.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.lstrip()[:1] == b"[":
        try:
            items = _json(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise DataFileError(
                f"{path}: invalid JSON array: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from exc
        except ValueError as exc:
            raise DataFileError(f"{path}: invalid JSON array: {exc}") from exc
        return "array", [RawRecord(index, value=item) for index, item in enumerate(items)]
    records = []
    for number, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            records.append(RawRecord(number, value=_json(raw.decode("utf-8"))))
        except UnicodeDecodeError as exc:
            records.append(RawRecord(number, error=f"not UTF-8 text (byte {exc.start})"))
        except json.JSONDecodeError as exc:
            records.append(RawRecord(number, error=f"invalid JSON: {exc.msg} (col {exc.colno})"))
        except ValueError as exc:
            records.append(RawRecord(number, error=f"invalid JSON: {exc}"))
    return "lines", records


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that was not loaded, and why."""

    position: int  # line number (JSON Lines) or element index (JSON array)
    where: str  # "line 7" or "element [6]"
    reason: str


@dataclass
class ImportReport:
    """What an import read and did."""

    source: str
    form: Literal["lines", "array"] = "lines"
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRecord] = field(default_factory=list)
    ignored_fields: set[str] = field(default_factory=set)
    migrated: int | None = None  # documents the migration changed; None: it did not run
    catalog_version: int | None = None  # the new version when the catalog changed

    @property
    def loaded(self) -> int:
        """Records written (inserted, updated or found identical)."""
        return self.inserted + self.updated + self.unchanged

    def lines(self, limit: int = REPORT_LIMIT) -> list[str]:
        """The report as printable lines (at most ``limit`` bad records listed)."""
        out = [
            f"file:                {self.source} ({FORM_NAMES[self.form]})",
            f"records read:        {self.read}",
            f"inserted:            {self.inserted}",
            f"updated:             {self.updated}",
            f"unchanged:           {self.unchanged}",
        ]
        if self.ignored_fields:
            out.append(f"ignored fields:      {', '.join(sorted(self.ignored_fields))}")
        if self.migrated is not None:
            out.append(f"migration modified:  {self.migrated}")
        if self.catalog_version is not None:
            out.append(f"catalog version:     {self.catalog_version}")
        out.append(f"bad records:         {len(self.bad)}")
        out += [f"  {bad.where}: {bad.reason}" for bad in self.bad[:limit]]
        if len(self.bad) > limit:
            out.append(f"  ... and {len(self.bad) - limit} more")
        return out


@dataclass(frozen=True, slots=True)
class _Pending:
    position: int
    where: str
    fields: dict[str, Any]


async def _write(db: Database, batch: list[_Pending], report: ImportReport) -> None:
    """Upsert one batch by ``sample_id``; per-document failures become bad records."""
    ops = [
        UpdateOne({"sample_id": p.fields["sample_id"]}, {"$set": p.fields}, upsert=True)
        for p in batch
    ]
    try:
        result = await db[SAMPLES].bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        details = dict(exc.details)
        upserted, matched = int(details.get("nUpserted", 0)), int(details.get("nMatched", 0))
        modified = int(details.get("nModified", 0))
        for err in details.get("writeErrors", []):
            failed = batch[int(err["index"])]
            reason = str(err.get("errmsg", "write failed")).splitlines()[0]
            report.bad.append(BadRecord(failed.position, failed.where, f"not written: {reason}"))
    else:
        upserted, matched = result.upserted_count, result.matched_count
        modified = result.modified_count
    report.inserted += upserted
    report.updated += modified
    report.unchanged += matched - modified


async def import_samples(
    *, db: Database, path: Path, batch_size: int = BATCH, show_progress: bool = True
) -> ImportReport:
    """Load the samples of ``path`` (JSON Lines or a JSON array) into the catalog.

    Good records are upserted by ``sample_id`` with ``$set`` of the fields they give, so a
    second import of the same file modifies nothing; bad ones (and repeated ``sample_id``s
    after the first) are reported, never written. When a loaded record lacks one of
    ``MIGRATED_FIELDS`` the migration runs; the catalog version is bumped when anything
    changed. Raises DataFileError when the file cannot be read at all.
    """
    form, records = read_records(path)
    report = ImportReport(source=str(path), form=form, read=len(records))

    def where(position: int) -> str:
        return f"element [{position}]" if form == "array" else f"line {position}"

    def reject(position: int, reason: str) -> None:
        report.bad.append(BadRecord(position, where(position), reason))

    seen: dict[str, int] = {}
    needs_migration = False

    def accept(raw: RawRecord) -> _Pending | None:
        """The record's upsert, or None once it is reported as bad."""
        nonlocal needs_migration
        if raw.error is not None:
            reject(raw.position, raw.error)
            return None
        if not isinstance(raw.value, dict):
            reject(raw.position, f"not a JSON object (a {type(raw.value).__name__})")
            return None
        try:
            record = SampleRecord.model_validate(raw.value)
        except ValidationError as exc:
            reject(raw.position, _reason(exc))
            return None
        first = seen.setdefault(record.sample_id, raw.position)
        if first != raw.position:
            reject(raw.position, f"duplicate sample_id '{record.sample_id}' ({where(first)})")
            return None
        fields = record.fields()
        needs_migration |= any(name not in fields for name in MIGRATED_FIELDS)
        report.ignored_fields |= set(raw.value) - set(SampleRecord.model_fields) - {"_id"}
        return _Pending(raw.position, where(raw.position), fields)

    await ensure_indexes(db)  # the unique sample_id index makes the upserts race-free
    batch: list[_Pending] = []
    with tqdm(total=len(records), unit="doc", desc="import", disable=not show_progress) as bar:
        for raw in records:
            pending = accept(raw)
            if pending is None:
                bar.update(1)
                continue
            batch.append(pending)
            if len(batch) >= batch_size:
                await _write(db, batch, report)
                bar.update(len(batch))
                batch.clear()
        if batch:
            await _write(db, batch, report)
            bar.update(len(batch))
    report.bad.sort(key=lambda b: b.position)
    if needs_migration and report.loaded:
        migration = await run_migration(db, show_progress=False)
        report.migrated = migration.modified
        report.catalog_version = migration.catalog_version
    if report.catalog_version is None and (report.inserted or report.updated):
        report.catalog_version = await bump_catalog_version(db)
    return report


# --- one student's data -----------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` with datetimes as ISO-8601 UTC and other BSON types as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # ObjectId, Decimal128, ...


async def export_student(*, db: Database, student: str) -> dict[str, Any]:
    """Everything stored about ``student``: stats and progress documents, JSON-ready.

    ``stats`` is None and ``progress`` empty for a student with no data; progress is in
    reading order (first read, then ``sample_id``).
    """
    stats = await db[STATS].find_one({"_id": student}, {"_id": 0})
    cursor = db[PROGRESS].find({"sidhi_id": student}, {"_id": 0})
    progress = [_plain(doc) for doc in await cursor.to_list(None)]
    progress.sort(key=lambda d: (str(d.get("read_at") or ""), str(d.get("sample_id", ""))))
    return {
        "student": student,
        "exported_at": iso(utcnow()),
        "stats": _plain(stats) if stats is not None else None,
        "progress": progress,
    }


def dump_json(data: Any) -> str:
    """``data`` as indented JSON text ending with a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only (personal data)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class StudentFootprint:
    """How many documents a student has in MongoDB."""

    progress_docs: int
    stats_docs: int


async def student_footprint(*, db: Database, student: str) -> StudentFootprint:
    """Count the student's ``sample_progress`` and ``student_stats`` documents."""
    return StudentFootprint(
        progress_docs=await db[PROGRESS].count_documents({"sidhi_id": student}),
        stats_docs=await db[STATS].count_documents({"_id": student}),
    )


@dataclass(frozen=True, slots=True)
class DeleteReport:
    """What deleting a student removed."""

    student: str
    progress_docs: int
    stats_docs: int
    redis_keys: int | None  # None: no Redis handle given (nothing shared to clean)

    def lines(self) -> list[str]:
        """The report as printable lines."""
        keys = "not cleaned (no shared Redis)" if self.redis_keys is None else self.redis_keys
        return [
            f"student:             {self.student}",
            f"progress documents:  {self.progress_docs}",
            f"stats documents:     {self.stats_docs}",
            f"redis keys:          {keys}",
        ]


async def _count_keys(progress: ProgressSets, student: str, language: str) -> int:
    key, gen_key = progress.keys(student, language)
    count: int = await progress.backend.call(lambda r: r.exists(key, gen_key))
    return int(count)


async def delete_student(
    *, db: Database, progress: ProgressSets | None, student: str
) -> DeleteReport:
    """Remove the student's progress and stats from MongoDB, then their Redis read sets.

    MongoDB goes first, so a set reloaded meanwhile comes back empty; the Redis sets and
    generation keys of every language are dropped after. May raise CacheUnavailable once
    MongoDB is done (running it again finishes the job).
    """
    progress_docs = (await db[PROGRESS].delete_many({"sidhi_id": student})).deleted_count
    stats_docs = (await db[STATS].delete_many({"_id": student})).deleted_count
    redis_keys: int | None = None
    if progress is not None:
        redis_keys = 0
        for language in LANGUAGES:
            redis_keys += await _count_keys(progress, student, language)
            await progress.forget(student, language)
    return DeleteReport(student, progress_docs, stats_docs, redis_keys)
