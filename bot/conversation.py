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

from bot.content.texts import texts
from bot.messages import Inbound, Reply, Silence, Text, dump_reply, load_reply
from bot.pagination import paginate
from bot.services import Services
from bot.store import Profile, Turn

log = logging.getLogger(__name__)

# A first attempt still "pending" after this is presumed dead. WeChat retries about every 5
# seconds and a retry waits up to the reply budget, so the lease must lapse within that window
# for the retry to take over; handlers answer within the budget, well inside it.
LEASE_SECONDS = 6.0
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
        limit = self.services.settings.user_messages_per_minute
        turn = self.store.begin(msg.openid, msg.dedupe_key, LEASE_SECONDS, limit)
        if turn.outcome == "duplicate":
            return self._await_first_attempt(msg, turn.reply)
        if turn.outcome == "rate_limited":
            return self._finish(msg, turn.token, self._rate_limited(turn.count, limit))
        if turn.outcome == "busy":
            return self._handle_after_wait(msg, turn)
        assert turn.profile is not None  # "ours" comes with the profile
        return self._handle(msg, turn.token, turn.profile)

    def _await_first_attempt(self, msg: Inbound, cached: str | None) -> Reply:
        deadline = time.monotonic() + self.budget
        while cached is None and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            again = self.store.take_over(msg.openid, msg.dedupe_key, LEASE_SECONDS)
            if again.outcome == "busy":  # the first attempt died without answering
                return self._handle_after_wait(msg, again)
            cached = again.reply
        return load_reply(cached) if cached is not None else Silence()

    @staticmethod
    def _rate_limited(count: int, limit: int) -> Reply:
        # Say it once per minute; after that, stay quiet rather than add to the flood.
        return Text(texts().rate_limited) if count == limit + 1 else Silence()

    def _handle_after_wait(self, msg: Inbound, turn: Turn) -> Reply:
        """Another message of this user is in hand: wait for it, within WeChat's budget."""
        profile = self.store.wait_for_user(msg.openid, turn.token, LEASE_SECONDS, self.budget)
        if profile is None:
            self.store.abandon(msg.openid, turn.token, msg.dedupe_key)
            return Text(texts().busy)
        return self._handle(msg, turn.token, profile)

    def _handle(self, msg: Inbound, token: str, profile: Profile) -> Reply:
        ctx = Context(msg, self.words(msg), profile, self.services)
        try:
            reply = self._finish(msg, token, self._route(ctx), ctx)
        except BaseException:
            self.store.abandon(msg.openid, token, msg.dedupe_key)
            raise
        # Only once the reply is saved: a failure here must not undo what was committed.
        for job, args in ctx.jobs:
            self.services.queue.enqueue(job, *args)
        return reply

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

    def _finish(self, msg: Inbound, token: str, reply: Reply, ctx: Context | None = None) -> Reply:
        """Saves the state, the pages left and the reply together."""
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
        held = self.store.finish(
            msg.openid,
            token,
            profile=profile,
            pages=pages,
            message_key=msg.dedupe_key,
            reply=dump_reply(reply),
            reply_seconds=self.services.settings.reply_cache_seconds,
        )
        if ctx is not None and not held:
            log.warning(
                "a handler outlived its %ss lease; its state change was dropped", LEASE_SECONDS
            )
        return reply
