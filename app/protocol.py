"""uvicorn's httptools protocol with the two limits it lacks: header size and header time.

httptools (llhttp) puts no bound on a request line plus headers and gathers a long header
by repeated ``bytes`` concatenation (quadratic: a 100 MB header took 12.7 s of the event
loop, stalling every other client). uvicorn has no header-read timeout either, and it arms
its keep-alive timer only after a first answer, so a client sending one byte a second, or
nothing at all, holds a connection for ever. ``h11`` has a size bound
(``h11_max_incomplete_event_size``) but no timeout either, and is slower, so the service keeps
httptools and adds here:

- ``MAX_HEADER_BYTES``: a connection that has sent more than this while its request's
  headers are incomplete gets a 431 and is closed (checked after each read, so at most one
  read, 256 kB, more is ever parsed);
- ``HEADER_TIMEOUT``: a connection gets this long to send a request's headers, counted
  from its opening or from the first byte after an answer; then it gets a 408 (or, when it
  sent nothing, is just closed).

Refusing a request while its client is still sending (a 413 mid-body, a 431 mid-header)
and then closing would make the kernel answer the unread bytes with a reset, which can
destroy the refusal before the client reads it. Such a connection is closed gracefully:
the answer is sent, our side is shut (FIN), what still arrives is dropped unparsed, and the
socket is closed when the client closes, once it has sent nothing for ``LINGER_IDLE``
seconds, or after ``LINGER_MAX`` at most (nginx's lingering close: a client busy sending
a 200 MB body reads its 413 only when done).

``lumetrix serve`` and ``dev`` use it (``app.cli._SERVER``). In front of the service, the
reverse proxy enforces the same (``deploy/nginx.conf``).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import ErrorCode
from app.settings import Settings, get_settings


def _refusal_bytes(status: int, reason: str, code: ErrorCode, detail: str) -> bytes:
    body = (
        '{"status":"error","code":"' + code + '","detail":"' + detail + '"}'
    ).encode()  # fixed texts: no escaping needed
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


@functools.lru_cache(maxsize=1)
def _limits() -> tuple[int, float, bytes, bytes]:
    """Header limits of this process, from the environment, and their prepared answers."""
    settings: Settings = get_settings()
    too_large = _refusal_bytes(
        431,
        "Request Header Fields Too Large",
        "http_error",
        f"the request line and headers are larger than {settings.max_header_bytes} bytes",
    )
    too_slow = _refusal_bytes(
        408,
        "Request Timeout",
        "request_timeout",
        f"the request headers took longer than {settings.header_timeout:g} s",
    )
    return settings.max_header_bytes, settings.header_timeout, too_large, too_slow


LINGER_IDLE = 2.0
LINGER_MAX = 30.0


class _LingeringTransport:
    """The connection's transport as uvicorn sees it: ``close`` while the request is still
    arriving becomes the protocol's graceful close; everything else goes straight through."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedHttpToolsProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        """Close, lingering when the client has more to send."""
        if self._protocol.request_unread():
            self._protocol.linger()
        else:
            self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is on its way out (lingering counts)."""
        return self._protocol.lingering or self._transport.is_closing()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a header size limit and a header-read deadline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_header_bytes, self._header_timeout, self._too_large, self._too_slow = _limits()
        self._in_headers = False  # a request has begun and its headers are incomplete
        self._header_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None
        self.lingering = False
        self._linger_last = 0.0  # loop time of the last bytes dropped while lingering
        self._linger_until = 0.0
        self._raw: asyncio.Transport | None = None

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def request_unread(self) -> bool:
        """Whether the client is still sending a request (headers or body) we will not read."""
        return self._in_headers or (self.cycle is not None and self.cycle.more_body)

    def linger(self) -> None:
        """Close gracefully: shut our side, drop what arrives, close on the client's FIN
        (``eof_received``), after ``LINGER_IDLE`` s of silence or ``LINGER_MAX`` s."""
        raw = self._raw
        if raw is None or self.lingering or raw.is_closing():
            return
        self.lingering = True
        self._disarm()
        if not raw.can_write_eof():
            raw.close()
            return
        raw.write_eof()  # after what is buffered: the answer goes out first
        raw.resume_reading()  # uvicorn may have paused it; unread bytes would mean a reset
        self._linger_last = self.loop.time()
        self._linger_until = self._linger_last + LINGER_MAX
        self.loop.call_later(LINGER_IDLE, self._linger_check)

    def _linger_check(self) -> None:
        raw = self._raw
        if raw is None or raw.is_closing():
            return
        now = self.loop.time()
        if now - self._linger_last >= LINGER_IDLE or now >= self._linger_until:
            raw.close()
            return
        wake = min(self._linger_last + LINGER_IDLE, self._linger_until)
        self.loop.call_later(wake - now, self._linger_check)

    def _refuse(self, answer: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()  # lingers while the request's headers are incomplete
        self._in_headers = False

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self._in_headers:
            self.logger.warning("Request headers not received in time.")
            self._refuse(self._too_slow)
        elif self.cycle is None or self.cycle.response_complete:
            # Nothing of a request (or only the leftovers of an answered one): just close.
            if not self.transport.is_closing():
                self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock: a new connection must send its first headers in time."""
        self._raw = transport
        super().connection_made(_LingeringTransport(transport, self))  # type: ignore[arg-type]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser, then hold the headers read so far to the size limit."""
        if self.lingering:
            self._linger_last = self.loop.time()
            return  # the rest of a refused request: dropped unparsed
        if self.cycle is None or self.cycle.response_complete:
            # No request is being served: these bytes start the next one, or are the
            # unread body of an answered one. Either way they get the header deadline
            # (uvicorn's keep-alive timer stops at the first byte, so a trickle beat it).
            self._arm()
        super().data_received(data)
        if self._in_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self._max_header_bytes:
                self.logger.warning("Request headers too large.")
                self._refuse(self._too_large)

    def on_message_begin(self) -> None:
        """A request starts: count its header bytes (under the running deadline)."""
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._arm()

    def on_headers_complete(self) -> None:
        """Headers in time and in size: the app takes over (the body has its own limits)."""
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()
