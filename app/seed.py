"""Demo data: the 5,000 generated samples, written in the pre-migration shape."""

from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from app.db import SAMPLES, Database, bump_catalog_version
from app.demo_data import generate_samples
from app.training.queries import bulk_upsert_samples

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
