"""``isRead``/``readAt`` on every sample a student sees.

The lookups go through ``ReadState`` (``cache.reads``): one Redis round trip per page,
MongoDB when Redis cannot answer. Cached samples are shared by every request of the
worker, so enrichment always builds new dicts and never touches the originals.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import cast

import orjson

from app.timefmt import iso
from app.training.ports import Page, ReadState, SampleDoc
from app.training.shapes import ReadSample

_UNREAD = b',"isRead":false,"readAt":null}'


# A student's read times recur on every page they load: render each one's tail once.
@functools.lru_cache(maxsize=16384)
def _read_tail(read_at: datetime) -> bytes:
    return b',"isRead":true,"readAt":"%s"}' % iso(read_at).encode()


def enrich(samples: Sequence[SampleDoc], reads: dict[str, datetime]) -> list[ReadSample]:
    """Copies of ``samples`` with ``isRead`` and ``readAt`` from ``reads``."""
    out = []
    for sample in samples:
        read_at = reads.get(sample["sample_id"])
        out.append({**sample, "isRead": read_at is not None, "readAt": iso(read_at)})
    return cast(list[ReadSample], out)


def spliced(
    samples: Sequence[SampleDoc], fragments: Sequence[bytes], reads: dict[str, datetime]
) -> orjson.Fragment:
    """The JSON array ``enrich`` would serialise to, from the samples' pre-serialised
    fragments with only ``isRead``/``readAt`` appended: a cached page's samples are not
    serialised again on every request."""
    parts = []
    for sample, head in zip(samples, fragments, strict=True):
        read_at = reads.get(sample["sample_id"])
        parts.append(head + (_UNREAD if read_at is None else _read_tail(read_at)))
    return orjson.Fragment(b"[" + b",".join(parts) + b"]")


async def with_read_state(
    *, reads: ReadState, student: str, language: str, page: Page
) -> list[ReadSample]:
    """``page``'s samples (all of ``language``) with the student's read state, in one
    lookup; spliced into the samples' pre-serialised JSON when the page carries it."""
    samples = page.items
    found = await reads.read_times(student, language, [s["sample_id"] for s in samples])
    if page.fragments is not None:
        # Serialises exactly as the list would (tests.test_read_state checks the bytes).
        return cast(list[ReadSample], spliced(samples, page.fragments, found))
    return enrich(samples, found)


def unread(sample: SampleDoc) -> ReadSample:
    """A copy of a sample the student has not read."""
    return enrich([sample], {})[0]
