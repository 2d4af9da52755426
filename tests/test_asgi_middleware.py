"""The ASGI middlewares (``app.limits``, ``app.observability``) on a throwaway app, as
Starlette's own tests do: a few-line Starlette app wrapped by one middleware and driven by
httpx's ``ASGITransport``, so a test shows what the middleware does and nothing else.
(``test_limits`` and ``test_observability`` test them in the whole service.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from app.limits import BodyLimit, Capacity
from app.observability import REQUEST_ID, RequestContext
from app.stale import mark_stale

LIMIT = 1000


class Calls:
    """What the throwaway app saw: bodies and request ids; ``gate``, when set, holds each
    request inside the app until it is opened."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.request_ids: list[str] = []
        self.gate: asyncio.Event | None = None
        self.inside = 0
        self.all_in = asyncio.Event()  # set once ``expected`` requests are inside
        self.expected = 0


def throwaway(calls: Calls) -> Starlette:
    """An app that echoes the body's size, can hold a request, fail, or mark itself stale."""

    async def echo(request: Request) -> Response:
        calls.inside += 1
        if calls.inside == calls.expected:
            calls.all_in.set()
        try:
            calls.request_ids.append(REQUEST_ID.get())
            body = await request.body()
            calls.bodies.append(body)
            if calls.gate is not None:
                await calls.gate.wait()
            return JSONResponse({"size": len(body)})
        finally:
            calls.inside -= 1

    async def fail(request: Request) -> Response:
        raise RuntimeError("the app failed")

    async def stale(request: Request) -> Response:
        mark_stale(1_700_000_000.0)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST"]),
            Route("/fail", fail),
            Route("/stale", stale),
        ]
    )


def client(app: ASGIApp) -> httpx.AsyncClient:
    """An httpx client calling ``app`` in-process (app exceptions become 500s)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def envelope(res: httpx.Response, status: int, code: str) -> None:
    """The answer is the service's error envelope with this status and code."""
    assert res.status_code == status, res.text
    body = orjson.loads(res.content)
    assert body["status"] == "error" and body["code"] == code and body["detail"]


async def pieces(*parts: bytes, pause: float = 0.0) -> AsyncIterator[bytes]:
    """A streamed (chunked) body: ``parts``, ``pause`` seconds apart."""
    for n, part in enumerate(parts):
        if n and pause:
            await asyncio.sleep(pause)
        yield part


# BodyLimit


@pytest.fixture
def limited() -> tuple[Calls, BodyLimit]:
    """The throwaway app behind a 1,000-byte, 0.2 s-per-piece body limit."""
    calls = Calls()
    return calls, BodyLimit(throwaway(calls), max_bytes=LIMIT, timeout=0.2)


async def test_a_body_within_the_limit_reaches_the_app_whole(
    limited: tuple[Calls, BodyLimit],
) -> None:
    calls, app = limited
    async with client(app) as http:
        assert (await http.post("/echo", content=b"x" * LIMIT)).json() == {"size": LIMIT}
        streamed = await http.post("/echo", content=pieces(b"a" * 400, b"b" * 600))
        assert streamed.json() == {"size": LIMIT}
        assert (await http.get("/echo")).json() == {"size": 0}
    assert calls.bodies == [b"x" * LIMIT, b"a" * 400 + b"b" * 600, b""]


async def test_a_declared_body_over_the_limit_is_413_before_the_app_sees_it(
    limited: tuple[Calls, BodyLimit],
) -> None:
    calls, app = limited
    async with client(app) as http:
        res = await http.post("/echo", content=b"x" * (LIMIT + 1))
    envelope(res, 413, "payload_too_large")
    assert res.headers["connection"] == "close"
    assert calls.bodies == []


async def test_a_streamed_body_is_cut_off_once_its_pieces_pass_the_limit(
    limited: tuple[Calls, BodyLimit],
) -> None:
    calls, app = limited
    async with client(app) as http:
        res = await http.post("/echo", content=pieces(b"a" * 600, b"b" * 600))
    envelope(res, 413, "payload_too_large")
    assert calls.bodies == []


async def test_a_stalled_body_is_408(limited: tuple[Calls, BodyLimit]) -> None:
    calls, app = limited
    async with client(app) as http:
        res = await http.post("/echo", content=pieces(b"a", b"b", pause=1.0))
    envelope(res, 408, "request_timeout")
    assert res.headers["connection"] == "close"
    assert calls.bodies == []


# Capacity


async def test_past_the_capacity_a_request_is_503_and_a_freed_slot_serves_again() -> None:
    calls = Calls()
    calls.gate, calls.expected = asyncio.Event(), 2
    app = Capacity(throwaway(calls), max_requests=2)
    async with client(app) as http:
        held = [asyncio.create_task(http.get("/echo")) for _ in range(2)]
        await asyncio.wait_for(calls.all_in.wait(), 10)
        busy = await http.get("/echo")
        envelope(busy, 503, "service_unavailable")
        assert busy.headers["retry-after"] == "1"
        assert "connection" not in busy.headers  # a busy answer keeps the connection
        calls.gate.set()
        assert [(await r).status_code for r in held] == [200, 200]
        assert app.in_flight == 0
        # A request that fails frees its slot too.
        calls.gate = None
        assert (await http.get("/fail")).status_code == 500
        assert app.in_flight == 0
        assert (await http.get("/echo")).status_code == 200


# RequestContext


@pytest.fixture
def traced() -> tuple[Calls, Callable[[], httpx.AsyncClient]]:
    """The throwaway app inside ``RequestContext``."""
    calls = Calls()
    app = RequestContext(throwaway(calls))
    return calls, lambda: client(app)


async def test_a_sane_request_id_is_kept_and_any_other_replaced(
    traced: tuple[Calls, Callable[[], httpx.AsyncClient]],
) -> None:
    calls, make = traced
    async with make() as http:
        kept = await http.get("/echo", headers={"X-Request-Id": "abc-123.x_Y"})
        made = await http.get("/echo")
        refused = await http.get("/echo", headers={"X-Request-Id": "a b;" + "x" * 70})
    assert kept.headers["x-request-id"] == "abc-123.x_Y"
    ids = [made.headers["x-request-id"], refused.headers["x-request-id"]]
    assert all(len(i) == 32 for i in ids) and ids[0] != ids[1]
    # The app runs with the id it answers with (log lines carry it).
    assert calls.request_ids == ["abc-123.x_Y", *ids]
    assert REQUEST_ID.get() == "-"  # and it is gone after the request


async def test_answers_get_nosniff_and_only_a_stale_one_gets_warning_110(
    traced: tuple[Calls, Callable[[], httpx.AsyncClient]],
) -> None:
    _, make = traced
    async with make() as http:
        fresh = await http.get("/echo")
        stale = await http.get("/stale")
        after = await http.get("/echo")
    for res in (fresh, stale, after):
        assert res.headers["x-content-type-options"] == "nosniff"
    assert stale.headers["warning"] == '110 - "Response is Stale"'
    assert stale.headers["x-stale-as-of"] == "2023-11-14T22:13:20Z"
    assert "warning" not in fresh.headers and "warning" not in after.headers


async def test_one_access_log_line_per_request_even_when_the_app_fails(
    traced: tuple[Calls, Callable[[], httpx.AsyncClient]], caplog: pytest.LogCaptureFixture
) -> None:
    _, make = traced
    with caplog.at_level(logging.INFO, logger="lumetrix.access"):
        async with make() as http:
            ok = await http.post("/echo", content=b"hi", headers={"X-Request-Id": "req-1"})
            failed = await http.get("/fail", headers={"X-Request-Id": "req-2"})
    assert ok.status_code == 200 and failed.status_code == 500
    lines = [r.fields for r in caplog.records if r.name == "lumetrix.access"]  # type: ignore[attr-defined]
    assert [(f["request_id"], f["method"], f["status"]) for f in lines] == [
        ("req-1", "POST", 200),
        ("req-2", "GET", 500),
    ]
    assert all(isinstance(f["ms"], float) and f["ms"] >= 0 for f in lines)
