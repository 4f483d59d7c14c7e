"""Photos of documents: checked against the upload rules in the worker, a fixed copy sent back.

Downloading the image from WeChat and re-encoding a phone photo can outlast WeChat's 5 seconds,
so the check always runs in the worker and answers by customer-service message; the user has
just written, so WeChat's 48-hour window is open.
"""

from __future__ import annotations

import time

from bot import jobs
from bot.content.texts import texts
from bot.conversation import Context
from bot.messages import Reply

# A photo sent this long after 「报名照片」 is more likely a document again.
REGISTRATION_MODE_SECONDS = 30 * 60


def registration_mode(ctx: Context) -> str:
    """The next photo is the 2-inch registration photo (30K rule) rather than a document."""
    ctx.profile.registration_photo_until = time.time() + REGISTRATION_MODE_SECONDS
    return texts().photo_registration_mode


def check(ctx: Context) -> Reply:
    """Hands the photo to the worker, which replies with the verdict (and a fixed copy)."""
    until, ctx.profile.registration_photo_until = ctx.profile.registration_photo_until, None
    registration = until is not None and time.time() < until
    return ctx.defer(jobs.check_photo, ctx.openid, ctx.msg.media_id or "", registration)
