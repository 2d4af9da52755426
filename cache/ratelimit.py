"""Per-student rate limits kept in Redis (a fixed window per student and action).

Redis being down must not lock students out: a limiter that cannot reach Redis allows.
"""

from __future__ import annotations

from cache.backend import CacheBackend

# One round trip: count this hit, start the window on the first, report the window's rest.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per student, for one action."""

    def __init__(self, backend: CacheBackend, *, action: str, limit: int, window: float) -> None:
        self.backend = backend
        self.action = action
        self.limit = limit
        self.window_ms = max(1, int(window * 1000))

    async def retry_after(self, student: str) -> float | None:
        """Count a hit; None when allowed, else seconds until the window reopens."""
        if self.limit <= 0:
            return None
        key = self.backend.key("ratelimit", "{" + student + "}", self.action)

        async def unlimited() -> list[int]:
            return [0, 0]  # Redis down must not lock students out: allow

        count, pttl = await self.backend.or_else(
            lambda: self.backend.call(lambda r: r.eval(_HIT, 1, key, self.window_ms)), unlimited
        )
        if int(count) <= self.limit:
            return None
        return max(int(pttl), 1) / 1000
