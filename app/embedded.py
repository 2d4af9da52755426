"""The embedded default database: a SecantusDB server run as a child process.

SecantusDB answers queries in Python; running it in its own process keeps it off the
app's GIL and keeps the GPL-2.0 server at arm's length from our code. Its data lives
under ``DATA_DIR/db`` and survives restarts. A small state file lets a second command
(e.g. ``lumetrix migrate`` while ``lumetrix dev`` runs) reuse the running server instead
of fighting over the WiredTiger lock.

Who may start a server on a data directory is decided by an exclusive ``flock`` on
``DATA_DIR/embedded-db.lock``: the process that holds it is the owner (it starts, restarts
and stops the server); the server inherits the lock, so it stays held while either of them
lives. Everyone else is a guest: it waits for the owner's server to answer and reuses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

STATE_FILE = "embedded-db.json"
LOCK_FILE = "embedded-db.lock"
# The data is the students' reading history: only the service's own user may read it. The
# directory is 0700 and what we create in it 0600; the server runs under umask 077, so its
# own files and directories are too.
PRIVATE_DIR, PRIVATE_FILE, CHILD_UMASK = 0o700, 0o600, 0o077


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if need be and make it 0700, also when an older
    release created it 0755; a directory of another user's is left to them, with a warning."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    try:
        path.chmod(PRIVATE_DIR)
    except OSError as exc:
        log.warning("could not make %s private (0700): %s", path, exc)


def _open_private(path: Path, flags: int) -> int:
    """``os.open`` creating ``path`` 0600 (an existing file keeps its mode)."""
    return os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)


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
        self._lock_fd: int | None = None

    @property
    def url(self) -> str:
        """The connection string of the running server."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def owner(self) -> bool:
        """Whether this object holds the data directory's lock (and so runs the server)."""
        return self._lock_fd is not None

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

    def _try_lock(self) -> bool:
        """Take the data directory's lock if nobody holds it (flock: a second descriptor in
        this same process conflicts too, so two objects here never both own it)."""
        if self._lock_fd is not None:
            return True
        fd = _open_private(self.data_dir / LOCK_FILE, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the server we stopped held it too; now it is free
            self._lock_fd = None

    def start(self, timeout: float = 60.0, *, port: int | None = None) -> str:
        """Start the server (or reuse one already serving this data dir); return its URL.

        ``port`` pins the port (a restart that clients should find where it was). While
        another process owns the directory (its server starting or restarting), wait up to
        ``timeout`` for that server instead of starting a second one."""
        if self.owner and self.proc is not None and self.proc.poll() is None:
            return self.url  # already running
        private_dir(self.data_dir)
        deadline = time.monotonic() + timeout
        while not self._try_lock():
            existing = self._running_elsewhere()
            if existing:
                self.port, self.reused = existing, True
                log.info("reusing embedded SecantusDB on 127.0.0.1:%d", self.port)
                return self.url
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"another process holds {self.data_dir / LOCK_FILE} but its embedded "
                    "SecantusDB did not answer in time"
                )
            time.sleep(0.1)
        self.reused = False
        self.port = port or free_port()
        try:
            self._spawn(timeout)
        except BaseException:
            self._unlock()
            raise
        return self.url

    def restart(self, timeout: float = 60.0, *, cancel: threading.Event | None = None) -> None:
        """Start the owner's server again on the same port and data (after it died), so
        clients holding the old URL reconnect by themselves. Returns early when ``cancel``
        is set (a shutdown), leaving whatever started for ``stop``."""
        if not self.owner or self.proc is None:
            raise RuntimeError("only the owner of the embedded database restarts it")
        if self.proc.poll() is None:
            return
        self._spawn(timeout, cancel=cancel)

    def _spawn(self, timeout: float, *, cancel: threading.Event | None = None) -> None:
        private_dir(Path(self.storage))
        log_file = os.fdopen(
            _open_private(self.data_dir / "secantus.log", os.O_WRONLY | os.O_APPEND), "ab"
        )
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
            # Every commit fsyncs the journal before it is acknowledged. Without it a
            # transaction's commit is not durable even with ``j: true`` (kill -9 lost 14
            # to 18 of 1,000 acknowledged commits), and mark-read paid a journaled write
            # after each batch to carry its commit to disk: a command more per batch, and
            # one that holds the ``meta`` collection's lock through its fsync.
            "--sync-on-commit",
        ]
        assert self._lock_fd is not None
        # A new session: Ctrl-C in the terminal reaches us, and we stop the child in order.
        # The child inherits the lock: should we die first, it keeps guests from starting a
        # second server on its data until it exits too.
        self.proc = subprocess.Popen(
            cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(self._lock_fd,),
            umask=CHILD_UMASK,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while not _port_open(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"embedded SecantusDB exited with {self.proc.returncode}; "
                    f"see {self.data_dir / 'secantus.log'}"
                )
            if cancel is not None and cancel.is_set():
                return
            if time.monotonic() > deadline:
                self._terminate()
                raise RuntimeError("embedded SecantusDB did not start in time")
            time.sleep(0.05)
        state = json.dumps({"pid": self.proc.pid, "port": self.port, "storage": self.storage})
        with os.fdopen(_open_private(self._state_path(), os.O_WRONLY | os.O_TRUNC), "w") as f:
            f.write(state)
        log.info("started embedded SecantusDB on 127.0.0.1:%d (data %s)", self.port, self.storage)

    def _terminate(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server we started (a reused one belongs to its owner) and give up the
        data directory."""
        if not self.owner:
            return
        self._terminate(timeout)
        with contextlib.suppress(OSError):
            self._state_path().unlink()
        self._unlock()
        log.info("stopped embedded SecantusDB")

    def kill(self) -> None:
        """SIGKILL the server (crash tests); this object stays the owner."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
