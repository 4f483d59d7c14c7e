"""The conversation core: exactly-once handling, per-user ordering, rate limiting, routing.

Every inbound message passes here once, whatever the transport (webhook, local chat, tests):
claim it (a WeChat retry gets the first attempt's reply), count it, take the user's lock, load
the profile (only after the lock: a profile read before it could be stale), route, paginate,
then save the new state together with the reply in one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import LockError

from bot.content.texts import texts
from bot.messages import Inbound, Reply, Silence, Text, dump_reply, load_reply
from bot.pagination import paginate
from bot.services import Services
from bot.store import Profile

log = logging.getLogger(__name__)

LEASE_SECONDS = 12.0  # a first attempt still "pending" after this is presumed dead
POLL_SECONDS = 0.05

# Events that are the user's own doing (and so open WeChat's 48-hour customer-service window).
USER_EVENTS = frozenset({"subscribe", "SCAN", "CLICK", "VIEW"})


class UserError(Exception):
    """A problem the user can act on; its message is the Chinese reply they see."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Job = Callable[..., Any]


@dataclass
class Context:
    """What a handler sees: the message, the user's profile (theirs to change) and the services."""

    msg: Inbound
    text: str
    profile: Profile
    services: Services
    pages_after: list[str] | None = None
    jobs: list[tuple[Job, tuple[Any, ...]]] = field(default_factory=list)
    forgotten: bool = False

    @property
    def openid(self) -> str:
        return self.msg.openid

    def defer(self, job: Job, *args: Any) -> Silence:
        """Runs `job` in the worker once this message is saved; it answers by customer service."""
        self.jobs.append((job, args))
        return Silence()

    def forget_user(self) -> None:
        self.services.store.forget_user(self.openid)
        self.forgotten = True


Handler = Callable[[Context], "Reply | str"]
Predicate = Callable[[Context], bool]


@dataclass(frozen=True)
class Route:
    when: Predicate
    handler: Handler


class Conversation:
    def __init__(
        self, services: Services, routes: Sequence[Route], words: Callable[[Inbound], str]
    ) -> None:
        self.services = services
        self.store = services.store
        self.routes = tuple(routes)
        self.words = words
        self.budget = services.settings.reply_budget_seconds

    def handle(self, msg: Inbound) -> Reply:
        """The reply to one inbound message; WeChat's retries of it get the very same reply."""
        claim = self.store.claim_message(msg.openid, msg.dedupe_key, LEASE_SECONDS)
        if not claim.is_ours:
            return self._await_first_attempt(msg, claim.reply)
        if claim.count_this_minute > self.services.settings.user_messages_per_minute:
            return self._finish(msg, self._rate_limited(claim.count_this_minute))
        return self._handle_in_order(msg)

    def _await_first_attempt(self, msg: Inbound, cached: str | None) -> Reply:
        deadline = time.monotonic() + self.budget
        while cached is None and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            again = self.store.reclaim_message(msg.openid, msg.dedupe_key, LEASE_SECONDS)
            if again.is_ours:  # the first attempt died without answering: take over
                return self._handle_in_order(msg)
            cached = again.reply
        return load_reply(cached) if cached is not None else Silence()

    def _rate_limited(self, count: int) -> Reply:
        # Say it once per minute; after that, stay quiet rather than add to the flood.
        limit = self.services.settings.user_messages_per_minute
        return Text(texts().rate_limited) if count == limit + 1 else Silence()

    def _handle_in_order(self, msg: Inbound) -> Reply:
        lock = self.store.user_lock(msg.openid, timeout=LEASE_SECONDS, wait=self.budget)
        if not lock.acquire():
            self.store.release_message(msg.openid, msg.dedupe_key)
            return Text(texts().busy)
        try:
            profile = self.store.load_profile(msg.openid)
            ctx = Context(msg, self.words(msg), profile, self.services)
            reply = self._route(ctx)
            return self._finish(msg, reply, ctx)
        finally:
            try:
                lock.release()
            except LockError:
                log.warning(
                    "user lock expired before release (handler took over %ss)", LEASE_SECONDS
                )

    def _route(self, ctx: Context) -> Reply:
        """Runs the first matching handler; errors become replies here, in one place."""
        try:
            route = next(r for r in self.routes if r.when(ctx))
            result = route.handler(ctx)
            return Text(result) if isinstance(result, str) else result
        except UserError as exc:
            return Text(exc.message)
        except Exception:
            log.exception("handler failed for %s message", ctx.msg.msg_type)
            return Text(texts().internal_error)

    def _finish(self, msg: Inbound, reply: Reply, ctx: Context | None = None) -> Reply:
        """Saves the state and the reply together, then queues the work deferred to the worker."""
        profile, pages = None, None
        if ctx is not None:
            pages = ctx.pages_after
            if isinstance(reply, Text) and pages is None:
                first, *pages = paginate(reply.content)
                reply = Text(first)
            if not ctx.forgotten:
                profile = ctx.profile
                if not msg.is_event or msg.event in USER_EVENTS:
                    profile.last_message_at = time.time()
        self.store.commit(
            msg.openid,
            profile=profile,
            pages=pages,
            message_key=msg.dedupe_key,
            reply=dump_reply(reply),
            reply_seconds=self.services.settings.reply_cache_seconds,
        )
        for job, args in ctx.jobs if ctx else ():
            self.services.queue.enqueue(job, *args)
        return reply
