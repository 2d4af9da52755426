"""The embedded default: a SecantusDB child process with durable data under DATA_DIR."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pymongo

from app.embedded import STATE_FILE, EmbeddedMongo


def test_data_survives_a_restart(data_dir: Path) -> None:
    server = EmbeddedMongo(data_dir)
    client = pymongo.MongoClient(server.start(), serverSelectionTimeoutMS=5000)
    client.lmx.things.insert_one({"_id": 1, "kept": True})
    client.close()
    server.stop()
    assert (data_dir / "db").is_dir()
    assert not (data_dir / STATE_FILE).exists()

    again = EmbeddedMongo(data_dir)
    client = pymongo.MongoClient(again.start(), serverSelectionTimeoutMS=5000)
    try:
        assert client.lmx.things.find_one({"_id": 1}) == {"_id": 1, "kept": True}
    finally:
        client.close()
        again.stop()


def test_a_second_user_reuses_the_running_server(data_dir: Path) -> None:
    owner = EmbeddedMongo(data_dir)
    url = owner.start()
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        assert state["port"] == owner.port
        guest = EmbeddedMongo(data_dir)
        assert guest.start() == url and guest.reused
        guest.stop()  # a guest never stops the owner's server
        client = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
        assert client.admin.command("ping")["ok"] == 1
        client.close()
    finally:
        owner.stop()


def test_data_files_are_private(data_dir: Path) -> None:
    """Students' reading history is readable by the service's user only: DATA_DIR 0700
    (also one an older release made 0755), every file in it 0600, SecantusDB's included."""
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    server = EmbeddedMongo(data_dir)
    client = pymongo.MongoClient(server.start(), serverSelectionTimeoutMS=5000)
    try:
        client.lmx.things.insert_one({"_id": 1})
        assert (data_dir / STATE_FILE).exists()
        seen: list[str] = []
        for root, dirs, files in os.walk(data_dir):
            for name in [*dirs, ""]:
                mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
                assert mode == 0o700, (os.path.join(root, name), oct(mode))
            for name in files:
                path = os.path.join(root, name)
                mode = stat.S_IMODE(os.stat(path).st_mode)
                assert mode & 0o077 == 0, (path, oct(mode))
                seen.append(name)
        assert {STATE_FILE, "embedded-db.lock", "secantus.log"} <= set(seen)
        assert len(seen) > 3  # the server's own files were looked at too
    finally:
        client.close()
        server.stop()
