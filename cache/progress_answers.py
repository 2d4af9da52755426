"""Answers built from a student's progress view, kept serialised next to it in Redis.

``pview-ans:{S}`` is a hash of answer name → ``<stamp>|<until ms>|<bytes>``, where the
stamp (``<generation>|<load time>``, ``ProgressViews.read``) is the view state the answer
was built from. An answer counts only while the view is still in that state: loaded, newer
than the progress epoch, and at the same generation and load time. Every write-through
and every repair moves the generation and every load sets a new load time, so whatever
changes the view makes its answers stale without touching them, and a hit is one
``EVALSHA`` and a byte copy.

The hash lives an hour after its latest answer was kept, and never longer than the
generation key (its TTL is capped by the generation's), so a generation that expires and
starts counting again cannot bring an old stamp back.
"""

from __future__ import annotations

from cache.backend import CacheBackend
from cache.metrics import CACHE_LOOKUPS
from cache.progress_view import SENTINEL, ProgressViews

HIT = CACHE_LOOKUPS.labels("progress_answer", "hit")
MISS = CACHE_LOOKUPS.labels("progress_answer", "miss")
MAX_ANSWERS = 16  # per student: languages and time zones asked; past it the hash starts over
# Answers serve a student's session (repeated views of the same screen), not the week a view
# lives: an hour after the last one was kept they go, and their memory with them.
ANSWER_TTL_MS = 3600 * 1000

# KEYS: answers, view, gen, epoch. ARGV: name. The kept ``<until>|<bytes>``, or nil.
_GET = f"""
local a = redis.call('HGET', KEYS[1], ARGV[1])
if not a then return false end
local l = redis.call('HGET', KEYS[2], '{SENTINEL}')
if not l then return false end
local e = redis.call('GET', KEYS[4])
if e and tonumber(l) <= tonumber(e) then return false end
local stamp = (redis.call('GET', KEYS[3]) or '') .. '|' .. l .. '|'
if string.sub(a, 1, #stamp) ~= stamp then return false end
return string.sub(a, #stamp + 1)
"""

# KEYS: answers, view, gen. ARGV: name, stamp, until|bytes, ttl ms, max answers.
# A view with no generation yet gets one ('0'), so that its expiry can be waited out.
_KEEP = f"""
local l = redis.call('HGET', KEYS[2], '{SENTINEL}')
if not l then return 0 end
local g = redis.call('GET', KEYS[3])
if ((g or '') .. '|' .. l) ~= ARGV[2] then return 0 end
local ttl = tonumber(ARGV[4])
if g then
  local left = redis.call('PTTL', KEYS[3])
  if left > 0 and left < ttl then ttl = left end
else
  g = '0'
  redis.call('SET', KEYS[3], g, 'PX', ttl)
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[1], g .. '|' .. l .. '|' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""


class ProgressAnswers:
    """Serialised answers per student; every method may raise CacheUnavailable."""

    def __init__(self, views: ProgressViews) -> None:
        self.views = views
        self.backend: CacheBackend = views.backend
        self._get = self.backend.client.register_script(_GET)
        self._keep = self.backend.client.register_script(_KEEP)

    async def get(self, student: str, name: str, *, at_ms: int) -> bytes | None:
        """The answer ``name``, if it was built from the view as it is now and is still
        valid at ``at_ms`` (epoch ms); one round trip."""
        view, gen = self.views.keys(student)
        keys = [self.views.answers_key(student), view, gen, self.backend.epoch_key(student)]
        found = await self.backend.call(lambda r: self._get(keys=keys, args=[name], client=r))
        raw = b"" if found is None else found.encode() if isinstance(found, str) else found
        until, _, body = raw.partition(b"|")
        if not body or at_ms >= int(until):
            MISS.inc()
            return None
        HIT.inc()
        return bytes(body)

    async def keep(
        self, student: str, name: str, body: bytes, *, stamp: str, until_ms: int
    ) -> bool:
        """Keep ``body`` as ``name`` if the view is still at ``stamp``; whether it was."""
        view, gen = self.views.keys(student)
        keys = [self.views.answers_key(student), view, gen]
        value = str(until_ms).encode() + b"|" + body
        argv = [name, stamp, value, min(self.views.ttl_ms, ANSWER_TTL_MS), MAX_ANSWERS]
        kept = await self.backend.call(lambda r: self._keep(keys=keys, args=argv, client=r))
        return int(kept) == 1
