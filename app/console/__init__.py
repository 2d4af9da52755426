"""The learner console: one static page at ``/console`` (plain HTML, CSS and a vanilla
script, no build step) that calls the ``/training`` API from the browser with the
learner's token. The service only serves the files; everything else happens client-side.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse

from app.security_headers import page_headers

STATIC = Path(__file__).parent / "static"
PATH = "/console"
ASSETS = f"{PATH}/assets"

# The page loads only its own files and talks only to this origin, so a sample text that
# somehow became markup could neither run script nor send the token anywhere else.
SECURITY_HEADERS = {
    **page_headers(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    # A new release's page must not pair with an old cached script: revalidate each time.
    "Cache-Control": "no-cache",
}  # nosniff: on every answer (app.observability)


def install_console(app: FastAPI) -> None:
    """Serve the console page at ``/console`` and its script and styles under it."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="console-assets")

    @app.get(PATH, include_in_schema=False)
    async def console() -> FileResponse:
        """The console page (the token travels in the URL fragment, never to the server)."""
        return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)
