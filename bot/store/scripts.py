"""Lua scripts that keep a message's handling to two round trips to Redis.

The client library's own cost per command (redis-py 8: roughly 0.1 ms of CPU each) made five
round trips per message the largest cost on the webhook path; one script to begin and one to
finish do the same work atomically. The keys of one script share a hash tag (one user's, or
one province's unanswered questions), so the scripts run unchanged on a Redis Cluster.
"""

# KEYS: message, rate, lock, profile
# ARGV: pending value, lease ms, rate ttl s, per-minute limit, lock token
BEGIN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'duplicate', redis.call('GET', KEYS[1]), 0}
end
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if count > tonumber(ARGV[4]) then return {'rate_limited', false, count} end
if not redis.call('SET', KEYS[3], ARGV[5], 'NX', 'PX', ARGV[2]) then
  return {'busy', false, count}
end
return {'ours', redis.call('GET', KEYS[4]), count}
"""

# KEYS: profile, pages, message, lock
# ARGV: profile JSON ('' leaves it), profile ttl s, pages mode (keep|set|del), pages JSON,
#       pages ttl s, reply, reply ttl s, lock token
# The profile and the pages are written only while this message still holds the lock: a handler
# that outlived its lease must not overwrite what the next message saved.
FINISH = """
local holds = redis.call('GET', KEYS[4]) == ARGV[8]
if ARGV[1] ~= '' and holds then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
if holds and ARGV[3] == 'set' then
  redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
elseif holds and ARGV[3] == 'del' then
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[7])
if holds then redis.call('DEL', KEYS[4]) end
return holds and 1 or 0
"""

# KEYS: lock; ARGV: token
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: counts (zset question → times asked), seen (zset question → last asked at)
# ARGV: question ('' to count nothing), now, oldest time kept, most questions to drop
# Counts the question, then drops a bounded batch of questions nobody has asked since the
# cutoff, so last season's gaps leave the list without a sweep over all of them.
COUNT_GAP = """
if ARGV[1] ~= '' then
  redis.call('ZINCRBY', KEYS[1], 1, ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3], 'LIMIT', 0, ARGV[4])
if #stale > 0 then
  redis.call('ZREM', KEYS[1], unpack(stale))
  redis.call('ZREM', KEYS[2], unpack(stale))
end
return #stale
"""
