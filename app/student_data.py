"""One student's data, on request: export it as JSON, or delete it everywhere.

- ``export_student`` gathers the student's ``student_stats`` and ``sample_progress``
  documents as plain JSON (datetimes as ISO-8601 UTC);
- ``delete_student`` removes them from MongoDB, then everything Redis keeps of the student:
  read sets, progress view, their entries on every leaderboard (those of their first reads'
  periods, and any other board a scan finds) and any other key tagged with their id.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.db import Database
from app.timefmt import iso, utcnow
from app.training.curriculum import LANGUAGES
from app.training.leaderboard import boards_for
from app.training.ports import Board, BoardStore, ProgressSource, ReadState
from app.training.queries import reads, students
from cache.backend import CacheBackend
from cache.student_keys import forget_student_keys


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
    stats = await students.get(db, student)
    progress = [_plain(doc) for doc in await reads.all_of(db, student)]
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
        progress_docs=await reads.count_of(db, student),
        stats_docs=await students.count_of(db, student),
    )


@dataclass(frozen=True, slots=True)
class DeleteReport:
    """What deleting a student removed."""

    student: str
    progress_docs: int
    stats_docs: int
    redis_keys: int | None  # None: no Redis handle given (nothing shared to clean)
    boards: list[str] | None = None  # tags of the leaderboards the student was taken off
    other_keys: list[str] = field(default_factory=list)  # found by the scan, deleted

    def lines(self) -> list[str]:
        """The report as printable lines."""
        keys = "not cleaned (no shared Redis)" if self.redis_keys is None else self.redis_keys
        out = [
            f"student:             {self.student}",
            f"progress documents:  {self.progress_docs}",
            f"stats documents:     {self.stats_docs}",
            f"redis keys:          {keys}",
        ]
        if self.boards is not None:
            listed = f" ({', '.join(self.boards)})" if self.boards else ""
            out.append(f"leaderboards left:   {len(self.boards)}{listed}")
        out += [f"  deleted key:       {key}" for key in self.other_keys]
        return out


async def delete_student(
    *,
    db: Database,
    read_state: ReadState | None,
    progress: ProgressSource | None,
    student: str,
    boards: BoardStore | None = None,
    backend: CacheBackend | None = None,
) -> DeleteReport:
    """Remove the student's progress and stats from MongoDB, then what Redis keeps of them.

    The boards the student's first reads count on are taken from MongoDB before it is
    emptied (a board's key names a period, so a scan alone could miss none, but these need
    no scan to be found); MongoDB goes first, so a set or board rebuilt meanwhile comes back
    without them. Then their read sets and progress view, every board they are on (those, and
    any a scan of every node finds) and, with ``backend``, any other key tagged with their
    id. May raise CacheUnavailable once MongoDB is done (running it again finishes the job).
    """
    on_boards: set[Board] = set()
    if boards is not None:
        for language, read_at in await reads.first_read_times(db, student):
            on_boards.update(boards_for(language, read_at))
    progress_docs = await reads.delete_of(db, student)
    stats_docs = await students.delete_of(db, student)
    redis_keys: int | None = None
    if read_state is not None:
        redis_keys = 0
        for language in LANGUAGES:
            redis_keys += await read_state.forget(student, language)
    if progress is not None:
        redis_keys = (redis_keys or 0) + await progress.forget(student)
    left: list[str] | None = None
    if boards is not None:
        left = sorted(await boards.forget(sorted(on_boards, key=str), student))
    other: list[str] = []
    if backend is not None:
        other = await forget_student_keys(backend, student)
        redis_keys = (redis_keys or 0) + len(other)
    return DeleteReport(student, progress_docs, stats_docs, redis_keys, left, other)
