"""Export and deletion of a student's data (``app.student_data``), against a real database
and every Redis backend."""

from __future__ import annotations

import functools
import json
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.batching import GroupCommit
from app.data_import import import_samples
from app.db import PROGRESS, STATS, Database
from app.student_data import delete_student, export_student
from app.training.catalog_source import MongoCatalog
from app.training.mark_read import mark_read
from app.training.ports import ProgressSource, ReadState
from app.training.progress import load_student_progress
from app.training.queries import reads as read_queries
from app.visit_batches import write_visits
from cache.backend import CacheBackend
from cache.leaderboard import MongoBoards
from cache.progress import ProgressSets
from cache.progress_view import ProgressViews
from cache.reads import CachedReads, MongoReads
from cache.student_progress import CachedProgress, MongoProgress
from tests.conftest import REDIS_BACKENDS, SECRET, backend_of, drop_backend, unique_name
from tests.test_cli import ROOT, lumetrix
from tests.test_data_import import db_env, jsonl, sample


def _mongo_reads(db: Database) -> MongoReads:
    return MongoReads(functools.partial(read_queries.read_times, db))


def _mongo_progress(db: Database) -> MongoProgress:
    return MongoProgress(functools.partial(load_student_progress, db))


async def _read(
    db: Database,
    student: str,
    sample_id: str,
    seconds: int,
    reads: ReadState,
    progress: ProgressSource | None = None,
) -> None:
    """One mark-read through the service, on the MongoDB catalog."""
    await mark_read(
        writer=GroupCommit(functools.partial(write_visits, db), window=0, max_size=8),
        catalog=MongoCatalog(db),
        reads=reads,
        progress=progress or _mongo_progress(db),
        boards=MongoBoards(),
        student=student,
        sample_id=sample_id,
        time_spent=seconds,
    )


async def _student_with_reads(db: Database, tmp_path: Path, student: str) -> None:
    """Two samples imported (and migrated), both read by ``student``."""
    file = jsonl(tmp_path / "s.jsonl", [sample("c_ch1_q_1"), sample("c_ch2_q_2", chapter=2)])
    await import_samples(db=db, path=file, show_progress=False)
    for sample_id, seconds in (("c_ch1_q_1", 40), ("c_ch2_q_2", 15), ("c_ch1_q_1", 5)):
        await _read(db, student, sample_id, seconds, _mongo_reads(db))


async def test_export_progress(mongo_url: str, fresh_db: Database, tmp_path: Path) -> None:
    student, other = unique_name("SIDHI"), unique_name("SIDHI")
    await _student_with_reads(fresh_db, tmp_path, student)
    await _read(fresh_db, other, "c_ch1_q_1", 1, _mongo_reads(fresh_db))

    data = await export_student(db=fresh_db, student=student)
    assert data["student"] == student and data["exported_at"].endswith("Z")
    assert data["stats"]["total_points"] == 2 and "_id" not in data["stats"]
    rows = data["progress"]
    assert [r["sample_id"] for r in rows] == ["c_ch1_q_1", "c_ch2_q_2"]
    assert {r["sidhi_id"] for r in rows} == {student}
    assert rows[0]["time_spent"] == 45 and rows[0]["revisited_count"] == 2
    assert all("_id" not in r and r["read_at"].endswith("Z") for r in rows)
    json.dumps(data)  # plain JSON all the way down

    env = db_env(mongo_url, fresh_db)
    out = lumetrix("export-progress", "--student", student, **env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["progress"] == rows
    target = tmp_path / "export.json"
    written = lumetrix("export-progress", "--student", student, "--output", str(target), **env)
    assert written.returncode == 0, written.stderr
    assert "wrote 2 progress records" in written.stdout
    assert json.loads(target.read_text())["stats"] == data["stats"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600

    nobody = lumetrix("export-progress", "--student", "SIDHI_NOBODY", **env)
    assert nobody.returncode == 0 and "no data stored" in nobody.stderr
    assert json.loads(nobody.stdout)["progress"] == []
    bad = lumetrix("export-progress", "--student", "{evil}", **env)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


@pytest.fixture(params=REDIS_BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[CacheBackend]:
    """Each Redis backend (own key prefix)."""
    handle = backend_of(request.param)
    yield handle
    await drop_backend(handle)


async def test_delete_student_removes_mongo_docs_and_redis_keys(
    fresh_db: Database, tmp_path: Path, backend: CacheBackend
) -> None:
    sets = ProgressSets(backend, ttl_seconds=3600)
    cached = CachedReads(sets, functools.partial(read_queries.read_times, fresh_db))
    views = ProgressViews(backend, ttl_seconds=3600, languages=("c", "cpp", "python"))
    progress = CachedProgress(views, functools.partial(load_student_progress, fresh_db))
    student, other = unique_name("SIDHI"), unique_name("SIDHI")
    await _student_with_reads(fresh_db, tmp_path, student)
    extra = jsonl(tmp_path / "extra.jsonl", [sample("c_ch3_q_3", chapter=3)])
    await import_samples(db=fresh_db, path=extra, show_progress=False)
    for who in (student, other):
        # read-through installs the read set for c; a first read then bumps its generation
        await cached.read_times(who, "c", ["c_ch1_q_1"])
        await progress.get(who, "c")  # loads the view
        await _read(fresh_db, who, "c_ch3_q_3", 3, cached, progress)
    assert await sets.members(student, "c") is not None
    assert await backend.client.exists(*sets.keys(student, "c")) == 2
    view_keys = [*views.keys(student), views.recent_key(student, "c")]
    assert await backend.client.exists(*view_keys) == 3

    report = await delete_student(
        db=fresh_db, read_state=cached, progress=progress, student=student
    )
    assert (report.progress_docs, report.stats_docs, report.redis_keys) == (3, 1, 5)
    assert await backend.client.exists(*view_keys) == 0
    assert await fresh_db[PROGRESS].count_documents({"sidhi_id": student}) == 0
    assert await fresh_db[STATS].count_documents({"_id": student}) == 0
    for language in ("c", "cpp", "python"):
        assert await backend.client.exists(*sets.keys(student, language)) == 0
    # the other student is untouched
    assert await fresh_db[PROGRESS].count_documents({"sidhi_id": other}) == 1
    assert await backend.client.exists(*sets.keys(other, "c")) == 2

    again = await delete_student(db=fresh_db, read_state=cached, progress=progress, student=student)
    assert (again.progress_docs, again.stats_docs, again.redis_keys) == (0, 0, 0)


def lumetrix_with_input(text: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``lumetrix args`` answering prompts with ``text``."""
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "JWT_SECRET": SECRET, **env},
    )


async def test_delete_student_command(mongo_url: str, fresh_db: Database, tmp_path: Path) -> None:
    student = unique_name("SIDHI")
    await _student_with_reads(fresh_db, tmp_path, student)
    env = db_env(mongo_url, fresh_db)

    declined = lumetrix_with_input("n\n", "delete-student", student, **env)
    assert declined.returncode == 1 and "nothing deleted" in declined.stderr
    assert "Delete 2 progress and 1 stats documents" in declined.stdout
    assert await fresh_db[PROGRESS].count_documents({"sidhi_id": student}) == 2

    confirmed = lumetrix_with_input("y\n", "delete-student", student, **env)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "progress documents:  2" in confirmed.stdout
    assert "stats documents:     1" in confirmed.stdout
    assert "no shared Redis" in confirmed.stdout
    assert await fresh_db[PROGRESS].count_documents({"sidhi_id": student}) == 0
    assert await fresh_db[STATS].count_documents({"_id": student}) == 0

    forced = lumetrix("delete-student", student, "--yes", **env)
    assert forced.returncode == 0 and "progress documents:  0" in forced.stdout


async def test_delete_student_leaves_every_board_and_key(
    fresh_db: Database, tmp_path: Path, backend: CacheBackend
) -> None:
    """The probe's case: after delete-student the id stayed on the week, month and
    all-time boards. Every board is cleaned: those of the student's first reads (from
    MongoDB), and, found by a scan of every node, any other (an old week here)."""
    from datetime import UTC, datetime

    from app.training.leaderboard import boards_for
    from app.training.ports import Board, BoardData
    from cache.leaderboard import Leaderboards, RedisBoards

    student, other = unique_name("SIDHI"), unique_name("SIDHI")
    await _student_with_reads(fresh_db, tmp_path, student)
    await _read(fresh_db, other, "c_ch1_q_1", 1, _mongo_reads(fresh_db))
    lb = Leaderboards(backend)
    old = Board("cpp", "week", "2020-W01", 3600)
    current = boards_for("c", datetime.now(UTC))
    for board in [*current, old]:
        token = await lb.begin_load(board)
        await lb.load(board, BoardData({student: 4, other: 1}, frozenset({student})), token)
    stray = backend.key("ratelimit", "{" + student + "}", "mark-read")
    await backend.client.set(stray, 1)

    report = await delete_student(
        db=fresh_db,
        read_state=None,
        progress=None,
        boards=RedisBoards(lb),
        backend=backend,
        student=student,
    )
    for board in [*current, old]:
        key, _ = lb.keys(board)
        assert await backend.client.zscore(key, student) is None, board
        assert await backend.client.zscore(key, other) == 1  # the others stay
        assert not await backend.client.sismember(lb.out_key(board), student)
    assert await backend.client.exists(stray) == 0
    tags = sorted(lb.tag(b) for b in [*current, old])
    assert sorted(report.boards or []) == tags
    text = "\n".join(report.lines())
    assert all(tag in text for tag in tags) and stray in text

    again = await delete_student(
        db=fresh_db,
        read_state=None,
        progress=None,
        boards=RedisBoards(lb),
        backend=backend,
        student=student,
    )
    assert again.boards == [] and again.redis_keys == 0
