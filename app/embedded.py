"""The embedded default database: a SecantusDB server run as a child process.

SecantusDB answers queries in Python; running it in its own process keeps it off the
app's GIL and keeps the GPL-2.0 server at arm's length from our code. Its data lives
under ``DATA_DIR/db`` and survives restarts. A small state file lets a second command
(e.g. ``lumetrix migrate`` while ``lumetrix dev`` runs) reuse the running server instead
of fighting over the WiredTiger lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

STATE_FILE = "embedded-db.json"


def free_port() -> int:
    """Ask the OS for a free loopback TCP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


class EmbeddedMongo:
    """A SecantusDB child process on a loopback port, data under ``data_dir/db``."""

    def __init__(self, data_dir: Path, *, storage: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.storage = storage or str(self.data_dir / "db")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.reused = False

    @property
    def url(self) -> str:
        """The connection string of the running server."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def _state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def _running_elsewhere(self) -> int | None:
        try:
            state = json.loads(self._state_path().read_text())
        except (OSError, ValueError):
            return None
        pid, port = int(state.get("pid", 0)), int(state.get("port", 0))
        if state.get("storage") == self.storage and pid and _pid_alive(pid) and _port_open(port):
            return port
        return None

    def start(self, timeout: float = 60.0, *, port: int | None = None) -> str:
        """Start the server (or reuse one already serving this data dir); return its URL.

        ``port`` pins the port (a restart that clients should find where it was)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        existing = self._running_elsewhere()
        if existing:
            self.port, self.reused = existing, True
            log.info("reusing embedded SecantusDB on 127.0.0.1:%d", self.port)
            return self.url
        self.port = port or free_port()
        log_file = open(self.data_dir / "secantus.log", "ab")
        cmd = [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            self.storage,
            "--log-level",
            "WARNING",
        ]
        # A new session: Ctrl-C in the terminal reaches us, and we stop the child in order.
        self.proc = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while not _port_open(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"embedded SecantusDB exited with {self.proc.returncode}; "
                    f"see {self.data_dir / 'secantus.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("embedded SecantusDB did not start in time")
            time.sleep(0.05)
        self._state_path().write_text(
            json.dumps({"pid": self.proc.pid, "port": self.port, "storage": self.storage})
        )
        log.info("started embedded SecantusDB on 127.0.0.1:%d (data %s)", self.port, self.storage)
        return self.url

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server we started (a reused one belongs to its owner)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            self._state_path().unlink()
        log.info("stopped embedded SecantusDB")

    def kill(self) -> None:
        """SIGKILL the server (crash tests)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
