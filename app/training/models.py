"""Response models of the training API (documentation and contract tests).

Handlers return pre-serialised JSON for speed; these models describe exactly that JSON,
and the test suite validates real responses against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.training.streaks import ZONES

_EXAMPLE_SAMPLE: dict[str, Any] = {
    "sample_id": "c_ch6_q_000123",
    "chapter": 6,
    "type": "program",
    "difficulty": "medium",
    "question": "Write a C function that swaps two integers through pointers.",
    "answer": "void swap(int *a, int *b) {\n    int t = *a;\n    *a = *b;\n    *b = t;\n}\n",
    "language": "c",
    "knowledge_area": "pointers",
    "read_points": 1,
    "tags": [],
}


class Sample(BaseModel):
    """A training sample as the catalog stores it."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": dict(_EXAMPLE_SAMPLE)})

    sample_id: str
    chapter: int
    type: str
    difficulty: str
    question: str
    answer: str
    language: str | None = None
    knowledge_area: str | None = None
    read_points: int | None = None
    tags: list[str] | None = None


class ReadSample(Sample):
    """A sample with the calling student's read state."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {**_EXAMPLE_SAMPLE, "isRead": True, "readAt": "2026-11-25T09:30:00.000Z"}
        },
    )

    isRead: bool = Field(..., description="Whether the student has read this sample.")
    readAt: str | None = Field(None, description="First read, ISO-8601 UTC.")


class SampleDetail(ReadSample):
    """A sample with the student's read state, total reading time and visit count."""

    timeSpent: int = Field(0, description="Seconds spent on this sample over all visits.")
    revisitedCount: int = Field(0, description="Visits recorded (the first read counts).")


class Pagination(BaseModel):
    """Where a page sits in its listing."""

    page: int
    limit: int
    total: int
    total_pages: int
    has_next: bool
    has_prev: bool


class SamplePage(BaseModel):
    """A page of samples."""

    status: str = "success"
    language: str
    data: list[ReadSample]
    pagination: Pagination


class SearchPage(SamplePage):
    """A page of search results."""

    query: str


class SampleOut(BaseModel):
    """One sample with the student's progress on it."""

    status: str = "success"
    data: SampleDetail


class RandomOut(BaseModel):
    """A random sample; ``data`` is null when ``unread_only`` finds nothing left to read."""

    status: str = "success"
    language: str
    data: ReadSample | None
    message: str | None = None


class Breakdown(BaseModel):
    """Counts by type and by difficulty."""

    by_type: dict[str, int]
    by_difficulty: dict[str, int]


class Chapter(BaseModel):
    """A chapter's totals and the student's progress in it."""

    chapter: int
    knowledge_area: str
    total_questions: int
    read_questions: int
    progress_percentage: float
    breakdown: Breakdown


class ChaptersOut(BaseModel):
    """Chapters of a language."""

    status: str = "success"
    language: str
    as_of: str = Field(..., description="When this answer was computed, ISO-8601 UTC.")
    total_chapters: int
    chapters: list[Chapter]


class FiltersOut(BaseModel):
    """The values each filter accepts."""

    status: str = "success"
    languages: list[str]
    chapters: dict[str, list[int]]
    knowledge_areas: dict[str, list[str]]
    types: list[str]
    difficulties: list[str]


class StatsOut(BaseModel):
    """Totals of a language's catalog."""

    status: str = "success"
    language: str
    as_of: str = Field(..., description="When the counts were computed, ISO-8601 UTC.")
    total_samples: int
    by_chapter: dict[str, int]
    by_type: dict[str, int]
    by_difficulty: dict[str, int]
    by_knowledge_area: dict[str, int]


class KnowledgeArea(BaseModel):
    """A knowledge area's sample counts."""

    knowledge_area: str
    total_samples: int
    chapters: list[int]
    by_difficulty: dict[str, int]


class KnowledgeAreasOut(BaseModel):
    """Knowledge areas of a language, in curriculum order."""

    status: str = "success"
    language: str
    as_of: str = Field(..., description="When the counts were computed, ISO-8601 UTC.")
    total_areas: int
    knowledge_areas: list[KnowledgeArea]


class TimeSpentIn(BaseModel):
    """Optional JSON body of mark-read."""

    model_config = ConfigDict(extra="forbid")

    time_spent: int = Field(..., ge=1, le=3600, description="Seconds spent reading (1-3600).")


class MarkReadOut(BaseModel):
    """What a mark-read did."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "status": "success",
                "sample_id": "c_ch1_q_000025",
                "is_first_read": True,
                "points_awarded": 1,
                "total_points": 42,
                "message": "Sample marked as read",
            }
        }
    )

    status: str = "success"
    sample_id: str
    is_first_read: bool
    points_awarded: int
    total_points: int
    message: str


class Overview(BaseModel):
    """Totals of a student's progress in a language."""

    samples_read: int
    samples_total: int
    progress_percentage: float
    total_time_seconds: int
    total_time_minutes: float
    points: int
    total_points: int


class ChapterProgress(BaseModel):
    """A student's reads in one chapter."""

    chapter: int
    knowledge_area: str
    read: int
    total: int
    percentage: float


class AreaProgress(BaseModel):
    """A student's reads in one knowledge area."""

    area: str
    read: int
    total: int
    percentage: float
    time_spent_minutes: float


class RecentRead(BaseModel):
    """One of the student's latest first reads."""

    sample_id: str
    chapter: int | None
    knowledge_area: str | None
    read_at: str | None
    last_revisited: str | None
    time_spent: int
    revisited_count: int


class Streak(BaseModel):
    """Days in a row with at least the minimum of first reads, in the student's zone."""

    current: int
    longest: int
    last_active_date: str | None = Field(None, description="Local date, YYYY-MM-DD.")
    tz: str = Field(..., description="IANA zone the days were counted in.")


class ProgressOut(BaseModel):
    """A student's progress in a language."""

    status: str = "success"
    language: str
    as_of: str = Field(..., description="When this answer was computed, ISO-8601 UTC.")
    streak: Streak
    overview: Overview
    by_chapter: list[ChapterProgress]
    by_knowledge_area: list[AreaProgress]
    recent_activity: list[RecentRead]


class LeaderEntry(BaseModel):
    """A place on a leaderboard (tied students share a rank)."""

    rank: int
    student: str
    points: int


class MyStanding(BaseModel):
    """The caller's place: their rank even outside the top, or the rank they would have
    when they opted out (``hidden``)."""

    student: str
    rank: int | None
    points: int
    hidden: bool


class LeaderboardOut(BaseModel):
    """Top students by points in a period (UTC weeks and months)."""

    status: str = "success"
    language: str
    period: str
    period_key: str = Field(..., examples=["2026-W48"])
    as_of: str
    top: list[LeaderEntry]
    me: MyStanding


class NextOut(BaseModel):
    """The sample to read next; ``data`` is null when every sample is read."""

    status: str = "success"
    language: str
    chapter: int | None
    data: ReadSample | None
    message: str | None = None


class PreferencesIn(BaseModel):
    """Preferences to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    tz: str | None = Field(
        None,
        max_length=64,
        description="IANA time zone for streaks.",
        examples=["Europe/Berlin"],
        json_schema_extra={"enum": list[JsonValue](ZONES)},
    )
    leaderboard_opt_out: bool | None = Field(
        None, description="Hide me from other students' leaderboards."
    )


class PreferencesOut(BaseModel):
    """The student's preferences."""

    status: str = "success"
    tz: str | None = None
    leaderboard_opt_out: bool = False


class HealthOut(BaseModel):
    """Liveness."""

    status: str = "ok"


class ReadyOut(BaseModel):
    """Readiness per dependency."""

    status: str
    mongodb: str
    redis: str


# One example per response model, for /docs (real answers: docs/API_EXAMPLES.md).
_READ = {**_EXAMPLE_SAMPLE, "isRead": True, "readAt": "2026-11-25T09:30:00.000Z"}
_PAGE = {
    "page": 1,
    "limit": 20,
    "total": 1800,
    "total_pages": 90,
    "has_next": True,
    "has_prev": False,
}
_EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    SamplePage: {"status": "success", "language": "c", "data": [_READ], "pagination": _PAGE},
    SearchPage: {
        "status": "success",
        "language": "c",
        "query": "pointer",
        "data": [_READ],
        "pagination": {**_PAGE, "total": 1, "total_pages": 1, "has_next": False},
    },
    SampleOut: {"status": "success", "data": {**_READ, "timeSpent": 75, "revisitedCount": 2}},
    RandomOut: {"status": "success", "language": "c", "data": _READ, "message": None},
    ChaptersOut: {
        "status": "success",
        "language": "c",
        "as_of": "2026-11-25T09:30:00.000Z",
        "total_chapters": 1,
        "chapters": [
            {
                "chapter": 6,
                "knowledge_area": "pointers",
                "total_questions": 180,
                "read_questions": 9,
                "progress_percentage": 5.0,
                "breakdown": {
                    "by_type": {"program": 45, "mcq": 45, "theory": 45, "debug": 45},
                    "by_difficulty": {"easy": 60, "medium": 80, "hard": 40},
                },
            }
        ],
    },
    FiltersOut: {
        "status": "success",
        "languages": ["c", "cpp", "python"],
        "chapters": {"c": [1, 2, 3]},
        "knowledge_areas": {"c": ["basics"]},
        "types": ["program", "mcq", "theory", "debug"],
        "difficulties": ["easy", "medium", "hard"],
    },
    StatsOut: {
        "status": "success",
        "language": "python",
        "as_of": "2026-11-25T09:30:00.000Z",
        "total_samples": 1400,
        "by_chapter": {"1": 175},
        "by_type": {"program": 350},
        "by_difficulty": {"easy": 500},
        "by_knowledge_area": {"basics": 175},
    },
    KnowledgeAreasOut: {
        "status": "success",
        "language": "c",
        "as_of": "2026-11-25T09:30:00.000Z",
        "total_areas": 1,
        "knowledge_areas": [
            {
                "knowledge_area": "pointers",
                "total_samples": 180,
                "chapters": [6],
                "by_difficulty": {"easy": 60, "medium": 80, "hard": 40},
            }
        ],
    },
    ProgressOut: {
        "status": "success",
        "language": "c",
        "as_of": "2026-11-25T09:30:00.000Z",
        "streak": {
            "current": 3,
            "longest": 5,
            "last_active_date": "2026-11-25",
            "tz": "Europe/Berlin",
        },
        "overview": {
            "samples_read": 12,
            "samples_total": 1800,
            "progress_percentage": 0.67,
            "total_time_seconds": 900,
            "total_time_minutes": 15.0,
            "points": 12,
            "total_points": 20,
        },
        "by_chapter": [
            {"chapter": 1, "knowledge_area": "basics", "read": 12, "total": 202, "percentage": 5.94}
        ],
        "by_knowledge_area": [
            {
                "area": "basics",
                "read": 12,
                "total": 202,
                "percentage": 5.94,
                "time_spent_minutes": 15.0,
            }
        ],
        "recent_activity": [
            {
                "sample_id": "c_ch1_q_000025",
                "chapter": 1,
                "knowledge_area": "basics",
                "read_at": "2026-11-25T09:30:00.000Z",
                "last_revisited": "2026-11-25T09:31:00.000Z",
                "time_spent": 75,
                "revisited_count": 2,
            }
        ],
    },
    LeaderboardOut: {
        "status": "success",
        "language": "c",
        "period": "week",
        "period_key": "2026-W48",
        "as_of": "2026-11-25T09:30:00.000Z",
        "top": [{"rank": 1, "student": "SIDHI_A6281C8BA865", "points": 42}],
        "me": {"student": "SIDHI_B00000000001", "rank": 17, "points": 5, "hidden": False},
    },
    NextOut: {
        "status": "success",
        "language": "c",
        "chapter": 6,
        "data": {**_READ, "isRead": False, "readAt": None},
        "message": None,
    },
    PreferencesOut: {"status": "success", "tz": "Europe/Berlin", "leaderboard_opt_out": False},
    HealthOut: {"status": "ok"},
    ReadyOut: {"status": "ready", "mongodb": "ok", "redis": "ok"},
}
for _model, _example in _EXAMPLES.items():
    _model.model_config["json_schema_extra"] = {"example": _example}
    _model.model_rebuild(force=True)
