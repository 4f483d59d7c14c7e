"""Every Redis key the bot uses, with its format and lifetime, behind typed methods.

Handlers never build keys. All of one user's keys carry the hash tag ``{u:<openid>}`` so they
live in one Redis Cluster slot and can be read and written together in one pipeline.

key                              holds                                 lifetime
yk:{u:<openid>}:profile          Profile JSON (province, flow, …)      PROFILE_DAYS
yk:{u:<openid>}:pages            JSON list of pages left for 「更多」   1 hour
yk:{u:<openid>}:msg:<msg key>    pending:<token>, then the reply       lease, then reply cache
yk:{u:<openid>}:rate:<minute>    messages counted that minute          2 minutes
yk:{u:<openid>}:lock             redis-py lock token                   lock timeout
yk:wechat:{<appid>}:token        the shared access token               expires_in − 5 minutes
yk:wechat:{<appid>}:token-lock   one refresher at a time               10 seconds
yk:gaps:<province|none>          unanswered question → times asked     kept (offices read it)
yk:gaps:<province|none>:last     unanswered question → last asked at   kept
yk:offices:tokens                sha256(token) → OfficeToken JSON      until revoked
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import redis
from pydantic import BaseModel, Field
from redis.lock import Lock

PREFIX = "yk"
PAGES_SECONDS = 3600
PENDING = "pending:"


class FlowState(BaseModel):
    """Where a user stands in a multi-step conversation (e.g. the materials checklist)."""

    name: str
    step: str
    answers: dict[str, str] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)


class OfficeToken(BaseModel):
    """Who holds an API token, and which candidates it may see: a province, or one exam point."""

    office: str
    province: str
    exam_point: str | None = None
    created_at: float


class Pending(BaseModel):
    """A numbered question the bot asked and awaits a number for."""

    kind: Literal["faq_choice", "province_for_faq"]
    options: list[str]  # FAQ entry ids, or province ids
    entry: str | None = None  # the FAQ entry waiting on the province
    asked_at: float


class Profile(BaseModel):
    """What the bot remembers of one user between messages."""

    province: str | None = None
    facts: dict[str, str] = Field(default_factory=dict)
    flow: FlowState | None = None
    checklist_done: list[str] = Field(default_factory=list)
    handoff_until: float | None = None
    pending: Pending | None = None
    # The 报名号 this WeChat user has bound (issue 5 fills it in).
    bound_registration: str | None = None
    # WeChat allows customer-service messages only within 48 hours of the user's last message.
    last_message_at: float | None = None


@dataclass(frozen=True)
class Gap:
    """A question the bot could not answer, how often, and when last asked."""

    question: str
    count: int
    last_asked: float


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a message: ours to handle, already answered, or in flight."""

    token: str | None = None
    reply: str | None = None
    count_this_minute: int = 0

    @property
    def is_ours(self) -> bool:
        return self.token is not None


class Store:
    def __init__(self, client: redis.Redis, *, profile_days: int = 180) -> None:
        self.redis = client
        self.profile_seconds = profile_days * 86400

    # -- keys ---------------------------------------------------------------------------------
    @staticmethod
    def _user(openid: str, part: str) -> str:
        return f"{PREFIX}:{{u:{openid}}}:{part}"

    @staticmethod
    def token_key(appid: str) -> str:
        return f"{PREFIX}:wechat:{{{appid}}}:token"

    @staticmethod
    def token_lock_key(appid: str) -> str:
        return f"{PREFIX}:wechat:{{{appid}}}:token-lock"

    # -- exactly-once handling of WeChat's retries --------------------------------------------
    def claim_message(self, openid: str, message_key: str, lease_seconds: float) -> Claim:
        """Claims a message for handling and counts it for rate limiting, in one round trip."""
        token = secrets.token_hex(8)
        minute = int(time.time() // 60)
        rate_key = self._user(openid, f"rate:{minute}")
        msg_key = self._user(openid, f"msg:{message_key}")
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(msg_key, PENDING + token, nx=True, px=int(lease_seconds * 1000))
        pipe.get(msg_key)
        pipe.incr(rate_key)
        pipe.expire(rate_key, 120)
        won, current, count, _ = pipe.execute()
        if won:
            return Claim(token=token, count_this_minute=int(count))
        return Claim(reply=self._reply_of(current), count_this_minute=int(count))

    def reclaim_message(self, openid: str, message_key: str, lease_seconds: float) -> Claim:
        """Checks a message in flight again: its reply, or ours if the first attempt died."""
        msg_key = self._user(openid, f"msg:{message_key}")
        token = secrets.token_hex(8)
        if self.redis.set(msg_key, PENDING + token, nx=True, px=int(lease_seconds * 1000)):
            return Claim(token=token)
        return Claim(reply=self._reply_of(self.redis.get(msg_key)))

    def release_message(self, openid: str, message_key: str) -> None:
        """Forgets a claim that could not be handled, so WeChat's retry is handled afresh."""
        self.redis.delete(self._user(openid, f"msg:{message_key}"))

    @staticmethod
    def _reply_of(raw: bytes | str | None) -> str | None:
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        return None if text.startswith(PENDING) else text

    # -- one user at a time -------------------------------------------------------------------
    def user_lock(self, openid: str, timeout: float, wait: float) -> Lock:
        return self.redis.lock(
            self._user(openid, "lock"), timeout=timeout, blocking_timeout=wait, thread_local=False
        )

    # -- the user's state ---------------------------------------------------------------------
    def load_profile(self, openid: str) -> Profile:
        raw = self.redis.get(self._user(openid, "profile"))
        return Profile.model_validate_json(raw) if raw else Profile()

    def commit(
        self,
        openid: str,
        *,
        profile: Profile | None,
        pages: list[str] | None,
        message_key: str,
        reply: str,
        reply_seconds: int,
    ) -> None:
        """Saves what a message changed together with its reply, in one round trip."""
        pipe = self.redis.pipeline(transaction=True)
        if profile is not None:
            pipe.set(
                self._user(openid, "profile"), profile.model_dump_json(), ex=self.profile_seconds
            )
        if pages is not None:
            self._queue_pages(pipe, openid, pages)
        pipe.set(self._user(openid, f"msg:{message_key}"), reply, ex=reply_seconds)
        pipe.execute()

    def _queue_pages(self, pipe: Any, openid: str, pages: list[str]) -> None:
        key = self._user(openid, "pages")
        if pages:
            pipe.set(key, json.dumps(pages, ensure_ascii=False), ex=PAGES_SECONDS)
        else:
            pipe.delete(key)

    def pages_left(self, openid: str) -> list[str]:
        raw = self.redis.get(self._user(openid, "pages"))
        return list(json.loads(raw)) if raw else []

    # -- questions the FAQ could not answer, for the exam offices ------------------------------
    @staticmethod
    def _gaps(province: str | None) -> str:
        return f"{PREFIX}:gaps:{province or 'none'}"

    def count_unanswered(self, province: str | None, question: str) -> None:
        """Counts a question below the confidence rule (by its folded text) and when it came."""
        key = self._gaps(province)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zincrby(key, 1, question)
        pipe.hset(key + ":last", question, f"{time.time():.0f}")
        pipe.execute()

    def unanswered(self, province: str | None, top: int) -> list[Gap]:
        """The most often asked unanswered questions, most frequent first."""
        key = self._gaps(province)
        ranked: list[tuple[bytes, float]] = self.redis.zrevrange(key, 0, top - 1, withscores=True)  # type: ignore[assignment]
        if not ranked:
            return []
        last: list[bytes | None] = self.redis.hmget(key + ":last", [q for q, _ in ranked])  # type: ignore[assignment]
        return [
            Gap(question=_text(q), count=int(n), last_asked=float(_text(t)) if t else 0.0)
            for (q, n), t in zip(ranked, last, strict=True)
        ]

    # -- exam offices' API tokens (only their hashes are stored) -------------------------------
    def save_office_token(self, token_hash: str, office: OfficeToken) -> None:
        self.redis.hset(f"{PREFIX}:offices:tokens", token_hash, office.model_dump_json())

    def office_token(self, token_hash: str) -> OfficeToken | None:
        raw = self.redis.hget(f"{PREFIX}:offices:tokens", token_hash)
        return OfficeToken.model_validate_json(raw) if raw else None

    def forget_user(self, openid: str) -> None:
        """Deletes the user's conversation data (WeChat's rule on unsubscribe)."""
        self.redis.delete(self._user(openid, "profile"), self._user(openid, "pages"))
