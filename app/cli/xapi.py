"""``lumetrix xapi``: learning records in an xAPI Learning Record Store (XAPI_LRS_URL)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import CommandError, load_settings, student_id, with_resources

if TYPE_CHECKING:
    from app.handles import Resources
    from app.xapi.backfill import BackfillReport

xapi_cli = typer.Typer(
    help="Learning records: past reads into the xAPI LRS (live ones: `events forward-xapi`).",
    no_args_is_help=True,
)


def since_date(text: str) -> datetime:
    """``2026-01-31`` (midnight UTC) or an ISO 8601 date and time (UTC unless it says)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(
            f"--since must be a date like 2026-01-31 or 2026-01-31T12:00:00Z, not {text!r}"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@xapi_cli.command("backfill")
def backfill(
    since: Annotated[
        str | None, typer.Option(help="Only reads at or after this date (UTC), e.g. 2026-01-31.")
    ] = None,
    student: Annotated[str | None, typer.Option(help="Only this student's reads.")] = None,
) -> None:
    """Write the statements of past first reads from sample_progress to the LRS, with the
    ids live forwarding gives them: running it twice, or next to the forwarder, stores
    nothing twice."""
    from tqdm import tqdm

    from app.training.queries import reads
    from app.xapi.backfill import Backfill
    from app.xapi.forwarder import statement_maker
    from app.xapi.lrs import LrsAway, LrsClient

    settings = load_settings()
    if settings.xapi_lrs_url is None:
        raise CommandError("`lumetrix xapi backfill` needs XAPI_LRS_URL")
    start = since_date(since) if since is not None else None
    who = student_id(student, "--student") if student is not None else None

    async def work(res: Resources) -> BackfillReport:
        total = await reads.count_all(res.db, student=who)
        lrs = LrsClient.of(res.settings)
        bar = tqdm(total=total, unit="read", desc="backfill", file=sys.stderr)
        job = Backfill(
            res.db,
            lrs,
            statement_maker(res.settings),
            batch=res.settings.xapi_batch,
            advance=bar.update,
        )
        try:
            await job.run(since=start, student=who)
        except LrsAway as exc:
            raise CommandError(
                f"the LRS at {lrs.statements_url} is away ({exc}); {job.report.line()}"
            ) from exc
        finally:
            bar.close()
            await lrs.close()
        return job.report

    report = with_resources(work, settings)
    typer.echo(report.line())
    if report.refused:
        raise typer.Exit(3)
