"""Next-best sample: what a student should read next in a language.

The lowest unfinished chapter in curriculum order; within it, the knowledge area where the
student's progress is weakest, then the difficulty just above the hardest one they have
read there. Work is O(chapter): one cached chapter listing and one read-state lookup for
its samples, never a scan of the catalog or of the student's history.
"""

from __future__ import annotations

from typing import Any

from app.db import Database
from app.training import catalog as catalog_service
from app.training import queries
from app.training.catalog import SampleFilter
from app.training.curriculum import DIFFICULTIES
from app.training.progress import enrich, read_map
from cache.catalog import CatalogCache
from cache.progress import ProgressSets

_LEVEL = {name: i for i, name in enumerate(DIFFICULTIES)}


def _choose(rows: list[dict[str, Any]], reads: set[str]) -> dict[str, Any] | None:
    """The unread sample of a chapter to read next, or None when all are read."""
    unread = [r for r in rows if r["sample_id"] not in reads]
    if not unread:
        return None
    totals: dict[str, int] = {}
    done: dict[str, int] = {}
    hardest = -1
    for row in rows:
        area = str(row.get("knowledge_area"))
        totals[area] = totals.get(area, 0) + 1
        if row["sample_id"] in reads:
            done[area] = done.get(area, 0) + 1
            hardest = max(hardest, _LEVEL.get(str(row.get("difficulty")), 0))
    target = min(hardest + 1, len(DIFFICULTIES) - 1)

    def rank(row: dict[str, Any]) -> tuple[float, int, int, str]:
        area = str(row.get("knowledge_area"))
        level = _LEVEL.get(str(row.get("difficulty")), 0)
        return (
            done.get(area, 0) / totals[area],  # weakest area first
            abs(level - target),  # closest to "just above what they have read"
            0 if level >= target else 1,  # on a tie, stretch rather than repeat
            row["sample_id"],
        )

    return min(unread, key=rank)


async def next_sample(
    *,
    db: Database,
    catalog: CatalogCache | None,
    progress: ProgressSets | None,
    student: str,
    language: str,
) -> tuple[dict[str, Any] | None, int | None]:
    """(the sample to read next with isRead/readAt, its chapter); (None, None) when every
    sample of the language is read."""
    chapters = await catalog_service.chapters(db=db, catalog=catalog, language=language)
    stats = await queries.get_stats(db, student)
    counted = (((stats or {}).get("languages") or {}).get(language) or {}).get("chapters") or {}
    for chapter in chapters:
        number = chapter["chapter"]
        if int((counted.get(str(number)) or {}).get("read", 0)) >= chapter["total_questions"]:
            continue  # finished by the stats document's count
        rows = list(
            await catalog_service.filtered_rows(
                db=db, catalog=catalog, language=language, flt=SampleFilter(chapter=number)
            )
        )
        found = await read_map(
            db=db,
            progress=progress,
            student=student,
            language=language,
            sample_ids=[r["sample_id"] for r in rows],
        )
        pick = _choose(rows, set(found))
        if pick is not None:  # else the counters lagged the read set: try the next chapter
            return enrich([pick], {})[0], number
    return None, None
