"""Real Redis servers started from the machine's ``redis-server`` (for the tests and the
benchmarks): one standalone server, and a 3-master Redis Cluster on loopback ports whose
masters can be killed and brought back (same port, same cluster config, empty data)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUS_OFFSET = 10000  # a cluster node also binds its port + 10000 for the cluster bus


def _free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports that are free, as are their cluster-bus ports (≤ 55535)."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 45000)
        if port not in ports and _free(port) and _free(port + BUS_OFFSET):
            ports.append(port)
    return ports


def _answers(port: int, *command: str) -> str | None:
    done = subprocess.run(
        ["redis-cli", "-p", str(port), *command], capture_output=True, text=True, timeout=5
    )
    return done.stdout if done.returncode == 0 else None


def _wait(check: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"redis test server: {what} not reached within {timeout} s")


def available() -> bool:
    """Whether this machine has ``redis-server`` and ``redis-cli``."""
    return bool(shutil.which("redis-server") and shutil.which("redis-cli"))


@dataclass
class RedisNode:
    """One ``redis-server`` process (standalone or a cluster master) on a loopback port."""

    port: int
    workdir: Path
    cluster: bool = False
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it (again: same port and, for a cluster node, same cluster config)."""
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        args += ["--dbfilename", self.rdb.name]  # its own: cluster nodes share a workdir
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"]
            args += ["--cluster-config-file", f"nodes-{self.port}.conf"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: _answers(self.port, "ping") == "PONG\n", f"PONG on {self.port}")

    def kill(self) -> None:
        """SIGKILL it (its data is lost; a cluster node keeps its config file)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def shutdown_save(self) -> None:
        """Stop it as an operator restarting it would: ``SHUTDOWN SAVE`` writes its data to
        ``rdb``, which the next ``start`` loads (nothing is saved otherwise)."""
        if self.process is not None:
            _answers(self.port, "shutdown", "save")
            self.process.wait(60)
            self.process = None

    @property
    def rdb(self) -> Path:
        """The file ``shutdown_save`` writes and ``start`` loads; delete it to start empty."""
        return self.workdir / f"dump-{self.port}.rdb"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class RedisCluster:
    """Three masters, no replicas: every slot is covered once."""

    workdir: Path
    nodes: list[RedisNode] = field(default_factory=list)

    def start(self) -> None:
        """Start the nodes and create the cluster; return once every node says ``ok``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nodes = [RedisNode(p, self.workdir, cluster=True) for p in free_ports(3)]
        for node in self.nodes:
            node.start()
        subprocess.run(
            ["redis-cli", "--cluster", "create"]
            + [f"127.0.0.1:{node.port}" for node in self.nodes]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_ok()

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every node reports ``cluster_state:ok``."""

        def ok() -> bool:
            return all(
                "cluster_state:ok" in (_answers(n.port, "cluster", "info") or "")
                for n in self.nodes
            )

        _wait(ok, "cluster_state:ok", timeout)

    @property
    def url(self) -> str:
        """A URL naming one node: the cluster client discovers the rest."""
        return self.nodes[0].url

    def stop(self) -> None:
        """Kill every node."""
        for node in self.nodes:
            node.kill()


def start_standalone(workdir: Path) -> RedisNode:
    """A private standalone ``redis-server`` (nothing on disk)."""
    workdir.mkdir(parents=True, exist_ok=True)
    node = RedisNode(free_ports(1)[0], workdir)
    node.start()
    return node


# Deletes the keys given as arguments: on a Cluster they may span the node's slots.
_DELETE_MANY = """#!lua flags=allow-cross-slot-keys
for _, key in ipairs(ARGV) do redis.call('DEL', key) end
return #ARGV
"""


async def delete_keys(client: Any, prefix: str, *, cluster: bool) -> None:
    """Delete every key under ``prefix``, node by node (a Cluster holds one progress epoch
    per slot: 16,384 keys, too many for one DEL per slot)."""
    nodes = client.get_primaries() if cluster else [None]
    for node in nodes:
        target = {"target_nodes": node} if cluster else {}
        cursor, keys = 0, []
        while True:
            cursor, found = await client.scan(cursor, match=prefix + "*", count=2000, **target)
            if isinstance(cursor, dict):  # the cluster client answers {node: cursor}
                cursor = next(iter(cursor.values()))
            keys += found
            if not cursor:
                break
        for at in range(0, len(keys), 5000):
            chunk = keys[at : at + 5000]
            if cluster:
                await client.execute_command("EVAL", _DELETE_MANY, 0, *chunk, **target)
            else:
                await client.delete(*chunk)


def client_at(port: int, *, cluster: bool) -> Any:
    """A client of the backend's kind on a loopback port that is dead or hung: 0.1 s
    timeouts, one try (to stand in for a backend's client during an outage)."""
    import redis.asyncio as aioredis
    from redis.asyncio.cluster import RedisCluster as ClusterClient
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    options: dict[str, Any] = {
        "socket_timeout": 0.1,
        "socket_connect_timeout": 0.1,
        "decode_responses": True,
    }
    if cluster:
        return ClusterClient(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0), **options)
    return aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0", **options)
