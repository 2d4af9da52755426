"""Demo data: the 5,000 generated samples (pre-migration shape), seeded idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from app.db import Database
from app.demo.generator import generate_samples
from app.training.queries import meta, samples

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
    await meta.ensure_sample_id_index(db)
    inserted = existing = 0
    with tqdm(total=len(docs), unit="doc", desc="seed-demo", disable=not show_progress) as bar:
        for start in range(0, len(docs), BATCH):
            batch = docs[start : start + BATCH]
            new, old = await samples.insert_missing(db, batch)
            inserted, existing = inserted + new, existing + old
            bar.update(len(batch))
    version = await meta.bump_catalog_version(db) if inserted else None
    return SeedReport(inserted, existing, version)


async def catalog_is_empty(db: Database) -> bool:
    """True when the catalog holds no sample."""
    return await samples.is_empty(db)
