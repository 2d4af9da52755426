"""HTTP layer of the training API: parameters in, service call, JSON out.

Auth is attached where this router is included (``app.main``); handlers that need the
student's id also take ``CurrentStudent``, which FastAPI resolves once per request.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from starlette.responses import Response

from app.deps import CatalogDep, CurrentStudent, MarkReadLimit, MongoDep, ProgressDep
from app.errors import InvalidRequest, error_responses
from app.responses import json_response, pagination
from app.training import catalog as catalog_service
from app.training import models
from app.training import progress as progress_service
from app.training.catalog import SampleFilter, check_language
from app.training.curriculum import DIFFICULTIES, KNOWLEDGE_AREAS, LANGUAGES, TYPES

router = APIRouter(tags=["training"])

MAX_PAGE = 1_000_000
COMMON_ERRORS = error_responses(400, 401, 422, 503)

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
    return json_response(
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
    return json_response({"status": "success", "data": data})


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
        student=student.id,
        sample_id=sample_id,
        time_spent=seconds,
    )
    return json_response(
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
    return json_response(
        {
            "status": "success",
            "language": language,
            "total_chapters": len(chapters),
            "chapters": chapters,
        }
    )


@router.get(
    "/filters",
    response_model=models.FiltersOut,
    responses=COMMON_ERRORS,
    summary="Values every filter accepts",
)
async def get_filters(
    db: MongoDep,
    catalog: CatalogDep,
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
    languages = [check_language(language)] if language is not None else list(LANGUAGES)
    chapters, areas = {}, {}
    for lang in languages:
        found = await catalog_service.chapters(db=db, catalog=catalog, language=lang)
        chapters[lang] = [c["chapter"] for c in found]
        found = await catalog_service.knowledge_areas(db=db, catalog=catalog, language=lang)
        areas[lang] = [a["knowledge_area"] for a in found] or list(
            dict.fromkeys(KNOWLEDGE_AREAS[lang].values())
        )
    return json_response(
        {
            "status": "success",
            "languages": list(LANGUAGES),
            "chapters": chapters,
            "knowledge_areas": areas,
            "types": list(TYPES),
            "difficulties": list(DIFFICULTIES),
        }
    )


@router.get(
    "/stats",
    response_model=models.StatsOut,
    responses=COMMON_ERRORS,
    summary="Totals of a language's catalog",
)
async def get_stats(db: MongoDep, catalog: CatalogDep, language: Language) -> Response:
    """Sample counts of a language by chapter, type, difficulty and knowledge area."""
    totals = await catalog_service.stats(db=db, catalog=catalog, language=language)
    return json_response({"status": "success", "language": language, **totals})


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
    return json_response(
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
    return json_response(
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
    responses=COMMON_ERRORS,
    summary="Knowledge areas of a language",
)
async def get_knowledge_areas(db: MongoDep, catalog: CatalogDep, language: Language) -> Response:
    """Each knowledge area with its sample count by difficulty, in curriculum order."""
    areas = await catalog_service.knowledge_areas(db=db, catalog=catalog, language=language)
    return json_response(
        {
            "status": "success",
            "language": language,
            "total_areas": len(areas),
            "knowledge_areas": areas,
        }
    )


@router.get(
    "/my-progress",
    response_model=models.ProgressOut,
    responses=COMMON_ERRORS,
    summary="The student's progress in a language",
)
async def get_my_progress(
    student: CurrentStudent, db: MongoDep, catalog: CatalogDep, language: Language
) -> Response:
    """Overview with points, every chapter and area (0 where unread), last 10 reads."""
    data = await progress_service.my_progress(
        db=db, catalog=catalog, student=student.id, language=check_language(language)
    )
    return json_response({"status": "success", "language": language, **data})
