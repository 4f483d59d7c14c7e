"""What the bot can do: help, and a friendly word for messages it does not serve."""

from __future__ import annotations

from bot.content.provinces import provinces
from bot.content.texts import texts
from bot.conversation import Context


def show_help(ctx: Context) -> str:
    """Lists what the bot can do and the user's current province."""
    table = provinces()
    current = table.get(ctx.profile.province)
    return texts().help.format(
        served=table.served, province=current.name if current else texts().unknown_province
    )


def unsupported(ctx: Context) -> str:
    """Video, location, links…: say what the bot can take instead."""
    return texts().unsupported


def voice_unrecognized(ctx: Context) -> str:
    return texts().voice_unrecognized
