"""The progress-event stream: one Redis Stream (``<prefix><name>``) the publisher appends
to and consumers read with consumer groups.

Each entry has three fields: ``event_id`` (stable across redelivery: consumers dedupe by
it), ``type`` and ``data`` (the whole event as JSON). One key, single-key commands and a
non-transactional pipeline only, so it runs alike on one Redis and on a Redis Cluster.
Every call goes through ``CacheBackend.call``: a Redis failure is ``CacheUnavailable``,
which the publisher answers by backing off and keeping the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redis.exceptions import ResponseError

from cache.backend import CacheBackend

Entry = tuple[str, dict[str, str]]  # (stream id, fields)
Fields = Mapping[str, str | bytes]


class EventStream:
    """Appends to and reads one Redis Stream of events."""

    def __init__(self, backend: CacheBackend, name: str, *, maxlen: int) -> None:
        self.backend = backend
        self.key = backend.key(name)
        self.maxlen = maxlen

    async def append(self, entries: Sequence[Fields]) -> list[str]:
        """XADD every entry, in order, in one round trip; their stream ids. Older entries
        are trimmed past about ``maxlen`` (``~``: whole nodes only, which is cheap)."""

        async def add(client: Any) -> list[str]:
            pipe = client.pipeline(transaction=False)
            for fields in entries:
                pipe.xadd(self.key, dict(fields), maxlen=self.maxlen, approximate=True)
            return [str(i) for i in await pipe.execute()]

        return await self.backend.call(add) if entries else []

    async def range_from(self, start: str = "-", count: int = 1000) -> list[Entry]:
        """Up to ``count`` entries from ``start`` on (``-``: the first; ``(id``: after id)."""
        return _entries(await self.backend.call(lambda r: r.xrange(self.key, start, "+", count)))

    async def read_after(self, last_id: str, *, count: int, block_ms: int) -> list[Entry]:
        """Up to ``count`` entries after ``last_id``, waiting up to ``block_ms`` for the
        first one."""
        found = await self.backend.call(
            lambda r: r.xread({self.key: last_id}, count=count, block=block_ms)
        )
        return _entries(found[0][1]) if found else []

    async def last_id(self) -> str:
        """The id of the newest entry (``0-0`` when there is none): reading after it
        gives what is added from now on, with nothing missed between two reads."""
        newest = await self.backend.call(lambda r: r.xrevrange(self.key, "+", "-", count=1))
        return str(newest[0][0]) if newest else "0-0"

    async def length(self) -> int:
        """Entries the stream holds now."""
        return int(await self.backend.call(lambda r: r.xlen(self.key)))

    async def ensure_group(self, group: str, start: str = "0") -> None:
        """Create consumer group ``group`` (and the stream), reading from ``start``;
        an existing group is left as it is."""

        await self.backend.call(lambda r: _create_group(r, self.key, group, start))

    async def read_group(
        self, group: str, consumer: str, *, pending: bool, count: int, block_ms: int | None
    ) -> list[Entry]:
        """XREADGROUP: this consumer's delivered but unacknowledged entries (``pending``),
        else new ones, waiting up to ``block_ms`` (None: not at all). A group gone with its
        stream (a Redis that came back empty, a deleted key) is made again, from the
        start: nothing is read this time."""

        async def read(client: Any) -> Any:
            try:
                return await client.xreadgroup(
                    group, consumer, {self.key: "0" if pending else ">"}, count=count,
                    block=block_ms,
                )  # fmt: skip
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await _create_group(client, self.key, group, "0")
                return []

        found = await self.backend.call(read)
        return _entries(found[0][1]) if found else []

    async def ack(self, group: str, ids: Sequence[str]) -> int:
        """XACK: ``ids`` are done for ``group``; how many were pending."""
        return int(await self.backend.call(lambda r: r.xack(self.key, group, *ids))) if ids else 0

    async def oldest_unacked(self, group: str) -> str | None:
        """The id of ``group``'s oldest entry not yet acknowledged: its oldest pending
        (delivered, unacknowledged) entry, else the first it has not been given yet;
        None when it is done with every entry (or the group does not exist)."""

        async def find(client: Any) -> str | None:
            try:
                summary = await client.xpending(self.key, group)
            except ResponseError as exc:  # no stream or no group yet: nothing waits
                if "NOGROUP" in str(exc) or "no such key" in str(exc):
                    return None
                raise
            if summary and int(summary.get("pending") or 0) > 0:
                return str(summary["min"])
            groups = await client.xinfo_groups(self.key)
            last = next(
                (g.get("last-delivered-id") for g in groups if str(g.get("name")) == group),
                None,
            )
            if last is None:
                return None
            after = await client.xrange(self.key, f"({last}", "+", count=1)
            return str(after[0][0]) if after else None

        return await self.backend.call(find)


async def _create_group(client: Any, key: str, group: str, start: str) -> None:
    """XGROUP CREATE … MKSTREAM; an existing group is left as it is."""
    try:
        await client.xgroup_create(key, group, id=start, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _entries(raw: Any) -> list[Entry]:
    """Stream entries as (id, fields); a deleted entry still pending has no fields."""
    return [(str(entry_id), dict(fields or {})) for entry_id, fields in raw or []]
