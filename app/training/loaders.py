"""The MongoDB loaders behind the per-student caches.

A load serves every later request of its student until the next write, so it may wait
for a MongoDB slot far longer than a one-off query: each load runs under a client-side
timeout of ``wait`` seconds (PyMongo's ``timeout``, which replaces the pool's short queue
timeout for it). When many students' caches are cold at once (a new or flushed Redis),
learners then wait briefly for their loads instead of being shed with 503s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pymongo

from app.db import Database
from app.training.ports import ProgressLoader, ReadLoader, StudentProgress
from app.training.progress import load_student_progress
from app.training.queries import reads


def read_loader(db: Database, *, wait: float) -> ReadLoader:
    """First-read times of a student, patiently: a whole set (a load), or a page's ids,
    which the cache asks only when Redis is away (then every page needs MongoDB, and
    a page that waits is better than a 503)."""

    async def load(
        student: str, language: str, sample_ids: Sequence[str] | None = None
    ) -> dict[str, datetime]:
        with pymongo.timeout(wait):
            return await reads.read_times(db, student, language, sample_ids)

    return load


def progress_loader(db: Database, *, wait: float) -> ProgressLoader:
    """A student's progress (stats document and recent reads), patiently."""

    async def load(student: str) -> StudentProgress:
        with pymongo.timeout(wait):
            return await load_student_progress(db, student)

    return load
