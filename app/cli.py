"""The ``lumetrix`` command line: serve, set up data, mint tokens, maintain stats."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlencode

import typer

from app.auth import RESERVED_ID_PREFIX, STUDENT_ID, is_reserved_id, mint_token
from app.settings import Settings, get_settings
from app.training.curriculum import LANGUAGES

if TYPE_CHECKING:
    from app.handles import Resources

T = TypeVar("T")
cli = typer.Typer(
    help="Lumetrix training service: catalog of programming samples with read tracking.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class CommandError(Exception):
    """A failure to report as one line with a non-zero exit."""


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise CommandError(f"configuration error: {exc}") from exc


def _with_resources(
    work: Callable[[Resources], Awaitable[T]],
    settings: Settings | None = None,
    *,
    ping_redis: bool = False,
) -> T:
    """Run ``work`` with the process's resources open (embedded database started or
    reused when no MONGODB_URL is set), on Redis with the commands' longer timeout."""
    from app.resources import open_resources

    chosen = settings or _settings()

    async def main() -> T:
        async with open_resources(
            chosen, redis_timeout=chosen.command_redis_timeout, indexes=False
        ) as res:
            if ping_redis and chosen.redis_url and not await res.backend.ping():
                raise CommandError(f"Redis at {chosen.redis_url} does not answer")
            return await work(res)

    return asyncio.run(main())


def _exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C: uvicorn re-raises it after its graceful shutdown,
    and the default action would kill us before the embedded database is stopped."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


# Our middleware writes the access log; log_config=None keeps the JSON handler of _logging.
# The protocol is uvicorn's httptools one plus the limits uvicorn lacks: header (and trailer)
# size, header and whole-request deadlines (app/protocol.py: MAX_HEADER_BYTES, HEADER_TIMEOUT,
# REQUEST_TIMEOUT).
_SERVER: dict[str, Any] = {
    "loop": "uvloop",
    "http": "app.protocol:GuardedHttpToolsProtocol",
    "access_log": False,
    "log_level": "info",
    "log_config": None,
}


def _server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options: ``_SERVER`` plus the limits that come from settings."""
    return {
        **_SERVER,
        "timeout_keep_alive": settings.keep_alive_timeout,
        # No limit_concurrency: uvicorn's counts every connection (idle ones too) and answers
        # a plain-text 503 with a log line each; MAX_CONCURRENCY is app.limits.Capacity's.
        # Requests under way get this long after SIGTERM; then the lifespan's own bound.
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }


def _logging(level: str = "INFO") -> None:
    from app.observability import configure_logging

    configure_logging(level)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (several workers need REDIS_URL: read sets must be shared)."""
    import uvicorn

    from app.resources import database_settings

    _logging()
    _exit_on_sigterm()
    settings = _settings()
    if workers > 1:
        if settings.redis_url is None and settings.cache_enabled:
            raise CommandError("--workers > 1 needs REDIS_URL (or LUMETRIX_CACHE=off)")
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics then sums every worker, whichever one a scrape reaches.
            metrics_dir = tempfile.mkdtemp(prefix="lumetrix-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    with contextlib.ExitStack() as stack:
        if workers > 1:
            # One database for every worker: start it here and hand its URL down.
            settings = stack.enter_context(database_settings(settings))
            os.environ["MONGODB_URL"] = str(settings.mongodb_url)
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **_server_options(settings),
        )


def console_url(base: str, token: str, client_id: str) -> str:
    """The learner console's address, signed in as ``token`` through the URL fragment."""
    return f"{base}/console#{urlencode({'token': token, 'client': client_id})}"


@cli.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    student: Annotated[
        str, typer.Option(help="Student id of the printed token.")
    ] = "SIDHI_DEMO000001",
    client_id: Annotated[str, typer.Option(help="Client id of the printed token.")] = "web",
) -> None:
    """Seed and migrate when empty, warm up, print a token and a curl line, then serve."""
    import uvicorn

    from app.main import create_app
    from app.resources import database_settings
    from app.seed import catalog_is_empty, seed_demo
    from migrations.add_language_to_samples import migrate as run_migration

    _logging()
    _exit_on_sigterm()

    async def prepare(res: Resources) -> None:
        if await catalog_is_empty(res.db):
            typer.echo("catalog empty: seeding demo data")
            await seed_demo(res.db)
        report = await run_migration(res.db, fallback_language=None)
        typer.echo(
            f"migration: {report.modified} modified, {report.already_migrated} already migrated"
        )

    # The app and the preparation share one embedded database, started once here.
    with database_settings(_settings()) as settings:
        _with_resources(prepare, settings)
        token = mint_token(settings.jwt_secret, sub=student, client_id=client_id, ttl=24 * 3600)
        base = f"http://{host}:{port}"
        typer.echo(f"\nServing on {base}  (docs: {base}/docs)\nToken (24 h):\n{token}\n")
        typer.echo(
            f"curl -s -H 'Authorization: Bearer {token}' -H 'X-Client-Id: {client_id}' "
            f"'{base}/training/samples?language=c&limit=2'\n"
        )
        # The token rides in the fragment, which browsers never send, so it stays out of logs.
        typer.echo(f"Learner console:\n{console_url(base, token, client_id)}\n")
        uvicorn.run(create_app(settings), host=host, port=port, **_server_options(settings))


@cli.command("seed-demo")
def seed_demo_cmd(
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
) -> None:
    """Write the 5,000 demo samples (pre-migration shape); re-running adds nothing."""
    from app.seed import seed_demo

    report = _with_resources(lambda res: seed_demo(res.db, seed=seed))
    typer.echo(
        f"inserted {report.inserted}, already present {report.existing}"
        + (f", catalog version {report.catalog_version}" if report.catalog_version else "")
    )


@cli.command()
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
        report = _with_resources(
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


DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str, option: str) -> timedelta:
    """``90s``, ``30m``, ``1h`` or ``2d`` as a timedelta."""
    found = DURATION.match(text.strip())
    if not found:
        raise CommandError(f"{option} must be a number and a unit (s, m, h or d), like 1h")
    return timedelta(seconds=int(found.group(1)) * _UNIT_SECONDS[found.group(2)])


@cli.command("warm-cache")
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
        else utcnow() - _duration(active_within, "--students-active-within")
    )
    if _settings().redis_url is None:
        typer.echo(
            "REDIS_URL not set: the server keeps its cache in process and warms it "
            "at start-up; nothing shared to warm"
        )
        return
    done = _with_resources(
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


def _student_id(student: str, option: str = "student id") -> str:
    if not STUDENT_ID.match(student):
        raise CommandError(f"{option} must be 1-64 letters, digits, '_', '.' or '-'")
    if is_reserved_id(student):
        raise CommandError(f"{option} must not start with {RESERVED_ID_PREFIX!r} (reserved)")
    return student


@cli.command()
def token(
    sub: Annotated[str, typer.Option(help="Student id (the `sub` claim).")],
    client_id: Annotated[str, typer.Option(help="Client id (the `cid` claim).")] = "web",
    ttl: Annotated[int, typer.Option(min=1, help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a signed token for a student and client."""
    _student_id(sub, "--sub")
    settings = _settings()
    if ttl > settings.max_token_lifetime:
        # The service would refuse it: say so now rather than hand out a dead token.
        raise CommandError(
            f"--ttl must be at most MAX_TOKEN_LIFETIME ({settings.max_token_lifetime} s)"
        )
    typer.echo(mint_token(settings.jwt_secret, sub=sub, client_id=client_id, ttl=ttl))


@cli.command("recompute-stats")
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

    typer.echo(f"rebuilt stats of {_with_resources(work)} students")


@cli.command("import")
def import_cmd(
    file: Annotated[str, typer.Argument(help="mongoexport output: JSON Lines or a JSON array.")],
) -> None:
    """Load training samples from a file (upsert by sample_id); exit 3 if some were bad."""
    from pathlib import Path

    from app.data_import import DataFileError, import_samples

    try:
        report = _with_resources(lambda res: import_samples(db=res.db, path=Path(file)))
    except DataFileError as exc:
        raise CommandError(str(exc)) from exc
    typer.echo("\n".join(report.lines()))
    if report.bad:
        typer.echo(f"{len(report.bad)} bad records were not loaded", err=True)
        raise typer.Exit(3)


@cli.command("export-progress")
def export_progress(
    student: Annotated[str, typer.Option(help="Student id (e.g. SIDHI_A6281C8BA865).")],
    output: Annotated[
        str | None, typer.Option(help="Write to this file (owner-only) instead of stdout.")
    ] = None,
) -> None:
    """Write a student's stats and reading progress as JSON (their data, on request)."""
    from pathlib import Path

    from app.student_data import dump_json, export_student, write_private

    student = _student_id(student)
    data = _with_resources(lambda res: export_student(db=res.db, student=student))
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


@cli.command("delete-student")
def delete_student_cmd(
    student: Annotated[str, typer.Argument(help="Student id (e.g. SIDHI_A6281C8BA865).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a student's progress and stats (MongoDB) and everything Redis keeps of them
    (read sets, progress view, leaderboard entries, any key tagged with their id)."""
    from app.student_data import delete_student, student_footprint
    from cache.backend import CacheUnavailable

    settings = _settings()
    student = _student_id(student)

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

    report = _with_resources(work, settings)
    if report is None:
        typer.echo("nothing deleted", err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(report.lines()))
    if report.redis_keys is None:
        typer.echo(
            "REDIS_URL not set: there is no shared Redis to clean; a running server keeps "
            "read sets in process until it restarts or PROGRESS_TTL passes"
        )


@cli.command()
def reconcile(
    student: Annotated[str | None, typer.Option(help="Only this student.")] = None,
) -> None:
    """Compare Redis read sets and stats with MongoDB; repair drift and report it."""
    from app.training.reconcile import reconcile as run_reconcile

    if _settings().redis_url is None:
        typer.echo("REDIS_URL not set: checking stats documents only (no shared read sets)")
    report = _with_resources(
        lambda res: run_reconcile(
            db=res.db, read_state=res.reads, progress=res.progress, student=student
        )
    )
    typer.echo("\n".join(report.lines()))


events_cli = typer.Typer(
    help="Progress events: stream the outbox to Redis, print the stream.",
    no_args_is_help=True,
)
cli.add_typer(events_cli, name="events")


def _shared_redis(settings: Settings, command: str) -> None:
    """Exit 2 unless REDIS_URL names a Redis other processes can reach."""
    if settings.redis_url is None:
        typer.echo(
            f"error: `lumetrix events {command}` needs REDIS_URL: without it the service's "
            "Redis is an in-process fakeredis no other process can reach (each serving "
            "worker then publishes its events into its own memory)",
            err=True,
        )
        raise typer.Exit(2)


@events_cli.command("publish")
def events_publish() -> None:
    """Stream the outbox to the Redis stream while holding the lease, until SIGTERM/Ctrl-C."""
    from app.events.publisher import Publisher, PublishOptions

    _logging()
    settings = _settings()
    _shared_redis(settings, "publish")

    async def work(res: Resources) -> int:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        publisher = Publisher(res.db, res.events, PublishOptions.of(res.settings))
        typer.echo(f"publishing to {res.events.key} as {publisher.lease.owner}", err=True)
        await publisher.run(stop)
        return publisher.published

    published = _with_resources(work, settings, ping_redis=True)
    typer.echo(f"stopped; {published} events published", err=True)


@events_cli.command("tail")
def events_tail(
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Start at the stream's oldest event.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
) -> None:
    """Print events as JSON lines, following the stream like tail -f (new ones only unless
    --from-start) until --limit events or Ctrl-C."""
    from cache.backend import CacheUnavailable

    settings = _settings()
    _shared_redis(settings, "tail")

    async def work(res: Resources) -> None:
        stream = res.events
        last = "0-0" if from_start else await stream.last_id()
        # Under the socket timeout, so a wait for new events is no Redis failure.
        block_ms = max(1, int(res.settings.command_redis_timeout * 500))
        printed = 0
        while limit is None or printed < limit:
            want = 1000 if limit is None else min(1000, limit - printed)
            try:
                entries = await stream.read_after(last, count=want, block_ms=block_ms)
            except CacheUnavailable:  # the breaker probes Redis meanwhile
                await asyncio.sleep(1)
                continue
            for entry_id, fields in entries:
                last = entry_id
                if "data" in fields:
                    sys.stdout.write(fields["data"] + "\n")
                    printed += 1
            sys.stdout.flush()

    try:
        _with_resources(work, settings, ping_redis=True)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def main() -> None:
    """Console-script entry point: errors become one line and exit code 1."""
    from pymongo.errors import PyMongoError

    try:
        cli()
    except CommandError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except PyMongoError as exc:
        typer.echo(f"error: database: {str(exc).splitlines()[0][:300]}", err=True)
        sys.exit(1)
    except (OSError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
