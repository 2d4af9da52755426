"""``lumetrix serve`` and ``lumetrix dev``: bind the port first, then serve the API."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import sys
import tempfile
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import typer

from app.auth import mint_token
from app.cli.common import CommandError, load_settings, setup_logging, with_resources
from app.settings import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from app.handles import Resources

# uvicorn's exit code when the server did not start (its STARTUP_FAILURE).
STARTUP_FAILURE = 3

# Our middleware writes the access log; log_config=None keeps the JSON handler of
# setup_logging. The protocol is uvicorn's httptools one plus the limits uvicorn lacks: header
# (and trailer) size, header and whole-request deadlines (app/protocol.py: MAX_HEADER_BYTES,
# HEADER_TIMEOUT, REQUEST_TIMEOUT).
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


def _stop_on_signals(exit_code: int | None) -> None:
    """Make SIGTERM and SIGINT raise SystemExit, so the embedded database is stopped on the
    way out. Once serving, ``exit_code`` 0: uvicorn re-raises the signal after its graceful
    shutdown, and a clean stop is a success (``make run`` then ends without "Error 143").
    Before that (``None``), 128 + the signal number: work was cut short."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum if exit_code is None else exit_code)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` as uvicorn binds one (SO_REUSEADDR, IPv6 when the host
    has a colon), taken before anything is printed or started: a busy port is one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise CommandError(
            f"cannot listen on {host}:{port}: {reason} (choose another with --port, "
            "or make run PORT=...)"
        ) from None
    return sock


def _run(
    app: ASGIApp | str,
    sock: socket.socket,
    settings: Settings,
    *,
    workers: int = 1,
) -> None:
    """Serve ``app`` (an app, or an import string of a factory) on the bound ``sock``."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=isinstance(app, str),
        **_server_options(settings),
    )
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    _stop_on_signals(0)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (several workers need REDIS_URL: read sets must be shared)."""
    from app.resources import database_settings

    setup_logging()
    _stop_on_signals(None)
    settings = load_settings()
    if workers > 1:
        if settings.redis_url is None and settings.cache_enabled:
            raise CommandError("--workers > 1 needs REDIS_URL (or LUMETRIX_CACHE=off)")
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # /metrics then sums every worker, whichever one a scrape reaches.
            metrics_dir = tempfile.mkdtemp(prefix="lumetrix-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    sock = bound_socket(host, port)
    with contextlib.ExitStack() as stack:
        if workers > 1:
            # One database for every worker: start it here and hand its URL down.
            settings = stack.enter_context(database_settings(settings))
            os.environ["MONGODB_URL"] = str(settings.mongodb_url)
        _run("app.main:create_app", sock, settings, workers=workers)


def console_url(base: str, token: str, client_id: str) -> str:
    """The learner console's address, signed in as ``token`` through the URL fragment."""
    return f"{base}/console#{urlencode({'token': token, 'client': client_id})}"


async def _prepare(res: Resources) -> None:
    """Seed the demo catalog when it is empty, then migrate it."""
    from app.seed import catalog_is_empty, seed_demo
    from migrations.add_language_to_samples import migrate as run_migration

    if await catalog_is_empty(res.db):
        typer.echo("catalog empty: seeding demo data")
        await seed_demo(res.db)
    report = await run_migration(res.db, fallback_language=None)
    typer.echo(f"migration: {report.modified} modified, {report.already_migrated} already migrated")


def _greeting(base: str, token: str, client_id: str) -> str:
    """What ``dev`` prints before serving: the address, a token, a curl line, the console."""
    curl = (
        f"curl -s -H 'Authorization: Bearer {token}' -H 'X-Client-Id: {client_id}' "
        f"'{base}/training/samples?language=c&limit=2'"
    )
    # The token rides in the fragment, which browsers never send, so it stays out of logs.
    return (
        f"\nServing on {base}  (docs: {base}/docs)\nToken (24 h):\n{token}\n\n{curl}\n\n"
        f"Learner console:\n{console_url(base, token, client_id)}\n"
    )


def dev(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    student: Annotated[
        str, typer.Option(help="Student id of the printed token.")
    ] = "SIDHI_DEMO000001",
    client_id: Annotated[str, typer.Option(help="Client id of the printed token.")] = "web",
) -> None:
    """Seed and migrate when empty, warm up, print a token and a curl line, then serve."""
    from app.main import create_app
    from app.resources import database_settings

    setup_logging()
    _stop_on_signals(None)
    settings = load_settings()
    sock = bound_socket(host, port)
    # The app and the preparation share one embedded database, started once here.
    with database_settings(settings) as settings:
        with_resources(_prepare, settings)
        token = mint_token(settings.jwt_secret, sub=student, client_id=client_id, ttl=24 * 3600)
        typer.echo(_greeting(f"http://{host}:{port}", token, client_id))
        _run(create_app(settings), sock, settings)
