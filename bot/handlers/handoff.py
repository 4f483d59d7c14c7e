"""人工: hand the conversation to the exam office's support staff, and back."""

from __future__ import annotations

import time

from bot.content.texts import texts
from bot.conversation import Context
from bot.messages import Reply, Text, TransferToSupport


def start(ctx: Context) -> Reply:
    """Marks the conversation as handed off; WeChat routes it to the support staff's client."""
    _extend(ctx)
    return Text(texts().handoff_started)


def forward(ctx: Context) -> Reply:
    """While handed off, every message goes to the staff (WeChat's transfer_customer_service)."""
    _extend(ctx)
    return TransferToSupport()


def is_active(ctx: Context) -> bool:
    until = ctx.profile.handoff_until
    return until is not None and until > time.time()


def end(ctx: Context) -> str:
    ctx.profile.handoff_until = None
    return texts().handoff_ended


def _extend(ctx: Context) -> None:
    # The handoff lapses after a quiet spell, so a user is never stuck away from the bot.
    ctx.profile.handoff_until = time.time() + ctx.services.settings.handoff_minutes * 60
