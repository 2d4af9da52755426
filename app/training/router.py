"""HTTP layer of the training API: each route validates its input, makes one service call
and returns the service's body as JSON.

Auth is attached where this router is included (``app.main``); handlers that need the
student's id also take ``CurrentStudent``, which FastAPI resolves once per request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.routing import APIRoute
from starlette.responses import Response

from app.deps import (
    CatalogETag,
    CurrentStudent,
    FiltersETag,
    MarkReadLimit,
    OptionalLanguage,
    Res,
    ValidLanguage,
)
from app.errors import InvalidRequest, error_responses
from app.lean import LeanRoute
from app.responses import catalog_response, json_response, student_response
from app.timefmt import utcnow
from app.training import catalog, leaderboard, preferences, progress, recommend, shapes
from app.training import mark_read as mark_read_service
from app.training.bodies import PreferencesIn, TimeSpentIn
from app.training.filters import SampleFilter
from app.training.params import (
    Area,
    BoardSize,
    Chapter,
    Difficulty,
    Limit,
    Page,
    Period,
    SampleId,
    SampleType,
    SearchText,
    TimeSpent,
    Timezone,
    UnreadOnly,
)
from app.training.streaks import ZONES


def operation_id(route: APIRoute) -> str:
    """A route's operationId is its handler's name, e.g. ``get_samples``: generated clients
    name their functions after it (FastAPI's default adds the path and method)."""
    return route.name


# LeanRoute: the hot GETs skip FastAPI's dependency solving (``app.lean``); bodies are read
# strictly (a key repeated in a JSON object is a 422).
router = APIRouter(
    prefix="/training",
    tags=["training"],
    generate_unique_id_function=operation_id,
    route_class=LeanRoute,
)

COMMON_ERRORS = error_responses(400, 401, 422, 503)
NO_BODY = TimeSpentIn.model_construct()  # what an absent body reads as: no time_spent
TIMEZONES: shapes.TimezonesOut = {"status": "success", "timezones": list(ZONES)}
CATALOG_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON_ERRORS,
    304: {"description": "Not modified: the `If-None-Match` ETag is the current catalog's."},
}


@router.get(
    "/samples",
    response_model=shapes.SamplePage,
    responses=COMMON_ERRORS,
    summary="List samples of a language, with the student's read state",
)
async def get_samples(
    student: CurrentStudent,
    res: Res,
    language: ValidLanguage,
    page: Page = 1,
    limit: Limit = 20,
    chapter: Chapter = None,
    knowledge_area: Area = None,
    type: SampleType = None,
    difficulty: Difficulty = None,
) -> Response:
    """A page of a language's samples (optionally filtered), each with isRead/readAt."""
    body = await catalog.samples_page(
        catalog=res.catalog,
        reads=res.reads,
        student=student.id,
        language=language,
        flt=SampleFilter(chapter, knowledge_area, type, difficulty),
        page=page,
        limit=limit,
    )
    return student_response(body)


@router.get(
    "/samples/{sample_id}",
    response_model=shapes.SampleOut,
    responses=error_responses(401, 404, 422, 503),
    summary="One sample with the student's progress on it",
)
async def get_sample(student: CurrentStudent, res: Res, sample_id: SampleId) -> Response:
    """A sample with isRead, readAt, timeSpent and revisitedCount; 404 if unknown."""
    body = await progress.sample_detail(
        db=res.db,
        catalog=res.catalog,
        reads=res.reads,
        progress=res.progress,
        student=student.id,
        sample_id=sample_id,
    )
    return student_response(body)


@router.post(
    "/samples/{sample_id}/mark-read",
    dependencies=[MarkReadLimit],
    response_model=shapes.MarkReadOut,
    responses=error_responses(401, 404, 422, 429, 503),
    summary="Record that the student read a sample",
)
async def mark_read(
    student: CurrentStudent,
    res: Res,
    sample_id: SampleId,
    time_spent: TimeSpent = None,
    # An optional body of one object type (no body reads as {}), not "TimeSpentIn or null":
    # generated clients cannot build a request from the latter.
    body: Annotated[TimeSpentIn, Body()] = NO_BODY,
) -> Response:
    """Mark a sample read: the first read awards its points once; revisits add time.

    ``time_spent`` comes as a query parameter or as the JSON body ``{"time_spent": 45}``,
    exactly one of the two.
    """
    seconds = body.time_spent if time_spent is None else time_spent
    if seconds is None or (time_spent is not None and body.time_spent is not None):
        raise InvalidRequest("give time_spent exactly once: as a query parameter or a JSON body")
    result = await mark_read_service.mark_read(
        writer=res.visits,
        catalog=res.catalog,
        reads=res.reads,
        progress=res.progress,
        boards=res.boards,
        student=student.id,
        sample_id=sample_id,
        time_spent=seconds,
    )
    return student_response(result)


@router.get(
    "/chapters",
    response_model=shapes.ChaptersOut,
    responses=COMMON_ERRORS,
    summary="Chapters of a language with the student's progress",
)
async def get_chapters(student: CurrentStudent, res: Res, language: ValidLanguage) -> Response:
    """Each chapter's totals by type and difficulty, read count and percentage."""
    body = await progress.chapters_answer(
        catalog=res.catalog, progress=res.progress, student=student.id, language=language
    )
    return student_response(body)


@router.get(
    "/filters",
    response_model=shapes.FiltersOut,
    responses=CATALOG_RESPONSES,
    summary="Values every filter accepts",
)
async def get_filters(res: Res, language: OptionalLanguage, etag: FiltersETag) -> Response:
    """Languages, chapters and knowledge areas per language, types and difficulties."""
    body = await catalog.filters(catalog=res.catalog, language=language)
    return catalog_response(body, etag)


@router.get(
    "/stats",
    response_model=shapes.StatsOut,
    responses=CATALOG_RESPONSES,
    summary="Totals of a language's catalog",
)
async def get_stats(res: Res, language: ValidLanguage, etag: CatalogETag) -> Response:
    """Sample counts of a language by chapter, type, difficulty and knowledge area."""
    body = await catalog.stats(catalog=res.catalog, language=language)
    return catalog_response(body, etag)


@router.get(
    "/random",
    response_model=shapes.RandomOut,
    responses=COMMON_ERRORS,
    summary="A random sample of a language",
)
async def get_random(
    student: CurrentStudent,
    res: Res,
    language: ValidLanguage,
    chapter: Chapter = None,
    knowledge_area: Area = None,
    type: SampleType = None,
    difficulty: Difficulty = None,
    unread_only: UnreadOnly = False,
) -> Response:
    """A random sample (optionally filtered, optionally unread) with isRead/readAt."""
    body = await recommend.random_sample(
        catalog=res.catalog,
        reads=res.reads,
        student=student.id,
        language=language,
        flt=SampleFilter(chapter, knowledge_area, type, difficulty),
        unread_only=unread_only,
    )
    return student_response(body)


@router.get(
    "/search",
    response_model=shapes.SearchPage,
    responses=COMMON_ERRORS,
    summary="Search question and answer text",
)
async def search(
    student: CurrentStudent,
    res: Res,
    language: ValidLanguage,
    q: SearchText,
    page: Page = 1,
    limit: Limit = 20,
) -> Response:
    """Samples whose question or answer contains ``q``, with isRead/readAt."""
    body = await catalog.search_page(
        catalog=res.catalog,
        reads=res.reads,
        student=student.id,
        language=language,
        text=q,
        page=page,
        limit=limit,
    )
    return student_response(body)


@router.get(
    "/knowledge-areas",
    response_model=shapes.KnowledgeAreasOut,
    responses=CATALOG_RESPONSES,
    summary="Knowledge areas of a language",
)
async def get_knowledge_areas(res: Res, language: ValidLanguage, etag: CatalogETag) -> Response:
    """Each knowledge area with its sample count by difficulty, in curriculum order."""
    body = await catalog.knowledge_areas(catalog=res.catalog, language=language)
    return catalog_response(body, etag)


@router.get(
    "/my-progress",
    response_model=shapes.ProgressOut,
    responses=COMMON_ERRORS,
    summary="The student's progress in a language",
)
async def get_my_progress(
    student: CurrentStudent, res: Res, language: ValidLanguage, tz: Timezone = None
) -> Response:
    """Overview with points, every chapter and area (0 where unread), last 10 reads, and the
    daily streak (in ``tz``, else the stored preference, else UTC)."""
    body = await progress.my_progress_answer(
        catalog=res.catalog,
        progress=res.progress,
        student=student.id,
        language=language,
        tz=tz,
        streak_minimum=res.settings.streak_min_reads,
    )
    return student_response(body)


@router.get(
    "/leaderboard",
    response_model=shapes.LeaderboardOut,
    responses=COMMON_ERRORS,
    summary="Top students by points in a period, and the caller's own rank",
)
async def get_leaderboard(
    student: CurrentStudent,
    res: Res,
    language: ValidLanguage,
    period: Period = "week",
    limit: BoardSize = 10,
) -> Response:
    """Top ``limit`` students by points of first reads in the period, each by display name or
    pseudonym (never by id); ``me`` is the caller's id, name, rank and points even outside
    the top. Opted-out students appear only to themselves."""
    body = await leaderboard.leaderboard(
        db=res.db,
        boards=res.boards,
        student=student.id,
        language=language,
        period=period,
        limit=limit,
        now=utcnow(),
        pseudonym_key=res.settings.pseudonym_secret,
        load_wait=res.settings.mongo_load_wait_ms / 1000,
    )
    return student_response(body)


@router.get(
    "/next",
    response_model=shapes.NextOut,
    responses=COMMON_ERRORS,
    summary="The unread sample the student should read next",
)
async def get_next(student: CurrentStudent, res: Res, language: ValidLanguage) -> Response:
    """The lowest unfinished chapter's unread sample in the weakest knowledge area, at the
    difficulty just above the hardest read there; ``data`` null when all are read."""
    body = await recommend.next_sample(
        catalog=res.catalog,
        reads=res.reads,
        progress=res.progress,
        student=student.id,
        language=language,
    )
    return student_response(body)


@router.get(
    "/timezones",
    response_model=shapes.TimezonesOut,
    responses=error_responses(401, 422),
    summary="Every time zone name `tz` accepts",
)
async def get_timezones() -> Response:
    """The IANA zone names ``tz`` accepts (in /my-progress and /preferences), sorted."""
    return json_response(TIMEZONES)


@router.put(
    "/preferences",
    response_model=shapes.PreferencesOut,
    responses=error_responses(400, 401, 409, 422, 503),
    summary="Set the student's time zone, leaderboard visibility and display name",
)
async def put_preferences(student: CurrentStudent, res: Res, body: PreferencesIn) -> Response:
    """Store the IANA zone streaks are counted in, whether to hide from leaderboards, and the
    name leaderboards show (null clears it; 409 `name_taken` if another student has it)."""
    result = await preferences.update_preferences(
        db=res.db,
        boards=res.boards,
        progress=res.progress,
        student=student.id,
        tz=body.tz,
        leaderboard_opt_out=body.leaderboard_opt_out,
        # Absent keeps the name, null clears it: only the set of fields sent tells them apart.
        display_name=(
            body.display_name if "display_name" in body.model_fields_set else preferences.KEEP
        ),
        pseudonym_key=res.settings.pseudonym_secret,
    )
    return student_response(result)
