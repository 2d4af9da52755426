"""Progress shapes: a mark-read's answer, my-progress, the leaderboard, the next sample,
preferences and the time zones they accept."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, with_config
from typing_extensions import TypedDict

from app.training.curriculum import Language
from app.training.shapes.base import SHAPE, AsOf, Day, Period, Success, Timestamp, ZoneName
from app.training.shapes.catalog import ReadSample


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
