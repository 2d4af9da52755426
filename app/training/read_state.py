"""``isRead``/``readAt`` on every sample a student sees.

The lookups go through ``ReadState`` (``cache.reads``): one Redis round trip per page,
MongoDB when Redis cannot answer. Cached samples are shared by every request of the
worker, so enrichment always builds new dicts and never touches the originals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from app.timefmt import iso
from app.training.ports import ReadState, SampleDoc
from app.training.shapes import ReadSample


def enrich(samples: Sequence[SampleDoc], reads: dict[str, datetime]) -> list[ReadSample]:
    """Copies of ``samples`` with ``isRead`` and ``readAt`` from ``reads``."""
    out = []
    for sample in samples:
        read_at = reads.get(sample["sample_id"])
        out.append({**sample, "isRead": read_at is not None, "readAt": iso(read_at)})
    return cast(list[ReadSample], out)


async def with_read_state(
    *, reads: ReadState, student: str, language: str, samples: Sequence[SampleDoc]
) -> list[ReadSample]:
    """``samples`` (all of ``language``) with the student's read state, in one lookup."""
    found = await reads.read_times(student, language, [s["sample_id"] for s in samples])
    return enrich(samples, found)


def unread(sample: SampleDoc) -> ReadSample:
    """A copy of a sample the student has not read."""
    return enrich([sample], {})[0]
