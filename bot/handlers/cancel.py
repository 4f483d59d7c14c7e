"""「取消」: leave whatever is in progress (a handoff, a flow) and return to self-service."""

from __future__ import annotations

from bot.content.texts import texts
from bot.conversation import Context
from bot.handlers import handoff


def cancel(ctx: Context) -> str:
    """Ends the handoff, the flow or the numbered question in progress; says so if none."""
    if handoff.is_active(ctx):
        return handoff.end(ctx)
    if ctx.profile.flow is not None or ctx.profile.pending is not None:
        ctx.profile.flow, ctx.profile.pending = None, None
        return texts().cancelled
    return texts().nothing_to_cancel
