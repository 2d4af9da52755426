"""The slow and oversized request attacks of issue 21 against a running server, with the
figures its closing table needs: what the attack got, the server's RSS (from ``/proc``) and
what other clients saw meanwhile (status counts, median and worst latency of ``/health``).

    python -m loadtests.limits_probe --port 8000 --pid <serving pid> [--only trickle,idle]

Attacks (scaled with ``--scale``; 1.0 is the issue's size where the machine allows):
``trickle`` 1,100 bodies of ``Content-Length: 16000`` sent a byte every 2 s; ``trailer`` one
100 MiB chunked trailer, then three of 60 MiB at once; ``oneread`` a 120,000-byte header
block in one write, a 26.8 kB token, and 500 connections holding 100 kB of headers;
``idle`` 2,000 idle sockets. Nothing here asserts: it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

MB = 1 << 20


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid``, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _status(port: int, request: bytes, bound: float = 10.0) -> tuple[str, float, bytes]:
    """Send ``request`` on a fresh connection: (status or error, seconds, answer head)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(bound):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        return type(exc).__name__, time.monotonic() - started, b""
    return head.split(b" ", 2)[1].decode(), time.monotonic() - started, head


class Observer:
    """Another client: a fresh-connection ``GET /health`` every ``every`` s while running."""

    def __init__(self, port: int, every: float = 0.2) -> None:
        self.port = port
        self.every = every
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.sample_503 = b""
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            status, took, head = await _status(
                self.port, b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
            )
            self.statuses[status] += 1
            self.latencies.append(took)
            if status == "503" and not self.sample_503:
                self.sample_503 = head
            await asyncio.sleep(self.every)

    def __enter__(self) -> Observer:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    def summary(self) -> str:
        """Statuses and latency of the other client."""
        if not self.latencies:
            return "no probes"
        return (
            f"others: {dict(self.statuses)}, /health median "
            f"{statistics.median(self.latencies) * 1000:.0f} ms, worst "
            f"{max(self.latencies) * 1000:.0f} ms"
        )


async def _drain_until_closed(reader: asyncio.StreamReader) -> bytes:
    got = b""
    while True:
        try:
            part = await reader.read(65536)
        except OSError:
            return got
        if not part:
            return got
        got += part


async def trickle(port: int, scale: float, seconds: float) -> str:
    """Connections sending a 16,000-byte body a byte every 2 s: how many stay open."""
    count = int(1100 * scale)
    opened = 0
    answers: Counter[str] = Counter()
    open_now = 0

    async def one() -> None:
        nonlocal opened, open_now
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as exc:
            answers[type(exc).__name__] += 1
            return
        opened += 1
        open_now += 1
        writer.write(
            b"PUT /training/preferences HTTP/1.1\r\nHost: probe\r\n"
            b"Content-Type: application/json\r\nContent-Length: 16000\r\n\r\n"
        )

        async def drip() -> None:
            try:
                while True:
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(2)
            except OSError:
                pass

        dripping = asyncio.create_task(drip())
        try:
            answer = await _drain_until_closed(reader)
            answers[answer.split(b" ", 2)[1].decode() if answer else "closed"] += 1
        finally:
            dripping.cancel()
            open_now -= 1
            writer.close()

    with Observer(port) as others:
        tasks = []
        for _ in range(count):  # ramped, as a real client pool connects
            tasks.append(asyncio.create_task(one()))
            await asyncio.sleep(0.002)
        started = time.monotonic()
        marks = []
        for mark in (5, seconds / 2, seconds):
            await asyncio.sleep(max(0.0, started + mark - time.monotonic()))
            marks.append(f"{open_now} open at {mark:g} s")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return f"trickle x{count}: {', '.join(marks)}; answers {dict(answers)}; {others.summary()}"


async def _send_trailer(port: int, size: int) -> tuple[str, float]:
    """A chunked POST whose trailer is ``size`` bytes: (answer status, seconds)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"PUT /training/preferences HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n10\r\n{"tz": "UTC"}   \r\n0\r\nX-Trailer: '
    )
    piece = b"a" * (64 * 1024)
    try:
        for _ in range(size // len(piece)):
            writer.write(piece)
            await writer.drain()
        writer.write(b"\r\n\r\n")
        await writer.drain()
    except OSError:
        pass
    try:
        async with asyncio.timeout(60):
            answer = await _drain_until_closed(reader)
    except TimeoutError:
        answer = b""
    writer.close()
    status = answer.split(b" ", 2)[1].decode() if answer else "no answer"
    return status, time.monotonic() - started


async def trailer(port: int, pid: int, scale: float) -> str:
    """One 100 MiB trailer, then three 60 MiB ones at once; a 10 MiB one's answer."""
    out = []
    small = await _send_trailer(port, int(10 * MB * scale))
    out.append(f"10 MiB trailer -> {small[0]}")
    for label, sizes in (("1x100MiB", [100]), ("3x60MiB", [60, 60, 60])):
        before = rss_mb(pid)
        peak = before
        with Observer(port, 0.1) as others:
            tasks = [asyncio.create_task(_send_trailer(port, int(s * MB * scale))) for s in sizes]
            while not all(t.done() for t in tasks):
                peak = max(peak, rss_mb(pid))
                await asyncio.sleep(0.1)
            results = [t.result() for t in tasks]
        out.append(
            f"{label}: answers {[r[0] for r in results]} after "
            f"{[round(r[1], 1) for r in results]} s; RSS {before:.0f} -> peak {peak:.0f} MB; "
            f"{others.summary()}"
        )
    return "trailer: " + "; ".join(out)


async def oneread(port: int, pid: int, scale: float) -> str:
    """Header blocks sent in one write; 500 connections holding 100 kB of headers."""
    out = []
    for size in (20_000, 26_800, 120_000, 150_000):
        request = (
            b"GET /health HTTP/1.1\r\nHost: probe\r\nX-Big: "
            + b"a" * size
            + b"\r\nConnection: close\r\n\r\n"
        )
        status, _, _ = await _status(port, request)
        out.append(f"{size} B in one write -> {status}")
    count = int(500 * scale)
    before = rss_mb(pid)
    held = []
    for _ in range(count):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            break
        writer.write(b"GET /health HTTP/1.1\r\nHost: probe\r\nX-Big: " + b"a" * 100_000)
        held.append((reader, writer))
    await asyncio.sleep(2)
    with Observer(port, 0.1) as others:
        await asyncio.sleep(2)
        after = rss_mb(pid)
    for _, writer in held:
        writer.close()
    out.append(
        f"{count} x 100 kB held headers: RSS {before:.0f} -> {after:.0f} MB; {others.summary()}"
    )
    return "oneread: " + "; ".join(out)


async def idle(port: int, scale: float, seconds: float) -> str:
    """Idle sockets: what other clients get while they are open."""
    count = int(2000 * scale)
    held = []
    for _ in range(count):
        try:
            held.append(await asyncio.open_connection("127.0.0.1", port))
        except OSError:
            break
    with Observer(port, 0.1) as others:
        await asyncio.sleep(seconds)
    for _, writer in held:
        writer.close()
    sample = others.sample_503.decode(errors="replace").replace("\r\n", " | ")
    return f"idle x{len(held)} for {seconds:g} s: {others.summary()}; a 503 head: {sample!r}"


async def run(args: argparse.Namespace) -> None:
    """Run the chosen attacks one after another, printing a line each."""
    attacks: dict[str, Callable[[], Awaitable[str]]] = {
        "trickle": lambda: trickle(args.port, args.scale, args.seconds),
        "trailer": lambda: trailer(args.port, args.pid, args.scale),
        "oneread": lambda: oneread(args.port, args.pid, args.scale),
        "idle": lambda: idle(args.port, args.scale, args.idle_seconds),
    }
    chosen = args.only.split(",") if args.only else list(attacks)
    for name in chosen:
        line = await attacks[name]()
        print(f"[{name}] RSS now {rss_mb(args.pid):.0f} MB | {line}", flush=True)
        await asyncio.sleep(3)


def main(argv: list[str] | None = None) -> Any:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="issue 21 request-limit attacks")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--pid", type=int, required=True, help="serving process, for RSS")
    parser.add_argument("--only", help="comma-separated: trickle,trailer,oneread,idle")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=40, help="trickle duration")
    parser.add_argument("--idle-seconds", type=float, default=5)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
