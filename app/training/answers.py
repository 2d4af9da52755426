"""Answers kept as bytes: a response shape serialised once, its ``as_of`` spliced per request.

A per-student answer that only changes when the student's progress view does (my-progress,
chapters) is serialised by orjson with a marker where ``as_of`` goes (``freeze``) and kept
next to the view (``ProgressSource.keep``); each request then puts its own ``as_of`` in
(``thaw``) and hands the bytes to the HTTP layer as ``Serialised``, which any handler sends
as they are. The bytes are exactly what serialising the dict would give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.timefmt import iso

# Stands in for ``as_of``. Every shape kept puts ``as_of`` after ``status`` and ``language``
# (fixed values): the first occurrence is always the marker, never a student's data.
AS_OF_MARK = "\u00a7as_of\u00a7"
_MARK = orjson.dumps(AS_OF_MARK)


@dataclass(frozen=True, slots=True)
class Serialised:
    """A JSON answer already serialised: the handler sends ``body`` unchanged."""

    body: bytes


def freeze(payload: Mapping[str, Any]) -> bytes:
    """``payload`` as orjson bytes with the ``as_of`` marker in place of its ``as_of``."""
    return orjson.dumps({**payload, "as_of": AS_OF_MARK})


def thaw(frozen: bytes, now: datetime) -> Serialised:
    """The kept bytes with ``as_of`` = ``now``: what ``orjson.dumps`` of the answer at
    ``now`` gives."""
    return Serialised(frozen.replace(_MARK, orjson.dumps(iso(now)), 1))
