"""What to read: the next-best sample of a language, and a random (unread) one.

Next: the lowest unfinished chapter in curriculum order; within it, the knowledge area where the
student's progress is weakest, then the difficulty just above the hardest one they have
read there. Work is O(chapter): one cached chapter listing and one read-state lookup for
its samples, never a scan of the catalog or of the student's history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from app.training.curriculum import DIFFICULTIES, Language
from app.training.filters import SampleFilter
from app.training.ports import CatalogSource, ProgressSource, ReadState, SampleDoc
from app.training.read_state import enrich, unread
from app.training.shapes import NextOut, RandomOut
from app.training.tables import chapter_table

_LEVEL: dict[str, int] = {name: i for i, name in enumerate(DIFFICULTIES)}


def _choose(rows: Sequence[SampleDoc], reads: set[str]) -> SampleDoc | None:
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
    catalog: CatalogSource,
    reads: ReadState,
    progress: ProgressSource,
    student: str,
    language: Language,
) -> NextOut:
    """The sample to read next with its chapter; ``data`` null when every sample of the
    language is read."""
    chapters = await catalog.derived(language, "chapters", chapter_table)
    stats = (await progress.get(student, language)).stats
    counted = (((stats or {}).get("languages") or {}).get(language) or {}).get("chapters") or {}
    for chapter in chapters:
        number = chapter["chapter"]
        if int((counted.get(str(number)) or {}).get("read", 0)) >= chapter["total_questions"]:
            continue  # finished by the stats document's count
        rows = await catalog.samples(language, SampleFilter(chapter=number))
        found = await reads.read_times(student, language, [r["sample_id"] for r in rows])
        pick = _choose(rows, set(found))
        if pick is not None:  # else the counters lagged the read set: try the next chapter
            return _next(language, number, unread(pick))
    return _next(language, None, None)


def _next(language: Language, chapter: int | None, sample: Any) -> NextOut:
    return {
        "status": "success",
        "language": language,
        "chapter": chapter,
        "data": sample,
        "message": None if sample else "every sample of this language is read",
    }


async def random_sample(
    *,
    catalog: CatalogSource,
    reads: ReadState,
    student: str,
    language: Language,
    flt: SampleFilter,
    unread_only: bool,
) -> RandomOut:
    """A random sample passing ``flt`` (unread by the student if asked), with its read
    state; ``data`` null with a message when none is left."""
    picks = await catalog.random(language, flt, 20 if unread_only else 1)
    found = await reads.read_times(student, language, [p["sample_id"] for p in picks])
    sample = None
    if not unread_only:
        sample = enrich(picks, found)[0] if picks else None
    else:
        left = [p for p in picks if p["sample_id"] not in found]
        if not left:
            # Most of the listing is read: pick among what is left (needs the whole set).
            read_ids = await reads.all_reads(student, language)
            left = [
                r for r in await catalog.samples(language, flt) if r["sample_id"] not in read_ids
            ]
        sample = unread(random.choice(left)) if left else None
    message = None
    if sample is None:
        message = (
            "every matching sample is read" if unread_only else "no sample matches the filters"
        )
    return {"status": "success", "language": language, "data": sample, "message": message}
