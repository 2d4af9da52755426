"""Opening the database for command-line work (embedded server started or reused)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.db import Database, create_client
from app.embedded import EmbeddedMongo
from app.settings import Settings


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database; with no MONGODB_URL, the embedded one under DATA_DIR."""
    embedded: EmbeddedMongo | None = None
    url = settings.mongodb_url
    if url is None:
        embedded = EmbeddedMongo(settings.data_dir)
        url = embedded.start()
    client = create_client(url, timeout_ms=settings.mongo_timeout_ms)
    try:
        yield client[settings.mongodb_db]
    finally:
        await client.close()
        if embedded is not None:
            embedded.stop()
