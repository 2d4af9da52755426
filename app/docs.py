"""Swagger UI and ReDoc served from the service's own files, so ``/docs`` and ``/redoc``
work without internet. The files come from the ``fastapi-offline`` package, which ships
the swagger-ui distribution and ReDoc's standalone bundle; upgrading that package
upgrades them. Nothing here is pasted by hand.

Each page is built once and served with a Content-Security-Policy naming what it loads:
its own files, its inline bootstrap script by hash, the OpenAPI document; nobody may frame
it. The policy is computed from the page FastAPI generates, so it follows upgrades.

The OpenAPI document gets one example of each response shape (``app.training.examples``),
attached here to the shape's schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from app.security_headers import inline_script_hashes, page_headers
from app.training.examples import EXAMPLES

STATIC = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs-static"
# What both pages need besides scripts: their styles set style attributes (and ReDoc adds
# <style> elements) at run time, icons are data: URIs, ReDoc's search runs in a blob: worker.
_COMMON = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _page(html: HTMLResponse) -> tuple[bytes, dict[str, str]]:
    """A generated page's bytes and headers: scripts from this origin and its own inline
    ones, nothing else."""
    body = bytes(html.body)
    scripts = " ".join(filter(None, ("'self'", inline_script_hashes(body))))
    return body, page_headers(f"script-src {scripts}; {_COMMON}")


def _published(value: Any) -> Any:
    """``value`` as the document publishes its schemas: keys sorted (pydantic), nulls left
    out (FastAPI)."""
    if isinstance(value, Mapping):
        return {k: _published(value[k]) for k in sorted(value) if value[k] is not None}
    if isinstance(value, list):
        return [_published(item) for item in value]
    return value


def _attach_examples(app: FastAPI) -> None:
    """Build the app's OpenAPI document with each shape's example in its schema."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build().get("components", {}).get("schemas", {})
            for name, schema in schemas.items():
                example = EXAMPLES.get(name)
                if example is not None:
                    schema["example"] = _published(example)
        return build()  # the document FastAPI keeps, examples attached

    app.openapi = openapi  # type: ignore[method-assign]


def install_docs(app: FastAPI) -> None:
    """Mount the doc pages' assets and serve ``/docs`` and ``/redoc`` from them; the OpenAPI
    document carries the response shapes' examples."""
    _attach_examples(app)
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="docs-static")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"
    swagger_body, swagger_headers = _page(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png",
        )
    )
    redoc_body, redoc_headers = _page(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{PREFIX}/favicon.png",
            with_google_fonts=False,
        )
    )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        """Swagger UI on the service's own copy of swagger-ui."""
        return HTMLResponse(swagger_body, headers=swagger_headers)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        """ReDoc on the service's own copy of its standalone bundle."""
        return HTMLResponse(redoc_body, headers=redoc_headers)
