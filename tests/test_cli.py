"""The lumetrix command line, run as a user runs it (a subprocess)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest
import redis.asyncio
import yaml

from app.db import SAMPLES
from tests.conftest import SECRET
from tests.live import start_server
from tools import redis_servers

ROOT = Path(__file__).resolve().parent.parent


def lumetrix(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``lumetrix args`` with extra environment."""
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "JWT_SECRET": SECRET, **env},
    )


def test_help_lists_the_commands() -> None:
    out = lumetrix("--help")
    assert out.returncode == 0
    for command in [
        "serve",
        "dev",
        "seed-demo",
        "migrate",
        "warm-cache",
        "token",
        "recompute-stats",
    ]:
        assert command in out.stdout


def test_token_command() -> None:
    out = lumetrix("token", "--sub", "SIDHI_A6281C8BA865", "--client-id", "mobile", "--ttl", "60")
    assert out.returncode == 0, out.stderr
    claims = jwt.decode(out.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "SIDHI_A6281C8BA865" and claims["cid"] == "mobile"
    bad = lumetrix("token", "--sub", "no spaces please")
    assert bad.returncode == 1 and bad.stderr.startswith("error:")
    assert "Traceback" not in bad.stderr
    # A token the service would refuse is not minted.
    long = lumetrix("token", "--sub", "S1", "--ttl", "86401")
    assert long.returncode == 1 and "MAX_TOKEN_LIFETIME" in long.stderr


def test_production_without_secret_is_one_line_error() -> None:
    out = lumetrix("token", "--sub", "S1", LUMETRIX_ENV="production", JWT_SECRET="short")
    assert out.returncode == 1
    assert "JWT_SECRET" in out.stderr and "Traceback" not in out.stderr


async def test_migrate_command_and_module(mongo_url: str, fresh_db: Any) -> None:
    await fresh_db[SAMPLES].insert_many(
        [
            {"sample_id": "c_ch1_q_000001", "chapter": 1},
            {"sample_id": "rust_ch1_q_000002", "chapter": 1},
        ]
    )
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB": fresh_db.name}
    dry = await asyncio.to_thread(lumetrix, "migrate", "--dry-run", **env)
    assert dry.returncode == 2 and "rust_ch1_q_000002" in dry.stdout
    assert (await fresh_db[SAMPLES].find_one({"sample_id": "c_ch1_q_000001"})).get(
        "language"
    ) is None
    module = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "migrations.add_language_to_samples"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert module.returncode == 2, module.stderr
    assert "matched c" in module.stdout
    fallback = await asyncio.to_thread(lumetrix, "migrate", "--fallback-language", "cpp", **env)
    assert fallback.returncode == 0, fallback.stderr
    doc = await fresh_db[SAMPLES].find_one({"sample_id": "rust_ch1_q_000002"})
    assert doc["language"] == "cpp"


async def test_seed_demo_command_is_idempotent(mongo_url: str, fresh_db: Any) -> None:
    env = {"MONGODB_URL": mongo_url, "MONGODB_DB": fresh_db.name}
    first = await asyncio.to_thread(lumetrix, "seed-demo", **env)
    assert first.returncode == 0 and "inserted 5000" in first.stdout, first.stderr
    second = await asyncio.to_thread(lumetrix, "seed-demo", **env)
    assert "inserted 0, already present 5000" in second.stdout


def test_docker_compose_is_valid() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"proxy", "app", "mongo", "redis"}
    # Only the proxy is published; it runs deploy/nginx.conf, which holds the limits.
    assert "ports" not in services["app"] and services["proxy"]["ports"] == ["8000:8080"]
    assert services["proxy"]["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    for directive in (
        "client_max_body_size 16k;",
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "large_client_header_buffers 4 8k;",
        "limit_conn per_ip",
        "proxy_pass http://lumetrix;",
    ):
        assert directive in nginx, directive
    assert services["app"]["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("mongo", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert "JWT_SECRET" in services["app"]["environment"]
    assert (ROOT / "Dockerfile").read_text().count("USER lumetrix") == 1


def test_unreachable_database_is_one_line() -> None:
    out = lumetrix(
        "recompute-stats",
        MONGODB_URL="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300",
        MONGO_TIMEOUT_MS="300",
    )
    assert out.returncode == 1
    assert out.stderr.startswith("error: database:") and "Traceback" not in out.stderr


async def test_warm_cache_loads_the_recently_active_students(
    mongo_url: str, mongo_client: Any, fresh_db: Any
) -> None:
    from app.timefmt import utcnow
    from tests.conftest import real_redis_url, unique_name

    now = utcnow()
    await fresh_db["sample_progress"].insert_many(
        [
            {
                "sidhi_id": f"SIDHI_W{i}",
                "sample_id": f"c_ch1_q_{i:06d}",
                "language": "c",
                "chapter": 1,
                "read_at": now,
                "last_revisited": now,
            }
            for i in range(3)
        ]
    )
    env = {
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": fresh_db.name,
        "REDIS_URL": real_redis_url(),
        "REDIS_PREFIX": f"{unique_name('lmxtest')}:",
    }
    out = await asyncio.to_thread(lumetrix, "warm-cache", "--students-active-within", "1h", **env)
    assert out.returncode == 0, out.stderr
    assert "the caches of 3 students (3 read sets, 3 progress views; 6 loaded" in out.stdout
    again = await asyncio.to_thread(lumetrix, "warm-cache", "--students-active-within", "1h", **env)
    assert "; 0 loaded from MongoDB" in again.stdout  # all warm already
    bad = await asyncio.to_thread(lumetrix, "warm-cache", "--students-active-within", "soon", **env)
    assert bad.returncode == 1 and "like 1h" in bad.stderr and "Traceback" not in bad.stderr
    client = redis.asyncio.Redis.from_url(env["REDIS_URL"])
    await redis_servers.delete_keys(client, env["REDIS_PREFIX"], cluster=False)
    await client.aclose()


def _busy_port() -> tuple[socket.socket, int]:
    """A loopback port another process listens on."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder, holder.getsockname()[1]


def test_a_busy_port_is_one_line_before_anything_else() -> None:
    holder, port = _busy_port()
    with holder:
        for command in ("dev", "serve"):
            out = lumetrix(command, "--port", str(port))
            assert out.returncode == 1, (command, out)
            # Nothing printed first: no "Serving on", token, curl line or console address.
            assert out.stdout == "", (command, out.stdout)
            lines = out.stderr.splitlines()
            assert lines == [
                f"error: cannot listen on 127.0.0.1:{port}: already in use "
                "(choose another with --port, or make run PORT=...)"
            ], (command, out.stderr)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stopped_server_exits_zero(mongo_url: str, signum: int) -> None:
    port = redis_servers.free_ports(1)[0]
    env = {**os.environ, "JWT_SECRET": SECRET, "MONGODB_URL": mongo_url}
    server = await start_server(port, env)
    server.send_signal(signum)
    # A clean stop after uvicorn's graceful shutdown is a success: `make run` then ends
    # without "make: *** [Makefile:18: run] Error 143".
    assert await asyncio.to_thread(server.wait, 60) == 0
