"""``lumetrix events``: stream the outbox to the Redis stream, print the stream, forward
it to an xAPI Learning Record Store."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import load_settings, setup_logging, with_resources
from app.settings import Settings

if TYPE_CHECKING:
    from app.handles import Resources

events_cli = typer.Typer(
    help="Progress events: stream the outbox to Redis, print the stream, forward it to an "
    "xAPI LRS.",
    no_args_is_help=True,
)


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

    setup_logging()
    settings = load_settings()
    _shared_redis(settings, "publish")

    async def work(res: Resources) -> int:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        publisher = Publisher(res.db, res.events, PublishOptions.of(res.settings))
        typer.echo(f"publishing to {res.events.key} as {publisher.lease.owner}", err=True)
        await publisher.run(stop)
        return publisher.published

    published = with_resources(work, settings, ping_redis=True)
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

    settings = load_settings()
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
        with_resources(work, settings, ping_redis=True)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@events_cli.command("forward-xapi")
def events_forward_xapi() -> None:
    """Forward the stream to the xAPI LRS (XAPI_LRS_URL) while holding the forwarder lease,
    until SIGTERM/Ctrl-C."""
    from app.xapi.forwarder import build_forwarder

    setup_logging()
    settings = load_settings()
    _shared_redis(settings, "forward-xapi")
    if settings.xapi_lrs_url is None:
        typer.echo("error: `lumetrix events forward-xapi` needs XAPI_LRS_URL", err=True)
        raise typer.Exit(2)

    async def work(res: Resources) -> str:
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        forwarder = build_forwarder(res.db, res.events, res.backend, res.settings)
        typer.echo(
            f"forwarding {res.events.key} to {forwarder.lrs.statements_url} as "
            f"{forwarder.lease.owner}",
            err=True,
        )
        try:
            await forwarder.run(stop)
        finally:
            await forwarder.lrs.close()
        done = forwarder.tally
        return f"{done.forwarded} forwarded, {done.refused} refused, {done.retried} retried"

    summary = with_resources(work, settings, ping_redis=True)
    typer.echo(f"stopped; statements: {summary}", err=True)
