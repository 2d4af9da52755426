"""Request limits at the ASGI level: the body's size and pace, and the worker's capacity.

``BodyLimit`` reads a request's whole body before anything else sees the request. A body
larger than ``MAX_BODY_BYTES`` is a 413 ``payload_too_large``: at once when its
``Content-Length`` says so, else as soon as the streamed (chunked) pieces add up past the
limit, so no more than the limit is ever held. A body whose next piece takes longer than
``BODY_TIMEOUT`` seconds to arrive is a 408 ``request_timeout`` (the whole request's deadline,
``REQUEST_TIMEOUT``, is the server protocol's: ``app/protocol.py``). Both answers carry
``Connection: close``: the rest of such a body is not worth reading.

``Capacity`` (inside it) bounds the requests a worker serves at once to ``MAX_CONCURRENCY``;
past it, a 503 ``service_unavailable`` with ``Retry-After``. Because the body was read
first, only whole requests count: a connection still sending its headers or its body (idle,
slow, or an attacker's trickle) takes no slot, so it cannot lock other clients out.

Both sit outside authentication and the lean path: FastAPI reads (and parses) a body before
the auth dependency runs, so an unauthenticated 200 MB body used to be read whole into
memory before its 422.
"""

from __future__ import annotations

import asyncio

import orjson
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ErrorCode

# Refusals by a request limit, whoever answers them (this module or app/protocol.py), so
# an attack shows in the metrics without a log line per connection.
REFUSED = Counter(
    "lumetrix_refused_requests_total",
    "Requests or connections refused by a request limit, by reason.",
    ["reason"],
)
RETRY_AFTER = 1  # s: a busy worker frees slots within a request's time


def refusal(
    status: int,
    code: ErrorCode,
    detail: str,
    *,
    close: bool = True,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> tuple[Message, Message]:
    """The ASGI messages of an error-envelope answer (closing the connection by default)."""
    body = orjson.dumps({"status": "error", "code": code, "detail": detail})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    if close:
        # uvicorn closes the connection after an answer saying so.
        headers.append((b"connection", b"close"))
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    return start, {"type": "http.response.body", "body": body, "more_body": False}


async def _answer(send: Send, answer: tuple[Message, Message]) -> None:
    for message in answer:
        await send(message)


class BodyLimit:
    """ASGI middleware: read a request's whole body, bounded in size and in its pieces' pace,
    before the app sees the request."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._too_large = refusal(
            413, "payload_too_large", f"the request body is larger than {max_bytes} bytes"
        )
        self._too_slow = refusal(
            408, "request_timeout", f"the request body stalled for more than {timeout:g} s"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request once its body is read whole (or refuse it)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length" and declared is None:
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            REFUSED.labels("body_too_large").inc()
            await _answer(send, self._too_large)
            return
        if not chunked and (declared is None or declared == b"0"):
            await self.app(scope, receive, send)  # no body: nothing to wait for
            return
        body = await self._read(receive, send)
        if body is None:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # past the body: only a disconnect comes

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once it was refused (or its client went away)."""
        parts: list[bytes] = []
        received = 0
        while True:
            try:
                async with asyncio.timeout(self.timeout):
                    message = await receive()
            except TimeoutError:
                REFUSED.labels("body_timeout").inc()
                await _answer(send, self._too_slow)
                return None
            if message["type"] != "http.request":
                return None  # a disconnect, or the protocol refused the request itself
            piece: bytes = message.get("body", b"")
            received += len(piece)
            if received > self.max_bytes:
                REFUSED.labels("body_too_large").inc()
                await _answer(send, self._too_large)
                return None
            parts.append(piece)
            if not message.get("more_body", False):
                return b"".join(parts)


class Capacity:
    """ASGI middleware: at most ``max_requests`` requests served at once; past it a JSON 503
    with ``Retry-After`` (counted in ``lumetrix_refused_requests_total``, not logged)."""

    def __init__(self, app: ASGIApp, *, max_requests: int) -> None:
        self.app = app
        self.max_requests = max_requests
        self.in_flight = 0
        self._busy = refusal(
            503,
            "service_unavailable",
            f"the server is busy; retry after {RETRY_AFTER} s",
            close=False,
            extra=((b"retry-after", str(RETRY_AFTER).encode()),),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request in a free slot, or answer 503 at once."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_requests:
            REFUSED.labels("over_capacity").inc()
            await _answer(send, self._busy)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
