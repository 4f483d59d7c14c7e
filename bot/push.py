"""Delivering a review-state push: once, at the shared rate, with WeChat's errors sorted out.

A delivery is claimed (a lease in its record) before each attempt, so two workers — or a job
and its retry — never send it together; a settled one is never sent again. A template message
carries the delivery's own client_msg_id, so even an attempt cut off after WeChat accepted it
is not delivered twice when retried. The record says what happened: sent, failed with the
errcode, or skipped with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import cast

import redis
import requests
from wechatpy.exceptions import WeChatClientException

from bot.content.review import push_template
from bot.registry import describe
from bot.registry.binding import Bindings
from bot.registry.models import Candidate, Delivery
from bot.store import Store, keys
from bot.store.registry import RegistryStore
from bot.wechat_api import WeChatApi

log = logging.getLogger(__name__)

# The user does not follow us, or refused our messages: retrying cannot help.
INACTIVE = frozenset({43004, 43101})
# Rate and quota limits and WeChat's "system busy": wait and try again.
RATE_LIMITED = frozenset({45009, 45011, 45047, -1})
# The account's own limits: every worker stops pushing for a while, not only this delivery.
QUOTA = frozenset({45009, 45011})
# WeChat drops a template resent with the same client_msg_id within 10 minutes; retries of a
# send whose outcome is unknown stop a minute short of that.
SAFE_RETRY_SECONDS = 540
ALREADY_SENT = 45065  # clientmsgid exist: an earlier attempt got through
CUSTOMER_SERVICE_WINDOW = 48 * 3600
LEASE_SECONDS = 30.0

# A token bucket in Redis: `rate` tokens a second up to `burst`; returns the ms to wait.
_TAKE = """
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local b = redis.call('hmget', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('hset', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('pexpire', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""


class TryLater(Exception):
    """A push refused for now (rate limit, network): RQ retries the job with backoff."""


class TokenBucket:
    """One bucket for every worker: WeChat's per-account limits don't care how many we run."""

    def __init__(self, client: redis.Redis, per_second: float) -> None:
        self.redis = client
        self.rate = per_second
        self.burst = max(1.0, per_second)
        self._take = client.register_script(_TAKE)

    def take(self) -> None:
        """Blocks until this worker may send one message."""
        while (wait_ms := self.wait_ms(int(time.time() * 1000))) > 0:
            time.sleep(wait_ms / 1000)

    def pause(self, seconds: int) -> None:
        if seconds > 0:
            self.redis.set(keys.push_pause(), "1", ex=seconds)

    def paused_seconds(self) -> int:
        return max(0, int(cast(int, self.redis.ttl(keys.push_pause()))))

    def wait_ms(self, now_ms: int) -> int:
        """Takes a token if there is one (0), else says how long until there is (ms)."""
        waited = self._take(keys=[keys.push_bucket()], args=[now_ms, self.rate, self.burst])
        return int(cast(int, waited))


@dataclass(frozen=True)
class Pusher:
    store: RegistryStore
    bindings: Bindings  # a recipient who cannot receive pushes is deactivated
    api: WeChatApi
    bucket: TokenBucket
    template_id: str | None  # the account's template, or None: customer-service text
    conversations: Store
    pause_seconds: int = 60  # how long a quota error stops every worker

    def deliver(self, registration: str, key: str, *, last_attempt: bool) -> Delivery | None:
        """One attempt at a delivery; raises TryLater for RQ to retry (with backoff)."""
        if (paused := self.bucket.paused_seconds()) > 0 and not last_attempt:
            raise TryLater(f"WeChat's quota: pushes paused for {paused}s")
        delivery = self.store.claim_delivery(registration, key, LEASE_SECONDS)
        if delivery is None:
            return None  # settled already, or another worker holds it
        candidate = self.store.candidate(registration)
        to = delivery.openid
        if to is None or candidate is None or candidate.openid != to:
            return self._settle(registration, delivery, "skipped", reason="unbound")
        if not candidate.binding_active:
            return self._settle(registration, delivery, "skipped", reason="inactive")
        if candidate.version != delivery.version and self._superseded(registration, delivery):
            return self._settle(registration, delivery, "skipped", reason="superseded")
        # What this change was, even if the state has moved on since it was queued.
        as_then = candidate.model_copy(
            update={"state": delivery.state, "changed_at": delivery.changed_at}
        )
        try:
            return self._send(registration, delivery, as_then, to, last_attempt)
        except TryLater:
            raise
        except Exception:
            # Never leave the lease held: the retry would find it "taken" and give up.
            self._settle(registration, delivery, "retrying", reason="error")
            raise

    def _superseded(self, registration: str, delivery: Delivery) -> bool:
        """A reminder of a state that has changed, or a change whose successor already reached
        the candidate (a retry now would tell them an older state last)."""
        if delivery.key.endswith("-reminder"):
            return True
        later = self.store.deliveries(registration)
        return any(d.version > delivery.version and d.status == "sent" for d in later)

    def _send(
        self,
        registration: str,
        delivery: Delivery,
        candidate: Candidate,
        to: str,
        last_attempt: bool,
    ) -> Delivery:
        reminder = delivery.key.endswith("-reminder")
        try:
            self.bucket.take()
            if self.template_id:
                return self._send_template(registration, delivery, candidate, to, reminder)
            return self._send_text(registration, delivery, candidate, to, reminder)
        except WeChatClientException as exc:
            if exc.errcode is None:  # an HTTP error (502…): WeChat may or may not have sent it
                status = exc.response.status_code if exc.response is not None else "error"
                return self._unsure(registration, delivery, last_attempt, f"HTTP {status}")
            code = int(exc.errcode)
            if code in INACTIVE:
                self.bindings.deactivate(registration, to)
                return self._settle(registration, delivery, "failed", errcode=code)
            if code == ALREADY_SENT:
                return self._settle(registration, delivery, "sent", errcode=code)
            if code in RATE_LIMITED and not last_attempt:
                if code in QUOTA:
                    self.bucket.pause(self.pause_seconds)
                self._settle(registration, delivery, "retrying", errcode=code)
                raise TryLater(f"WeChat said {code}") from exc
            # Anything else (a token refused even after its refresh, a bad template, an
            # invalid openid…) will not get better by retrying.
            return self._settle(registration, delivery, "failed", errcode=code, reason=exc.errmsg)
        except requests.RequestException as exc:
            return self._unsure(registration, delivery, last_attempt, type(exc).__name__)

    def _unsure(
        self, registration: str, delivery: Delivery, last_attempt: bool, reason: str
    ) -> Delivery:
        """The call failed without a verdict: retry while WeChat's duplicate guard (10 minutes
        from the first attempt, on client_msg_id) still covers a send that got through."""
        first = delivery.first_attempt_at or time.time()
        if last_attempt or time.time() - first > SAFE_RETRY_SECONDS:
            return self._settle(registration, delivery, "failed", reason=f"unconfirmed: {reason}")
        self._settle(registration, delivery, "retrying", reason=reason)
        raise TryLater(reason)

    def _send_template(
        self, registration: str, delivery: Delivery, candidate: Candidate, to: str, reminder: bool
    ) -> Delivery:
        assert self.template_id is not None
        template = push_template()
        msgid = self.api.send_template(
            to,
            self.template_id,
            describe.template_data(candidate, template, reminder=reminder),
            url=template.url,
            client_msg_id=client_msg_id(registration, delivery.key),
        )
        sent = self._settle(registration, delivery, "sent", channel="template", msgid=msgid)
        if msgid:  # after "sent" is written, so the send-job report cannot be overwritten
            self.store.map_msgid(msgid, registration, delivery.key)
        return sent

    def _send_text(
        self, registration: str, delivery: Delivery, candidate: Candidate, to: str, reminder: bool
    ) -> Delivery:
        if not self._window_open(to):
            # WeChat would refuse (45015); the candidate sees the state in 「我的审核」.
            return self._settle(registration, delivery, "skipped", reason="outside_48h_window")
        self.api.send_text(to, describe.summary(candidate, reminder=reminder))
        return self._settle(registration, delivery, "sent", channel="customer_service")

    def _window_open(self, openid: str) -> bool:
        last = self.conversations.profile(openid).last_message_at
        return last is not None and time.time() - last < CUSTOMER_SERVICE_WINDOW

    def _settle(
        self, registration: str, delivery: Delivery, status: str, **changes: object
    ) -> Delivery:
        settled = delivery.model_copy(
            update={"status": status, "updated_at": time.time(), "lease_until": 0.0, **changes}
        )
        self.store.put_delivery(registration, settled)
        return settled

    def finished(self, msgid: str, status: str) -> None:
        """WeChat's TEMPLATESENDJOBFINISH: the final word on a template message."""
        found = self.store.delivery_of_msgid(msgid)
        if found is None:
            return
        registration, key = found
        delivery = self.store.delivery(registration, key)
        if delivery is None:
            return
        self.store.put_delivery(
            registration,
            delivery.model_copy(update={"finished": status, "updated_at": time.time()}),
        )
        if status.startswith("failed:user block") and delivery.openid is not None:
            self.bindings.deactivate(registration, delivery.openid)


def client_msg_id(registration: str, key: str) -> str:
    """At most 64 bytes, the same for every attempt at one delivery."""
    return "yk" + hashlib.sha256(f"{registration}:{key}".encode()).hexdigest()[:40]
