"""The candidate registry in Redis: candidates, their history, bindings and push deliveries.

Changes to candidates go through `transaction`: it WATCHes the candidates' keys, hands their
current records to the caller, and commits what the caller wrote (records, history entries,
deliveries and the push jobs, which RQ adds to the same MULTI) all together or not at all; a
concurrent change makes it start over. So a committed state change always has its history
entry and its queued push, and a crash leaves either all of them or none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

import redis
from redis.client import Pipeline
from redis.commands.core import Script

from bot.registry.models import Candidate, Change, Delivery
from bot.store import keys

T = TypeVar("T")

# Claims a delivery for one attempt: only if it is not settled and nobody holds a live lease.
_CLAIM = """
local raw = redis.call('hget', KEYS[1], ARGV[1])
if not raw then return false end
local d = cjson.decode(raw)
if d.status == 'sent' or d.status == 'failed' or d.status == 'skipped' then return false end
if d.status == 'sending' and tonumber(d.lease_until) > tonumber(ARGV[2]) then return false end
d.status = 'sending'
d.attempts = d.attempts + 1
if d.first_attempt_at == nil or d.first_attempt_at == cjson.null then
  d.first_attempt_at = tonumber(ARGV[2])
end
d.lease_until = tonumber(ARGV[2]) + tonumber(ARGV[3])
d.updated_at = tonumber(ARGV[2])
local out = cjson.encode(d)
redis.call('hset', KEYS[1], ARGV[1], out)
return out
"""

# Takes a binding attempt if every counter is under the limit (the window starts at the first
# attempt); otherwise returns the seconds until the longest-blocked counter frees up.
_TAKE_ATTEMPT = """
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('get', key) or '0') >= tonumber(ARGV[1]) then
    wait = math.max(wait, redis.call('ttl', key), 1)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('incr', key) == 1 then redis.call('expire', key, ARGV[2]) end
end
return 0
"""


# Gives an attempt back; a counter that expired meanwhile stays gone (no TTL-less -1 left).
_FORGIVE = """
for i, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then redis.call('decr', key) end
end
return 0
"""


# Forgets the recipient of every delivery of a registration whose binding ends; one not yet
# settled is skipped (the pusher would skip it anyway: it is nobody's now).
_FORGET_RECIPIENT = """
local flat = redis.call('hgetall', KEYS[1])
for i = 1, #flat, 2 do
  local d = cjson.decode(flat[i + 1])
  if d.openid ~= cjson.null then
    d.openid = cjson.null
    if d.status ~= 'sent' and d.status ~= 'failed' and d.status ~= 'skipped' then
      d.status = 'skipped'
      d.reason = 'unbound'
      d.lease_until = 0
      d.updated_at = tonumber(ARGV[1])
    end
    redis.call('hset', KEYS[1], flat[i], cjson.encode(d))
  end
end
return 0
"""


# Writes a delivery's new state, unless its recipient was forgotten meanwhile (the binding
# ended while a worker held it): then the record stays without the openid.
_PUT_DELIVERY = """
local old = redis.call('hget', KEYS[1], ARGV[1])
if old and cjson.decode(old).openid == cjson.null then
  local d = cjson.decode(ARGV[2])
  d.openid = cjson.null
  redis.call('hset', KEYS[1], ARGV[1], cjson.encode(d))
else
  redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""


class Batch:
    """What one transaction writes; built by the caller, executed by `transaction`."""

    def __init__(self, pipe: Pipeline, forget_recipient: Script) -> None:
        self.pipeline = pipe  # RQ's enqueue takes it, so push jobs join the same MULTI
        self._forget_recipient = forget_recipient

    def save(self, candidate: Candidate) -> None:
        self.pipeline.set(keys.candidate(candidate.registration), candidate.model_dump_json())

    def record(self, registration: str, change: Change) -> None:
        self.pipeline.rpush(keys.history(registration), change.model_dump_json())

    def queue_delivery(self, registration: str, delivery: Delivery) -> None:
        self.pipeline.hset(keys.deliveries(registration), delivery.key, delivery.model_dump_json())

    def forget_recipient(self, registration: str) -> None:
        """The binding ended: its deliveries keep what was sent, not to whom."""
        self._forget_recipient(
            keys=[keys.deliveries(registration)], args=[time.time()], client=self.pipeline
        )


class RegistryStore:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim = client.register_script(_CLAIM)
        self._take_attempt = client.register_script(_TAKE_ATTEMPT)
        self._forgive = client.register_script(_FORGIVE)
        self._forget_recipient = client.register_script(_FORGET_RECIPIENT)
        self._put_delivery = client.register_script(_PUT_DELIVERY)

    # -- candidates ---------------------------------------------------------------------------
    def candidate(self, registration: str) -> Candidate | None:
        raw = self.redis.get(keys.candidate(registration))
        return Candidate.model_validate_json(raw) if raw else None

    def candidates(self, registrations: list[str]) -> dict[str, Candidate | None]:
        raws = self.redis.mget([keys.candidate(r) for r in registrations])
        return _parsed(registrations, cast(list[bytes | None], raws))

    def transaction(
        self,
        registrations: Iterable[str],
        body: Callable[[dict[str, Candidate | None], Batch], T],
    ) -> T:
        """Runs `body` on the current records and commits its writes atomically.

        `body` may run more than once (when a record changes underneath), so it must only
        compute and write through the batch, never act outside it.
        """
        wanted = list(dict.fromkeys(registrations))
        watched = [keys.candidate(r) for r in wanted]
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    if watched:
                        pipe.watch(*watched)
                    # One MGET, not one GET each: a batch of 500 is one round trip.
                    raws = cast(list[bytes | None], pipe.mget(watched)) if watched else []
                    current = _parsed(wanted, raws)
                    pipe.multi()
                    result = body(current, Batch(pipe, self._forget_recipient))
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def history(self, registration: str) -> list[Change]:
        raw = cast(list[bytes], self.redis.lrange(keys.history(registration), 0, -1))
        return [Change.model_validate_json(r) for r in raw]

    # -- the user's side of a binding ------------------------------------------------------
    def bound_registration(self, openid: str) -> str | None:
        raw = self.redis.get(keys.user_registration(openid))
        return raw.decode() if isinstance(raw, bytes) else None

    def set_bound_registration(self, openid: str, registration: str | None) -> None:
        if registration is None:
            self.redis.delete(keys.user_registration(openid))
        else:
            self.redis.set(keys.user_registration(openid), registration)

    # -- brute-force limit on binding ------------------------------------------------------
    def take_bind_attempt(self, openid: str, registration: str | None, limit: int) -> int:
        """Counts an attempt against the openid and the 报名号, both at once: 0 to go ahead,
        else the seconds until one is allowed. Checking and counting in one script keeps many
        accounts racing on one 报名号 from getting past the limit together."""
        targets = [keys.user_bind_failures(openid)]
        if registration:
            targets.append(keys.candidate_bind_failures(registration))
        return int(
            cast(int, self._take_attempt(keys=targets, args=[limit, keys.BIND_FAILURE_SECONDS]))
        )

    def forgive_bind_attempt(self, openid: str, registration: str | None) -> None:
        """A binding that succeeded does not count as a failure."""
        targets = [keys.user_bind_failures(openid)]
        if registration:
            targets.append(keys.candidate_bind_failures(registration))
        self._forgive(keys=targets)

    # -- one-time binding codes (only their digests are kept) -------------------------------
    def save_binding_code(self, code_hash: str, registration: str) -> None:
        """The registration's one code: issuing another voids the one before."""
        ttl = keys.BINDING_CODE_DAYS * 86400
        previous = self.redis.getset(keys.candidate(registration, "binding-code"), code_hash)
        pipe = self.redis.pipeline(transaction=False)
        if isinstance(previous, bytes):
            pipe.delete(keys.binding_code(previous.decode()))
        pipe.set(keys.binding_code(code_hash), registration, ex=ttl)
        pipe.expire(keys.candidate(registration, "binding-code"), ttl)
        pipe.execute()

    def binding_code(self, code_hash: str) -> str | None:
        raw = self.redis.get(keys.binding_code(code_hash))
        return raw.decode() if isinstance(raw, bytes) else None

    def void_binding_code(self, registration: str) -> None:
        """Once bound, the registration's code must not bind anyone else later."""
        code_hash = self.redis.getdel(keys.candidate(registration, "binding-code"))
        if isinstance(code_hash, bytes):
            self.redis.delete(keys.binding_code(code_hash.decode()))

    # -- deliveries ---------------------------------------------------------------------------
    def deliveries(self, registration: str) -> list[Delivery]:
        raw = cast(dict[bytes, bytes], self.redis.hgetall(keys.deliveries(registration)))
        found = [Delivery.model_validate_json(v) for v in raw.values()]
        return sorted(found, key=lambda d: (d.queued_at, d.key))

    def delivery(self, registration: str, key: str) -> Delivery | None:
        raw = self.redis.hget(keys.deliveries(registration), key)
        return Delivery.model_validate_json(raw) if raw else None

    def claim_delivery(self, registration: str, key: str, lease_seconds: float) -> Delivery | None:
        """Takes the delivery for one attempt; None when it is settled or another holds it."""
        raw = self._claim(
            keys=[keys.deliveries(registration)], args=[key, time.time(), lease_seconds]
        )
        return Delivery.model_validate_json(raw) if raw else None

    def put_delivery(self, registration: str, delivery: Delivery) -> None:
        """Records an attempt's outcome; a recipient forgotten since the claim stays forgotten."""
        self._put_delivery(
            keys=[keys.deliveries(registration)], args=[delivery.key, delivery.model_dump_json()]
        )

    def map_msgid(self, msgid: str, registration: str, key: str) -> None:
        ttl = keys.MSGID_DAYS * 86400
        self.redis.set(keys.push_msgid(msgid), f"{registration} {key}", ex=ttl)

    def delivery_of_msgid(self, msgid: str) -> tuple[str, str] | None:
        raw = self.redis.get(keys.push_msgid(msgid))
        if not isinstance(raw, bytes):
            return None
        registration, _, key = raw.decode().partition(" ")
        return registration, key


def _parsed(registrations: list[str], raws: list[bytes | None]) -> dict[str, Candidate | None]:
    return {
        r: Candidate.model_validate_json(raw) if raw else None
        for r, raw in zip(registrations, raws, strict=True)
    }
