"""Swagger UI and ReDoc served from the service's own files, so ``/docs`` and ``/redoc``
work without internet. The files come from the ``fastapi-offline`` package, which ships
the swagger-ui distribution and ReDoc's standalone bundle; upgrading that package
upgrades them. Nothing here is pasted by hand."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

STATIC = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs-static"


def install_docs(app: FastAPI) -> None:
    """Mount the doc pages' assets and serve ``/docs`` and ``/redoc`` from them."""
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="docs-static")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        """Swagger UI on the service's own copy of swagger-ui."""
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        """ReDoc on the service's own copy of its standalone bundle."""
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{PREFIX}/favicon.png",
            with_google_fonts=False,
        )
