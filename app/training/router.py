"""HTTP layer of the training API: parameters in, service call, JSON out.

Auth is attached where this router is included (``app.main``); handlers that need the
student's id also take ``CurrentStudent``, which FastAPI resolves once per request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from starlette.responses import Response

from app.deps import (
    BoardsDep,
    CatalogDep,
    CurrentStudent,
    MarkReadLimit,
    MongoDep,
    ProgressDep,
    SettingsDep,
)
from app.errors import InvalidRequest, NotModified, error_responses
from app.responses import (
    catalog_etag,
    catalog_response,
    pagination,
    student_response,
)
from app.training import catalog as catalog_service
from app.training import leaderboard as leaderboard_service
from app.training import models, recommend
from app.training import progress as progress_service
from app.training.catalog import SampleFilter, check_language
from app.training.curriculum import DIFFICULTIES, KNOWLEDGE_AREAS, LANGUAGES, TYPES
from app.training.streaks import ZONES
from app.training.timefmt import iso, utcnow

router = APIRouter(tags=["training"])

MAX_PAGE = 1_000_000
COMMON_ERRORS = error_responses(400, 401, 422, 503)
CATALOG_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    304: {"description": "Not modified: the `If-None-Match` ETag is the current catalog's."},
}
Timezone = Annotated[
    str | None,
    Query(
        max_length=64,
        description="IANA time zone, e.g. Europe/Berlin.",
        examples=["Europe/Berlin"],
        json_schema_extra={"enum": ZONES},
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(description="An ETag from an earlier answer; 304 when the catalog is unchanged."),
]


async def _catalog_etag(
    db: MongoDep,
    catalog: CatalogDep,
    if_none_match: IfNoneMatch = None,
    language: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> str:
    """The catalog's ETag; a 304 (``NotModified``) when the client's copy is current.

    A bad ``language`` is still a 400, whatever ETag the client sends."""
    if language is not None:
        check_language(language)
    etag = catalog_etag(await catalog_service.current_version(db=db, catalog=catalog))
    if if_none_match and (if_none_match.strip() == "*" or etag in if_none_match):
        raise NotModified(etag)
    return etag


CatalogETag = Annotated[str, Depends(_catalog_etag)]

# Documented as an enum, parsed as a string: an unknown language is a 400 naming the valid
# ones (the contract clients already rely on), not a generic 422.
Language = Annotated[
    str,
    Query(
        description="Catalog language: c, cpp or python.",
        examples=["c"],
        max_length=32,
        json_schema_extra={"enum": list(LANGUAGES)},
    ),
]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Samples per page (1-100).")]
Chapter = Annotated[int | None, Query(ge=1, le=1000, description="Only this chapter.")]
Area = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Only this knowledge area.",
        examples=["pointers"],
    ),
]
SampleType = Annotated[
    Literal["program", "mcq", "theory", "debug"] | None, Query(description="Only this type.")
]
Difficulty = Annotated[
    Literal["easy", "medium", "hard"] | None, Query(description="Only this difficulty.")
]
SampleId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.\-]{1,100}$",
        description="Sample id, e.g. c_ch1_q_000025.",
        examples=["c_ch1_q_000025"],
    ),
]


@router.get(
    "/samples",
    response_model=models.SamplePage,
    responses=COMMON_ERRORS,
    summary="List samples of a language, with the student's read state",
)
async def get_samples(
    student: CurrentStudent,
    db: MongoDep,
    catalog: CatalogDep,
    progress: ProgressDep,
    language: Language,
    page: Page = 1,
    limit: Limit = 20,
    chapter: Chapter = None,
    knowledge_area: Area = None,
    type: SampleType = None,
    difficulty: Difficulty = None,
) -> Response:
    """A page of a language's samples (optionally filtered), each with isRead/readAt."""
    flt = SampleFilter(chapter, knowledge_area, type, difficulty)
    found = await catalog_service.list_samples(
        db=db, catalog=catalog, language=language, flt=flt, page=page, limit=limit
    )
    data = await progress_service.enriched_page(
        db=db, progress=progress, student=student.id, language=language, samples=found.items
    )
    return student_response(
        {
            "status": "success",
            "language": language,
            "data": data,
            "pagination": pagination(page=page, limit=limit, total=found.total),
        }
    )


@router.get(
    "/samples/{sample_id}",
    response_model=models.SampleOut,
    responses=error_responses(401, 404, 422, 503),
    summary="One sample with the student's progress on it",
)
async def get_sample(
    student: CurrentStudent, db: MongoDep, catalog: CatalogDep, sample_id: SampleId
) -> Response:
    """A sample with isRead, readAt, timeSpent and revisitedCount; 404 if unknown."""
    data = await progress_service.sample_detail(
        db=db, catalog=catalog, student=student.id, sample_id=sample_id
    )
    return student_response({"status": "success", "data": data})


@router.post(
    "/samples/{sample_id}/mark-read",
    dependencies=[MarkReadLimit],
    response_model=models.MarkReadOut,
    responses=error_responses(401, 404, 422, 429, 503),
    summary="Record that the student read a sample",
)
async def mark_read(
    student: CurrentStudent,
    db: MongoDep,
    catalog: CatalogDep,
    progress: ProgressDep,
    boards: BoardsDep,
    sample_id: SampleId,
    time_spent: Annotated[
        int | None, Query(ge=1, le=3600, description="Seconds spent reading (1-3600).")
    ] = None,
    body: Annotated[models.TimeSpentIn | None, Body()] = None,
) -> Response:
    """Mark a sample read: the first read awards its points once; revisits add time.

    ``time_spent`` comes as a query parameter or as the JSON body ``{"time_spent": 45}``.
    """
    if (time_spent is None) == (body is None):
        raise InvalidRequest("give time_spent exactly once: as a query parameter or a JSON body")
    seconds = time_spent if time_spent is not None else body.time_spent  # type: ignore[union-attr]
    result = await progress_service.mark_read(
        db=db,
        catalog=catalog,
        progress=progress,
        boards=boards,
        student=student.id,
        sample_id=sample_id,
        time_spent=seconds,
    )
    return student_response(
        {
            "status": "success",
            "sample_id": result.sample_id,
            "is_first_read": result.is_first_read,
            "points_awarded": result.points_awarded,
            "total_points": result.total_points,
            "message": "Sample marked as read" if result.is_first_read else "Sample revisited",
        }
    )


@router.get(
    "/chapters",
    response_model=models.ChaptersOut,
    responses=COMMON_ERRORS,
    summary="Chapters of a language with the student's progress",
)
async def get_chapters(
    student: CurrentStudent, db: MongoDep, catalog: CatalogDep, language: Language
) -> Response:
    """Each chapter's totals by type and difficulty, read count and percentage."""
    chapters = await progress_service.chapters_with_progress(
        db=db, catalog=catalog, student=student.id, language=check_language(language)
    )
    return student_response(
        {
            "status": "success",
            "language": language,
            "as_of": iso(utcnow()),
            "total_chapters": len(chapters),
            "chapters": chapters,
        }
    )


@router.get(
    "/filters",
    response_model=models.FiltersOut,
    responses=CATALOG_RESPONSES,
    summary="Values every filter accepts",
)
async def get_filters(
    db: MongoDep,
    catalog: CatalogDep,
    etag: CatalogETag,
    language: Annotated[
        str | None,
        Query(
            description="Only this language's chapters/areas.",
            max_length=32,
            json_schema_extra={"enum": list(LANGUAGES)},
        ),
    ] = None,
) -> Response:
    """Languages, chapters and knowledge areas per language, types and difficulties."""
    languages = [language] if language is not None else list(LANGUAGES)
    chapters, areas = {}, {}
    for lang in languages:
        found = await catalog_service.chapters(db=db, catalog=catalog, language=lang)
        chapters[lang] = [c["chapter"] for c in found]
        found = await catalog_service.knowledge_areas(db=db, catalog=catalog, language=lang)
        areas[lang] = [a["knowledge_area"] for a in found] or list(
            dict.fromkeys(KNOWLEDGE_AREAS[lang].values())
        )
    return catalog_response(
        {
            "status": "success",
            "languages": list(LANGUAGES),
            "chapters": chapters,
            "knowledge_areas": areas,
            "types": list(TYPES),
            "difficulties": list(DIFFICULTIES),
        },
        etag,
    )


@router.get(
    "/stats",
    response_model=models.StatsOut,
    responses=CATALOG_RESPONSES,
    summary="Totals of a language's catalog",
)
async def get_stats(
    db: MongoDep, catalog: CatalogDep, language: Language, etag: CatalogETag
) -> Response:
    """Sample counts of a language by chapter, type, difficulty and knowledge area."""
    totals = await catalog_service.stats(db=db, catalog=catalog, language=language)
    as_of = await catalog_service.as_of(db=db, catalog=catalog, language=language)
    return catalog_response(
        {"status": "success", "language": language, "as_of": as_of, **totals}, etag
    )


@router.get(
    "/random",
    response_model=models.RandomOut,
    responses=COMMON_ERRORS,
    summary="A random sample of a language",
)
async def get_random(
    student: CurrentStudent,
    db: MongoDep,
    catalog: CatalogDep,
    progress: ProgressDep,
    language: Language,
    chapter: Chapter = None,
    knowledge_area: Area = None,
    type: SampleType = None,
    difficulty: Difficulty = None,
    unread_only: Annotated[
        bool, Query(description="Only samples the student has not read.")
    ] = False,
) -> Response:
    """A random sample (optionally filtered, optionally unread) with isRead/readAt."""
    sample = await progress_service.random_sample(
        db=db,
        catalog=catalog,
        progress=progress,
        student=student.id,
        language=language,
        flt=SampleFilter(chapter, knowledge_area, type, difficulty),
        unread_only=unread_only,
    )
    message = (
        None
        if sample
        else ("every matching sample is read" if unread_only else "no sample matches the filters")
    )
    return student_response(
        {"status": "success", "language": language, "data": sample, "message": message}
    )


@router.get(
    "/search",
    response_model=models.SearchPage,
    responses=COMMON_ERRORS,
    summary="Search question and answer text",
)
async def search(
    student: CurrentStudent,
    db: MongoDep,
    catalog: CatalogDep,
    progress: ProgressDep,
    language: Language,
    q: Annotated[
        str,
        Query(
            min_length=2, max_length=100, description="Text to find (literal, case-insensitive)."
        ),
    ],
    page: Page = 1,
    limit: Limit = 20,
) -> Response:
    """Samples whose question or answer contains ``q``, with isRead/readAt."""
    found = await catalog_service.search_samples(
        db=db, catalog=catalog, language=language, text=q, page=page, limit=limit
    )
    data = await progress_service.enriched_page(
        db=db, progress=progress, student=student.id, language=language, samples=found.items
    )
    return student_response(
        {
            "status": "success",
            "language": language,
            "query": q,
            "data": data,
            "pagination": pagination(page=page, limit=limit, total=found.total),
        }
    )


@router.get(
    "/knowledge-areas",
    response_model=models.KnowledgeAreasOut,
    responses=CATALOG_RESPONSES,
    summary="Knowledge areas of a language",
)
async def get_knowledge_areas(
    db: MongoDep, catalog: CatalogDep, language: Language, etag: CatalogETag
) -> Response:
    """Each knowledge area with its sample count by difficulty, in curriculum order."""
    areas = await catalog_service.knowledge_areas(db=db, catalog=catalog, language=language)
    as_of = await catalog_service.as_of(db=db, catalog=catalog, language=language)
    return catalog_response(
        {
            "status": "success",
            "language": language,
            "as_of": as_of,
            "total_areas": len(areas),
            "knowledge_areas": areas,
        },
        etag,
    )


@router.get(
    "/my-progress",
    response_model=models.ProgressOut,
    responses=COMMON_ERRORS,
    summary="The student's progress in a language",
)
async def get_my_progress(
    student: CurrentStudent,
    db: MongoDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    language: Language,
    tz: Timezone = None,
) -> Response:
    """Overview with points, every chapter and area (0 where unread), last 10 reads, and the
    daily streak (in ``tz``, else the stored preference, else UTC)."""
    data = await progress_service.my_progress(
        db=db,
        catalog=catalog,
        student=student.id,
        language=check_language(language),
        tz=tz,
        streak_minimum=settings.streak_min_reads,
    )
    return student_response({"status": "success", "language": language, **data})


@router.get(
    "/leaderboard",
    response_model=models.LeaderboardOut,
    responses=COMMON_ERRORS,
    summary="Top students by points in a period, and the caller's own rank",
)
async def get_leaderboard(
    student: CurrentStudent,
    db: MongoDep,
    boards: BoardsDep,
    language: Language,
    period: Annotated[
        Literal["week", "month", "all"],
        Query(description="This UTC ISO week, this UTC month, or all time."),
    ] = "week",
    limit: Annotated[int, Query(ge=1, le=100, description="Entries in the top list.")] = 10,
) -> Response:
    """Top ``limit`` students by points of first reads in the period; ``me`` is the caller's
    rank and points even outside the top. Opted-out students appear only to themselves."""
    data = await leaderboard_service.leaderboard(
        db=db,
        boards=boards,
        student=student.id,
        language=language,
        period=period,
        limit=limit,
        now=utcnow(),
    )
    return student_response({"status": "success", **data})


@router.get(
    "/next",
    response_model=models.NextOut,
    responses=COMMON_ERRORS,
    summary="The unread sample the student should read next",
)
async def get_next(
    student: CurrentStudent,
    db: MongoDep,
    catalog: CatalogDep,
    progress: ProgressDep,
    language: Language,
) -> Response:
    """The lowest unfinished chapter's unread sample in the weakest knowledge area, at the
    difficulty just above the hardest read there; ``data`` null when all are read."""
    sample, chapter = await recommend.next_sample(
        db=db,
        catalog=catalog,
        progress=progress,
        student=student.id,
        language=check_language(language),
    )
    return student_response(
        {
            "status": "success",
            "language": language,
            "chapter": chapter,
            "data": sample,
            "message": None if sample else "every sample of this language is read",
        }
    )


@router.put(
    "/preferences",
    response_model=models.PreferencesOut,
    responses=error_responses(400, 401, 422, 503),
    summary="Set the student's time zone and leaderboard visibility",
)
async def put_preferences(
    student: CurrentStudent,
    db: MongoDep,
    boards: BoardsDep,
    body: models.PreferencesIn,
) -> Response:
    """Store the IANA zone streaks are counted in, and whether to hide from leaderboards."""
    prefs = await progress_service.set_preferences(
        db=db, student=student.id, tz=body.tz, leaderboard_opt_out=body.leaderboard_opt_out
    )
    opted_out = bool(prefs.get("leaderboard_opt_out"))
    await leaderboard_service.set_opt_out(
        boards=boards, student=student.id, opted_out=opted_out, now=utcnow()
    )
    return student_response(
        {"status": "success", "tz": prefs.get("tz"), "leaderboard_opt_out": opted_out}
    )
