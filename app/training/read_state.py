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

from app.timefmt import from_ms, iso
from app.training.ports import Page, ReadState, SampleDoc
from app.training.shapes import ReadSample

_UNREAD = b',"isRead":false,"readAt":null}'


# A student's read times recur on every page they load: render each one's tail once,
# keyed by the int epoch ms the read set answers with (no datetime, no float per read).
@functools.lru_cache(maxsize=16384)
def _read_tail(read_at: int) -> bytes:
    return b',"isRead":true,"readAt":"%s"}' % iso(from_ms(read_at)).encode()


def enrich(samples: Sequence[SampleDoc], reads: dict[str, datetime]) -> list[ReadSample]:
    """Copies of ``samples`` with ``isRead`` and ``readAt`` from ``reads``."""
    out = []
    for sample in samples:
        read_at = reads.get(sample["sample_id"])
        out.append({**sample, "isRead": read_at is not None, "readAt": iso(read_at)})
    return cast(list[ReadSample], out)


def spliced(fragments: Sequence[bytes], stamps: Sequence[int | None]) -> orjson.Fragment:
    """The JSON array ``enrich`` would serialise to, from the samples' pre-serialised
    fragments with only ``isRead``/``readAt`` appended (``stamps``: each sample's first
    read in epoch ms, or None): a cached page's samples are not serialised again on every
    request."""
    tail = _read_tail
    # One join of heads and tails: no head + tail copy of each sample first.
    parts = [b"["]
    for head, ms in zip(fragments, stamps, strict=True):
        parts += (head, _UNREAD if ms is None else tail(ms), b",")
    if len(parts) > 1:
        parts.pop()  # the last comma
    parts.append(b"]")
    return orjson.Fragment(b"".join(parts))


async def with_read_state(
    *, reads: ReadState, student: str, language: str, page: Page
) -> list[ReadSample]:
    """``page``'s samples (all of ``language``) with the student's read state, in one
    lookup; spliced into the samples' pre-serialised JSON when the page carries it."""
    samples = page.items
    ids = [s["sample_id"] for s in samples]
    if page.fragments is not None:
        stamps = await reads.read_stamps(student, language, ids)
        # Serialises exactly as the list would (tests.test_read_state checks the bytes).
        return cast(list[ReadSample], spliced(page.fragments, stamps))
    return enrich(samples, await reads.read_times(student, language, ids))


def unread(sample: SampleDoc) -> ReadSample:
    """A copy of a sample the student has not read."""
    return enrich([sample], {})[0]
