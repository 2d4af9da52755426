"""Data commands: seed the demo catalog, migrate, import samples, export or delete a
student's data, rebuild or reconcile stats, warm the shared cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.common import CommandError, duration, load_settings, student_id, with_resources
from app.training.curriculum import LANGUAGES

if TYPE_CHECKING:
    from app.handles import Resources


def seed_demo_cmd(
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
) -> None:
    """Write the 5,000 demo samples (pre-migration shape); re-running adds nothing."""
    from app.seed import seed_demo

    report = with_resources(lambda res: seed_demo(res.db, seed=seed))
    typer.echo(
        f"inserted {report.inserted}, already present {report.existing}"
        + (f", catalog version {report.catalog_version}" if report.catalog_version else "")
    )


def migrate(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only.")] = False,
    fallback_language: Annotated[
        str | None, typer.Option(help=f"Language for unknown prefixes ({'|'.join(LANGUAGES)}).")
    ] = None,
) -> None:
    """Add language, knowledge_area, read_points and tags to every sample; create indexes."""
    from migrations.add_language_to_samples import exit_code
    from migrations.add_language_to_samples import migrate as run_migration

    try:
        report = with_resources(
            lambda res: run_migration(res.db, dry_run=dry_run, fallback_language=fallback_language)
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo("\n".join(report.lines()))
    code = exit_code(report, fallback_language)
    if code:
        typer.echo(
            "unknown sample_id prefixes were left untouched; "
            "pass --fallback-language to migrate them",
            err=True,
        )
        raise typer.Exit(code)


def warm_cache(
    students: Annotated[
        int,
        typer.Option(min=0, help="At most the N most recently active students (0: no limit)."),
    ] = 1000,
    active_within: Annotated[
        str | None,
        typer.Option(
            "--students-active-within",
            help="Only students active this recently (90s, 30m, 1h, 2d).",
        ),
    ] = None,
) -> None:
    """Fill the shared (Redis) catalog cache, and active students' read sets and progress
    views (before a deploy, or after Redis came back empty)."""
    from app.timefmt import utcnow
    from app.warm import warm

    since = (
        None
        if active_within is None
        else utcnow() - duration(active_within, "--students-active-within")
    )
    if load_settings().redis_url is None:
        typer.echo(
            "REDIS_URL not set: the server keeps its cache in process and warms it "
            "at start-up; nothing shared to warm"
        )
        return
    done = with_resources(
        lambda res: warm(
            db=res.db,
            catalog=res.catalog,
            reads=res.reads,
            progress=res.progress,
            students=students,
            active_since=since,
            show_progress=True,
        ),
        ping_redis=True,
    )
    typer.echo(
        f"warmed the catalog of {done.languages} languages and the caches of "
        f"{done.students} students ({done.sets} read sets, {done.views} progress views; "
        f"{done.loaded} loaded from MongoDB, the rest already warm) in {done.seconds:.1f} s"
    )


def recompute_stats(
    student: Annotated[str | None, typer.Option(help="Only this student.")] = None,
) -> None:
    """Rebuild student_stats from sample_progress (after a crash between the two writes)."""
    from app.training.queries import reads
    from app.training.reconcile import recompute_stats as rebuild

    async def work(res: Resources) -> int:
        ids = [student] if student else await reads.students(res.db)
        for sid in ids:
            await rebuild(db=res.db, progress=res.progress, student=sid)
        return len(ids)

    typer.echo(f"rebuilt stats of {with_resources(work)} students")


def import_cmd(
    file: Annotated[str, typer.Argument(help="mongoexport output: JSON Lines or a JSON array.")],
) -> None:
    """Load training samples from a file (upsert by sample_id); exit 3 if some were bad."""
    from pathlib import Path

    from app.data_import import DataFileError, import_samples

    try:
        report = with_resources(lambda res: import_samples(db=res.db, path=Path(file)))
    except DataFileError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo("\n".join(report.lines()))
    if report.bad:
        typer.echo(f"{len(report.bad)} bad records were not loaded", err=True)
        raise typer.Exit(3)


def export_progress(
    student: Annotated[str, typer.Option(help="Student id (e.g. SIDHI_A6281C8BA865).")],
    output: Annotated[
        str | None, typer.Option(help="Write to this file (owner-only) instead of stdout.")
    ] = None,
) -> None:
    """Write a student's stats and reading progress as JSON (their data, on request)."""
    from pathlib import Path

    from app.student_data import dump_json, export_student, write_private

    student = student_id(student)
    data = with_resources(lambda res: export_student(db=res.db, student=student))
    if data["stats"] is None and not data["progress"]:
        typer.echo(f"warning: no data stored for student {student}", err=True)
    if output is None:
        typer.echo(dump_json(data), nl=False)
        return
    try:
        write_private(Path(output), dump_json(data))
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
    typer.echo(f"wrote {len(data['progress'])} progress records of {student} to {output}")


def delete_student_cmd(
    student: Annotated[str, typer.Argument(help="Student id (e.g. SIDHI_A6281C8BA865).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a student's progress and stats (MongoDB) and everything Redis keeps of them
    (read sets, progress view, leaderboard entries, any key tagged with their id)."""
    from app.student_data import delete_student, student_footprint
    from cache.backend import CacheUnavailable

    settings = load_settings()
    student = student_id(student)

    async def work(res: Resources) -> Any:
        if settings.redis_url and not await res.backend.ping():
            raise CommandError(f"Redis at {settings.redis_url} does not answer; nothing deleted")
        found = await student_footprint(db=res.db, student=student)
        if not yes and not typer.confirm(
            f"Delete {found.progress_docs} progress and {found.stats_docs} stats "
            f"documents of {student}, and their Redis keys and leaderboard entries?"
        ):
            return None
        # Without a shared Redis there is nothing to clean beyond this process.
        shared = settings.redis_url is not None
        try:
            return await delete_student(
                db=res.db,
                read_state=res.reads if shared else None,
                progress=res.progress if shared else None,
                boards=res.boards if shared else None,
                backend=res.backend if shared else None,
                student=student,
            )
        except CacheUnavailable as exc:
            raise CommandError(
                f"MongoDB data deleted, but Redis failed ({exc}); run again to finish"
            ) from exc

    report = with_resources(work, settings)
    if report is None:
        typer.echo("nothing deleted", err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(report.lines()))
    if report.redis_keys is None:
        typer.echo(
            "REDIS_URL not set: there is no shared Redis to clean; a running server keeps "
            "read sets in process until it restarts or PROGRESS_TTL passes"
        )


def reconcile(
    student: Annotated[str | None, typer.Option(help="Only this student.")] = None,
) -> None:
    """Compare Redis read sets and stats with MongoDB; repair drift and report it."""
    from app.training.reconcile import reconcile as run_reconcile

    if load_settings().redis_url is None:
        typer.echo("REDIS_URL not set: checking stats documents only (no shared read sets)")
    report = with_resources(
        lambda res: run_reconcile(
            db=res.db, read_state=res.reads, progress=res.progress, student=student
        )
    )
    typer.echo("\n".join(report.lines()))
