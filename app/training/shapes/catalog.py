"""Catalog shapes: samples and their pages, and the catalog's tables (chapters, filters,
stats, knowledge areas)."""

from __future__ import annotations

from typing import Annotated, NotRequired

from pydantic import Field, with_config
from typing_extensions import TypedDict

from app.training.curriculum import Difficulty, Language, SampleType
from app.training.shapes.base import OPEN_SHAPE, SHAPE, AsOf, Success, Timestamp


@with_config(OPEN_SHAPE)
class Sample(TypedDict):
    """A training sample as the catalog stores it."""

    sample_id: str
    chapter: int
    type: SampleType
    difficulty: Difficulty
    question: str
    answer: str
    language: NotRequired[Language | None]
    knowledge_area: NotRequired[str | None]
    read_points: NotRequired[int | None]
    tags: NotRequired[list[str] | None]


@with_config(OPEN_SHAPE)
class ReadSample(Sample):
    """A sample with the calling student's read state."""

    isRead: Annotated[bool, Field(description="Whether the student has read this sample.")]
    readAt: Annotated[Timestamp | None, Field(description="First read, ISO-8601 UTC.")]


@with_config(OPEN_SHAPE)
class SampleDetail(ReadSample):
    """A sample with the student's read state, total reading time and visit count."""

    timeSpent: Annotated[int, Field(description="Seconds spent on this sample over all visits.")]
    revisitedCount: Annotated[int, Field(description="Visits recorded (the first read counts).")]


@with_config(SHAPE)
class Pagination(TypedDict):
    """Where a page sits in its listing."""

    page: int
    limit: int
    total: int
    total_pages: int
    has_next: bool
    has_prev: bool


@with_config(SHAPE)
class SamplePage(TypedDict):
    """A page of samples."""

    status: Success
    language: Language
    data: list[ReadSample]
    pagination: Pagination


@with_config(SHAPE)
class SearchPage(SamplePage):
    """A page of search results."""

    query: str


@with_config(SHAPE)
class SampleOut(TypedDict):
    """One sample with the student's progress on it."""

    status: Success
    data: SampleDetail


@with_config(SHAPE)
class RandomOut(TypedDict):
    """A random sample; ``data`` is null when ``unread_only`` finds nothing left to read."""

    status: Success
    language: Language
    data: ReadSample | None
    message: str | None


# --- catalog tables ---------------------------------------------------------------------


@with_config(SHAPE)
class Breakdown(TypedDict):
    """Counts by type and by difficulty."""

    by_type: dict[str, int]
    by_difficulty: dict[str, int]


@with_config(SHAPE)
class ChapterTotals(TypedDict):
    """A chapter's totals in the catalog."""

    chapter: int
    knowledge_area: str
    total_questions: int
    breakdown: Breakdown


@with_config(SHAPE)
class Chapter(ChapterTotals):
    """A chapter's totals and the student's progress in it."""

    read_questions: int
    progress_percentage: float


@with_config(SHAPE)
class ChaptersOut(TypedDict):
    """Chapters of a language."""

    status: Success
    language: Language
    as_of: AsOf
    total_chapters: int
    chapters: list[Chapter]


@with_config(SHAPE)
class FiltersOut(TypedDict):
    """The values each filter accepts."""

    status: Success
    languages: list[Language]
    chapters: dict[str, list[int]]
    knowledge_areas: dict[str, list[str]]
    types: list[SampleType]
    difficulties: list[Difficulty]


@with_config(SHAPE)
class StatsTotals(TypedDict):
    """Sample counts of a language's catalog."""

    total_samples: int
    by_chapter: dict[str, int]
    by_type: dict[str, int]
    by_difficulty: dict[str, int]
    by_knowledge_area: dict[str, int]


@with_config(SHAPE)
class StatsOut(StatsTotals):
    """Totals of a language's catalog."""

    status: Success
    language: Language
    as_of: Annotated[Timestamp, Field(description="When the counts were computed, ISO-8601 UTC.")]


@with_config(SHAPE)
class KnowledgeArea(TypedDict):
    """A knowledge area's sample counts."""

    knowledge_area: str
    total_samples: int
    chapters: list[int]
    by_difficulty: dict[str, int]


@with_config(SHAPE)
class KnowledgeAreasOut(TypedDict):
    """Knowledge areas of a language, in curriculum order."""

    status: Success
    language: Language
    as_of: Annotated[Timestamp, Field(description="When the counts were computed, ISO-8601 UTC.")]
    total_areas: int
    knowledge_areas: list[KnowledgeArea]
