"""Every response shape of the API, declared once as a TypedDict, in modules by endpoint
group (``catalog``, ``progress``, ``ops``) on the types of ``base``; all importable from here.

Services return these (mypy checks what they build), handlers serialise them with orjson
(no per-request pydantic pass on the hot path), FastAPI renders them into the OpenAPI
document, and ``app.training.examples`` holds one typed example of each, which the docs
layer (``app.docs``) attaches to the document.
Tests validate real responses against them with pydantic.
"""

from __future__ import annotations

from app.training.shapes.base import (
    OPEN_SHAPE,
    SHAPE,
    AsOf,
    Day,
    Period,
    Success,
    Timestamp,
    ZoneName,
)
from app.training.shapes.catalog import (
    Breakdown,
    Chapter,
    ChaptersOut,
    ChapterTotals,
    FiltersOut,
    KnowledgeArea,
    KnowledgeAreasOut,
    Pagination,
    RandomOut,
    ReadSample,
    Sample,
    SampleDetail,
    SampleOut,
    SamplePage,
    SearchPage,
    StatsOut,
    StatsTotals,
)
from app.training.shapes.ops import (
    HealthOut,
    ReadyOut,
)
from app.training.shapes.progress import (
    AreaProgress,
    ChapterProgress,
    LeaderboardOut,
    LeaderEntry,
    MarkReadOut,
    MyStanding,
    NextOut,
    Overview,
    PreferencesOut,
    ProgressOut,
    RecentRead,
    ShownName,
    Streak,
    TimezonesOut,
)

__all__ = [
    "OPEN_SHAPE",
    "RESPONSE_SHAPES",
    "SHAPE",
    "AreaProgress",
    "AsOf",
    "Breakdown",
    "Chapter",
    "ChapterProgress",
    "ChapterTotals",
    "ChaptersOut",
    "Day",
    "FiltersOut",
    "HealthOut",
    "KnowledgeArea",
    "KnowledgeAreasOut",
    "LeaderEntry",
    "LeaderboardOut",
    "MarkReadOut",
    "MyStanding",
    "NextOut",
    "Overview",
    "Pagination",
    "Period",
    "PreferencesOut",
    "ProgressOut",
    "RandomOut",
    "ReadSample",
    "ReadyOut",
    "RecentRead",
    "Sample",
    "SampleDetail",
    "SampleOut",
    "SamplePage",
    "SearchPage",
    "ShownName",
    "StatsOut",
    "StatsTotals",
    "Streak",
    "Success",
    "Timestamp",
    "TimezonesOut",
    "ZoneName",
]

RESPONSE_SHAPES: tuple[type, ...] = (
    SamplePage,
    SearchPage,
    SampleOut,
    RandomOut,
    ChaptersOut,
    FiltersOut,
    StatsOut,
    KnowledgeAreasOut,
    MarkReadOut,
    ProgressOut,
    LeaderboardOut,
    NextOut,
    PreferencesOut,
    TimezonesOut,
    HealthOut,
    ReadyOut,
)
"""The top-level body of every JSON answer (each has an example)."""
