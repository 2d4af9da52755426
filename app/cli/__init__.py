"""The ``lumetrix`` command line: serve, set up data, mint tokens, maintain stats.

The commands live in modules by topic (``serve``, ``data``, ``tokens``, ``events``,
``xapi``); this
module holds the Typer app, registers them in the order ``--help`` lists them, and ``main``
(the console-script entry point ``lumetrix = app.cli:main``)."""

from __future__ import annotations

import sys

import typer

from app.cli import data, events, serve, tokens, xapi
from app.cli.common import CommandError
from app.cli.serve import console_url

__all__ = ["CommandError", "cli", "console_url", "main"]

cli = typer.Typer(
    help="Lumetrix training service: catalog of programming samples with read tracking.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.command()(serve.serve)
cli.command()(serve.dev)
cli.command("seed-demo")(data.seed_demo_cmd)
cli.command()(data.migrate)
cli.command("warm-cache")(data.warm_cache)
cli.command()(tokens.token)
cli.command("recompute-stats")(data.recompute_stats)
cli.command("import")(data.import_cmd)
cli.command("export-progress")(data.export_progress)
cli.command("delete-student")(data.delete_student_cmd)
cli.command()(data.reconcile)
cli.add_typer(events.events_cli, name="events")
cli.add_typer(xapi.xapi_cli, name="xapi")


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
