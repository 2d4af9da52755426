"""``make outage``: the embedded database killed with ``kill -9`` under load.

Serves the embedded default (``lumetrix dev`` on a fresh ``DATA_DIR``), loads it with
readers (cached pages of warmed students) and writers (mark-reads of new samples), kills
the SecantusDB child five seconds in, and keeps loading. Printed: how reads were answered
during the outage (200 marked stale, 200, 503, and the slowest 503), how long until a
mark-read succeeded again, and an audit through the API: every acknowledged first read
is there, and each student's points equal the sum over the samples they have read, so
nothing was counted twice. Exit code 1 on any audit failure.

    python -m loadtests.outage_run [--seconds 25] [--kill-at 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.auth import mint_token
from app.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "outage-run-secret-of-at-least-thirty-two-bytes"
READERS, WRITERS = 20, 20


@dataclass
class Tally:
    """What the load saw."""

    reads: Counter[str] = field(default_factory=Counter)  # during the outage window
    slowest_503_ms: float = 0.0
    acked: dict[str, dict[str, int]] = field(default_factory=dict)  # student -> sample -> pts
    tried: dict[str, set[str]] = field(default_factory=dict)
    write_ok_after_kill: float | None = None


def _db_child(pid: int) -> int:
    """The embedded database: the server process's child running SecantusDB."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for child in out.split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"secantus" in cmdline.lower():
            return int(child)
    raise RuntimeError("no SecantusDB child found")


async def _wait_ready(http: httpx.AsyncClient, base: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if (await http.get(base + "/ready")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError("server did not become ready")


def _headers(student: str) -> dict[str, str]:
    token = mint_token(SECRET, sub=student, client_id="outage", ttl=3600)
    return {"Authorization": f"Bearer {token}", "X-Client-Id": "outage"}


async def run(args: argparse.Namespace, server: subprocess.Popen[bytes], base: str) -> int:
    """Load, kill, audit; print the figures."""
    tally = Tally()
    async with httpx.AsyncClient(timeout=30) as http:
        await _wait_ready(http, base, 300)
        page = await http.get(
            base + "/training/samples",
            params={"language": "python", "limit": 100},
            headers=_headers("SIDHI_OUTAGE_PROBE"),
        )
        samples = {s["sample_id"]: 0 for s in page.json()["data"]}
        readers = [f"SIDHI_OUTR{i:03d}" for i in range(READERS)]
        writers = [f"SIDHI_OUTW{i:03d}" for i in range(WRITERS)]
        for student in readers:  # warm: catalog, read set
            await http.get(
                base + "/training/samples", params={"language": "c"}, headers=_headers(student)
            )
        started = time.monotonic()
        stop_at = started + args.seconds
        killed_at: float | None = None

        def _in_outage(t0: float) -> bool:
            """Sent after the kill, and before writes were acknowledged again."""
            return killed_at is not None and t0 > killed_at and tally.write_ok_after_kill is None

        async def reader(student: str) -> None:
            headers = _headers(student)
            while time.monotonic() < stop_at:
                t0 = time.monotonic()
                try:
                    res = await http.get(
                        base + "/training/samples", params={"language": "c"}, headers=headers
                    )
                    kind = str(res.status_code)
                    if res.status_code == 200 and "warning" in res.headers:
                        kind = "200 stale"
                except httpx.HTTPError:
                    kind = "transport error"
                if _in_outage(t0):
                    tally.reads[kind] += 1
                    if kind == "503":
                        ms = (time.monotonic() - t0) * 1000
                        tally.slowest_503_ms = max(tally.slowest_503_ms, ms)
                await asyncio.sleep(0.01)

        async def writer(student: str, offset: int) -> None:
            headers = _headers(student)
            ids = list(samples)[offset::WRITERS] + list(samples)
            acked = tally.acked.setdefault(student, {})
            tried = tally.tried.setdefault(student, set())
            for sample_id in ids:
                if time.monotonic() >= stop_at:
                    return
                tried.add(sample_id)
                t0 = time.monotonic()
                try:
                    res = await http.post(
                        f"{base}/training/samples/{sample_id}/mark-read",
                        params={"time_spent": 5},
                        headers=headers,
                    )
                except httpx.HTTPError:
                    continue
                if res.status_code == 200:
                    body = res.json()
                    if body["is_first_read"]:
                        acked[sample_id] = body["points_awarded"]
                    if killed_at is not None and _in_outage(t0):
                        # The first write sent after the kill that was acknowledged.
                        tally.write_ok_after_kill = time.monotonic() - killed_at
                else:
                    await asyncio.sleep(0.2)

        async def killer() -> None:
            nonlocal killed_at
            await asyncio.sleep(args.kill_at)
            os.kill(_db_child(server.pid), signal.SIGKILL)
            killed_at = time.monotonic()

        await asyncio.gather(
            killer(),
            *[reader(s) for s in readers],
            *[writer(s, i) for i, s in enumerate(writers)],
        )
        await _wait_ready(http, base, 60)
        missing = doubled = 0
        for student in writers:
            headers = _headers(student)
            read_points = 0
            for sample_id in tally.tried[student]:
                res = await http.get(f"{base}/training/samples/{sample_id}", headers=headers)
                sample = res.json()["data"]
                if sample["isRead"]:
                    read_points += int(sample.get("read_points", 1))
                elif sample_id in tally.acked[student]:
                    missing += 1
            mine = await http.get(
                base + "/training/my-progress", params={"language": "python"}, headers=headers
            )
            if mine.json()["overview"]["points"] != read_points:
                doubled += 1
    acked = sum(len(a) for a in tally.acked.values())
    print(f"reads during the outage: {dict(tally.reads)}")
    print(f"slowest 503 during the outage: {tally.slowest_503_ms:.0f} ms")
    back = tally.write_ok_after_kill
    print(f"first successful mark-read after the kill: {back:.1f} s" if back else "never back")
    print(
        f"acknowledged first reads: {acked}; missing: {missing}; students whose points "
        f"differ from the sum over what they read: {doubled}"
    )
    return 0 if back is not None and missing == 0 and doubled == 0 else 1


def main() -> int:
    """Serve the embedded default on a fresh DATA_DIR, run, stop the server."""
    parser = argparse.ArgumentParser(description="kill -9 the embedded database under load")
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--kill-at", type=float, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="lumetrix-outage-"))
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data), "JWT_SECRET": SECRET, "MARK_READ_RATE": "0"}
    for unset in ("MONGODB_URL", "REDIS_URL"):
        env.pop(unset, None)
    argv = [sys.executable, "-c", "from app.cli import main; main()", "dev", "--port", str(port)]
    with open(data / "server.log", "wb") as log:
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            return asyncio.run(run(args, server, f"http://127.0.0.1:{port}"))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
            print(f"server log: {data / 'server.log'}")


if __name__ == "__main__":
    sys.exit(main())
