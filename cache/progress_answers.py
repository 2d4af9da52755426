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
from cache.progress_view import SENTINEL, ProgressViews, ViewRead, parse_read

HIT = CACHE_LOOKUPS.labels("progress_answer", "hit")
MISS = CACHE_LOOKUPS.labels("progress_answer", "miss")
MAX_ANSWERS = 16  # per student: languages and time zones asked; past it the hash starts over
# Answers serve a student's session (repeated views of the same screen), not the week a view
# lives: an hour after the last one was kept they go, and their memory with them.
ANSWER_TTL_MS = 3600 * 1000

# KEYS: answers, view, gen, epoch, recent(lang). ARGV: name, now ms. {1, bytes} for an
# answer kept from the view as it is and valid at ARGV[2]; else what ``_READ`` answers.
_GET = f"""
local l = redis.call('HGET', KEYS[2], '{SENTINEL}')
local e = redis.call('GET', KEYS[4])
local g = redis.call('GET', KEYS[3]) or ''
if l and not (e and tonumber(l) <= tonumber(e)) then
  local a = redis.call('HGET', KEYS[1], ARGV[1])
  local stamp = g .. '|' .. l .. '|'
  if a and string.sub(a, 1, #stamp) == stamp then
    local bar = string.find(a, '|', #stamp + 1, true)
    if bar and tonumber(string.sub(a, #stamp + 1, bar - 1)) > tonumber(ARGV[2]) then
      return {{1, string.sub(a, bar + 1)}}
    end
  end
end
return {{0, redis.call('HGETALL', KEYS[2]), redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES'),
  e, g}}
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

    async def get(
        self, student: str, name: str, *, language: str, at_ms: int
    ) -> bytes | ViewRead | None:
        """In one round trip: the answer ``name`` (bytes) if it was built from the view as
        it is now and is still valid at ``at_ms`` (epoch ms); else the view in ``language``
        as ``ProgressViews.read`` gives it (None when not loaded)."""
        view, gen = self.views.keys(student)
        keys = [
            self.views.answers_key(student),
            view,
            gen,
            self.backend.epoch_key(student),
            self.views.recent_key(student, language),
        ]
        # The hot call of a progress answer: on the pipelined path, as the page's lookup.
        found = await self.backend.run_script(self._get, keys, [name, at_ms])
        if found[0] == 1:
            HIT.inc()
            body = found[1]
            return body.encode() if isinstance(body, str) else bytes(body)
        MISS.inc()
        return parse_read(*found[1:])

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
