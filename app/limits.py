"""Request-body limits at the ASGI level, before anything reads a body.

A body larger than ``MAX_BODY_BYTES`` is a 413 ``payload_too_large``: at once when its
``Content-Length`` says so, else as soon as the streamed (chunked) pieces add up past the
limit, so no more than the limit is ever handed to the app. A body whose next piece takes
longer than ``BODY_TIMEOUT`` seconds to arrive is a 408 ``request_timeout``. Both answers
carry ``Connection: close``: the rest of such a body is not worth reading.

The middleware sits outside authentication and the lean path: FastAPI reads (and parses) a
body before the auth dependency runs, so an unauthenticated 200 MB body used to be read
whole into memory before its 422.
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ErrorCode

_DISCONNECT: Message = {"type": "http.disconnect"}


def refusal(status: int, code: ErrorCode, detail: str) -> tuple[Message, Message]:
    """The ASGI messages of an error-envelope answer that closes the connection."""
    body = orjson.dumps({"status": "error", "code": code, "detail": detail})
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # uvicorn closes the connection after an answer saying so.
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


class BodyAborted(Exception):
    """A body broke a limit after the answer had started: the connection must be dropped."""


class BodyLimit:
    """ASGI middleware: bound the size of request bodies and the wait for their pieces."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def _too_large(self) -> tuple[Message, Message]:
        return refusal(
            413, "payload_too_large", f"the request body is larger than {self.max_bytes} bytes"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with its body held to the limits."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            for message in self._too_large():
                await send(message)
            return

        received = 0
        body_done = False
        started = False
        refused = False

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app answering a body it never got whole: we already did
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def refuse(answer: tuple[Message, Message]) -> Message:
            nonlocal refused
            if started:
                raise BodyAborted("request body refused after the answer started")
            refused = True
            for message in answer:
                await send(message)
            # The app sees a client that went away, and stops reading.
            return _DISCONNECT

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if refused:
                return _DISCONNECT
            if body_done:
                # Past the body, receive() only waits for a disconnect: no deadline there.
                return await receive()
            try:
                async with asyncio.timeout(self.timeout):
                    message = await receive()
            except TimeoutError:
                return await refuse(
                    refusal(
                        408,
                        "request_timeout",
                        f"the request body stalled for more than {self.timeout:g} s",
                    )
                )
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    return await refuse(self._too_large())
                body_done = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send_unless_refused)
