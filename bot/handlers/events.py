"""Events WeChat sends about the user's relation to the account rather than things they say."""

from __future__ import annotations

import logging

from bot.content.provinces import provinces
from bot.content.texts import texts
from bot.conversation import Context
from bot.messages import Reply, Silence

log = logging.getLogger(__name__)


def welcome(ctx: Context) -> str:
    """Greets a new follower and asks for their province."""
    return texts().welcome.format(served=provinces().served)


def forget(ctx: Context) -> Reply:
    """The user unfollowed: delete their conversation data, as WeChat's rules require, and
    their binding (nothing can be pushed to them now; they bind again if they come back)."""
    ctx.services.bindings.unbind(ctx.openid)
    ctx.forget_user()
    return Silence()


def template_finished(ctx: Context) -> Reply:
    """WeChat's final word on a template message we sent: recorded on its delivery."""
    if ctx.msg.template_msg_id and ctx.msg.status:
        ctx.services.pusher.finished(ctx.msg.template_msg_id, ctx.msg.status)
    return Silence()


def acknowledge(ctx: Context) -> Reply:
    """Events that need no answer (menu links, location reports, send-job reports)."""
    log.debug("event %s acknowledged", ctx.msg.event)
    return Silence()
