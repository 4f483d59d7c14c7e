"""绑定 / 解绑: a candidate ties this WeChat account to their registration, proving it is theirs.

「绑定」 asks for the 报名号 (or an office's one-time code), then the name and the ID number's
last six characters; 「绑定 <报名号> <姓名> <后6位>」 does it in one message. Nothing about a
registration is said until the proof matches; a mismatch says the same whatever was wrong.
"""

from __future__ import annotations

import re

from bot.content.provinces import provinces
from bot.content.texts import texts
from bot.conversation import Context
from bot.handlers.faq import contact_of
from bot.registry import describe
from bot.registry.binding import BindOutcome
from bot.store import FlowState

FLOW = "binding"
COMMANDS = ("绑定", "绑定报名号", "绑定账号", "考生绑定")
_REGISTRATION = re.compile(r"^[0-9A-Za-z]{6,32}$")
_CODE = re.compile(r"^[A-Za-z2-9]{4}-?[A-Za-z2-9]{4}$")
_IDENTITY = re.compile(r"^(?P<name>[^\s\d,，]{1,30})[\s,，]*(?P<tail>[0-9]{5}[0-9Xx])$")
_ONE_LINE = re.compile(r"^绑定\s+(?P<registration>[0-9A-Za-z]{6,32})\s+(?P<identity>.+)$")


# -- predicates ---------------------------------------------------------------------------
def in_flow(ctx: Context) -> bool:
    return bool(ctx.text) and ctx.profile.flow is not None and ctx.profile.flow.name == FLOW


def in_one_line(ctx: Context) -> bool:
    return bool(_ONE_LINE.match(ctx.text))


# -- handlers -------------------------------------------------------------------------------
def start(ctx: Context) -> str:
    bound = ctx.services.bindings.bound(ctx.openid)
    if bound is not None:
        return texts().bind_already.format(
            registration=bound.registration, category=bound.category, exam_point=bound.exam_point
        )
    ctx.profile.flow = FlowState(name=FLOW, step="registration")
    return texts().bind_ask_registration


def resume(ctx: Context) -> str:
    flow = ctx.profile.flow
    assert flow is not None
    if flow.step == "registration":
        return _take_registration(ctx, flow)
    return _take_identity(ctx, flow.answers.get("registration", ""))


def one_line(ctx: Context) -> str:
    found = _ONE_LINE.match(ctx.text)
    assert found is not None
    return _take_identity(ctx, found["registration"], found["identity"])


def unbind(ctx: Context) -> str:
    released = ctx.services.bindings.unbind(ctx.openid)
    if released is None:
        return texts().unbind_none
    return texts().unbind_done.format(registration=released.registration)


# -- steps ------------------------------------------------------------------------------------
def _take_registration(ctx: Context, flow: FlowState) -> str:
    typed = ctx.text.replace(" ", "")
    if _CODE.match(typed) and any(ch.isalpha() for ch in typed):
        ctx.profile.flow = None
        return _said(ctx, ctx.services.bindings.bind_with_code(ctx.openid, typed), code=True)
    if not _REGISTRATION.match(typed):
        return texts().bind_bad_registration
    flow.answers["registration"] = typed
    flow.step = "identity"
    return texts().bind_ask_identity


def _take_identity(ctx: Context, registration: str, typed: str | None = None) -> str:
    found = _IDENTITY.match((typed if typed is not None else ctx.text).strip())
    if found is None:
        return texts().bind_bad_identity
    ctx.profile.flow = None
    outcome = ctx.services.bindings.bind(ctx.openid, registration, found["name"], found["tail"])
    return _said(ctx, outcome)


def _said(ctx: Context, outcome: BindOutcome, *, code: bool = False) -> str:
    """The reply to a binding attempt; a candidate's details only once the proof matched."""
    said = texts()
    if outcome.kind == "cooldown":
        return said.bind_cooldown.format(minutes=max(1, -(-outcome.wait_seconds // 60)))
    if outcome.kind == "mismatch":
        if code:
            return said.bind_code_mismatch
        return said.bind_mismatch.format(limit=ctx.services.settings.bind_failures_per_hour)
    candidate = outcome.candidate
    assert candidate is not None
    if outcome.kind == "taken":
        return said.bind_taken.format(contact=contact_of(provinces().get(candidate.province)))
    if outcome.kind == "has_other":
        return said.bind_has_other.format(registration=candidate.registration)
    if ctx.profile.province is None:
        ctx.profile.province = candidate.province  # their registration says where they sit
    return said.bind_done.format(summary=describe.summary(candidate))
