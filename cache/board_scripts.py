"""The leaderboards' Lua scripts (``cache.leaderboard``): each touches one board's keys,
which share the board's hash tag (one Cluster slot)."""

from __future__ import annotations

# KEYS: board, generation, opted-out marker. ARGV: student, points, ttl ms, sentinel.
AWARD = """
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZINCRBY', KEYS[1], ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""


# Install a snapshot unless the generation moved: the board with its sentinel, and the
# opted-out marker replaced by the snapshot's (a marker a lost write left behind heals here),
# and a new names generation (names kept for the board before are read again: the sentinel's
# score alone cannot tell two loads apart, its resolution at -10^16 is 2 ms).
# KEYS: board, generation, marker, names generation. ARGV: generation, ttl ms, sentinel,
# sentinel score, number of students n, n score/member pairs, then the opted-out students.
LOAD = """
local g = redis.call('GET', KEYS[2]) or ''
if g ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
local n = tonumber(ARGV[5])
for i = 6, 5 + 2 * n, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 6 + 2 * n, #ARGV do
  redis.call('SADD', KEYS[3], ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if 6 + 2 * n <= #ARGV then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return 1
"""


# A deleted student off a board and its marker, with a new generation (a rebuild that read
# MongoDB before the deletion cannot install it) and new names (a later student of the same
# id is not shown by the old name). KEYS: board, generation, marker, names generation.
# ARGV: student, generation ttl ms when the board has none. How many of the two held them.
PURGE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('SREM', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[2]) end
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ttl)
return removed
"""


# A board's answer to one caller, in one round trip: the sentinel's score (none: not
# loaded), the progress epoch, the top ``limit`` + 1 entries (the sentinel is last when
# fewer are loaded), the caller's score ('' if not on the board) and how many students
# have more, whether the caller is in the opted-out marker, and the names generation.
# KEYS: board, epoch, marker, names generation. ARGV: student, limit, sentinel.
PLACING = """
local sentinel = redis.call('ZSCORE', KEYS[1], ARGV[3])
if not sentinel then return {''} end
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]), 'WITHSCORES')
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
local above = 0
if mine then above = redis.call('ZCOUNT', KEYS[1], '(' .. mine, '+inf') else mine = '' end
return {
  sentinel, redis.call('GET', KEYS[2]) or '', top, mine, above,
  redis.call('SISMEMBER', KEYS[3], ARGV[1]), redis.call('GET', KEYS[4]) or '0'
}
"""
