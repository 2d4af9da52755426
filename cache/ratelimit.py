"""Per-student rate limits kept in Redis: GCRA (the generic cell rate algorithm), one key
per student and action holding the "theoretical arrival time" of the next call.

A fixed window let a burst straddling its boundary through twice (a full window's calls
just before the boundary, another just after); GCRA spaces calls ``window / limit`` apart
and allows a burst of ``limit``, so no span of time sees more than ``limit`` calls plus
those its length earns at the steady rate. The clock is Redis's own (``TIME``), one for
every worker and machine, and the whole decision is one script on one key, so it holds on
a Cluster too.

Redis being down must not lock students out: a limiter that cannot reach Redis allows.
"""

from __future__ import annotations

from cache.backend import CacheBackend

# KEYS[1]: the theoretical arrival time (TAT), microseconds on Redis's clock.
# ARGV[1]: the emission interval (window / limit), ARGV[2]: the window, both microseconds.
# Returns 0 when the call is allowed (and counted), else the microseconds until one is.
# Whole microseconds keep every number an integer in any Lua (5.1 doubles, 5.4 integers).
_GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local wait = next_tat - window - now
if wait > 0 then return wait end
local ttl_ms = math.floor((next_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', ttl_ms)
return 0
"""


class RateLimiter:
    """At most ``limit`` calls at once, refilled at ``limit`` per ``window`` seconds, per
    student, for one action."""

    def __init__(self, backend: CacheBackend, *, action: str, limit: int, window: float) -> None:
        self.backend = backend
        self.action = action
        self.limit = limit
        self.interval_us = max(1, round(window * 1_000_000 / limit)) if limit > 0 else 0
        self.window_us = self.interval_us * limit  # a full burst of ``limit`` calls

    async def retry_after(self, student: str) -> float | None:
        """Count a call; None when allowed, else seconds until the next one is."""
        if self.limit <= 0:
            return None
        # "gcra": not the fixed window's counter key, whose value means something else.
        key = self.backend.key("ratelimit", "{" + student + "}", self.action, "gcra")

        async def unlimited() -> int:
            return 0  # Redis down must not lock students out: allow

        wait = await self.backend.or_else(
            lambda: self.backend.call(
                lambda r: r.eval(_GCRA, 1, key, self.interval_us, self.window_us)
            ),
            unlimited,
        )
        return None if int(wait) <= 0 else int(wait) / 1_000_000
