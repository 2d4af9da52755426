"""``lumetrix token``: mint a signed token for a student and client."""

from __future__ import annotations

from typing import Annotated

import typer

from app.auth import mint_token
from app.cli.common import CommandError, load_settings, student_id


def token(
    sub: Annotated[str, typer.Option(help="Student id (the `sub` claim).")],
    client_id: Annotated[str, typer.Option(help="Client id (the `cid` claim).")] = "web",
    ttl: Annotated[int, typer.Option(min=1, help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a signed token for a student and client."""
    student_id(sub, "--sub")
    settings = load_settings()
    if ttl > settings.max_token_lifetime:
        # The service would refuse it: say so now rather than hand out a dead token.
        raise CommandError(
            f"--ttl must be at most MAX_TOKEN_LIFETIME ({settings.max_token_lifetime} s)"
        )
    typer.echo(mint_token(settings.jwt_secret, sub=sub, client_id=client_id, ttl=ttl))
