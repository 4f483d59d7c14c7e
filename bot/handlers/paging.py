"""「更多」: the next page of a long answer."""

from __future__ import annotations

from bot.content.texts import texts
from bot.conversation import Context


def next_page(ctx: Context) -> str:
    """Sends the next stored page; the rest wait for the next 「更多」."""
    pages = ctx.services.store.pages_left(ctx.openid)
    if not pages:
        return texts().more_none
    ctx.pages_after = pages[1:]
    return pages[0]
