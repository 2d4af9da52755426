"""Importing samples from a ``mongoexport`` file (``lumetrix import``).

``import_samples`` loads JSON Lines (one object per line) or a JSON array, validates each
record, upserts the good ones by ``sample_id`` in batches and reports the bad ones by line
(or array element); records without ``language``/``knowledge_area``/``read_points``/
``tags`` are completed by the existing migration, and the catalog version is bumped so
every cache refreshes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
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
from tqdm import tqdm

from app.db import Database
from app.training.curriculum import knowledge_area_of, language_of
from app.training.queries import meta, samples
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
    outcome = await samples.upsert_fields(db, [p.fields for p in batch])
    for index, reason in outcome.failed.items():
        failed = batch[index]
        report.bad.append(BadRecord(failed.position, failed.where, f"not written: {reason}"))
    report.inserted += outcome.inserted
    report.updated += outcome.updated
    report.unchanged += outcome.unchanged


class _Checker:
    """Validates the records of one file in order: each becomes an upsert, or a line of
    ``report.bad`` (unreadable, not an object, invalid, or a repeated ``sample_id``)."""

    def __init__(self, form: str, report: ImportReport) -> None:
        self.form = form
        self.report = report
        self.seen: dict[str, int] = {}
        # Whether a loaded record lacks one of MIGRATED_FIELDS (then the migration runs).
        self.needs_migration = False

    def where(self, position: int) -> str:
        """How the report names a record: an array element or a line."""
        return f"element [{position}]" if self.form == "array" else f"line {position}"

    def reject(self, position: int, reason: str) -> None:
        """Report the record at ``position`` as bad."""
        self.report.bad.append(BadRecord(position, self.where(position), reason))

    def accept(self, raw: RawRecord) -> _Pending | None:
        """The record's upsert, or None once it is reported as bad."""
        if raw.error is not None:
            self.reject(raw.position, raw.error)
            return None
        if not isinstance(raw.value, dict):
            self.reject(raw.position, f"not a JSON object (a {type(raw.value).__name__})")
            return None
        try:
            record = SampleRecord.model_validate(raw.value)
        except ValidationError as exc:
            self.reject(raw.position, _reason(exc))
            return None
        first = self.seen.setdefault(record.sample_id, raw.position)
        if first != raw.position:
            self.reject(
                raw.position, f"duplicate sample_id '{record.sample_id}' ({self.where(first)})"
            )
            return None
        fields = record.fields()
        self.needs_migration |= any(name not in fields for name in MIGRATED_FIELDS)
        self.report.ignored_fields |= set(raw.value) - set(SampleRecord.model_fields) - {"_id"}
        return _Pending(raw.position, self.where(raw.position), fields)


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
    checker = _Checker(form, report)
    await meta.ensure_indexes(db)  # the unique sample_id index makes the upserts race-free
    batch: list[_Pending] = []
    with tqdm(total=len(records), unit="doc", desc="import", disable=not show_progress) as bar:
        for raw in records:
            pending = checker.accept(raw)
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
    if checker.needs_migration and report.loaded:
        migration = await run_migration(db, show_progress=False)
        report.migrated = migration.modified
        report.catalog_version = migration.catalog_version
    if report.catalog_version is None and (report.inserted or report.updated):
        report.catalog_version = await meta.bump_catalog_version(db)
    return report
