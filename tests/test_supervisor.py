"""The supervised embedded database: a SecantusDB child killed under the running app is
restarted on the same port and data, keeps every acknowledged write, and a clean shutdown
stops it for good."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pymongo
from prometheus_client import REGISTRY
from pymongo import WriteConcern

from app.db import PROGRESS, SAMPLES
from app.embedded import STATE_FILE, EmbeddedMongo
from app.supervisor import Supervisor, quick_deaths_after, restart_delay
from tests.conftest import c_samples, make_settings, running_app

METRIC = "lumetrix_embedded_restarts_total"


def _restarts() -> float:
    return REGISTRY.get_sample_value(METRIC) or 0.0


def _servers_on(storage: Path) -> list[int]:
    """Pids of every process whose command line names ``storage`` (a SecantusDB on it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"secantus" in cmdline and str(storage).encode() in cmdline:
            found.append(int(entry.name))
    return found


def test_backoff_doubles_to_a_cap_and_starts_over_after_a_stable_run() -> None:
    assert [restart_delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert restart_delay(10_000) == 10.0
    assert restart_delay(2, first=0.1, cap=0.3) == 0.3
    # The supervisor starts from -1: the first death waits the first delay, however soon.
    assert quick_deaths_after(-1, 0.2) == 0 and quick_deaths_after(-1, 3600) == 0
    assert quick_deaths_after(0, 1.0) == 1 and quick_deaths_after(4, 29.9) == 5
    assert quick_deaths_after(4, 30.0) == 0
    assert quick_deaths_after(4, 5.0, stable_after=5.0) == 0


def test_only_the_owner_supervises(data_dir: Path) -> None:
    owner = EmbeddedMongo(data_dir)
    owner.start()
    guest = EmbeddedMongo(data_dir)
    guest.start()
    try:
        assert owner.owner and guest.reused and not guest.owner
        watching = Supervisor(guest)
        watching.start()
        assert watching._thread is None  # a guest's server is its owner's business
    finally:
        guest.stop()
        owner.stop()


def test_a_guest_waits_for_the_owner_instead_of_starting_a_second_server(
    data_dir: Path,
) -> None:
    owner = EmbeddedMongo(data_dir)
    url = owner.start()
    port = owner.port
    owner.kill()  # dead, but the owner still holds the directory (it restarts it)
    guest = EmbeddedMongo(data_dir)
    got: list[str] = []
    waiting = threading.Thread(target=lambda: got.append(guest.start(timeout=30)))
    waiting.start()
    try:
        time.sleep(0.3)
        assert not got and _servers_on(data_dir / "db") == []
        assert owner.start(port=port) == url
        waiting.join(30)
        assert got == [url] and guest.reused
        assert len(_servers_on(data_dir / "db")) == 1
    finally:
        waiting.join(30)
        owner.stop()


def test_the_supervisor_restarts_a_killed_server_on_its_port(data_dir: Path) -> None:
    server = EmbeddedMongo(data_dir)
    url = server.start()
    supervisor = Supervisor(server, first_delay=0.05)
    supervisor.start()
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=10_000
    )
    try:
        # Journaled: what an acknowledged w=1 write may lose to kill -9 is not the point here.
        client.lmx.get_collection("things", write_concern=WriteConcern(j=True)).insert_one(
            {"_id": 1}
        )
        old = server.proc
        assert old is not None
        os.kill(old.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while supervisor.restarts < 1 or server.proc is old:
            assert time.monotonic() < deadline, "not restarted"
            time.sleep(0.05)
        # The same client, unchanged, finds it where it was.
        assert client.lmx.things.find_one({"_id": 1}) == {"_id": 1}
        assert server.url == url
    finally:
        client.close()
        supervisor.stop()
        server.stop()
    assert _servers_on(data_dir / "db") == []


async def test_a_killed_embedded_database_comes_back_with_every_acknowledged_write(
    data_dir: Path,
) -> None:
    settings = make_settings(None, "lmx", "fakeredis", data_dir=data_dir, mongo_timeout_ms=500)
    assert settings.mongodb_url is None  # the embedded default
    restarts_before = _restarts()
    ids = [s["sample_id"] for s in c_samples(300)]
    acked: list[str] = []
    async with running_app(settings) as api:
        await api.db[SAMPLES].insert_many(c_samples(300))
        state = json.loads((data_dir / STATE_FILE).read_text())
        some_acked = asyncio.Event()

        async def reader(mine: list[str]) -> None:
            # Retries a sample until it is acknowledged, before, during and after the kill.
            for sample_id in mine:
                while True:
                    res = await api.post(f"/training/samples/{sample_id}/mark-read", time_spent=3)
                    if res.status_code == 200:
                        acked.append(sample_id)
                        if len(acked) >= 50:
                            some_acked.set()
                        break
                    assert res.status_code == 503, res.text
                    await asyncio.sleep(0.05)

        readers = asyncio.gather(*[reader(ids[i::5]) for i in range(5)])
        await asyncio.wait_for(some_acked.wait(), 60)
        acked_before_kill = list(acked)
        os.kill(state["pid"], signal.SIGKILL)
        started = time.monotonic()
        deadline = started + 10
        while True:
            res = await api.client.get("/ready")
            if res.status_code == 200 and res.json()["status"] == "ready":
                break
            assert time.monotonic() < deadline, f"not ready again: {res.json()}"
            await asyncio.sleep(0.1)
        took = time.monotonic() - started
        await asyncio.wait_for(readers, 60)
        print(f"embedded database ready again {took:.2f} s after kill -9")

        restarted = json.loads((data_dir / STATE_FILE).read_text())
        assert restarted["port"] == state["port"] and restarted["pid"] != state["pid"]
        assert _restarts() == restarts_before + 1
        assert f"{METRIC} " in (await api.client.get("/metrics")).text
        found = {
            d["sample_id"]
            async for d in api.db[PROGRESS].find({"sidhi_id": api.student}, {"sample_id": 1})
        }
        assert set(acked_before_kill) <= found and found == set(ids) == set(acked)
        res = await api.post(f"/training/samples/{acked_before_kill[0]}/mark-read", time_spent=3)
        assert res.status_code == 200 and res.json()["is_first_read"] is False
    # A clean shutdown stops the server, and nothing brings it back.
    assert _servers_on(data_dir / "db") == []
    assert not (data_dir / STATE_FILE).exists()
    assert not any(t.name == "embedded-db-supervisor" for t in threading.enumerate())
    await asyncio.sleep(0.5)
    assert _servers_on(data_dir / "db") == [] and _restarts() == restarts_before + 1


class _Crashing:
    """A stand-in for an owned ``EmbeddedMongo`` (no database runs): its first process
    dies ``first_up`` seconds after the start, and every restarted one at once."""

    owner = True
    port = 0

    class _Proc:
        def __init__(self, dies_at: float) -> None:
            self.dies_at = dies_at
            self.returncode: int | None = None

        def poll(self) -> int | None:
            if time.monotonic() >= self.dies_at:
                self.returncode = -9
            return self.returncode

    def __init__(self, first_up: float) -> None:
        self.proc = self._Proc(time.monotonic() + first_up)
        self.restarts = 0

    def restart(self, timeout: float, *, cancel: threading.Event | None = None) -> None:
        self.restarts += 1
        self.proc = self._Proc(time.monotonic())


class _RecordedWaits(threading.Event):
    """The supervisor's stop event, recording each backoff it waits (not waiting it);
    polls are waited for real."""

    def __init__(self, poll: float) -> None:
        super().__init__()
        self.poll = poll
        self.delays: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        if timeout == self.poll:
            return super().wait(timeout)
        assert timeout is not None
        self.delays.append(timeout)
        return self.is_set()


def test_a_crash_loop_after_a_stable_run_backs_off() -> None:
    # Up longer than ``stable_after`` at first, then dying at every restart: the first
    # death waits the first delay, and every quick death after it twice the one before.
    # (A supervisor that kept measuring uptime from its own start took every death for
    # one after a stable run, and restarted a crash loop at the first delay for ever.)
    server = _Crashing(first_up=0.4)
    supervisor = Supervisor(
        server,  # type: ignore[arg-type]
        poll=0.01,
        first_delay=0.5,
        max_delay=4.0,
        stable_after=0.3,
    )
    waits = _RecordedWaits(supervisor.poll)
    supervisor._stopping = waits
    supervisor.start()
    try:
        deadline = time.monotonic() + 30
        while server.restarts < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        supervisor.stop()
    assert waits.delays[:6] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
