"""Demo data: the 5,000 generated samples (pre-migration shape), and reading histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import UpdateOne
from tqdm import tqdm

from app.db import PROGRESS, SAMPLES, Database, bump_catalog_version
from app.demo_data import generate_samples
from app.training import queries
from app.training.progress import recompute_stats
from app.training.queries import bulk_upsert_samples
from app.training.timefmt import utcnow

BATCH = 1000


@dataclass(frozen=True)
class SeedReport:
    """What seeding did."""

    inserted: int
    existing: int
    catalog_version: int | None


async def seed_demo(db: Database, *, seed: int = 42, show_progress: bool = True) -> SeedReport:
    """Insert the demo samples that are missing (idempotent: keyed by ``sample_id``)."""
    docs = generate_samples(seed)
    await db[SAMPLES].create_index("sample_id", unique=True, name="sample_id_unique")
    inserted = existing = 0
    with tqdm(total=len(docs), unit="doc", desc="seed-demo", disable=not show_progress) as bar:
        for start in range(0, len(docs), BATCH):
            batch = docs[start : start + BATCH]
            new, old = await bulk_upsert_samples(db, batch)
            inserted, existing = inserted + new, existing + old
            bar.update(len(batch))
    version = await bump_catalog_version(db) if inserted else None
    return SeedReport(inserted, existing, version)


async def catalog_is_empty(db: Database) -> bool:
    """True when the catalog holds no sample."""
    return await db[SAMPLES].find_one({}, {"_id": 1}) is None


async def seed_history(
    db: Database, *, student: str, language: str, reads: int, now: datetime | None = None
) -> int:
    """Give ``student`` ``reads`` first reads in ``language`` in one bulk write (load tests).

    Reads go to the first samples of the language in curriculum order, one second apart;
    the student's stats are rebuilt from them. Existing reads are kept. Returns how many
    progress documents the student has in the language afterwards.
    """
    now = now or utcnow()
    samples = await queries.all_samples(db, {"language": language})
    ops = []
    for i, sample in enumerate(samples[:reads]):
        read_at = now - timedelta(seconds=reads - i)
        ops.append(
            UpdateOne(
                {"sidhi_id": student, "sample_id": sample["sample_id"]},
                {
                    "$setOnInsert": {
                        "language": language,
                        "knowledge_area": sample.get("knowledge_area", "general"),
                        "chapter": sample["chapter"],
                        "read_at": read_at,
                        "last_revisited": read_at,
                        "time_spent": 30,
                        "revisited_count": 1,
                        "points_awarded": int(sample.get("read_points", 1)),
                    }
                },
                upsert=True,
            )
        )
    if ops:
        await db[PROGRESS].bulk_write(ops, ordered=False)
    await recompute_stats(db=db, student=student)
    return await db[PROGRESS].count_documents({"sidhi_id": student, "language": language})
