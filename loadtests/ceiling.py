"""The benchmark's ceiling: the same stack (FastAPI + uvicorn) answering a static page.

``BENCH_CEILING_BODY`` names a file holding a real 20-sample response of the service; the
one route returns those bytes with nothing else to do, which is the most this stack can
serve on this machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response


def create_app() -> FastAPI:
    """An app with one route returning the pre-serialised page."""
    body = Path(os.environ["BENCH_CEILING_BODY"]).read_bytes()
    app = FastAPI()

    @app.get("/ceiling")
    async def ceiling() -> Response:
        """The static page."""
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> Response:
        """Liveness, for the benchmark's start-up wait."""
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
