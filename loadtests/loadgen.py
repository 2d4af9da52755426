"""Load generators for the benchmark: wrk when installed, else a small asyncio client.

Both run a fixed number of keep-alive connections for a fixed time, each connection
sending its next request as soon as the previous answer arrives, and report requests/s,
latency percentiles and non-2xx answers.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Request:
    """One request the generator may send."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Result:
    """What one load run measured."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    generator: str
    # Of ``errors``: the refusals the server counted as deliberate shedding (503 with
    # Retry-After: every MongoDB slot busy, or the worker at capacity), when it was asked.
    shed: int = 0

    def as_dict(self) -> dict[str, object]:
        """The result as plain data."""
        return asdict(self)


_WRK_SCRIPT = """
local specs = %s
local reqs = {}
init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  for i, s in ipairs(specs) do
    reqs[i] = wrk.format(s.method, s.path, s.headers, s.body)
  end
end
request = function()
  return reqs[math.random(#reqs)]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "status": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "timeout": %%d, "p50": %%d, "p90": %%d, "p99": %%d, ' ..
    '"max": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _lua_table(requests: list[Request]) -> str:
    def lua_str(text: str) -> str:
        return json.dumps(text)  # a JSON string literal is a valid Lua string literal here

    rows = []
    for r in requests:
        headers = ", ".join(f"[{lua_str(k)}] = {lua_str(v)}" for k, v in r.headers.items())
        body = "nil"
        rows.append(
            f"{{method = {lua_str(r.method)}, path = {lua_str(r.path)}, "
            f"headers = {{{headers}}}, body = {body}}}"
        )
    return "{" + ",\n".join(rows) + "}"


def run_wrk(
    base: str, requests: list[Request], *, connections: int, seconds: float, threads: int = 2
) -> Result:
    """Load ``base`` with wrk, picking a random request of ``requests`` each time."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % _lua_table(requests))
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(script.name).unlink()
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    secs = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("status", "connect", "read", "write", "timeout"))
    return Result(
        requests=data["requests"],
        seconds=secs,
        rps=data["requests"] / secs,
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
        errors=errors,
        generator="wrk",
    )


async def _connection(
    host: str,
    port: int,
    raws: list[bytes],
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            raw = random.choice(raws)
            started = time.perf_counter()
            writer.write(raw)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status.split(b" ")[1].startswith(b"2"):
                errors.append(1)
    finally:
        writer.close()


def run_python(base: str, requests: list[Request], *, connections: int, seconds: float) -> Result:
    """Load ``base`` from this process with asyncio (when wrk is not installed)."""
    host, port = base.removeprefix("http://").split(":")
    raws = []
    for r in requests:
        head = f"{r.method} {r.path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in r.headers.items())
        raws.append((head + "\r\n").encode())
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> float:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *[
                _connection(host, int(port), raws, deadline, latencies, errors)
                for _ in range(connections)
            ]
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return Result(
        requests=len(latencies),
        seconds=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=pct(0.5),
        p90_ms=pct(0.9),
        p99_ms=pct(0.99),
        max_ms=latencies[-1] * 1000,
        errors=len(errors),
        generator="python-asyncio",
    )


def run_load(base: str, requests: list[Request], *, connections: int, seconds: float) -> Result:
    """Load with wrk if installed, else with the asyncio client."""
    if shutil.which("wrk"):
        return run_wrk(base, requests, connections=connections, seconds=seconds)
    return run_python(base, requests, connections=connections, seconds=seconds)
