"""The bot's state in Redis behind typed methods; keys.py owns the key formats and lifetimes."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterable
from typing import cast

import redis
from pydantic import ValidationError

from bot.store import keys
from bot.store.models import FlowState, Gap, OfficeToken, Pending, Profile, Turn
from bot.store.scripts import BEGIN, COUNT_GAP, FINISH, RELEASE

__all__ = ["FlowState", "Gap", "OfficeToken", "Pending", "Profile", "Store", "Turn"]

log = logging.getLogger(__name__)

PENDING = "pending:"
LOCK_POLL_SECONDS = 0.02


class Store:
    def __init__(
        self, client: redis.Redis, *, profile_days: int = 180, gap_days: int = 180
    ) -> None:
        self.redis = client
        self.profile_seconds = profile_days * 86400
        self.gap_seconds = gap_days * 86400
        self._count_gap = client.register_script(COUNT_GAP)
        self._begin = client.register_script(BEGIN)
        self._finish = client.register_script(FINISH)
        self._release = client.register_script(RELEASE)

    # -- one message, exactly once, one user at a time ----------------------------------------
    def begin(self, openid: str, message_key: str, lease_seconds: float, per_minute: int) -> Turn:
        """Claims the message, counts it, locks the user and loads the profile: one round trip."""
        token = secrets.token_hex(8)
        minute = int(time.time() // 60)
        outcome, value, count = cast(
            list[bytes | int | None],
            self._begin(
                keys=[
                    keys.message(openid, message_key),
                    keys.rate(openid, minute),
                    keys.user(openid, "lock"),
                    keys.user(openid, "profile"),
                ],
                args=[
                    PENDING + token,
                    int(lease_seconds * 1000),
                    keys.RATE_SECONDS,
                    per_minute,
                    token,
                ],
            ),
        )
        kind = _text(outcome)  # type: ignore[arg-type]
        if kind == "duplicate":
            return Turn("duplicate", token, reply=_reply_of(value))
        if kind == "ours":
            return Turn("ours", token, int(count or 0), profile=_profile_of(value))
        return Turn(kind, token, int(count or 0))  # type: ignore[arg-type]

    def take_over(self, openid: str, message_key: str, lease_seconds: float) -> Turn:
        """A retry's second look at a message in flight: its reply, or the message itself
        if the first attempt's lease lapsed (it died without answering)."""
        token = secrets.token_hex(8)
        msg_key = keys.message(openid, message_key)
        if self.redis.set(msg_key, PENDING + token, nx=True, px=int(lease_seconds * 1000)):
            return Turn("busy", token)
        return Turn("duplicate", token, reply=_reply_of(self.redis.get(msg_key)))

    def wait_for_user(
        self, openid: str, token: str, lease_seconds: float, wait_seconds: float
    ) -> Profile | None:
        """Waits for the user's other message to finish, then locks and loads; None on timeout."""
        lock = keys.user(openid, "lock")
        deadline = time.monotonic() + wait_seconds
        while not self.redis.set(lock, token, nx=True, px=int(lease_seconds * 1000)):
            if time.monotonic() > deadline:
                return None
            time.sleep(LOCK_POLL_SECONDS)
        return _profile_of(self.redis.get(keys.user(openid, "profile")))

    def finish(
        self,
        openid: str,
        token: str,
        *,
        message_key: str,
        reply: str,
        reply_seconds: int,
        profile: Profile | None,
        pages: list[str] | None,
    ) -> bool:
        """Saves the new state, the pages left and the reply, and unlocks: one round trip.

        Returns False when the lock had lapsed, in which case the profile was not written.
        """
        mode = "keep" if pages is None else ("set" if pages else "del")
        held = self._finish(
            keys=[
                keys.user(openid, "profile"),
                keys.user(openid, "pages"),
                keys.message(openid, message_key),
                keys.user(openid, "lock"),
            ],
            args=[
                profile.model_dump_json() if profile else "",
                self.profile_seconds,
                mode,
                json.dumps(pages or [], ensure_ascii=False),
                keys.PAGES_SECONDS,
                reply,
                reply_seconds,
                token,
            ],
        )
        return bool(held)

    def abandon(self, openid: str, token: str, message_key: str) -> None:
        """Forgets a claim that could not be handled, so WeChat's retry is handled afresh."""
        self._release(keys=[keys.user(openid, "lock")], args=[token])
        self.redis.delete(keys.message(openid, message_key))

    # -- the user's state outside a message's handling ---------------------------------------
    def pages_left(self, openid: str) -> list[str]:
        raw = self.redis.get(keys.user(openid, "pages"))
        return list(json.loads(raw)) if raw else []

    def profile(self, openid: str) -> Profile:
        """The user's profile, read outside a message's handling (e.g. by a push job)."""
        return _profile_of(self.redis.get(keys.user(openid, "profile")))

    def forget_user(self, openid: str) -> None:
        """Deletes the user's conversation data (WeChat's rule on unsubscribe)."""
        self.redis.delete(keys.user(openid, "profile"), keys.user(openid, "pages"))

    # -- questions the FAQ could not answer, for the exam offices ------------------------------
    def count_unanswered(
        self, province: str | None, question: str, now: float | None = None
    ) -> None:
        """Counts a question below the confidence rule (by its folded text) and when it came;
        questions not asked again within `gap_days` leave the list."""
        self._sweep_gaps(province, question, now, most=100)

    def unanswered(self, province: str | None, top: int, now: float | None = None) -> list[Gap]:
        """The most often asked unanswered questions, most frequent first (none gone stale)."""
        # Sweeps first: a province nobody has asked in for months still drops its stale gaps.
        self._sweep_gaps(province, "", now, most=10_000)
        ranked = cast(
            list[tuple[bytes, float]],
            self.redis.zrevrange(keys.gaps(province), 0, top - 1, withscores=True),
        )
        if not ranked:
            return []
        questions = [_text(q) for q, _ in ranked]
        last = cast(list[float | None], self.redis.zmscore(keys.gaps_seen(province), questions))
        return [
            Gap(question=q, count=int(n), last_asked=t or 0.0)
            for q, (_, n), t in zip(questions, ranked, last, strict=True)
        ]

    def _sweep_gaps(
        self, province: str | None, question: str, now: float | None, most: int
    ) -> None:
        now = time.time() if now is None else now
        self._count_gap(
            keys=[keys.gaps(province), keys.gaps_seen(province)],
            args=[question, f"{now:.0f}", f"{now - self.gap_seconds:.0f}", most],
        )

    def adopt_old_gaps(self, provinces: Iterable[str | None]) -> None:
        """Moves gaps counted by versions before GAP_DAYS into today's keys (once; then the old
        keys are gone). A question with no last-asked time counts as asked now."""
        now = f"{time.time():.0f}"
        for province in provinces:
            counts_key, last_key = keys.old_gaps(province)
            if self.redis.type(counts_key) != b"zset":
                continue
            counts = cast(
                list[tuple[bytes, float]], self.redis.zrange(counts_key, 0, -1, withscores=True)
            )
            last = cast(dict[bytes, bytes], self.redis.hgetall(last_key))
            pipe = self.redis.pipeline(transaction=False)
            for question, n in counts:
                pipe.zincrby(keys.gaps(province), n, question)
                pipe.zadd(
                    keys.gaps_seen(province), {question: float(last.get(question, now))}, gt=True
                )
            pipe.delete(counts_key, last_key)
            pipe.execute()
            log.info("adopted %d unanswered questions of %s", len(counts), province or "none")

    # -- exam offices' API tokens (only their hashes are stored) -------------------------------
    def save_office_token(self, token_hash: str, office: OfficeToken) -> None:
        self.redis.hset(keys.office_tokens(), token_hash, office.model_dump_json())

    def office_tokens(self) -> dict[str, OfficeToken]:
        raw = cast(dict[bytes, bytes], self.redis.hgetall(keys.office_tokens()))
        return {h.decode(): OfficeToken.model_validate_json(v) for h, v in raw.items()}

    def revoke_office_token(self, token_hash: str) -> bool:
        return bool(self.redis.hdel(keys.office_tokens(), token_hash))

    def office_token(self, token_hash: str) -> OfficeToken | None:
        raw = cast(bytes | None, self.redis.hget(keys.office_tokens(), token_hash))
        return OfficeToken.model_validate_json(raw) if raw else None

    # -- the shared WeChat access token (read and written by bot/wechat_api.py) ----------------
    @staticmethod
    def token_key(appid: str) -> str:
        return keys.wechat_token(appid)

    @staticmethod
    def token_lock_key(appid: str) -> str:
        return keys.wechat_token_lock(appid)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _reply_of(raw: bytes | str | int | None) -> str | None:
    if raw is None or isinstance(raw, int):
        return None
    text = _text(raw)
    return None if text.startswith(PENDING) else text


def _profile_of(raw: bytes | str | int | None) -> Profile:
    if raw is None or isinstance(raw, int):
        return Profile()
    try:
        return Profile.model_validate_json(raw)
    except ValidationError:
        # A profile this version cannot read must not lock the user out of the bot for good.
        log.exception("unreadable profile dropped")
        return Profile()
