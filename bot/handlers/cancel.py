"""「取消」: leave whatever is in progress (a handoff, a flow) and return to self-service."""

from __future__ import annotations

from bot.content.texts import texts
from bot.conversation import Context
from bot.handlers import handoff


def cancel(ctx: Context) -> str:
    """Ends the handoff or the flow in progress; says so when there was none."""
    if handoff.is_active(ctx):
        return handoff.end(ctx)
    if ctx.profile.flow is not None:
        ctx.profile.flow = None
        return texts().cancelled
    return texts().nothing_to_cancel
