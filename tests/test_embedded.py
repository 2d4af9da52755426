"""The embedded default: a SecantusDB child process with durable data under DATA_DIR."""

from __future__ import annotations

import json
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
