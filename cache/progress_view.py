"""Per-student progress counters in Redis: what my-progress and the chapters' read counts
need, in one round trip.

Keys share the student's ``{hash tag}`` (one Cluster slot):

- ``pview:{S}``: a hash. Counter fields are the dotted paths of the student's stats
  document (``total_points``, ``languages.c.read``, ``languages.c.chapters.6.read``,
  ``quarters.1950112``…), so a visit's ``$inc`` becomes HINCRBYs field for field;
  ``prefs.*`` hold JSON; ``visit.<sample>.*`` hold the details of the recent reads
  (``read_at``/``last_revisited`` as epoch ms, ``time_spent``, ``revisited_count``,
  ``chapter``/``knowledge_area`` as JSON); ``__loaded__`` is the load time (ms);
- ``pview-recent:{S}:<lang>``: a sorted set of the newest ``RECENT`` first reads;
- ``pview-gen:{S}``: the generation;
- ``pview-ans:{S}``: answers built from the view, serialised (``cache.progress_answers``).

The rules are the read sets' (``cache.progress``): mark-read writes MongoDB first, then
``record`` (adds only to a loaded view, bumps the generation either way); ``load``
installs a MongoDB snapshot only if the generation did not move while it was read; a lost
write-through is undone by the view's ``Repair``; a view counts as loaded only when its
``__loaded__`` is newer than the progress epoch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from cache.backend import CacheBackend, Repair
from cache.progress import BEGIN_LOAD

SENTINEL = "__loaded__"
# A view as read: (hash fields, recent (sample, read_at ms) oldest first, stamp).
ViewRead = tuple[dict[str, Any], list[tuple[str, float]], str]
RECENT = 10
DETAIL_INTS = ("read_at", "last_revisited", "time_spent", "revisited_count")
DETAIL_JSON = ("chapter", "knowledge_area")

# KEYS: view, gen, recent(lang). ARGV: ttl ms, n counters, field/amount pairs, then
# sample id, first (1/0), now ms, time spent, chapter JSON, area JSON, recent size.
_RECORD = """
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
if not redis.call('HEXISTS', KEYS[1], '__loaded__') then return 0 end
local n = tonumber(ARGV[2])
for i = 3, 2 + 2 * n, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
local at = 3 + 2 * n
local sid, first, now, spent = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
local p = 'visit.' .. sid .. '.'
if first == '1' then
  redis.call('ZADD', KEYS[3], now, sid)
  redis.call('HSET', KEYS[1], p .. 'read_at', now, p .. 'last_revisited', now,
    p .. 'time_spent', spent, p .. 'revisited_count', 1,
    p .. 'chapter', ARGV[at + 4], p .. 'knowledge_area', ARGV[at + 5])
  local keep = tonumber(ARGV[at + 6])
  for _, old in ipairs(redis.call('ZRANGE', KEYS[3], 0, -keep - 1)) do
    local q = 'visit.' .. old .. '.'
    redis.call('HDEL', KEYS[1], q .. 'read_at', q .. 'last_revisited', q .. 'time_spent',
      q .. 'revisited_count', q .. 'chapter', q .. 'knowledge_area')
    redis.call('ZREM', KEYS[3], old)
  end
elseif redis.call('HEXISTS', KEYS[1], p .. 'read_at') == 1 then
  redis.call('HINCRBY', KEYS[1], p .. 'time_spent', spent)
  redis.call('HINCRBY', KEYS[1], p .. 'revisited_count', 1)
  redis.call('HSET', KEYS[1], p .. 'last_revisited', now)
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
return 1
"""

# KEYS: view, recent(lang), epoch, gen. One command for my-progress: fields, recent,
# epoch, and the generation (what an answer built from them is kept under).
_READ = """
return {redis.call('HGETALL', KEYS[1]), redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES'),
  redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4]) or ''}
"""

# KEYS: view, gen, recent zsets... ARGV: generation, ttl ms, started ms, n fields,
# field/value pairs, then per recent key: count, score/member pairs.
_LOAD = """
local g = redis.call('GET', KEYS[2]) or ''
if g ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
for k = 3, #KEYS do redis.call('DEL', KEYS[k]) end
redis.call('HSET', KEYS[1], '__loaded__', ARGV[3])
local n = tonumber(ARGV[4])
local i = 5
for _ = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for k = 3, #KEYS do
  local m = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, m do
    redis.call('ZADD', KEYS[k], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  if m > 0 then redis.call('PEXPIRE', KEYS[k], ARGV[2]) end
end
return 1
"""


def parse_read(
    flat: list[str], latest: list[str], epoch: str | None, generation: str
) -> ViewRead | None:
    """A view as ``_READ`` answers it (HGETALL, ZRANGE WITHSCORES, epoch, generation):
    (fields, recent reads oldest first, stamp), or None when not loaded or older than the
    epoch."""
    fields = dict(zip(flat[::2], flat[1::2], strict=True))
    loaded = fields.pop(SENTINEL, None)
    if loaded is None or (epoch is not None and float(loaded) <= float(epoch)):
        return None
    recent = [(m, float(s)) for m, s in zip(latest[::2], latest[1::2], strict=True)]
    return fields, recent, f"{generation}|{loaded}"


def flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted paths (leaves as they are)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, path + ".")
        else:
            out[path] = value
    return out


def unflatten(fields: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Dotted paths back to nested dicts."""
    out: dict[str, Any] = {}
    for path, value in fields:
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _encode(path: str, value: Any) -> str:
    return json.dumps(value) if path.startswith("prefs.") else str(int(value))


def _decode(path: str, raw: str) -> Any:
    return json.loads(raw) if path.startswith("prefs.") else int(raw)


class ProgressViews:
    """The Redis side of a student's progress; every method may raise CacheUnavailable."""

    def __init__(self, backend: CacheBackend, *, ttl_seconds: int, languages: Iterable[str]):
        self.backend = backend
        self.ttl_ms = ttl_seconds * 1000
        self.languages = tuple(languages)
        self._read = backend.client.register_script(_READ)

    def keys(self, student: str) -> tuple[str, str]:
        """The view hash and its generation key."""
        tag = "{" + student + "}"
        return self.backend.key("pview", tag), self.backend.key("pview-gen", tag)

    def answers_key(self, student: str) -> str:
        """The hash of answers built from the view (``cache.progress_answers``)."""
        return self.backend.key("pview-ans", "{" + student + "}")

    def recent_key(self, student: str, language: str) -> str:
        """The sorted set of the student's newest first reads in ``language``."""
        return self.backend.key("pview-recent", "{" + student + "}", language)

    async def read(self, student: str, language: str) -> ViewRead | None:
        """(hash fields decoded, recent (sample, read_at ms) oldest first, stamp) in one
        round trip; None when the view is not loaded or older than the progress epoch.
        The stamp, ``<generation>|<load time>``, changes with every write-through, repair
        and load of the view."""
        key, gen = self.keys(student)
        keys = [key, self.recent_key(student, language), self.backend.epoch_key(student), gen]
        # One EVALSHA answering flat lists: no pipeline, no per-reply callbacks.
        flat, latest, epoch, generation = await self.backend.call(
            lambda r: self._read(keys=keys, client=r)
        )
        return parse_read(flat, latest, epoch, generation)

    async def begin_load(self, student: str) -> tuple[str, str]:
        """(generation, Redis time in ms): read both before the MongoDB snapshot."""
        _, gen = self.keys(student)
        generation, now = await self.backend.call(lambda r: r.eval(BEGIN_LOAD, 1, gen))
        return str(generation), str(now)

    async def load(
        self,
        student: str,
        fields: Mapping[str, str],
        recent: Mapping[str, list[tuple[float, str]]],
        token: tuple[str, str],
    ) -> bool:
        """Install a snapshot (encoded fields; per language (score, member) pairs) unless
        a visit was recorded since ``token`` was taken."""
        key, gen = self.keys(student)
        generation, started = token
        keys = [key, gen, *(self.recent_key(student, lang) for lang in self.languages)]
        argv: list[Any] = [generation, self.ttl_ms, started, len(fields)]
        for name, value in fields.items():
            argv += [name, value]
        for lang in self.languages:
            pairs = recent.get(lang, [])
            argv.append(len(pairs))
            for score, member in pairs:
                argv += [score, member]
        loaded = await self.backend.call(lambda r: r.eval(_LOAD, len(keys), *keys, *argv))
        return int(loaded) == 1

    async def record(
        self,
        student: str,
        language: str,
        increments: Mapping[str, int],
        *,
        sample_id: str,
        first_read: bool,
        now_ms: int,
        time_spent: int,
        chapter: Any,
        knowledge_area: Any,
    ) -> bool:
        """Write-through of one visit: the stats ``$inc`` and the recent reads' details;
        applied only to a loaded view (the generation moves either way)."""
        key, gen = self.keys(student)
        argv: list[Any] = [self.ttl_ms, len(increments)]
        for name, amount in increments.items():
            argv += [name, amount]
        argv += [sample_id, "1" if first_read else "0", now_ms, time_spent]
        argv += [json.dumps(chapter), json.dumps(knowledge_area), RECENT]
        recent = self.recent_key(student, language)
        done = await self.backend.call(lambda r: r.eval(_RECORD, 3, key, gen, recent, *argv))
        return int(done) == 1

    def repair_of(self, student: str) -> Repair:
        """Drop the view (hash and recent sets) and move its generation, so a load under
        way cannot install what it read before: after a lost write-through, or a change
        that is not a visit (preferences, a rebuilt stats document)."""
        key, gen = self.keys(student)
        recent = tuple(self.recent_key(student, lang) for lang in self.languages)
        return Repair(gen, (key, self.answers_key(student), *recent), self.ttl_ms)

    async def forget(self, student: str) -> int:
        """Delete every key of the student's view (their data is being deleted); return
        how many existed."""
        key, gen = self.keys(student)
        recent = [self.recent_key(student, lang) for lang in self.languages]
        answers = self.answers_key(student)
        deleted: int = await self.backend.call(lambda r: r.delete(key, gen, answers, *recent))
        return int(deleted)


def encode_fields(
    stats: Mapping[str, Any], details: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Hash fields of a view: counters and preferences of a stats document (``recent``
    and timestamps left out), and the recent reads' details (times already in ms)."""
    out = {
        path: _encode(path, value)
        for path, value in flatten(
            {k: v for k, v in stats.items() if k not in ("recent", "updated_at", "_id")}
        ).items()
        if value is not None
    }
    for sid, detail in details.items():
        for name in DETAIL_INTS:
            out[f"visit.{sid}.{name}"] = str(int(detail.get(name) or 0))
        for name in DETAIL_JSON:
            out[f"visit.{sid}.{name}"] = json.dumps(detail.get(name))
    return out


def decode_fields(fields: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the stats document's counters and preferences, nested; details by sample id)."""
    plain: list[tuple[str, Any]] = []
    details: dict[str, dict[str, Any]] = {}
    for path, raw in fields.items():
        if path.startswith("visit."):
            sid, _, name = path[len("visit.") :].rpartition(".")
            value = json.loads(raw) if name in DETAIL_JSON else int(raw)
            details.setdefault(sid, {})[name] = value
        else:
            plain.append((path, _decode(path, raw)))
    return unflatten(plain), details
