"""The progress epoch: keys that make every per-student cache loaded before them count as
missing (``CacheBackend.bump_epoch`` after a Redis outage past ``max_pending`` repairs).
One key on a single Redis; on a Cluster one per slot, so each sits beside the keys it
covers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

BUMP = (
    "local t = redis.call('TIME') "
    "redis.call('SET', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000)) return 1"
)


# Redis 7's flag lets one script touch keys of every slot its node holds.
BUMP_MANY = """#!lua flags=allow-cross-slot-keys
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for _, key in ipairs(ARGV) do redis.call('SET', key, now) end
return #ARGV
"""


@functools.cache
def slot_tags() -> tuple[str, ...]:
    """For each Cluster slot, the shortest hex string that hashes to it (computed once,
    about 0.2 s: 315k CRC16s)."""
    tags: list[str | None] = [None] * REDIS_CLUSTER_HASH_SLOTS
    left, n = REDIS_CLUSTER_HASH_SLOTS, 0
    while left:
        tag = format(n, "x")
        slot = key_slot(tag.encode())
        if tags[slot] is None:
            tags[slot] = tag
            left -= 1
        n += 1
    return tuple(t for t in tags if t is not None)


def epoch_key(key: Callable[..., str], *, cluster: bool, tag: str) -> str:
    """Key of the progress epoch that covers keys hash-tagged ``{tag}``: sets loaded
    before it are stale. One key on a single Redis; on a Cluster one per slot, in the
    tag's own slot, so a script may read it beside the tag's keys and no single key is
    read by every page."""
    if not cluster:
        return key("progress-epoch")
    return key("progress-epoch", "{" + slot_tags()[key_slot(tag.encode())] + "}")


async def bump(client: Any, key: Callable[..., str], *, cluster: bool) -> None:
    """Set the progress epoch (every slot's, on a Cluster) to Redis' clock now (ms).

    On a Cluster, one script per master sets the keys of the slots it holds (16,384 in
    all, about 70 ms), each to the time of the node that holds it: the clock its loads'
    sentinels are read from. A slot that moves meanwhile fails the bump, which the caller
    retries (the breaker's probe) or leaves to the breaker."""
    if not cluster:
        await client.eval(BUMP, 1, key("progress-epoch"))
        return
    await client.initialize()
    by_node: dict[str, list[str]] = {}
    for tag in slot_tags():
        node_key = key("progress-epoch", "{" + tag + "}")
        by_node.setdefault(client.get_node_from_key(node_key).name, []).append(node_key)
    await asyncio.gather(
        *(
            # The keys go as arguments: declared keys must share one slot.
            client.execute_command(
                "EVAL", BUMP_MANY, 0, *keys, target_nodes=client.get_node(node_name=n)
            )
            for n, keys in by_node.items()
        )
    )
