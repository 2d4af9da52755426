"""Catalog tables derived from a language's facet counts: chapters, areas and totals.

Pure functions over the rows of ``queries.samples.facet_counts`` (one row per chapter,
knowledge area, type and difficulty with its count); catalog sources keep the tables
they build next to the facets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.training.curriculum import DIFFICULTIES, TYPES
from app.training.shapes import ChapterTotals, KnowledgeArea, StatsTotals

FacetRow = dict[str, Any]


def _count_by(rows: list[FacetRow], key: str) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for row in rows:
        out[row[key]] = out.get(row[key], 0) + row["count"]
    return out


def _breakdown(rows: list[FacetRow], key: str, values: Sequence[str]) -> dict[str, int]:
    counts = _count_by(rows, key)
    return {v: counts.get(v, 0) for v in values} | {
        k: n for k, n in counts.items() if k not in values and isinstance(k, str)
    }


def chapter_table(rows: list[FacetRow]) -> list[ChapterTotals]:
    """Per chapter: total, knowledge area and breakdown by type and difficulty."""
    chapters: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if isinstance(row.get("chapter"), int):
            chapters.setdefault(row["chapter"], []).append(row)
    table: list[ChapterTotals] = []
    for number in sorted(chapters):
        group = chapters[number]
        areas = _count_by(group, "knowledge_area")
        table.append(
            {
                "chapter": number,
                "knowledge_area": max(areas, key=lambda a: areas[a]),
                "total_questions": sum(r["count"] for r in group),
                "breakdown": {
                    "by_type": _breakdown(group, "type", TYPES),
                    "by_difficulty": _breakdown(group, "difficulty", DIFFICULTIES),
                },
            }
        )
    return table


def area_table(rows: list[FacetRow]) -> list[KnowledgeArea]:
    """Per knowledge area: total and breakdown by difficulty, first chapter first."""
    areas: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        areas.setdefault(str(row.get("knowledge_area")), []).append(row)

    def first_chapter(area: str) -> tuple[int, str]:
        chapters = [r["chapter"] for r in areas[area] if isinstance(r.get("chapter"), int)]
        return (min(chapters, default=10**6), area)

    return [
        {
            "knowledge_area": area,
            "total_samples": sum(r["count"] for r in areas[area]),
            "chapters": sorted(
                {r["chapter"] for r in areas[area] if isinstance(r.get("chapter"), int)}
            ),
            "by_difficulty": _breakdown(areas[area], "difficulty", DIFFICULTIES),
        }
        for area in sorted(areas, key=first_chapter)
    ]


def stats_table(rows: list[FacetRow]) -> StatsTotals:
    """Totals of a language by chapter, type, difficulty and knowledge area."""
    return {
        "total_samples": sum(r["count"] for r in rows),
        "by_chapter": {
            str(k): v for k, v in sorted(_count_by(rows, "chapter").items()) if isinstance(k, int)
        },
        "by_type": _breakdown(rows, "type", TYPES),
        "by_difficulty": _breakdown(rows, "difficulty", DIFFICULTIES),
        "by_knowledge_area": {str(k): v for k, v in _count_by(rows, "knowledge_area").items()},
    }
