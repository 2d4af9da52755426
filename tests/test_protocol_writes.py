"""How answers leave the protocol: an answer's head goes out with its body, in one write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from app.protocol import GuardedHttpToolsProtocol


class Recorder(asyncio.Transport):
    """A transport that records what is written to it, and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.writes.append(b"<eof>")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """200 with a body for GET /, 304 without one for GET /same, nothing at all for /slow
    until released (a head whose body comes later)."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/same":
        await send({"type": "http.response.start", "status": 304, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    )
    if scope["path"] == "/slow":
        await asyncio.sleep(0.05)
    await send({"type": "http.response.body", "body": b"hello"})


def _connected(keep_alive: int = 5) -> tuple[GuardedHttpToolsProtocol, Recorder]:
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=keep_alive)
    protocol = GuardedHttpToolsProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = Recorder()
    protocol.connection_made(transport)
    return protocol, transport


async def _answered(transport: Recorder, count: int = 1) -> None:
    for _ in range(200):
        if sum(w.startswith(b"HTTP/1.1") for w in transport.writes) >= count:
            await asyncio.sleep(0.01)
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"no answer: {transport.writes!r}")


async def test_an_answer_leaves_in_one_write() -> None:
    protocol, transport = _connected()
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await _answered(transport)
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\nhello")


@pytest.mark.parametrize("path", ["/same", "/slow"])
async def test_a_head_without_body_bytes_goes_out_by_itself(path: str) -> None:
    """A 304 (no body bytes) goes out when the answer completes; a head whose body is late
    goes out at the end of that turn of the loop, not when the body comes."""
    protocol, transport = _connected()
    protocol.data_received(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await _answered(transport)
    assert transport.writes[0].startswith(b"HTTP/1.1 30" if path == "/same" else b"HTTP/1.1 200")
    assert transport.writes[0].endswith(b"\r\n\r\n")
    if path == "/slow":
        await asyncio.sleep(0.1)
        assert transport.writes[1:] == [b"hello"]


async def test_two_pipelined_requests_get_two_whole_answers_in_order() -> None:
    protocol, transport = _connected()
    protocol.data_received(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /same HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    await _answered(transport, 2)
    assert [w[:12] for w in transport.writes] == [b"HTTP/1.1 200", b"HTTP/1.1 304"]
    assert transport.writes[0].endswith(b"hello")


async def test_a_refusal_goes_out_before_the_close() -> None:
    """A 431 (a refusal of the protocol's own, then a graceful close) is written whole
    before our side shuts."""
    protocol, transport = _connected()
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
    await asyncio.sleep(0.01)
    assert transport.writes[0].startswith(b"HTTP/1.1 431")
    assert transport.writes[1:] == [b"<eof>"]


async def test_an_idle_kept_alive_connection_closes_after_the_keep_alive_timeout() -> None:
    """uvicorn's keep-alive deadline, kept on the connection's one timer: a next request in
    time is served on the same connection; then silence closes it."""
    protocol, transport = _connected(keep_alive=1)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await _answered(transport)
    await asyncio.sleep(0.5)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await _answered(transport, 2)
    await asyncio.sleep(0.7)  # 1.2 s after the first answer, 0.7 s after the second
    assert not transport.closed
    await asyncio.sleep(0.6)
    assert transport.closed
