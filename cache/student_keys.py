"""Every Redis key of one student, found by scanning: a student's keys all carry the hash tag
``{<student id>}`` (one Cluster slot), so a key that the modules deleting them by name do
not know of yet (a rate-limit window, a new cache) is still found and deleted."""

from __future__ import annotations

from typing import Any

from cache.backend import CacheBackend


async def forget_student_keys(backend: CacheBackend, student: str) -> list[str]:
    """Delete every key under the backend's prefix tagged ``{student}``; return their names.
    Scans every node of a Cluster; raises CacheUnavailable when Redis fails.

    ``student`` must be a checked id (``app.auth.STUDENT_ID``: no glob characters)."""
    pattern = backend.key("*{" + student + "}*")

    async def op(r: Any) -> list[str]:
        found = [_text(k) async for k in r.scan_iter(match=pattern, count=1000)]
        for key in found:  # one by one: the same slot, but no multi-key command needed
            await r.delete(key)
        return sorted(found)

    return await backend.call(op)


def _text(key: Any) -> str:
    return key.decode() if isinstance(key, bytes) else str(key)
