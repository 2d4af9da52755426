"""The handles of one process, as the app, its dependencies and every command see them.

``app.resources.open_resources`` (the composition root) opens them; everything else only
reads them: the app keeps them on ``app.state.resources`` (``resources_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from app.auth import TokenVerifier
from app.db import Database, MongoClient
from app.settings import Settings
from app.training.mark_read import VisitWriter
from app.training.ports import BoardStore, CatalogSource, ProgressSource, ReadState
from app.writer_sessions import WriterSessions
from cache.backend import CacheBackend
from cache.events import EventStream
from cache.ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class Resources:
    """The handles of one process (the app's, or a command's)."""

    settings: Settings
    client: MongoClient
    db: Database
    backend: CacheBackend
    catalog: CatalogSource
    reads: ReadState
    progress: ProgressSource
    boards: BoardStore
    mark_read_limit: RateLimiter
    visits: VisitWriter
    sessions: WriterSessions
    tokens: TokenVerifier
    events: EventStream


def resources_of(app: Starlette) -> Resources:
    """The resources the app's lifespan opened."""
    found = getattr(app.state, "resources", None)
    if not isinstance(found, Resources):
        raise RuntimeError("the app's resources are opened by its lifespan; it has not run")
    return found
