"""「我的审核」: the bound candidate's review state, what it means and what to do next."""

from __future__ import annotations

from bot.content.texts import texts
from bot.conversation import Context
from bot.registry import describe


def show(ctx: Context) -> str:
    candidate = ctx.services.bindings.bound(ctx.openid)
    if candidate is None:
        return texts().review_not_bound
    if not candidate.binding_active:
        # They are writing to us, so they follow us again: pushes can resume.
        ctx.services.bindings.reactivate(candidate.registration, ctx.openid)
    return describe.summary(candidate)
