"""A local xAPI Learning Record Store for the tests and ``make eventbench``: Ralph (France
Université Numérique's LRS, ``ralph-malph`` on PyPI) with its file-system backend.

Ralph pins older FastAPI and uvicorn than the service's, so it lives in a virtualenv of its
own (``ralph_python``: made on first use under ``~/.cache/lumetrix`` or
``LUMETRIX_RALPH_VENV``, once per machine, under a file lock so concurrent test runs build
it once). ``RalphLrs`` serves it with uvicorn on a loopback port (no reloader, unlike ``ralph
runserver``; its file backend made to append, see ``SERVE``), HTTP basic auth for one
user, statements kept in a directory, so it can be stopped and started again on the same
port with what it had stored.
``validate`` checks statements against Ralph's own xAPI pydantic models
(``ralph.models.xapi``) in that virtualenv.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from app.embedded import free_port

RALPH = "ralph-malph[lrs,cli]==5.1.0"
EXTRA = ["requests"]  # ralph's CLI imports it without declaring it
STAMP = ".lumetrix-ralph-ready"
# Run by the virtualenv's Python: each statement (a JSON array on stdin) through Ralph's
# strict base statement model (unknown fields forbidden); one line of errors out.
VALIDATE = """
import json, sys
from ralph.models.xapi.base.statements import BaseXapiStatement
errors = []
for n, statement in enumerate(json.load(sys.stdin)):
    try:
        BaseXapiStatement.model_validate(statement)
    except Exception as exc:
        errors.append(f"statement {n}: {exc}")
print(json.dumps(errors))
"""


# Ralph 5.1's file-system LRS backend writes with the data backend's default operation,
# CREATE, which refuses an existing file: every POST after the first stored statement
# answers 500 ("fs_lrs.jsonl already exists and overwrite is not allowed"). Its APPEND
# operation is what an LRS file needs; it is set here, in the server process only.
SERVE = """
import sys
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def venv_dir() -> Path:
    """Where Ralph's virtualenv lives (``LUMETRIX_RALPH_VENV`` or the user's cache)."""
    chosen = os.environ.get("LUMETRIX_RALPH_VENV")
    if chosen:
        return Path(chosen)
    version = f"py{sys.version_info.major}{sys.version_info.minor}"
    return Path.home() / ".cache" / "lumetrix" / f"ralph-5.1.0-{version}"


def ralph_python() -> Path:
    """The Python of Ralph's virtualenv, building it first when it is not ready (a
    minute or two, once; needs PyPI)."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if (venv / STAMP).exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it: wait for it
        if not (venv / STAMP).exists():
            shutil.rmtree(venv, ignore_errors=True)  # a build that died half way
            print(f"building Ralph's virtualenv in {venv} (once)", file=sys.stderr)
            base = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base, "-m", "venv", str(venv)], check=True)
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            subprocess.run([*pip, RALPH, *EXTRA], check=True)
            (venv / STAMP).write_text(RALPH + "\n")
    return python


def validate(statements: list[dict[str, Any]]) -> list[str]:
    """Ralph's complaints about each statement (none: all valid xAPI)."""
    out = subprocess.run(
        [str(ralph_python()), "-c", VALIDATE],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: list[str] = json.loads(out.stdout)
    return found


class RalphLrs:
    """Ralph's LRS on a loopback port, its statements in ``workdir``."""

    def __init__(self, workdir: Path, *, user: str = "lumetrix", password: str = "lrs-secret"):
        self.workdir = workdir
        self.user, self.password = user, password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (workdir / "app").mkdir(parents=True, exist_ok=True)
        (workdir / "statements").mkdir(exist_ok=True)

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint (``XAPI_LRS_URL``)."""
        return f"http://127.0.0.1:{self.port}/xAPI"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RALPH_APP_DIR": str(self.workdir / "app"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.workdir / "statements"),
        }

    def start(self, timeout: float = 60.0) -> None:
        """Start serving (credentials written on first start); wait until it answers."""
        python = ralph_python()
        if not (self.workdir / "app" / "auth.json").exists():
            subprocess.run(
                [str(python), "-m", "ralph", "auth", "-u", self.user, "-p", self.password,
                 "-s", "all", "-M", f"mailto:{self.user}@example.com", "-w"],
                env=self._env(), check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        log = open(self.workdir / "server.log", "ab")
        self.process = subprocess.Popen(
            [str(python), "-c", SERVE, str(self.port)],
            env=self._env(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"Ralph's LRS did not start:\n{tail}")
            time.sleep(0.1)

    def answers(self) -> bool:
        """Whether it answers its heartbeat now."""
        try:
            url = f"http://127.0.0.1:{self.port}/__heartbeat__"
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL); what it stored stays in ``workdir``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def client(self) -> httpx.Client:
        """A client of its xAPI endpoint, as the configured user."""
        return httpx.Client(
            base_url=self.endpoint,
            auth=(self.user, self.password),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=30,
        )

    def statements(self, **params: str) -> list[dict[str, Any]]:
        """Every statement matching ``params`` (xAPI GET /statements filters), following
        ``more`` links."""
        found: list[dict[str, Any]] = []
        with self.client() as http:
            res = http.get("/statements/", params={"limit": "500", **params})
            while True:
                res.raise_for_status()
                body = res.json()
                found += body["statements"]
                more = body.get("more")
                if not more:
                    return found
                res = http.get(f"http://127.0.0.1:{self.port}{more}")

    def statement(self, statement_id: str) -> dict[str, Any] | None:
        """The statement with this id, or None."""
        with self.client() as http:
            res = http.get("/statements/", params={"statementId": statement_id})
        if res.status_code == 404:
            return None
        res.raise_for_status()
        found: dict[str, Any] = res.json()
        # Ralph answers an unknown id with an empty result rather than a 404.
        return None if found.get("statements") == [] else found
