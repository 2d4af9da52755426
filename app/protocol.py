"""uvicorn's httptools protocol with the limits it lacks: header size and request time.

httptools (llhttp) puts no bound on a request line plus headers, nor on a chunked body's
trailers, and gathers a long field by repeated ``bytes`` concatenation (quadratic: a 100 MB
header took 12.7 s of the event loop, stalling every other client). uvicorn has no header
or request deadline either, and it arms its keep-alive timer only after a first answer, so
a client sending one byte a second, or nothing at all, holds a connection for ever. ``h11``
has a size bound (``h11_max_incomplete_event_size``) but no deadline either, and is slower,
so the service keeps httptools and adds here:

- ``MAX_HEADER_BYTES``: the request line, headers and trailers of a request, counted field
  by field as the parser hands them over (so a block that arrives in one read counts
  whole), and counted by the read while a header or trailer is incomplete (so no more than
  one read, 256 kB, past the limit is ever gathered): more is a 431, and the connection is
  closed. Trailer fields are counted, never added to the request's headers;
- ``HEADER_TIMEOUT``: a connection gets this long to send a request's headers, counted
  from its opening or from the first byte after an answer; then it gets a 408 (or, when it
  sent nothing, is just closed);
- ``REQUEST_TIMEOUT``: the headers and body of a request must have arrived this long after
  its first byte, however steadily they trickle in; then a 408.

Each refusal is counted in ``lumetrix_refused_requests_total`` (no log line per connection:
an attack would flood the log). Refusing a request while its client is still sending (a
413 mid-body, a 431 mid-header) and then closing would make the kernel answer the unread
bytes with a reset, which can destroy the refusal before the client reads it. Such a
connection is closed gracefully: the answer is sent, our side is shut (FIN), what still
arrives is dropped unparsed, and the socket is closed when the client closes, once it has
sent nothing for ``LINGER_IDLE`` seconds, or after ``LINGER_MAX`` at most (nginx's lingering
close: a client busy sending a 200 MB body reads its 413 only when done).

``lumetrix serve`` and ``dev`` use it (``app.cli.serve._SERVER``). In front of the service, the
reverse proxy enforces the same (``deploy/nginx.conf``).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.deadlines import Deadlines
from app.errors import ErrorCode
from app.limits import REFUSED
from app.settings import Settings, get_settings

# The request line's method, version, spaces and line ends, which the parser does not hand
# over as fields.
_LINE_OVERHEAD = 16
# Per header or trailer field: ": " and the line end.
_FIELD_OVERHEAD = 4


def _refusal_bytes(status: int, reason: str, code: ErrorCode, detail: str) -> bytes:
    body = (
        '{"status":"error","code":"' + code + '","detail":"' + detail + '"}'
    ).encode()  # fixed texts: no escaping needed
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


@dataclass(frozen=True)
class _Limits:
    max_header_bytes: int
    header_timeout: float
    request_timeout: float
    too_large: bytes
    headers_too_slow: bytes
    request_too_slow: bytes


@functools.lru_cache(maxsize=1)
def _limits() -> _Limits:
    """Limits of this process, from the environment, and their prepared answers."""
    settings: Settings = get_settings()
    return _Limits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout,
        request_timeout=settings.request_timeout,
        too_large=_refusal_bytes(
            431,
            "Request Header Fields Too Large",
            "http_error",
            f"the request line, headers and trailers are larger than "
            f"{settings.max_header_bytes} bytes",
        ),
        headers_too_slow=_refusal_bytes(
            408,
            "Request Timeout",
            "request_timeout",
            f"the request headers took longer than {settings.header_timeout:g} s",
        ),
        request_too_slow=_refusal_bytes(
            408,
            "Request Timeout",
            "request_timeout",
            f"the request took longer than {settings.request_timeout:g} s to arrive",
        ),
    )


class _Refused(Exception):
    """Raised from a parser callback: stop parsing, and answer this."""

    def __init__(self, answer: bytes, reason: str) -> None:
        super().__init__(reason)
        self.answer = answer
        self.reason = reason


LINGER_IDLE = 2.0
LINGER_MAX = 30.0


class _LingeringTransport:
    """The connection's transport as uvicorn sees it: ``close`` while the request is still
    arriving becomes the protocol's graceful close; an answer's head goes out with its body;
    everything else goes straight through."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedHttpToolsProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._head: bytes | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        """Write ``data``; an answer's status line and headers wait for its first body bytes.

        uvicorn writes an answer's head and its body separately: two sends where one does
        (the send was over a third of the worker's time on a cached page, py-spy). The head
        waits at most until the end of this turn of the event loop, the answer's end, or a
        close, whichever comes first, so nothing is held back longer than that."""
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data.startswith(b"HTTP/"):
            self._head = data
            self._protocol.loop.call_soon(self.release)
        else:
            self._transport.write(data)

    def release(self) -> None:
        """Write a head still waiting for its body."""
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        """Close (after any head still held), lingering when the client has more to send."""
        self.release()
        if self._protocol.request_unread():
            self._protocol.linger()
        else:
            self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is on its way out (lingering counts)."""
        return self._protocol.lingering or self._transport.is_closing()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with header and trailer size limits, a header-read deadline and
    a deadline for the whole request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = _limits()
        self._in_headers = False  # a request has begun and its headers are incomplete
        self._in_body = False  # its headers are in, its body (and trailers) not yet
        self._body_seen = False  # the parser handed over body bytes during this read
        self._field_bytes = 0  # request line, header and trailer fields parsed so far
        self._partial_bytes = 0  # bytes of reads that left a header or trailer incomplete
        # "headers": the request's headers are due; "request": its headers and body are.
        self._deadlines = Deadlines(
            self.loop, {"headers": self._headers_too_slow, "request": self._request_too_slow}
        )
        self.lingering = False
        self._linger_last = 0.0  # loop time of the last bytes dropped while lingering
        self._linger_until = 0.0
        self._raw: asyncio.Transport | None = None

    def _arm(self) -> None:
        if not self._deadlines.is_set("headers"):
            self._deadlines.set("headers", self._limits.header_timeout)

    def _disarm(self) -> None:
        self._deadlines.clear("headers")

    def _disarm_request(self) -> None:
        self._deadlines.clear("request")

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
        self._disarm_request()
        if isinstance(self.transport, _LingeringTransport):
            self.transport.release()  # the answer goes out before our side shuts
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

    def _refuse(self, answer: bytes, reason: str) -> None:
        """Answer ``answer`` instead of the request under way and close (lingering)."""
        self._disarm()
        self._disarm_request()
        REFUSED.labels(reason).inc()
        cycle = self.cycle
        if self._in_body and cycle is not None:
            # The app is waiting for this body: it hears of a client gone, and what it
            # sends is dropped (uvicorn's cycle sends nothing once disconnected).
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                # Too late for an answer of ours: just end the connection.
                self._in_body = self._in_headers = False
                if self._raw is not None:
                    self._raw.close()
                return
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()  # lingers while the request is incomplete
        self._in_headers = self._in_body = False
        # Nothing more is parsed here: let go of the partial field the parser gathered (up
        # to a read past the limit), which would otherwise stay for the lingering close.
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def _headers_too_slow(self) -> None:
        if self._in_headers:
            self._refuse(self._limits.headers_too_slow, "header_timeout")
        elif self.cycle is None or self.cycle.response_complete:
            # Nothing of a request (or only the leftovers of an answered one): just close.
            if not self.transport.is_closing():
                self.transport.close()

    def _request_too_slow(self) -> None:
        if self._in_headers or self._in_body:
            self._refuse(self._limits.request_too_slow, "request_timeout")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock: a new connection must send its first headers in time."""
        self._raw = transport
        super().connection_made(_LingeringTransport(transport, self))  # type: ignore[arg-type]
        self._arm()

    def on_response_complete(self) -> None:
        """An answer is complete: its head goes out now if no body bytes took it along."""
        if isinstance(self.transport, _LingeringTransport):
            self.transport.release()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadlines with the connection."""
        self._deadlines.close()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser (as uvicorn does), then hold what is incomplete to the size limit."""
        if self.lingering:
            self._linger_last = self.loop.time()
            return  # the rest of a refused request: dropped unparsed
        if self.cycle is None or self.cycle.response_complete:
            # No request is being served: these bytes start the next one, or are the
            # unread body of an answered one. Either way they get the header deadline
            # (uvicorn's keep-alive timer stops at the first byte, so a trickle beat it).
            self._arm()
        self._unset_keepalive_if_required()
        in_body = self._in_body
        self._body_seen = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            refused = exc.__context__
            if isinstance(refused, _Refused):
                self._refuse(refused.answer, refused.reason)
            else:
                self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        if self.transport.is_closing():
            return
        if self._in_headers or (in_body and self._in_body and not self._body_seen):
            # A header, or a chunk's framing or a trailer, still coming: the parser holds
            # these bytes until the field is whole.
            self._partial_bytes += len(data)
            if self._partial_bytes > self._limits.max_header_bytes:
                self._refuse(self._limits.too_large, "headers_too_large")

    def _invalid(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _count(self, size: int) -> None:
        """Count header-field bytes; past the limit, stop parsing and refuse."""
        self._field_bytes += size
        if self._field_bytes > self._limits.max_header_bytes:
            raise _Refused(self._limits.too_large, "headers_too_large")

    def on_message_begin(self) -> None:
        """A request starts: count its header bytes, under both deadlines."""
        super().on_message_begin()
        self._in_headers = True
        self._in_body = False
        self._field_bytes = _LINE_OVERHEAD
        self._partial_bytes = 0
        self._arm()
        self._deadlines.set("request", self._limits.request_timeout)

    def on_url(self, url: bytes) -> None:
        """Count the target (it may come in pieces)."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count a header; a trailer (after the headers) is counted and dropped."""
        self._count(len(name) + len(value) + _FIELD_OVERHEAD)
        if self._in_body:
            return  # ASGI has no request trailers; adding them would change the headers
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Headers in time and in size: the app takes over (the body has its own limits)."""
        self._in_headers = False
        self._in_body = True
        self._disarm()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """Note that this read brought body bytes (so it was no trailer)."""
        self._body_seen = True
        super().on_body(body)

    def on_message_complete(self) -> None:
        """The whole request is in: its deadline is met."""
        self._in_body = False
        self._disarm_request()
        super().on_message_complete()
