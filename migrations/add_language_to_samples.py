"""Add ``language``, ``knowledge_area``, ``read_points`` and ``tags`` to every sample.

The language comes from the ``sample_id`` prefix (``c_``, ``cpp_``, ``py_``); an unknown
prefix is never guessed: such documents are left untouched and listed, unless a
``--fallback-language`` is given. ``read_points`` and ``tags`` are set only where missing
(existing tags and custom points survive). Updates go in batched ``bulk_write`` calls.
Each document's update is independent and idempotent, so a run killed half-way and run
again ends correct, and a second run modifies nothing.

Run: ``python -m migrations.add_language_to_samples [--dry-run] [--fallback-language c]``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from app.db import Database
from app.training.curriculum import LANGUAGES, knowledge_area_of, language_of
from app.training.queries import meta, samples

BATCH = 500


@dataclass
class MigrationReport:
    """What a run found and did."""

    total: int = 0
    matched: dict[str, int] = field(default_factory=dict)
    modified: int = 0
    already_migrated: int = 0
    unknown: list[str] = field(default_factory=list)
    dry_run: bool = False
    catalog_version: int | None = None

    def lines(self) -> list[str]:
        """The report as printable lines."""
        out = [
            f"samples scanned:     {self.total}",
            *(f"matched {lang:<11} {n}" for lang, n in sorted(self.matched.items())),
            f"{'would modify' if self.dry_run else 'modified'}:{'':<8}{self.modified}",
            f"already migrated:    {self.already_migrated}",
            f"unknown prefix:      {len(self.unknown)}",
        ]
        out += [f"  - {sid}" for sid in self.unknown[:50]]
        if len(self.unknown) > 50:
            out.append(f"  ... and {len(self.unknown) - 50} more")
        if self.catalog_version is not None:
            out.append(f"catalog version:     {self.catalog_version}")
        return out


def plan_update(doc: dict[str, Any], language: str) -> dict[str, Any]:
    """The ``$set`` a document needs (empty when it is already migrated)."""
    wanted: dict[str, Any] = {
        "language": language,
        "knowledge_area": knowledge_area_of(language, doc.get("chapter")),
    }
    changes: dict[str, Any] = {k: v for k, v in wanted.items() if doc.get(k) != v}
    if "read_points" not in doc:
        changes["read_points"] = 1
    if "tags" not in doc:
        changes["tags"] = []
    return changes


async def migrate(
    db: Database,
    *,
    dry_run: bool = False,
    fallback_language: str | None = None,
    show_progress: bool = True,
) -> MigrationReport:
    """Run the migration over ``db``; see the module docstring."""
    if fallback_language is not None and fallback_language not in LANGUAGES:
        raise ValueError(f"fallback language must be one of: {', '.join(LANGUAGES)}")
    report = MigrationReport(dry_run=dry_run)
    if not dry_run:
        await meta.ensure_indexes(db)
    total = await samples.count(db, {})
    pending: list[tuple[Any, dict[str, Any]]] = []
    bar = tqdm(total=total, unit="doc", desc="migrate", disable=not show_progress)

    async def flush() -> None:
        if dry_run:
            report.modified += len(pending)
        else:
            report.modified += await samples.set_fields_by_id(db, pending)
        bar.update(len(pending))
        pending.clear()

    async for doc in samples.scan_for_migration(db):
        report.total += 1
        sample_id = str(doc.get("sample_id", ""))
        language = language_of(sample_id) or fallback_language
        if language is None:
            report.unknown.append(sample_id or str(doc["_id"]))
            bar.update(1)
            continue
        report.matched[language] = report.matched.get(language, 0) + 1
        changes = plan_update(doc, language)
        if not changes:
            report.already_migrated += 1
            bar.update(1)
            continue
        pending.append((doc["_id"], changes))
        if len(pending) >= BATCH:
            await flush()
    await flush()
    bar.close()
    if report.modified and not dry_run:
        report.catalog_version = await meta.bump_catalog_version(db)
    return report


def exit_code(report: MigrationReport, fallback_language: str | None) -> int:
    """Non-zero when documents were left unmigrated for an unknown prefix."""
    return 2 if report.unknown and fallback_language is None else 0


def main(argv: list[str] | None = None) -> int:
    """Module entry point (``python -m migrations.add_language_to_samples``)."""
    from app.resources import open_resources
    from app.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    parser.add_argument(
        "--fallback-language",
        choices=LANGUAGES,
        help="language for samples whose id prefix is unknown",
    )
    args = parser.parse_args(argv)

    async def run() -> MigrationReport:
        async with open_resources(get_settings(), indexes=False) as res:
            return await migrate(
                res.db, dry_run=args.dry_run, fallback_language=args.fallback_language
            )

    report = asyncio.run(run())
    print("\n".join(report.lines()))
    return exit_code(report, args.fallback_language)


if __name__ == "__main__":
    sys.exit(main())
