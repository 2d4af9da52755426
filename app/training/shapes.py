"""Every response shape of the API, declared once as a TypedDict.

Services return these (mypy checks what they build), handlers serialise them with orjson
(no per-request pydantic pass on the hot path), FastAPI renders them into the OpenAPI
document, and ``app.training.examples`` holds one typed example of each, which the docs
layer (``app.docs``) attaches to the document.
Tests validate real responses against them with pydantic.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import ConfigDict, Field, WithJsonSchema, with_config
from typing_extensions import TypedDict

from app.training.curriculum import Difficulty, Language, SampleType

SHAPE = ConfigDict()
# Samples may carry fields the API does not know about (imported data): pass them on.
OPEN_SHAPE = ConfigDict(extra="allow")

Success = Literal["success"]
# Timestamps and dates travel as strings (formatted once, by app.timefmt); these
# aliases declare their formats, so generated clients parse them into date types.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""An instant, ISO-8601 UTC with milliseconds and ``Z``, e.g. 2026-11-25T09:30:00.000Z."""
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
"""A calendar date, YYYY-MM-DD."""
ZoneName = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "format": "iana-time-zone",
            "maxLength": 64,
            "description": "IANA time zone name, e.g. Europe/Berlin; "
            "`GET /training/timezones` lists every accepted one.",
            "examples": ["Europe/Berlin"],
        }
    ),
]
"""An IANA time zone name (one of ``GET /training/timezones``)."""
AsOf = Annotated[Timestamp, Field(description="When this answer was computed, ISO-8601 UTC.")]
Period = Literal["week", "month", "all"]


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


# --- progress ---------------------------------------------------------------------------


@with_config(SHAPE)
class MarkReadOut(TypedDict):
    """What a mark-read did."""

    status: Success
    sample_id: str
    is_first_read: bool
    points_awarded: int
    total_points: int
    message: str


@with_config(SHAPE)
class Overview(TypedDict):
    """Totals of a student's progress in a language."""

    samples_read: int
    samples_total: int
    progress_percentage: float
    total_time_seconds: int
    total_time_minutes: float
    points: int
    total_points: int


@with_config(SHAPE)
class ChapterProgress(TypedDict):
    """A student's reads in one chapter."""

    chapter: int
    knowledge_area: str
    read: int
    total: int
    percentage: float


@with_config(SHAPE)
class AreaProgress(TypedDict):
    """A student's reads in one knowledge area."""

    area: str
    read: int
    total: int
    percentage: float
    time_spent_minutes: float


@with_config(SHAPE)
class RecentRead(TypedDict):
    """One of the student's latest first reads."""

    sample_id: str
    chapter: int | None
    knowledge_area: str | None
    read_at: Annotated[Timestamp | None, Field(description="First read, ISO-8601 UTC.")]
    last_revisited: Annotated[Timestamp | None, Field(description="Latest visit, ISO-8601 UTC.")]
    time_spent: int
    revisited_count: int


@with_config(SHAPE)
class Streak(TypedDict):
    """Days in a row with at least the minimum of first reads, in the student's zone."""

    current: int
    longest: int
    last_active_date: Annotated[Day | None, Field(description="Local date, YYYY-MM-DD.")]
    tz: Annotated[ZoneName, Field(description="IANA zone the days were counted in.")]


@with_config(SHAPE)
class ProgressOut(TypedDict):
    """A student's progress in a language."""

    status: Success
    language: Language
    as_of: AsOf
    streak: Streak
    overview: Overview
    by_chapter: list[ChapterProgress]
    by_knowledge_area: list[AreaProgress]
    recent_activity: list[RecentRead]


ShownName = Annotated[
    str,
    Field(
        description="The display name the student chose, else their stable pseudonym "
        "(`Learner-` and 8 hex digits); never a student id.",
        examples=["Ada L.", "Learner-7F3A9C2E"],
    ),
]


@with_config(SHAPE)
class LeaderEntry(TypedDict):
    """A place on a leaderboard (tied students share a rank). Other students are shown by
    name only, never by id."""

    rank: int
    name: ShownName
    points: int
    is_me: Annotated[bool, Field(description="This entry is the caller's own.")]


@with_config(SHAPE)
class MyStanding(TypedDict):
    """The caller's place: their rank even outside the top, or the rank they would have
    when they opted out (``hidden``)."""

    student: Annotated[str, Field(description="The caller's own student id.")]
    name: Annotated[ShownName, Field(description="What other students see the caller as.")]
    rank: int | None
    points: int
    hidden: bool


@with_config(SHAPE)
class LeaderboardOut(TypedDict):
    """Top students by points in a period (UTC weeks and months)."""

    status: Success
    language: Language
    period: Period
    period_key: Annotated[str, Field(examples=["2026-W48"])]
    as_of: AsOf
    top: list[LeaderEntry]
    me: MyStanding


@with_config(SHAPE)
class NextOut(TypedDict):
    """The sample to read next; ``data`` is null when every sample is read."""

    status: Success
    language: Language
    chapter: int | None
    data: ReadSample | None
    message: str | None


@with_config(SHAPE)
class PreferencesOut(TypedDict):
    """The student's preferences."""

    status: Success
    tz: Annotated[ZoneName | None, Field(description="IANA zone streaks are counted in.")]
    leaderboard_opt_out: bool
    display_name: Annotated[
        str | None, Field(description="The display name set; null: none (the pseudonym shows).")
    ]
    name: Annotated[ShownName, Field(description="What other students see on leaderboards.")]


@with_config(SHAPE)
class TimezonesOut(TypedDict):
    """Every time zone name ``tz`` accepts."""

    status: Success
    timezones: Annotated[list[ZoneName], Field(description="IANA zone names, sorted.")]


# --- operations -------------------------------------------------------------------------


@with_config(SHAPE)
class HealthOut(TypedDict):
    """Liveness."""

    status: Literal["ok"]


@with_config(SHAPE)
class ReadyOut(TypedDict):
    """Readiness per dependency."""

    status: Literal["ready", "degraded", "unavailable"]
    mongodb: Literal["ok", "down"]
    redis: Literal["ok", "down"]


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
